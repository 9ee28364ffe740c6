"""Copies and moves from S3 to S3, run as queue jobs by any engine.

A copy job's target is its bucket/key and its source src_bucket/src_key (src_version when
given); `local_path` holds the source's URI, so the queue's views show where it comes from.

- Same connection: server-side. CopyObject below the multipart threshold; above it
  s3transfer's managed copy (UploadPartCopy in parallel parts, which also covers objects over
  5 GB). Metadata, content type and tags are kept (S3's COPY directives for CopyObject, s3transfer
  carries them over for a multipart copy), and so is the storage class, which CopyObject would
  otherwise reset to STANDARD. Lineage metadata a layout reads out of the key (a reference
  file's `name`, a symbol, a year: core/layouts.py) follows the new key when the copy changes
  it, with the metadata REPLACEd and the content headers repeated.
- Another connection (extra["SourceProfile"]): the GET body is streamed into upload_fileobj, a
  few parts in memory, never a temp file of the whole object.

Every copy is verified before it counts as done (and before a move deletes its source), and
every request is pinned to the source's ETag (CopySourceIfMatch / IfMatch), so the server
vouches that the bytes came from that object as it was:
- a small object's first attempt trusts its listing: CopyObject returns the ETag it stored,
  which must be the listed one (two requests a copy: a HEAD of the target, for the policy, and
  the copy);
- otherwise the target is HEADed: its size must be the source's, and its ETag the source's when
  both have the same part layout (a multipart source is copied in its own part size, so on AWS
  and moto its copy gets the same "-N" ETag). A server that makes a copied part's ETag otherwise
  (SeaweedFS) is checked by the first, middle and last 64 KiB of both objects instead;
- a single-part source copied in parts has another ETag by nature: size and the pin decide;
- a stream across connections is MD5-hashed as it passes and checked against both ETags.

A move is copy, verify, then delete the source, one job. Crash-safe by order: the source is
deleted only after the target is verified, so a rerun finds either the source (copy again, or
see that an earlier run's copy is already there and verified) or only the verified target.
The sources of the moves in flight are deleted together, by DeleteObjects (SourceDeletes); each
job still ends only once its own source is gone.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import quote

from .. import paths
from ..errors import classify
from ..layouts import known_layouts, lineage_after_move, moved_fields
from . import etags
from .engine import PENDING_UPLOAD, AlreadyDone, EngineBase, JobControl, JobError, Progress, Skip
from .jobs import Direction, Job, JobState, Outcome, OverwritePolicy, conflict_error
from .store import NewJob

SOURCE_PROFILE = "SourceProfile"  # extra: the source's connection profile (JSON) when it is another one
SOURCE_CLASS = "SourceClass"  # extra: the source's storage class as listed (kept by the copy)
TARGET_ABSENT = "TargetAbsent"  # extra: the target prefix's listing did not hold the key when queued
MIN_PART = 5 * 1024 * 1024
# Part copies at once: they move no bytes through this machine, the server's work bounds them.
# 1 GiB in 8 MiB parts on loopback SeaweedFS, quiet machine: 10 at once 3.9-6.7 s, 20 at once
# 3.6-5.8 s, 32 at once 3.7-6.2 s, alternated (under heavy load 10 had looked better than 20).
PART_COPIES = 20
# Server-side copies (and moves) in flight when the user sets no --concurrency: each is a
# request, not bytes through this machine, so they need not wait on the uploads' file count.
# A 10,000-key move on loopback SeaweedFS (2 cores): 32 at once 16.2-17.7 s, 64 13.3-14.3 s,
# 128 16.1 s (more threads only contend for the GIL).
SERVER_COPIES = 64
_NOT_FOUND = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True)
class CopyItem:
    """One object to copy: source key, target key, and what the listing said of the source."""

    src_key: str
    key: str
    size: int = 0
    etag: str = ""
    storage_class: str = ""  # the source's, from the listing
    target_absent: bool = False  # the target's listing, when planned, did not hold the key


def copy_jobs(items: Iterable[CopyItem], src_bucket: str, bucket: str, *, move: bool = False,
              policy: OverwritePolicy = OverwritePolicy.ASK, src_version: str = "", storage_class: str = "",
              source_profile: dict | None = None) -> list[NewJob]:
    """Queue jobs for `items`: copies (or moves) from `src_bucket` to `bucket`. `storage_class`
    changes the targets' class (empty: keep each source's); `source_profile` names another
    connection to stream from."""
    extra = {}
    if storage_class:
        extra["StorageClass"] = storage_class
    if source_profile:
        extra[SOURCE_PROFILE] = json.dumps(source_profile, sort_keys=True)
    direction = Direction.MOVE if move else Direction.COPY
    return [NewJob(direction, bucket, it.key, f"s3://{src_bucket}/{it.src_key}", size=it.size, etag=it.etag,
                   policy=policy, extra={**extra, **({SOURCE_CLASS: it.storage_class} if it.storage_class else {}),
                                         **({TARGET_ABSENT: "1"} if it.target_absent else {})},
                   src_bucket=src_bucket, src_key=it.src_key, src_version=src_version) for it in items]


def plan_copy(client, src_bucket: str, src: str, dst: str, *, listing_client=None, raw: bool = False,
              verify: bool = True) -> list[CopyItem]:
    """What `cp s3://B/SRC s3://B2/DST` copies. A source ending in '/' is a prefix: every key
    under it goes to the same relative key under DST (taken as a folder). Otherwise SRC is one
    key; a DST that is empty or ends in '/' receives it under its own name. `listing_client`
    (Connection.listing_client, which may presign pages) lists; `client` HEADs one key."""
    from .. import objects
    from ..listing import PrefixLister

    if not src or src.endswith("/"):
        if dst and not dst.endswith("/"):
            dst += "/"
        lister = PrefixLister(listing_client or client, src_bucket, src, recursive=True, raw=raw, verify=verify)
        return [CopyItem(o.key, dst + o.key[len(src):], o.size, o.etag, o.storage_class)
                for page in lister for o in page.objects]
    props = objects.head(client, src_bucket, src)
    if not dst or dst.endswith("/"):
        dst += src.rsplit("/", 1)[-1]
    return [CopyItem(src, dst, props.size, props.etag, props.storage_class)]


def mark_absent_targets(listing_client, bucket: str, items: list[CopyItem], *, raw: bool = False,
                        verify: bool = True, present: set[str] | None = None) -> list[CopyItem]:
    """`items` with `target_absent` set for keys the target's prefix does not hold: one listing
    (a page per 1,000 keys) instead of a HEAD per copy. A key created between this listing and
    its copy is replaced, as by `aws s3 cp`; the window is the queue's time to reach the job.
    `present`: the keys under a prefix holding every target, listed already (present_keys)."""
    import os.path
    from dataclasses import replace

    if not items:
        return items
    if present is None:
        common = os.path.commonprefix([it.key for it in items])
        present = present_keys(listing_client, bucket, common[:common.rfind("/") + 1], raw=raw, verify=verify)
    return [replace(it, target_absent=it.key not in present) for it in items]


def present_keys(listing_client, bucket: str, prefix: str, *, raw: bool = False, verify: bool = True) -> set[str]:
    """Every key under `prefix` (a recursive listing): what mark_absent_targets compares with. The
    CLI lists a copy's target folder with it while the source is listed."""
    from ..listing import PrefixLister

    lister = PrefixLister(listing_client, bucket, prefix, recursive=True, raw=raw, verify=verify)
    return {o.key for page in lister for o in page.objects}


