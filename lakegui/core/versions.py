"""Object versions: the bucket's versioning state, every version and delete marker of a prefix
page by page, and what a user does with them: undelete (remove the latest delete marker) and
revert (copy an older version over the latest, server-side).

Pages stream like core/listing.py's: one blocking call a page, so a caller can stop between
pages and show the first rows at once. On real endpoints a page is fetched with a presigned GET
and parsed with ElementTree, as the listing does (botocore's parser is several times slower).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator
from urllib.parse import unquote_plus

ENABLED, SUSPENDED, NEVER = "enabled", "suspended", "never"


def versioning_state(client, bucket: str) -> str:
    """'enabled', 'suspended' or 'never' (versioning was never turned on: deletes are permanent)."""
    status = client.get_bucket_versioning(Bucket=bucket).get("Status", "")
    return {"Enabled": ENABLED, "Suspended": SUSPENDED}.get(status, NEVER)


def delete_markers_added(state: str, deleted: int) -> int | None:
    """Delete markers a delete of `deleted` keys (without version ids) added on a bucket in
    versioning `state`: one a key where it keeps versions, enabled or suspended (S3 answers each
    such DeleteObject with DeleteMarker: true), none where it never did; None when the state
    is unknown ('')."""
    if not state:
        return None
    return deleted if state in (ENABLED, SUSPENDED) else 0


def deleted_words(deleted: int, state: str, undelete: str) -> str:
    """What a delete of `deleted` keys did, said to a person: "N deleted", or where the bucket
    keeps versions "N delete markers added (versions kept; UNDELETE brings them back)". The CLI's
    rm and the window's Delete say it so."""
    from .units import counted

    if not delete_markers_added(state, deleted):
        return f"{deleted:,} deleted"
    kept = "versions kept" if state == ENABLED else "versions from before versioning was suspended kept"
    return f"{counted(deleted, 'delete marker')} added ({kept}; {undelete} brings {'it' if deleted == 1 else 'them'} back)"


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One version of a key, or a delete marker (size 0, no ETag)."""

    key: str
    version_id: str
    size: int
    etag: str
    last_modified: datetime | None
    latest: bool
    delete_marker: bool = False

    def to_json(self) -> dict:
        return {"key": self.key, "version_id": self.version_id, "size": self.size, "etag": self.etag,
                "last_modified": self.last_modified.isoformat() if self.last_modified else None,
                "latest": self.latest, "delete_marker": self.delete_marker}


@dataclass
class VersionsPage:
    number: int
    versions: list[VersionEntry] = field(default_factory=list)  # by key, newest first within a key
    prefixes: list[str] = field(default_factory=list)  # folders, without --recursive
    is_last: bool = False


def _date(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _newest_first(entries: list[VersionEntry]) -> list[VersionEntry]:
    """By key, and within a key the latest first, then newest first. AWS interleaves versions and
    delete markers so, but moto lists all versions before all markers, and botocore splits them.
    The sort is stable: entries of the same second keep the server's (newest first) order."""
    return sorted(entries, key=lambda e: (e.key, not e.latest,
                                          -(e.last_modified.timestamp() if e.last_modified else 0)))


def _raw_page(client, kwargs: dict, verify) -> tuple[list[VersionEntry], list[str], bool, str, str]:
    """One ListObjectVersions page over a presigned GET: (entries in the server's order, prefixes,
    truncated, next key marker, next version id marker)."""
    from .listing import presigned_xml, xml_text

    root, ns = presigned_xml(client, "list_object_versions", kwargs, verify, "ListVersionsResult")
    decode = unquote_plus if xml_text(root, f"{ns}EncodingType") == "url" else (lambda v: v)
    entries = []
    for el in root:
        tag = el.tag[len(ns):]
        if tag not in ("Version", "DeleteMarker"):
            continue
        marker = tag == "DeleteMarker"
        entries.append(VersionEntry(
            key=decode(xml_text(el, f"{ns}Key")), version_id=xml_text(el, f"{ns}VersionId") or "null",
            size=0 if marker else int(xml_text(el, f"{ns}Size", "0") or 0),
            etag="" if marker else xml_text(el, f"{ns}ETag").strip('"'),
            last_modified=_date(xml_text(el, f"{ns}LastModified")),
            latest=xml_text(el, f"{ns}IsLatest").lower() == "true", delete_marker=marker))
    prefixes = [decode(xml_text(p, f"{ns}Prefix")) for p in root.iter(f"{ns}CommonPrefixes")]
    truncated = xml_text(root, f"{ns}IsTruncated").lower() == "true"
    return (_newest_first(entries), prefixes, truncated, decode(xml_text(root, f"{ns}NextKeyMarker")),
            xml_text(root, f"{ns}NextVersionIdMarker"))


