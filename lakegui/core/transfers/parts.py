"""Multipart uploads sent part by part here, so an interrupted one continues (issue 19).

Why hand-written part calls, when the engines move every other byte: the CRT neither
reports the upload id of its multipart uploads nor continues an upload it did not start,
and it aborts its upload when its request is cancelled (a pause); s3transfer also aborts
on cancel and always starts from part 1. So a multipart upload that may be resumed is
created here, its id and part size go to the queue before any part is sent, and this
module sends the parts on a small thread pool over botocore, on the first run and on
every later one. A later run asks `list_parts` what the server has and sends only the
parts that are missing or whose ETag is not the MD5 of the local bytes, then completes.

Each part carries a CRC64NVME (awscrt computes it in C at about 9 GB/s a core here), and the
upload is created with ChecksumType FULL_OBJECT and completed with the whole file's CRC,
combined from the parts' (no second pass). The server checks each part's CRC and, at the end,
the whole one, and later downloads check that CRC in C instead of MD5-hashing every byte
against the multipart ETag (about 2.7 s of CPU per GiB here; verify.py). The parts then carry
no Content-MD5 either: the CRC is the check, and MD5 was most of the upload's own CPU.
A server that refuses the checksum arguments, or creates the upload without echoing them, gets
today's upload instead: Content-MD5 on each part, and the MD5s make the upload's ETag.

What the servers tested store (2026-12-01): SeaweedFS checks each part's CRC (BadDigest) and
the whole CRC sent at completion, and states it on HEAD with ChecksumMode=ENABLED. moto 5.2.5's
server checks neither (nor Content-MD5) but computes the whole CRC itself from the bytes and
states it: right for CRC64NVME and CRC32, wrong for CRC32C (it stores the CRC32 under that
name). Neither lists the parts' checksums in list_parts, so a resume there compares ETags with
the MD5 of the local part; AWS lists them, and then the CRC is compared instead.
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

from awscrt import checksums as crc
from botocore.exceptions import ClientError

from ..errors import classify
from .jobs import Job, JobState
from .ranges import Ranges

log = logging.getLogger(__name__)

UPLOADER = "parts"  # job.resume["uploader"] of an upload this module can continue
# A part's checksums as botocore names them; completing an upload whose parts carry them (AWS,
# where botocore adds CRC32 by default) must name them again.
_CHECKSUMS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256")
CHECKSUM = "CRC64NVME"  # the full-object checksum uploads are created with (the fastest in C)
# algorithm -> (CRC of bytes, combine(crc1, crc2, length2), width in bytes)
_CRCS = {"CRC64NVME": (crc.crc64nvme, crc.combine_crc64nvme, 8), "CRC32C": (crc.crc32c, crc.combine_crc32c, 4),
         "CRC32": (crc.crc32, crc.combine_crc32, 4)}
RECORD_EVERY = 0.5  # seconds between records of the parts sent (a display hint; list_parts is the truth)


class UploadVanished(Exception):
    """The server no longer knows the upload (aborted by a lifecycle rule, or by hand)."""


def resume_state(engine: str, part_size: int, st: os.stat_result, checksum: str = "") -> dict:
    """What the queue keeps of a multipart upload in flight, so a later run can continue it
    (`checksum`: the algorithm the upload was created with, which every part must carry)."""
    return {"uploader": UPLOADER, "engine": engine, "part_size": part_size, "size": st.st_size,
            "mtime_ns": st.st_mtime_ns, **({"checksum": checksum} if checksum else {})}


def create_args(algorithm: str) -> dict:
    """CreateMultipartUpload's arguments for a full-object checksum ({} for none)."""
    return {"ChecksumAlgorithm": algorithm, "ChecksumType": "FULL_OBJECT"} if algorithm else {}


def created_with(resp: dict, algorithm: str) -> str:
    """The algorithm a CreateMultipartUpload answer says the upload checks, '' if it does not say
    so (a server that ignored the arguments: its parts are sent as before, with Content-MD5)."""
    if not algorithm or resp.get("ChecksumAlgorithm") != algorithm or \
            str(resp.get("ChecksumType") or "FULL_OBJECT") != "FULL_OBJECT":
        return ""
    return algorithm


def refused(exc: BaseException) -> bool:
    """Whether a server answered a request carrying checksum arguments with 'not supported' (400
    or 501), rather than 'the bytes do not match' (BadDigest: damage, sent again as is)."""
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in (400, 501) and error.get("Code") not in ("BadDigest", "InvalidDigest",
                                                              "XAmzContentChecksumMismatch")


def refused_part_checksums(exc: BaseException) -> bool:
    """Whether an upload created with a checksum had its parts' checksums refused: a 400/501 as
    `refused` says, that names the checksum (an upload's other 400s, EntityTooSmall say, must not
    start it again without checksums)."""
    return refused(exc) and "checksum" in str(exc).lower()