# running one job

_connections: dict[str, object] = {}
_connections_lock = threading.Lock()


def _source_client(engine: EngineBase, job: Job):
    """The client that reads the source: the engine's own, or another connection's."""
    profile = job.extra.get(SOURCE_PROFILE)
    if not profile:
        return engine.client
    from ..connection import Connection, ConnectionProfile

    with _connections_lock:
        conn = _connections.get(profile)
        if conn is None:
            conn = _connections[profile] = Connection(ConnectionProfile.from_dict(json.loads(profile)))
    return conn.client("transfer")


def _head(client, bucket: str, key: str, version: str = "", **more) -> dict | None:
    kwargs = {"Bucket": bucket, "Key": key, **more}
    if version:
        kwargs["VersionId"] = version
    try:
        return client.head_object(**kwargs)
    except Exception as exc:
        if classify(exc).code in _NOT_FOUND:
            return None
        raise


def _etag(head: dict) -> str:
    return str(head.get("ETag", "")).strip('"')


def _same(a: dict, b: dict) -> bool:
    """Whether two HEADs describe the same bytes (same size and the same comparable ETag)."""
    ea, eb = _etag(a), _etag(b)
    return a.get("ContentLength") == b.get("ContentLength") and bool(ea) and ea == eb and etags.comparable(ea)