def _sdk_page(client, kwargs: dict) -> tuple[list[VersionEntry], list[str], bool, str, str]:
    """The same page through botocore (in-process moto mocks botocore, not HTTP). botocore splits
    versions from delete markers: merged back by key, newest first."""
    resp = client.list_object_versions(**kwargs)
    entries = [VersionEntry(v["Key"], v.get("VersionId") or "null", int(v.get("Size", 0)),
                            str(v.get("ETag", "")).strip('"'), v.get("LastModified"), bool(v.get("IsLatest")))
               for v in resp.get("Versions", [])]
    entries += [VersionEntry(m["Key"], m.get("VersionId") or "null", 0, "", m.get("LastModified"),
                             bool(m.get("IsLatest")), True) for m in resp.get("DeleteMarkers", [])]
    prefixes = [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
    return (_newest_first(entries), prefixes, bool(resp.get("IsTruncated")),
            resp.get("NextKeyMarker", ""), resp.get("NextVersionIdMarker", ""))


class VersionLister:
    """Every version and delete marker under a prefix, one `list_object_versions` page a call.

    With `recursive=False` the listing uses Delimiter='/' (folders come as prefixes).
    `raw`/`verify` as PrefixLister's: presigned GETs parsed here, for real endpoints. The first page
    asks for only `first_page_size` entries, so the first rows show at once: servers take time in
    proportion to a page's size (SeaweedFS about 0.15 s for 1,000 versions, 0.02 s for 100)."""

    def __init__(self, client, bucket: str, prefix: str = "", *, recursive: bool = False, page_size: int = 1000,
                 raw: bool = False, verify=True, first_page_size: int = 100):
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.recursive, self.page_size, self.raw, self.verify = recursive, page_size, raw, verify
        self.first_page_size = min(first_page_size, page_size)
        self._key_marker = self._version_marker = ""
        self._pages = 0
        self.done = False

    def next_page(self) -> VersionsPage | None:
        """Fetch the next page (blocking); None once the listing is complete."""
        if self.done:
            return None
        kwargs = {"Bucket": self.bucket, "Prefix": self.prefix,
                  "MaxKeys": self.page_size if self._pages else self.first_page_size}
        if not self.recursive:
            kwargs["Delimiter"] = "/"
        if self._key_marker:
            kwargs["KeyMarker"] = self._key_marker
            if self._version_marker:
                kwargs["VersionIdMarker"] = self._version_marker
        if self.raw:
            entries, prefixes, truncated, key_marker, version_marker = _raw_page(self.client, kwargs, self.verify)
        else:
            entries, prefixes, truncated, key_marker, version_marker = _sdk_page(self.client, kwargs)
        self._pages += 1
        # A truncated page without a marker (or the same marker again) would loop forever.
        moved = (key_marker, version_marker) != (self._key_marker, self._version_marker)
        self.done = not (truncated and key_marker and moved)
        self._key_marker, self._version_marker = key_marker, version_marker
        return VersionsPage(self._pages, entries, prefixes, self.done)

    def __iter__(self) -> Iterator[VersionsPage]:
        while (page := self.next_page()) is not None:
            yield page


def versions_of(client, bucket: str, key: str, **listing) -> list[VersionEntry]:
    """Every version and delete marker of exactly `key`, newest first."""
    return [v for page in VersionLister(client, bucket, key, recursive=True, **listing)
            for v in page.versions if v.key == key]


def count_versions(client, bucket: str, key: str, **listing) -> int:
    """How many versions `key` has (delete markers not counted), from one version listing."""
    return sum(1 for v in versions_of(client, bucket, key, **listing) if not v.delete_marker)


@dataclass
class UndeleteResult:
    restored: list[str] = field(default_factory=list)  # keys whose latest delete marker was removed
    not_deleted: list[str] = field(default_factory=list)  # keys named that have no delete marker on top
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key, message)

    def to_json(self) -> dict:
        return {"restored": self.restored, "not_deleted": self.not_deleted,
                "errors": [{"key": k, "error": e} for k, e in self.errors]}