def encode(value: int, algorithm: str) -> str:
    """A CRC as S3 states it: big-endian bytes, base64."""
    return base64.b64encode(value.to_bytes(_CRCS[algorithm][2], "big")).decode()


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
    algorithm: str = ""  # the upload's full-object CRC (CHECKSUM), or '' for Content-MD5 parts
    digests: dict[int, bytes] = field(default_factory=dict)  # part number -> MD5 of its bytes (MD5 parts)
    crcs: dict[int, int] = field(default_factory=dict)  # part number -> CRC of its bytes (CRC parts)
    etags: dict[int, str] = field(default_factory=dict)  # part number -> the server's ETag of it
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
        """Keep the server's parts whose size and checksum (where the server lists it) or else
        ETag match the local bytes (each hashed once here); returns the bytes kept. The rest
        are sent again."""
        kept = 0
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for number, (etag, size, checksums) in sorted(server.items()):
                if number > self.count:
                    continue
                start, length = self.span(number)
                if size != length:
                    continue
                data = os.pread(fd, length, start)
                if self.algorithm:  # its CRC is needed for the whole one either way
                    self.crcs[number] = _CRCS[self.algorithm][0](data)
                stated = checksums.get(f"Checksum{self.algorithm}") if self.algorithm else None
                if stated is not None:
                    ok = stated == encode(self.crcs[number], self.algorithm)
                else:
                    digest = hashlib.md5(data, usedforsecurity=False).digest()
                    ok = digest.hex() == etag
                    if ok and not self.algorithm:
                        self.digests[number] = digest
                if ok:
                    self.etags[number] = etag
                    self.checksums[number] = self._part_checksums(number, checksums)
                    self._sent.add(start, start + length)
                    kept += length
                else:
                    self.crcs.pop(number, None)
        finally:
            os.close(fd)
        return kept

    def send_missing(self) -> None:
        """Send every part not kept, `workers` at a time; raises the first failure."""
        todo = [n for n in range(1, self.count + 1) if n not in self.etags]
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
        if self.algorithm:
            value = _CRCS[self.algorithm][0](data)
            check = {f"Checksum{self.algorithm}": encode(value, self.algorithm)}
        else:
            digest = hashlib.md5(data, usedforsecurity=False).digest()
            check = {"ContentMD5": base64.b64encode(digest).decode()}
        resp = self.client.upload_part(Bucket=self.job.bucket, Key=self.job.key, UploadId=self.job.upload_id,
                                       PartNumber=number, Body=_Counted(data, self.on_bytes, self._stop), **check)
        etag = str(resp.get("ETag", "")).strip('"').lower()
        if self.algorithm:
            self.crcs[number] = value
        else:
            if etag and len(etag) == 32 and etag != digest.hex():
                # The server checked Content-MD5, so this is not damage; a resume just cannot keep this part.
                log.debug("part %d of %s has ETag %s, not its MD5", number, self.job.uri, etag)
            self.digests[number] = digest
            etag = etag or digest.hex()
        self.checksums[number] = self._part_checksums(number, {k: resp[k] for k in _CHECKSUMS if resp.get(k)})
        self.etags[number] = etag
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

    def _part_checksums(self, number: int, stated: dict) -> dict:
        """What CompleteMultipartUpload names for a part: our CRC on a checksum upload, else what
        the server stated (AWS, where botocore adds a CRC32 of its own to each part)."""
        if self.algorithm:
            return {f"Checksum{self.algorithm}": encode(self.crcs[number], self.algorithm)}
        return stated

    @property
    def finished(self) -> bool:
        return len(self.etags) == self.count

    def full_checksum(self) -> str:
        """The whole file's CRC, combined from the parts' (awscrt's combine, no pass over the bytes)."""
        _, combine, _ = _CRCS[self.algorithm]
        value = self.crcs[1]
        for n in range(2, self.count + 1):
            value = combine(value, self.crcs[n], self.span(n)[1])
        return encode(value, self.algorithm)

    def complete(self) -> dict:
        """Complete the upload from the parts sent and kept; returns botocore's answer. A checksum
        upload names the whole file's CRC, which the server checks against what it stored."""
        parts = [{"PartNumber": n, "ETag": f'"{self.etags[n]}"', **self.checksums.get(n, {})}
                 for n in range(1, self.count + 1)]
        whole = {"ChecksumType": "FULL_OBJECT", f"Checksum{self.algorithm}": self.full_checksum()} \
            if self.algorithm else {}
        return self.client.complete_multipart_upload(Bucket=self.job.bucket, Key=self.job.key,
                                                     UploadId=self.job.upload_id,
                                                     MultipartUpload={"Parts": parts}, **whole)

    def stored_checksum(self, resp: dict, version: str = "") -> str:
        """The whole-object CRC the server states it stored: the completion's answer, else a HEAD
        with ChecksumMode=ENABLED (moto states it only there); '' if it states none."""
        name = f"Checksum{self.algorithm}"
        if resp.get(name):
            return str(resp[name])
        # moto answers an unversioned bucket's completion with version "null", then refuses a HEAD of it
        head = self.client.head_object(Bucket=self.job.bucket, Key=self.job.key, ChecksumMode="ENABLED",
                                       **({"VersionId": version} if version not in ("", "null") else {}))
        return str(head.get(name) or "") if str(head.get("ChecksumType") or "FULL_OBJECT") == "FULL_OBJECT" else ""

    def expected_etag(self) -> str:
        """The multipart ETag S3 gives these parts: the MD5 of their MD5s, then -N ('' for a
        checksum upload, whose parts were not MD5-hashed)."""
        if len(self.digests) != self.count:
            return ""
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