def _parts(etag: str) -> int:
    """Parts of a multipart ETag ('…-N'); 0 for a single-part one."""
    _, sep, n = etag.rpartition("-")
    return int(n) if sep and n.isdigit() else 0


def run_copy(engine: EngineBase, job: Job, control: JobControl, progress: Progress,
             on_upload_id: Callable[[str], None] | None = None) -> Outcome:
    """Run one copy or move job once (the engine's retry loop calls it again on transient errors)."""
    move = job.direction is Direction.MOVE
    in_place = not job.extra.get(SOURCE_PROFILE) and (job.src_bucket, job.src_key) == (job.bucket, job.key)
    if in_place and move:
        raise JobError(f"{job.uri} cannot be moved onto itself", permanent=True)
    if _quick(engine, job, in_place):
        done = _quick_copy(engine, job, progress, move)
        if done is not None:
            return done
    src_client, dst_client = _source_client(engine, job), engine.client
    source = _head(src_client, job.src_bucket, job.src_key, job.src_version)
    target = None if in_place else _head(dst_client, job.bucket, job.key)
    if source is None:
        if move and job.attempts > 1 and target is not None and target.get("ContentLength") == job.size:
            raise AlreadyDone()  # an earlier run verified the copy and deleted the source, then died
        raise JobError(f"s3://{job.src_bucket}/{job.src_key} was not found: it may have been deleted or renamed",
                       permanent=True)
    progress.reset(int(source.get("ContentLength", 0)))
    ours = job.attempts > 1 or getattr(job, "_copy_wrote", False)  # a target an earlier attempt may have written
    if target is not None:
        same = _same(source, target) or (ours and _copied_in_parts(source, target) and
                                         _samples_match(src_client, dst_client, job, source))
        if same and (ours or job.policy in (OverwritePolicy.SKIP_IF_SAME, OverwritePolicy.ASK)):
            # An earlier run's copy, or the same bytes already there (never replaced silently, never
            # an error): a move finishes by deleting its source.
            if move:
                _delete_source(src_client, job, engine)
                return Outcome(JobState.DONE, bytes_done=progress.total, etag=_etag(target))
            raise Skip(f"{job.uri} exists with the same content")
        if job.policy is OverwritePolicy.SKIP:
            raise Skip(f"{job.uri} exists" + ("; the source stays where it is" if move else ""))
        if job.policy is OverwritePolicy.ASK and not getattr(job, "_copy_wrote", False):  # the user decides
            raise JobError(conflict_error(job.uri, ""), permanent=True)
    job._copy_wrote = True  # this run writes the target: its retries may replace what it wrote
    if job.extra.get(SOURCE_PROFILE):
        etag = _stream(engine, src_client, dst_client, job, source, control, progress)
    else:
        etag = _server_copy(engine, dst_client, src_client, job, source, control, progress, on_upload_id)
    written = _verify(dst_client, job, source, etag, src_client)
    if move:
        _delete_source(src_client, job, engine)
    return Outcome(JobState.DONE, bytes_done=int(source.get("ContentLength", 0)), etag=_etag(written))


def _quick(engine: EngineBase, job: Job, in_place: bool) -> bool:
    """Whether the first attempt of a small copy may trust its listing (size, ETag, class)."""
    return (job.attempts <= 1 and not getattr(job, "_copy_wrote", False) and not in_place and not job.src_version
            and not job.extra.get(SOURCE_PROFILE) and etags.comparable(job.etag) and not _parts(job.etag)
            and 0 < job.size < engine.settings.multipart_threshold and not job.key.endswith("/")
            and not moved_fields(job.src_key, job.key, _layouts()))  # else its lineage is rewritten


