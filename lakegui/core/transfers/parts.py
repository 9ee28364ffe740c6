"""Multipart uploads sent part by part here, so an interrupted one continues (issue 19).

Why hand-written part calls, when the engines move every other byte: the CRT neither
reports the upload id of its multipart uploads nor continues an upload it did not start,
and it aborts its upload when its request is cancelled (a pause); s3transfer also aborts
on cancel and always starts from part 1. So a multipart upload that may be resumed is
created here, its id and part size go to the queue before any part is sent, and this
module sends the parts on a small thread pool over botocore, on the first run and on
every later one. A later run asks `list_parts` what the server has and sends only the
parts that are missing or whose ETag is not the MD5 of the local bytes, then completes.

Each part carries Content-MD5, so the server checks its bytes, and the MD5s make the
whole upload's ETag without a second pass over the file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from s3transfer.utils import ChunksizeAdjuster

from ..errors import classify
from .jobs import Job, JobState
from .ranges import Ranges

log = logging.getLogger(__name__)

UPLOADER = "parts"  # job.resume["uploader"] of an upload this module can continue
# A part's checksums as botocore names them; completing an upload whose parts carry them (AWS,
# where botocore adds CRC32 by default) must name them again.
_CHECKSUMS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256")
RECORD_EVERY = 0.5  # seconds between records of the parts sent (a display hint; list_parts is the truth)


class UploadVanished(Exception):
    """The server no longer knows the upload (aborted by a lifecycle rule, or by hand)."""


def part_size_for(size: int, chunksize: int) -> int:
    """The part size for a file of `size` (s3transfer's rules: at most 10,000 parts)."""
    return ChunksizeAdjuster().adjust_chunksize(chunksize, size)


def resume_state(engine: str, part_size: int, st: os.stat_result) -> dict:
    """What the queue keeps of a multipart upload in flight, so a later run can continue it."""
    return {"uploader": UPLOADER, "engine": engine, "part_size": part_size, "size": st.st_size,
            "mtime_ns": st.st_mtime_ns}


def resumable(job: Job) -> bool:
    """Whether the job's recorded upload is one this module started and can continue."""
    # a "pending:" marker (engine.PENDING_UPLOAD) names no upload: its parts cannot be listed
    return bool(job.upload_id) and not job.upload_id.startswith("pending:") and job.resume.get("uploader") == UPLOADER


def changed_since(job: Job, st: os.stat_result) -> bool:
    """Whether the local file is not the one the recorded parts were cut from."""
    r = job.resume
    return (r.get("size"), r.get("mtime_ns")) != (st.st_size, st.st_mtime_ns)


def is_no_such_upload(exc: BaseException, job: Job) -> bool:
    return classify(exc, bucket=job.bucket, key=job.key).code in ("NoSuchUpload", "404", "NotFound")


class Stopped(Exception):
    """The upload was cancelled or paused while this part was being sent."""


class _Counted(io.BytesIO):
    """A part's body that reports bytes as botocore reads them (a retry reading the part again
    reports nothing until it passes what was already counted), and that stops being read once
    the upload is stopped: the request fails mid-body, urllib3 drops its connection, and a pause
    or a cancel takes effect within one 16 KiB write instead of a whole part's time."""

    def __init__(self, data: bytes, on_bytes: Callable[[int], None], stop: threading.Event):
        super().__init__(data)
        self._on_bytes = on_bytes
        self._stop = stop
        self._counted = 0

    def read(self, n: int = -1) -> bytes:
        if self._stop.is_set():
            raise Stopped()
        chunk = super().read(n)
        pos = self.tell()
        if pos > self._counted:
            self._on_bytes(pos - self._counted)
            self._counted = pos
        return chunk


@dataclass
class PartsUpload:
    """One multipart upload of a local file, sent or continued here. `cancel()` (any thread)
    stops it: no new part starts, and the parts in flight stop mid-body."""

    client: object
    job: Job
    path: Path
    size: int
    part_size: int
    workers: int
    on_bytes: Callable[[int], None]
    # Called (any thread) with the spans of the file now on the server, at most every
    # RECORD_EVERY seconds: the queue shows them as done at once on the next run (ranges.kept_bytes).
    on_record: Callable[[list[list[int]]], None] | None = None
    digests: dict[int, bytes] = field(default_factory=dict)  # part number -> MD5 of its bytes
    checksums: dict[int, dict] = field(default_factory=dict)  # part number -> its checksums, if any
    _stop: threading.Event = field(default_factory=threading.Event)  # cancelled or paused
    _halt: threading.Event = field(default_factory=threading.Event)  # a part failed
    _sent: Ranges = field(default_factory=Ranges)
    _recorded: float = 0.0
    _record_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def span(self, number: int) -> tuple[int, int]:
        start = (number - 1) * self.part_size
        return start, min(self.part_size, self.size - start)

    def cancel(self) -> None:
        self._stop.set()

    def server_parts(self) -> dict[int, tuple[str, int, dict]]:
        """{part number: (ETag, size, checksums)} of what the server holds; UploadVanished if it
        holds nothing."""
        got: dict[int, tuple[str, int, dict]] = {}
        marker = 0
        while True:
            try:
                resp = self.client.list_parts(Bucket=self.job.bucket, Key=self.job.key,
                                              UploadId=self.job.upload_id, PartNumberMarker=marker)
            except Exception as exc:
                if is_no_such_upload(exc, self.job):
                    raise UploadVanished(self.job.upload_id) from exc
                raise
            for p in resp.get("Parts", []):
                got[int(p["PartNumber"])] = (str(p.get("ETag", "")).strip('"').lower(), int(p.get("Size", -1)),
                                             {k: p[k] for k in _CHECKSUMS if p.get(k)})
            marker = int(resp.get("NextPartNumberMarker") or 0)
            if not resp.get("IsTruncated") or not marker:
                return got

    def keep_matching(self, server: dict[int, tuple[str, int, dict]]) -> int:
        """Keep the server's parts whose size and ETag match the local bytes (each hashed
        once here); returns the bytes kept. The rest are sent again."""
        kept = 0
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for number, (etag, size, checksums) in sorted(server.items()):
                if number > self.count:
                    continue
                start, length = self.span(number)
                if size != length:
                    continue
                digest = hashlib.md5(os.pread(fd, length, start), usedforsecurity=False).digest()
                if digest.hex() == etag:
                    self.digests[number] = digest
                    self.checksums[number] = checksums
                    self._sent.add(start, start + length)
                    kept += length
        finally:
            os.close(fd)
        return kept

    def send_missing(self) -> None:
        """Send every part not kept, `workers` at a time; raises the first failure."""
        todo = [n for n in range(1, self.count + 1) if n not in self.digests]
        if not todo:
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            with ThreadPoolExecutor(max(1, min(self.workers, len(todo))), thread_name_prefix="lakegui-part") as pool:
                futures = [pool.submit(self._send, fd, n) for n in todo]
                done, pending = wait(futures, return_when=FIRST_EXCEPTION)
                if pending:  # one failed: no other part starts; those in flight finish, to be kept
                    self._halt.set()
                    wait(pending)
                for f in futures:
                    if f.done() and not f.cancelled() and f.exception() is not None:
                        raise f.exception()
        finally:
            os.close(fd)

    def _send(self, fd: int, number: int) -> None:
        if self._stop.is_set() or self._halt.is_set():
            return
        start, length = self.span(number)
        data = os.pread(fd, length, start)
        if len(data) != length:
            raise OSError(f"{self.path} is shorter than when its upload began")
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        resp = self.client.upload_part(Bucket=self.job.bucket, Key=self.job.key, UploadId=self.job.upload_id,
                                       PartNumber=number, Body=_Counted(data, self.on_bytes, self._stop),
                                       ContentMD5=base64.b64encode(digest).decode())
        etag = str(resp.get("ETag", "")).strip('"').lower()
        if etag and len(etag) == 32 and etag != digest.hex():
            # The server checked Content-MD5, so this is not damage; a resume just cannot keep this part.
            log.debug("part %d of %s has ETag %s, not its MD5", number, self.job.uri, etag)
        self.checksums[number] = {k: resp[k] for k in _CHECKSUMS if resp.get(k)}
        self.digests[number] = digest
        self._sent.add(start, start + length)
        self._record()

    def _record(self) -> None:
        if self.on_record is None:
            return
        with self._record_lock:  # one write at a time, each with every part sent so far
            now = time.monotonic()
            if now - self._recorded < RECORD_EVERY:
                return
            self._recorded = now
            self.on_record(self._sent.spans())

    @property
    def finished(self) -> bool:
        return len(self.digests) == self.count

    def complete(self) -> dict:
        """Complete the upload from the parts sent and kept; returns botocore's answer."""
        parts = [{"PartNumber": n, "ETag": f'"{self.digests[n].hex()}"', **self.checksums.get(n, {})}
                 for n in range(1, self.count + 1)]
        return self.client.complete_multipart_upload(Bucket=self.job.bucket, Key=self.job.key,
                                                     UploadId=self.job.upload_id,
                                                     MultipartUpload={"Parts": parts})

    def expected_etag(self) -> str:
        """The multipart ETag S3 gives these parts: the MD5 of their MD5s, then -N."""
        joined = b"".join(self.digests[n] for n in range(1, self.count + 1))
        return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{self.count}"


def abort(client, job: Job) -> None:
    """Abort the job's recorded multipart upload; one already gone is fine."""
    try:
        client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=job.upload_id)
    except Exception as exc:
        if not is_no_such_upload(exc, job):
            raise


def keeps_parts(reason: JobState | None) -> bool:
    """Whether a run stopped for `reason` leaves its parts for the next run (a pause, or a
    hand-back on exit), rather than aborting them (a cancel)."""
    return reason in (JobState.PAUSED, JobState.QUEUED)