def latest_delete_markers(client, bucket: str, prefix: str, *, recursive: bool = True,
                          **listing) -> list[VersionEntry]:
    """The delete markers on top of keys under `prefix` (`recursive=False`: exactly the key `prefix`)."""
    out = []
    for page in VersionLister(client, bucket, prefix, recursive=True, **listing):
        out += [v for v in page.versions if v.latest and v.delete_marker and (recursive or v.key == prefix)]
    return out


def deleted_key_message(client, bucket: str, key: str, **listing) -> str:
    """What to tell a person who named `key` when its latest version is a delete marker (it was
    deleted on a bucket that keeps versions): that, and the commands that bring it back or list
    its older versions (quoted, to paste); '' when it is not so. The version listing stops at
    the first key after `key` (a key can be the start of many others' names)."""
    import shlex

    deleted = False
    for page in VersionLister(client, bucket, key, recursive=True, first_page_size=10, **listing):
        mine = [v for v in page.versions if v.key == key]
        deleted = deleted or any(v.latest and v.delete_marker for v in mine)
        if deleted or any(v.key > key for v in page.versions):
            break
    if not deleted:
        return ""
    uri = shlex.quote(f"s3://{bucket}/{key}")
    return (f"s3://{bucket}/{key} was deleted (its latest version is a delete marker): `lakegui-cli undelete "
            f"{uri}` brings it back; `lakegui-cli ls {uri} --versions` lists its older versions")


def remove_versions(client, bucket: str, entries: list[tuple[str, str]], *, batch: int = 1000):
    """Permanently delete (key, version_id) pairs with batched DeleteObjects: ([deleted], [(key, error)])."""
    return delete_in_batches(client, bucket, [{"Key": k, "VersionId": v} for k, v in entries], batch=batch)


def delete_in_batches(client, bucket: str, objects: list[dict], *, batch: int = 1000, threads: int = 4,
                      quiet: bool = False):
    """DeleteObjects of {"Key"[, "VersionId"]} entries, `batch` a call and `threads` calls at once
    (a server spends most of a call on its own bookkeeping, so calls in parallel overlap it):
    ([(key, version id)], [(key, error)]); `quiet` leaves the first list empty (the server names only
    failures). Without a version id an entry gets a delete marker."""
    from concurrent.futures import ThreadPoolExecutor

    def one(chunk: list[dict]):
        resp = client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": quiet})
        return ([(d["Key"], d.get("VersionId", "")) for d in resp.get("Deleted", [])],
                [(e.get("Key", ""), f"{e.get('Code', '')}: {e.get('Message', '')}") for e in resp.get("Errors", [])])

    chunks = [objects[i:i + batch] for i in range(0, len(objects), batch)]
    deleted, errors = [], []
    with ThreadPoolExecutor(max(1, min(threads, len(chunks)))) as pool:
        for done, failed in pool.map(one, chunks):
            deleted += done
            errors += failed
    return deleted, errors


def undelete(client, bucket: str, prefix: str, *, recursive: bool = False, **listing) -> UndeleteResult:
    """Bring deleted objects back by removing their latest delete markers: the key `prefix`, or
    (`recursive`) every key under it. The version under the marker becomes the latest again."""
    markers = latest_delete_markers(client, bucket, prefix, recursive=recursive, **listing)
    result = UndeleteResult()
    if not markers and not recursive:
        result.not_deleted.append(prefix)
        return result
    deleted, result.errors = remove_versions(client, bucket, [(m.key, m.version_id) for m in markers])
    result.restored = [k for k, _ in deleted]
    return result