def _quick_copy(engine: EngineBase, job: Job, progress: Progress, move: bool) -> Outcome | None:
    """A small object as listed: CopyObject pinned to the listed ETag, checked by the ETag it
    returns; one request (two without a listing of the target: a HEAD for the policy) instead of four.
    None when anything is not as listed (the target exists, the source changed): the full path
    decides then. Source and target are on the engine's connection; with the native client no
    botocore client is built at all."""
    if job.policy is not OverwritePolicy.OVERWRITE and not job.extra.get(TARGET_ABSENT) and \
            _head(engine.client, job.bucket, job.key) is not None:
        return None
    extra = {"CopySourceIfMatch": f'"{job.etag}"',
             **_target_args(job, {"StorageClass": job.extra.get(SOURCE_CLASS, "")})}
    progress.reset(job.size)
    job._copy_wrote = True
    try:
        got = copy_object(engine, None, job, {"Bucket": job.src_bucket, "Key": job.src_key}, extra)
    except Exception as exc:
        if classify(exc).code in (*_NOT_FOUND, "PreconditionFailed", "412"):
            return None  # changed or gone since listed
        raise
    if got != job.etag:  # the server names what it stored: the source's bytes give the source's ETag
        return None
    progress.add(job.size)
    if move:
        _delete_source(None, job, engine)
    return Outcome(JobState.DONE, bytes_done=job.size, etag=got)


# CopyObject's arguments as the headers of its request, for the native client
_HEADERS = {"CopySourceIfMatch": "x-amz-copy-source-if-match", "StorageClass": "x-amz-storage-class",
            "MetadataDirective": "x-amz-metadata-directive", "TaggingDirective": "x-amz-tagging-directive"}
_RESULT_ETAG = re.compile(rb"<ETag>([^<]*)</ETag>")


def _native(engine: EngineBase, client):
    """The engine's native one-request sender (the CRT's `send`) when the request goes through the
    engine's own connection (`client` None, or the engine's client); None otherwise."""
    send = getattr(engine, "send", None)
    return send if send is not None and (client is None or client is engine.client) else None


def copy_object(engine: EngineBase, client, job: Job, copy_source: dict, extra: dict) -> str:
    """CopyObject of `copy_source` onto the job's target with `extra` (botocore's argument names);
    returns the ETag the server stored. Through the engine's native client when it has one
    (signed and sent in C: a few milliseconds of Python less per copy, which is most of a small
    copy's cost on the client), else through botocore's `client` (None: the engine's)."""
    send = _native(engine, client)
    if send is not None and set(extra) <= set(_HEADERS):
        source = quote(f"{copy_source['Bucket']}/{copy_source['Key']}", safe="/~")
        if copy_source.get("VersionId"):
            source += f"?versionId={quote(copy_source['VersionId'], safe='')}"
        headers = [("x-amz-copy-source", source), *((_HEADERS[k], str(v)) for k, v in extra.items() if v)]
        _, _, body = send("PUT", job.bucket, job.key, headers, operation="CopyObject")
        m = _RESULT_ETAG.search(body)
        return m.group(1).decode().replace("&quot;", "").replace("&#34;", "").strip('"') if m else ""
    resp = (client or engine.client).copy_object(CopySource=copy_source, Bucket=job.bucket, Key=job.key, **extra)
    return str(resp.get("CopyObjectResult", {}).get("ETag", "")).strip('"')


def _delete_source(client, job: Job, engine: EngineBase) -> None:
    """Delete a move's source (`client` None: through the engine's connection). On the engine's
    connection an unversioned key goes into a DeleteObjects shared with the other moves in
    flight (SourceDeletes); this returns once that request has answered for it."""
    if BATCH_SOURCE_DELETES and (client is None or client is engine.client) and not job.src_version \
            and _xml_safe(job.src_key):
        try:
            _source_deletes(engine).delete(job.src_bucket, job.src_key)
        except _NotDeleted as exc:
            raise JobError(f"{job.uri} was copied and verified, but its source s3://{job.src_bucket}/"
                           f"{job.src_key} could not be deleted: {exc.why}", permanent=exc.permanent) from None
        return
    send = _native(engine, client)
    if send is not None:
        send("DELETE", job.src_bucket, job.src_key, [], operation="DeleteObject",
             query=f"versionId={quote(job.src_version, safe='')}" if job.src_version else "")
        return
    kwargs = {"Bucket": job.src_bucket, "Key": job.src_key}
    if job.src_version:
        kwargs["VersionId"] = job.src_version
    (client or engine.client).delete_object(**kwargs)


