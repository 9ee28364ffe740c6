"""Paginated listing of a bucket: folders (common prefixes) and objects, page by page.

Pages are fetched one blocking call at a time, so a caller (a CLI loop or a
GUI coroutine running each call in an executor) can stop between any two pages.
Keys are kept exactly as stored: botocore asks for URL-encoded keys and decodes them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator
from urllib.parse import unquote_plus, urlsplit


@dataclass(frozen=True, slots=True)
class PrefixEntry:
    """A folder: a common prefix ending in the delimiter."""

    prefix: str

    def name(self, parent: str) -> str:
        return self.prefix[len(parent):] if self.prefix.startswith(parent) else self.prefix


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    key: str
    size: int
    last_modified: datetime | None
    etag: str
    storage_class: str

    def name(self, parent: str) -> str:
        return self.key[len(parent):] if self.key.startswith(parent) else self.key

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "size": self.size,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "etag": self.etag,
            "storage_class": self.storage_class,
        }


@dataclass
class ListingPage:
    number: int
    prefixes: list[PrefixEntry] = field(default_factory=list)
    objects: list[ObjectEntry] = field(default_factory=list)
    is_last: bool = False


def _object(item: dict) -> ObjectEntry:
    return ObjectEntry(
        key=item["Key"],
        size=int(item.get("Size", 0)),
        last_modified=item.get("LastModified"),
        etag=str(item.get("ETag", "")).strip('"'),
        storage_class=item.get("StorageClass", "STANDARD"),
    )


def xml_text(el, tag: str, default: str = "") -> str:
    """The text of `el`'s child `tag`, or `default` when it has none (versions parse pages the same way)."""
    child = el.find(tag)
    return child.text or "" if child is not None else default


def presigned_xml(client, operation: str, kwargs: dict, verify, result_tag: str) -> tuple[ET.Element, str]:
    """One listing-style GET (`operation` with `kwargs`, keys URL-encoded) over a presigned URL: its
    XML root and namespace prefix, over the process's shared keep-alive connections (fetch.shared:
    http.client, which imports in a tenth of urllib3's 0.1 s). Transport and S3 errors are raised as
    botocore's exceptions (what classify and the callers know); a 200 that is not `result_tag` is a
    NotS3Error."""
    from .lake.fetch import shared

    # botocore's exceptions are imported only when one happens: botocore.parsers, which errors.py
    # needs, costs 0.2 s of a listing that needs no botocore. Transport errors and retries (3 attempts
    # over one keep-alive connection, 5xx answers included) are fetch.Connections'.
    url = client.generate_presigned_url(operation, Params=dict(kwargs, EncodingType="url"), ExpiresIn=900)
    parts = urlsplit(url)
    resp, data = shared(verify).get(parts.scheme, parts.netloc, f"{parts.path}?{parts.query}",
                                    {}, url=url, attempts=3, backoff=0.2)  # Host: http.client's, as signed
    try:
        root = ET.fromstring(data) if data else ET.Element("Empty")
    except ET.ParseError:
        from .errors import NotS3Error

        raise NotS3Error(url.split("?")[0], resp.getheader("Content-Type", "")) from None
    if resp.status == 200 and not root.tag.endswith(result_tag):
        from .errors import NotS3Error

        raise NotS3Error(url.split("?")[0], resp.getheader("Content-Type", ""))
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if resp.status != 200:
        from botocore.exceptions import ClientError

        error = {"Code": xml_text(root, "Code", str(resp.status)), "Message": xml_text(root, "Message", resp.reason or "")}
        raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": resp.status,
                                                                "RequestId": xml_text(root, "RequestId")}},
                          "".join(w.capitalize() for w in operation.split("_")))  # list_objects_v2: ListObjectsV2
    return root, ns