def head_version(client, bucket: str, key: str, version_id: str) -> dict:
    """HEAD of one version of `key`, refused as NoSuchVersion when the answer is of another one: a
    server or bucket that keeps no versions (SeaweedFS without versioning) ignores the id and
    answers with the latest, which a preview, a download or a revert would then take for it."""
    head = client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
    answered = str(head.get("VersionId") or "null")
    if answered != version_id:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "NoSuchVersion", "Message": f"the server answered with version "
                                     f"{answered!r}: the bucket may keep no versions"},
                           "ResponseMetadata": {"HTTPStatusCode": 404}}, "HeadObject")
    return head


def revert(client, bucket: str, key: str, version_id: str) -> str:
    """Make `version_id` of `key` the latest again by a server-side copy of it over the key
    (history is kept: the current version stays as an older one). Returns the new version id, or
    "" when the latest already is that version's copy (same ETag, size, metadata and type: a
    second revert to it wrote one more identical version each time) and nothing was written."""
    from .objects import head_if_there

    head = head_version(client, bucket, key, version_id)  # a missing version fails here
    latest = head_if_there(client, bucket, key)  # None under a delete marker: the copy brings it back
    if latest is not None and latest.get("VersionId") != version_id and \
            all(latest.get(f) == head.get(f) for f in ("ETag", "ContentLength", "Metadata", "ContentType")):
        return ""  # metadata counts: a backfill's lineage on the same bytes is not the version's
    source = {"Bucket": bucket, "Key": key, "VersionId": version_id}
    if int(head.get("ContentLength", 0)) < 5 << 30:
        resp = client.copy_object(Bucket=bucket, Key=key, CopySource=source)
        return resp.get("VersionId", "")
    client.copy(source, bucket, key)  # boto3's managed multipart copy beyond CopyObject's 5 GB
    return client.head_object(Bucket=bucket, Key=key).get("VersionId", "")


def set_versioning(client, bucket: str, enabled: bool) -> str:
    """Turn versioning on (`enabled`) or suspend it; returns the state now. Suspending keeps every
    version already written: new writes replace the 'null' version, and deletes remove it."""
    client.put_bucket_versioning(Bucket=bucket,
                                 VersioningConfiguration={"Status": "Enabled" if enabled else "Suspended"})
    return versioning_state(client, bucket)


def delete_version(client, bucket: str, key: str, version_id: str) -> None:
    """Delete one version (or delete marker) of `key` for good; raises with the server's reason."""
    _, errors = remove_versions(client, bucket, [(key, version_id)])
    if errors:
        raise RuntimeError(f"s3://{bucket}/{key} version {version_id} could not be deleted: {errors[0][1]}")


def version_entry(client, bucket: str, key: str, version_id: str):
    """A listing.ObjectEntry of `version_id` of `key` (size, date, ETag from a HEAD of that version)."""
    from .listing import ObjectEntry

    head = head_version(client, bucket, key, version_id)
    return ObjectEntry(key, int(head.get("ContentLength", 0)), head.get("LastModified"),
                       str(head.get("ETag", "")).strip('"'), head.get("StorageClass", "STANDARD"))


def plan_version_download(client, bucket: str, key: str, version_id: str, dest, *, chunksize: int,
                          policy) -> tuple[list, list]:
    """(jobs, skipped) that download `version_id` of `key` to dest/NAME: its size and ETag from a
    HEAD of that version (a key whose latest is a delete marker still has its older versions)."""
    from dataclasses import replace

    from .transfers.planner import plan_download, to_jobs

    entry = version_entry(client, bucket, key, version_id)
    plan = plan_download(client, bucket, dest, objects=[entry], base=key[: key.rfind("/") + 1])
    jobs = [replace(j, src_version=version_id) for j in to_jobs(plan, policy, chunksize=chunksize)]
    return jobs, plan.skipped