# A move's source deletes, batched. 10,000 moved keys were 10,000 DeleteObject requests (half
# of a move's requests); DeleteObjects takes 1,000 keys a request.
# In flight per engine: a move's job waits for the request carrying its source. 10,000 keys on
# loopback SeaweedFS, under load: 1 at once 30 keys a request, 2 at once 13, 8 at once 2.5; 16 at
# once spent as much CPU as a DeleteObject a key.
DELETES_AT_ONCE = 2
# Under load the batched move saved a third of lakegui's CPU but took longer (docs/BENCHMARKS.md,
# session 9): False sends a DeleteObject per source again, for a quiet machine's A/B.
BATCH_SOURCE_DELETES = True
_deletes_lock = threading.Lock()


class _NotDeleted(Exception):
    def __init__(self, why: str, permanent: bool):
        super().__init__(why)
        self.why, self.permanent = why, permanent


class _Waiting:
    __slots__ = ("key", "done", "error")

    def __init__(self, key: str):
        self.key, self.done, self.error = key, False, None


class SourceDeletes:
    """The sources of moves whose copies are verified, deleted by DeleteObjects of up to 1,000
    keys, a group commit: a job hands its key over and waits; a waiting job whose key is not yet
    sent, when fewer than DELETES_AT_ONCE requests are in flight, sends every key waiting for
    that bucket (up to 1,000) on its own thread. So the keys that arrive while a request is out
    go in the next one: a batch is as big as the moves finishing meanwhile, no timer holds a
    key back, and no thread of its own is left to stop. A job ends (done) only after the
    request that carried its key has answered for it: a kill before then leaves its source,
    and `queue resume` finds the verified copy and deletes it again."""

    def __init__(self, engine: EngineBase, at_once: int = DELETES_AT_ONCE):
        self._engine, self._at_once = engine, max(1, at_once)
        self._cond = threading.Condition()
        self._waiting: dict[str, list[_Waiting]] = {}  # bucket -> keys not sent yet, in order
        self._sending = 0
        self.requests = 0  # DeleteObjects sent (for tests and measurements)

    def delete(self, bucket: str, key: str) -> None:
        """Delete `key` from `bucket` with the keys other threads hand over meanwhile; raises
        _NotDeleted when the server did not delete it (or the request failed)."""
        me = _Waiting(key)
        with self._cond:
            self._waiting.setdefault(bucket, []).append(me)
            while not me.done:
                if self._sending < self._at_once and self._waiting:
                    self._send_next(bucket)
                else:
                    self._cond.wait()
        if me.error is not None:
            raise me.error

    def _send_next(self, bucket: str) -> None:
        """Send the next batch (called and returning with the lock held; released meanwhile)."""
        from .object_jobs import BATCH

        name = bucket if bucket in self._waiting else next(iter(self._waiting))
        group = self._waiting.pop(name)
        batch, rest = group[:BATCH], group[BATCH:]
        if rest:
            self._waiting[name] = rest
        self._sending += 1
        self.requests += 1
        self._cond.release()
        try:
            self._send(name, batch)
        finally:
            self._cond.acquire()
            self._sending -= 1
            for w in batch:
                w.done = True
            self._cond.notify_all()

    def _send(self, bucket: str, batch: list[_Waiting]) -> None:
        from ..errors import TRANSIENT_CODES
        from .object_jobs import delete_objects

        try:
            errors = delete_objects(self._engine, bucket, [w.key for w in batch])
        except Exception as exc:  # every key of the request shares its fate (and its retry)
            if isinstance(exc, JobError):
                why, permanent = str(exc), exc.permanent
            else:
                info = classify(exc, bucket=bucket)
                why, permanent = info.message, info.permanent
            for w in batch:
                w.error = _NotDeleted(why, permanent)
            return
        failed = {k: (code, message) for k, code, message in errors}
        for w in batch:
            if w.key in failed:
                code, message = failed[w.key]
                w.error = _NotDeleted(f"{code}: {message}".strip(": ") or "not deleted",
                                      permanent=code not in TRANSIENT_CODES)


def _source_deletes(engine: EngineBase) -> SourceDeletes:
    with _deletes_lock:
        deletes = getattr(engine, "_source_deletes", None)
        if deletes is None:
            deletes = engine._source_deletes = SourceDeletes(engine)
    return deletes


def _xml_safe(key: str) -> bool:
    """Whether a key survives DeleteObjects' XML body as it is (XML 1.0 has no control characters
    but tab and newline, and a parser reads a carriage return as a newline)."""
    return not any(ord(c) < 0x20 for c in key)


_CONTENT = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires")