def _raw_page(client, kwargs: dict, number: int, verify: bool) -> tuple[ListingPage, str | None]:
    """One ListObjectsV2 page over a presigned GET, parsed with ElementTree.

    botocore turns each 1,000-key page into dicts through its shape-driven parser and
    dateutil, which made listing 100,000 keys about 4x slower than s5cmd. The request is
    presigned locally (by botocore's client, or a ListingSigner), from the same credentials.
    """
    root, ns = presigned_xml(client, "list_objects_v2", kwargs, verify, "ListBucketResult")
    encoded = xml_text(root, f"{ns}EncodingType") == "url"
    decode = unquote_plus if encoded else (lambda v: v)
    key_tag, size_tag, modified_tag, etag_tag, class_tag = (ns + t for t in ("Key", "Size", "LastModified", "ETag",
                                                                             "StorageClass"))
    fromiso = datetime.fromisoformat
    objects = []
    for c in root.iter(f"{ns}Contents"):
        # One pass over the entry's children: five find() calls a key were two thirds of a page's parse.
        f = {child.tag: child.text for child in c}
        key = f.get(key_tag) or ""
        if encoded and ("%" in key or "+" in key):  # what unquote_plus would change
            key = unquote_plus(key)
        modified = f.get(modified_tag)
        objects.append(ObjectEntry(key, int(f.get(size_tag) or 0),
                                   fromiso(modified.replace("Z", "+00:00")) if modified else None,
                                   (f.get(etag_tag) or "").strip('"'), f.get(class_tag) or "STANDARD"))
    prefixes = [PrefixEntry(decode(xml_text(p, f"{ns}Prefix"))) for p in root.iter(f"{ns}CommonPrefixes")]
    truncated = xml_text(root, f"{ns}IsTruncated").lower() == "true"
    token = xml_text(root, f"{ns}NextContinuationToken") or None
    return ListingPage(number=number, prefixes=prefixes, objects=objects), (token if truncated else None)


class PrefixLister:
    """Lists one prefix of a bucket with `list_objects_v2`, one page per call.

    With `recursive=False` the listing uses Delimiter='/' and yields folders and
    the objects directly in the prefix; with `recursive=True` it yields every
    object under the prefix.
    """

    def __init__(self, client, bucket: str, prefix: str = "", *, recursive: bool = False,
                 page_size: int = 1000, raw: bool = False, verify: bool = True):
        self.client = client
        self.raw = raw  # parse pages ourselves (see _raw_page); off for in-process moto, which mocks botocore
        self.verify = verify  # TLS verification for the raw path, as the profile says
        self.bucket = bucket
        self.prefix = prefix
        self.recursive = recursive
        self.page_size = page_size
        self._token: str | None = None
        self._pages = 0
        self.done = False

    def next_page(self) -> ListingPage | None:
        """Fetch the next page (blocking); None once the listing is complete."""
        if self.done:
            return None
        kwargs = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": self.page_size}
        if not self.recursive:
            kwargs["Delimiter"] = "/"
        if self._token:
            kwargs["ContinuationToken"] = self._token
        if self.raw:
            page, self._token = _raw_page(self.client, kwargs, self._pages + 1, self.verify)
            self._pages += 1
            self.done = self._token is None
            page.is_last = self.done
            return page
        resp = self.client.list_objects_v2(**kwargs)
        self._pages += 1
        self._token = resp.get("NextContinuationToken")
        # A truncated page without a token would loop forever on a buggy server.
        self.done = not (resp.get("IsTruncated") and self._token)
        return ListingPage(
            number=self._pages,
            prefixes=[PrefixEntry(p["Prefix"]) for p in resp.get("CommonPrefixes", [])],
            objects=[_object(o) for o in resp.get("Contents", [])],
            is_last=self.done,
        )

    def __iter__(self) -> Iterator[ListingPage]:
        while (page := self.next_page()) is not None:
            yield page


def parent_prefix(prefix: str) -> str:
    """The folder above `prefix` ('a/b/' -> 'a/'; 'a/' -> '')."""
    trimmed = prefix[:-1] if prefix.endswith("/") else prefix
    cut = trimmed.rfind("/")
    return trimmed[: cut + 1] if cut >= 0 else ""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split 's3://bucket/prefix' into (bucket, prefix); raise ValueError with a clear message."""
    if not uri.startswith("s3://"):
        raise ValueError(f"'{uri}' is not an S3 URI: it must start with s3://")
    rest = uri[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"'{uri}' names no bucket")
    return bucket, key