def _carried(source: dict, job: Job) -> dict:
    """What a PUT must say to keep the source's metadata (its lineage following the new key),
    content headers and storage class."""
    metadata = _relineaged(source, job) or dict(source.get("Metadata", {}))
    extra = {"Metadata": metadata, **_target_args(job, source)}
    for name in _CONTENT:
        if source.get(name):
            extra[name] = source[name]
    return extra


def _relineaged(source: dict, job: Job) -> dict | None:
    """The source's metadata with the lineage fields its new key changes (core/layouts.py), or
    None when the copy keeps the metadata as it is."""
    if (job.src_bucket, job.src_key) == (job.bucket, job.key):
        return None
    return lineage_after_move(source.get("Metadata", {}), job.src_key, job.key, _layouts())


_LAYOUTS: list = [0.0, []]  # when read, the layouts


def _layouts() -> list:
    """The layouts whose fields a key gives (built-in and the user's), read at most every few
    seconds: a 10,000-key move asks once per key."""
    now = time.monotonic()
    if not _LAYOUTS[0] or now - _LAYOUTS[0] > 5.0:
        _LAYOUTS[:] = [now, known_layouts(paths.config_dir())]
    return _LAYOUTS[1]


def _lineage_args(source: dict, job: Job) -> dict:
    """A server-side copy's arguments that replace its metadata, when the new key changes its
    lineage (a renamed reference file's `name`): with REPLACE the content headers are the request's,
    so the source's are repeated. {} when the metadata is copied as it is."""
    metadata = _relineaged(source, job)
    if metadata is None:
        return {}
    return {"MetadataDirective": "REPLACE", "Metadata": metadata, **{k: source[k] for k in _CONTENT if source.get(k)}}


def _tagging(src_client, copy_source: dict) -> str:
    """The source's tags as a PUT's Tagging header ('' when none, or the server keeps none)."""
    from urllib.parse import urlencode

    try:
        tags = src_client.get_object_tagging(**copy_source).get("TagSet", [])
    except Exception:
        tags = []
    return urlencode([(t["Key"], t["Value"]) for t in tags])


def _put_small(src_client, client, job: Job, source: dict, copy_source: dict) -> None:
    """Copy a small object by GET and PUT, pinned to the source's ETag."""
    extra = _carried(source, job)
    if tagging := _tagging(src_client, copy_source):
        extra["Tagging"] = tagging
    data = b""
    if int(source.get("ContentLength", 0)):
        pin = {"IfMatch": source["ETag"]} if source.get("ETag") else {}
        data = src_client.get_object(**copy_source, **pin)["Body"].read()
    client.put_object(Bucket=job.bucket, Key=job.key, Body=data, **extra)


def _target_args(job: Job, source: dict) -> dict:
    """The storage class to write (the job's choice, else the source's; STANDARD is left implicit
    because some servers refuse the header)."""
    cls = job.extra.get("StorageClass") or source.get("StorageClass") or ""
    return {"StorageClass": cls} if cls and cls != "STANDARD" else {}


def _part_size(client, job: Job, source: dict, default: int) -> int:
    """The source's own part size when it was uploaded in parts (so the copy's ETag is the
    source's), else `default`."""
    parts = _parts(_etag(source))
    size = int(source.get("ContentLength", 0))
    if parts > 1:
        try:
            first = _head(client, job.src_bucket, job.src_key, job.src_version, PartNumber=1)
        except Exception:
            first = None
        part = int(first.get("ContentLength", 0)) if first else 0
        if part >= MIN_PART and part < size and -(-size // part) == parts:
            return part
    from s3transfer.utils import ChunksizeAdjuster

    return ChunksizeAdjuster().adjust_chunksize(default, size)


def _server_copy(engine: EngineBase, client, src_client, job: Job, source: dict, control: JobControl,
                 progress: Progress, on_upload_id) -> str:
    size = int(source.get("ContentLength", 0))
    copy_source = {"Bucket": job.src_bucket, "Key": job.src_key}
    if job.src_version:
        copy_source["VersionId"] = job.src_version
    pin = {"CopySourceIfMatch": source["ETag"]} if source.get("ETag") else {}
    settings = engine.settings
    if job.key.endswith("/") and size < settings.multipart_threshold and \
            (job.src_bucket, job.src_key) != (job.bucket, job.key):
        # A key ending in '/' (a folder marker, mostly empty) is written afresh: SeaweedFS takes a
        # CopyObject onto such a key as "into that folder" and stores .../deep/deep.
        _put_small(src_client, client, job, source, copy_source)
        progress.add(size)
        return ""
    if size < settings.multipart_threshold:
        extra = {**pin, **_target_args(job, source), **_lineage_args(source, job)}
        if (job.src_bucket, job.src_key) == (job.bucket, job.key):
            extra["MetadataDirective"] = "COPY"  # in place: only the storage class changes
        copy_object(engine, client, job, copy_source, extra)
        progress.add(size)
        return ""  # the HEAD in _verify reads what was stored
    from s3transfer.manager import TransferConfig, TransferManager

    chunk = _part_size(src_client, job, source, settings.multipart_chunksize)
    if on_upload_id:  # a crash leaves a multipart upload; its marker lets the next run abort it
        on_upload_id(f"{PENDING_UPLOAD}{time.time()}")
    before = engine.open_uploads(job)
    tags = _source_tags(src_client, copy_source)  # before: a copy in place replaces the source
    # One manager per big copy: its threads live as long as the copy, whatever the backend.
    manager = TransferManager(client, config=TransferConfig(
        multipart_threshold=settings.multipart_threshold, multipart_chunksize=chunk,
        max_request_concurrency=min(settings.max_concurrency, PART_COPIES)))
    try:
        future = manager.copy(copy_source, job.bucket, job.key, source_client=src_client,
                              extra_args={**pin, **_target_args(job, source), "TaggingDirective": "COPY",
                                          **_lineage_args(source, job)},
                              # the size given: s3transfer sends no HEAD of its own
                              subscribers=[_subscriber("size", size), _subscriber("count", progress)])
        control.attach(future)
        future.result()
    finally:
        manager.shutdown(cancel=control.stopped)
        engine.abort_new_uploads(job, before)
    if tags:  # s3transfer leaves Tagging out of a copy's CreateMultipartUpload: the parts arrive untagged
        client.put_object_tagging(Bucket=job.bucket, Key=job.key, Tagging={"TagSet": tags})
    return ""  # the HEAD in _verify reads it


def _source_tags(src_client, copy_source: dict) -> list[dict]:
    """The source's TagSet ([] when none, or the server keeps none)."""
    try:
        return src_client.get_object_tagging(**copy_source).get("TagSet", [])
    except Exception:
        return []


class _HashingReader:
    """A GET body read by upload_fileobj: counts progress, stops when the job is stopped, and
    keeps the MD5 of the whole and of each part (at `part` boundaries) to predict the ETag."""

    def __init__(self, body, part: int, control: JobControl, progress: Progress):
        self.body, self.part, self.control, self.progress = body, part, control, progress
        self.whole = hashlib.md5(usedforsecurity=False)
        self.digests: list[bytes] = []
        self._cur = hashlib.md5(usedforsecurity=False)
        self._in = 0
        self.total = 0

    def read(self, amount: int = -1) -> bytes:
        if self.control.stopped:
            raise JobError("stopped", permanent=False)
        data = self.body.read(amount if amount is not None and amount >= 0 else None)
        self.whole.update(data)
        view = memoryview(data)
        while view:
            take = min(len(view), self.part - self._in)
            self._cur.update(view[:take])
            self._in += take
            view = view[take:]
            if self._in == self.part:
                self.digests.append(self._cur.digest())
                self._cur, self._in = hashlib.md5(usedforsecurity=False), 0
        self.total += len(data)
        self.progress.add(len(data))
        return data

    def etag(self, multipart: bool) -> str:
        if not multipart:
            return self.whole.hexdigest()
        digests = self.digests + ([self._cur.digest()] if self._in or not self.digests else [])
        return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def _stream(engine: EngineBase, src_client, client, job: Job, source: dict, control: JobControl,
            progress: Progress) -> str:
    """Copy across connections: GET body -> upload_fileobj, a few parts in memory at a time."""
    from s3transfer.manager import TransferConfig, TransferManager

    size = int(source.get("ContentLength", 0))
    settings = engine.settings
    from s3transfer.utils import ChunksizeAdjuster

    chunk = ChunksizeAdjuster().adjust_chunksize(settings.multipart_chunksize, size)
    get = {"Bucket": job.src_bucket, "Key": job.src_key}
    if job.src_version:
        get["VersionId"] = job.src_version
    extra = _carried(source, job)
    if tagging := _tagging(src_client, get):
        extra["Tagging"] = tagging
    if source.get("ETag"):
        get["IfMatch"] = source["ETag"]
    body = src_client.get_object(**get)["Body"]
    reader = _HashingReader(body, chunk, control, progress)
    manager = TransferManager(client, config=TransferConfig(
        multipart_threshold=settings.multipart_threshold, multipart_chunksize=chunk,
        max_request_concurrency=settings.max_concurrency))
    try:
        future = manager.upload(reader, job.bucket, job.key, extra_args=extra,
                                subscribers=[_subscriber("size", size)])
        control.attach(future)
        future.result()
    finally:
        manager.shutdown(cancel=control.stopped)
        body.close()
    if reader.total != size:
        raise JobError(f"s3://{job.src_bucket}/{job.src_key} sent {reader.total:,} bytes of {size:,}; "
                       "copying it again", permanent=False)
    src_etag = _etag(source)
    if etags.comparable(src_etag) and not _parts(src_etag) and reader.whole.hexdigest() != src_etag:
        raise JobError(f"The bytes read from s3://{job.src_bucket}/{job.src_key} do not match its ETag; "
                       "copying it again", permanent=False)
    return reader.etag(size >= settings.multipart_threshold)


def _subscriber(kind: str, arg):
    """An s3transfer subscriber: "count" adds progress to a Progress, "size" tells s3transfer a
    stream's size (it cannot seek to find it). Made here: only a copy through s3transfer's
    manager needs its subscribers."""
    from s3transfer.subscribers import BaseSubscriber

    class Counter(BaseSubscriber):
        def on_progress(self, future, bytes_transferred, **kwargs):
            arg.add(bytes_transferred)

    class SizeOnly(BaseSubscriber):
        def on_queued(self, future, **kwargs):
            future.meta.provide_transfer_size(arg)

    return Counter() if kind == "count" else SizeOnly()


def _copied_in_parts(source: dict, target: dict) -> bool:
    """Both multipart, with the same size and part count: a server that does not take a copied
    part's ETag from its bytes (SeaweedFS) gives such a copy another ETag."""
    a, b = _etag(source), _etag(target)
    return source.get("ContentLength") == target.get("ContentLength") and _parts(a) > 0 and _parts(a) == _parts(b)


SAMPLE = 64 * 1024


def _samples_match(src_client, client, job: Job, source: dict) -> bool:
    """Whether the first, middle and last 64 KiB of the target are the source's (three small GETs
    a side): the check left when ETags cannot be compared."""
    size = int(source.get("ContentLength", 0))
    starts = sorted({0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)})
    src = {"Bucket": job.src_bucket, "Key": job.src_key, **({"VersionId": job.src_version} if job.src_version else {})}
    for start in starts:
        rng = f"bytes={start}-{min(size, start + SAMPLE) - 1}"
        a = src_client.get_object(**src, Range=rng)["Body"].read()
        b = client.get_object(Bucket=job.bucket, Key=job.key, Range=rng)["Body"].read()
        if a != b:
            return False
    return True


def _verify(client, job: Job, source: dict, expected: str, src_client=None) -> dict:
    """HEAD the target and check it against the source (see the module's docstring)."""
    written = _head(client, job.bucket, job.key)
    if written is None:
        raise JobError(f"{job.uri} is not there after the copy; copying it again", permanent=False)
    got, src = _etag(written), _etag(source)
    if written.get("ContentLength") != source.get("ContentLength"):
        raise JobError(f"Verification failed for {job.uri}: {written.get('ContentLength'):,} bytes, the source "
                       f"has {source.get('ContentLength'):,}; copying it again", permanent=False)
    if expected and etags.comparable(expected) and etags.comparable(got) and got != expected:
        raise JobError(f"Verification failed for {job.uri}: the server stored ETag {got}, "
                       f"the bytes sent give {expected}; copying it again", permanent=False)
    if etags.comparable(src) and etags.comparable(got) and _parts(src) == _parts(got) and got != src and not (
            _parts(got) and src_client is not None and _samples_match(src_client, client, job, source)):
        raise JobError(f"Verification failed for {job.uri}: ETag {got}, the source's is {src}; copying it again",
                       permanent=False)
    return written
