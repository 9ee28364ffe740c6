"""Verifying a download against what the server states about the object.

In order of preference: a full-object checksum (x-amz-checksum-*, asked for with
ChecksumMode=ENABLED), the MD5 ETag of a single-part object, a composite CRC ("-N": the CRC of
the parts' CRCs) or else the multipart ETag, either rebuilt with the object's part size (a HEAD
of part 1 gives it). Where none applies (SSE-KMS, other ETag schemes) the download is checked by
its size only.

The bytes are hashed while they arrive: a `Follower` thread reads the part of the temp
file already written (the CRT writes in order; s3transfer's writes go through a
`TrackedFile` that knows the complete prefix) and feeds C hashers (hashlib, awscrt's
CRCs), which release the GIL, so the hash keeps up on the other core and only the last
read's worth is left when the transfer ends.

Cost, measured 2026-12-01 on the loaded 2-core machine against loopback SeaweedFS (a 512 MiB
object uploaded by the CRT, so a 52-part multipart ETag: MD5 is the only check; 3 rounds,
interleaved, verification off / on): awscrt 2.40, 1.41, 1.22 s / 2.68, 2.92, 2.21 s, median
1.9x; s3transfer 2.66, 2.13, 1.43 s / 3.01, 3.04, 2.26 s, median 1.4x. MD5 runs at about 350 MB/s here (SHA-256 890, CRC32 1,090), so an MD5 ETag bounds a
download at that speed; objects with a full-object CRC cost far less. A multipart ETag's parts
are independent MD5s, so they are hashed on a small pool (`_run_parts`); on 2 cores that helps
only when the CRT leaves the other core idle (1 GiB CLI download, 4 rounds under load: median
6.17 s vs 6.57 s for one follower; docs/BENCHMARKS.md "Big files"). So lakegui's own multipart
uploads carry a full-object CRC64NVME (parts.py: a CRC on each part, ChecksumType FULL_OBJECT),
which the HEAD states like a single PUT's checksum: their downloads are checked by that CRC, in
C at about 9 GB/s a core here, instead of MD5 (about 0.55 GB/s).
"""

from __future__ import annotations

import base64
import collections
import hashlib
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Callable, Mapping

from awscrt import checksums

_PLAIN = re.compile(r"^[0-9a-f]{32}$")
_MULTI = re.compile(r"^[0-9a-f]{32}-(\d+)$")
# Full-object checksums, cheapest to compute first.
ALGORITHMS = ("CRC64NVME", "CRC32C", "CRC32", "SHA1", "SHA256")
_READ = 8 * 1024 * 1024
_WORKERS = max(2, min(4, os.cpu_count() or 2))  # parts of a multipart ETag hashed at once
SIZE_ONLY = "checked by size only"


@dataclass(frozen=True)
class Expected:
    """What a download must hash to. kind: checksum, md5, composite, multipart or size."""

    kind: str
    value: str = ""
    algorithm: str = ""  # checksums: CRC32, SHA256, ...
    part_size: int = 0  # multipart ETags and composite CRCs
    etag: str = ""

    def describe(self) -> str:
        if self.kind == "checksum":
            return f"{self.algorithm} checksum"
        if self.kind == "composite":
            return f"composite {self.algorithm} checksum"
        return {"md5": "MD5 ETag", "multipart": "multipart ETag"}.get(self.kind, SIZE_ONLY)


SIZE = Expected("size")
_CRCS = {"CRC32": (checksums.crc32, 4), "CRC32C": (checksums.crc32c, 4), "CRC64NVME": (checksums.crc64nvme, 8)}
_COMBINE = {"CRC32": checksums.combine_crc32, "CRC32C": checksums.combine_crc32c,
            "CRC64NVME": checksums.combine_crc64nvme}
_COMPOSITE = re.compile(r"^[A-Za-z0-9+/=]+-(\d+)$")


def composite(headers: Mapping[str, str]) -> tuple[str, str]:
    """(algorithm, value) of a composite CRC the headers state ("...-N"; moto's, without the
    suffix, is not one S3 gives and is left alone), else ('', '')."""
    for name in _CRCS:
        value = headers.get(f"x-amz-checksum-{name.lower()}", "")
        if _COMPOSITE.match(value):
            return name, value
    return "", ""


def from_headers(headers: Mapping[str, str], *, ranged: bool = False) -> Expected | None:
    """The expectation HTTP response headers (lower-case names) state; None when the ETag is
    multipart, which needs the part size (see `expected_for`). A ranged answer's checksum is
    the range's, and its ETag alone says nothing of the part size."""
    etag = headers.get("etag", "").strip('"').lower()
    if not ranged:
        full = headers.get("x-amz-checksum-type", "FULL_OBJECT").upper() == "FULL_OBJECT"
        for name in ALGORITHMS:
            value = headers.get(f"x-amz-checksum-{name.lower()}", "")
            if value and "-" not in value and full:  # "-N": a composite of part checksums
                return Expected("checksum", value, name, etag=etag)
    if headers.get("x-amz-server-side-encryption") == "aws:kms" or \
            headers.get("x-amz-server-side-encryption-customer-algorithm"):
        return Expected("size", etag=etag)  # the ETag is not the MD5 of the bytes
    if _PLAIN.match(etag) and not ranged:
        return Expected("md5", etag, etag=etag)
    if _MULTI.match(etag) or (ranged and _PLAIN.match(etag)):
        return None
    return Expected("size", etag=etag)


def response_headers(resp: dict) -> dict[str, str]:
    """A botocore response's HTTP headers, names in lower case."""
    return {k.lower(): v for k, v in resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).items()}


def expected_for(client, bucket: str, key: str, version: str = "") -> Expected:
    """Ask the server (HEAD with ChecksumMode=ENABLED, and a HEAD of part 1 for a multipart
    ETag) what the object's bytes must hash to."""
    args = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    head = client.head_object(ChecksumMode="ENABLED", **args)
    exp = from_headers(response_headers(head))
    if exp is not None:
        return exp
    etag = str(head.get("ETag", "")).strip('"').lower()
    m = _MULTI.match(etag)
    if not m:
        return Expected("size", etag=etag)
    part = client.head_object(PartNumber=1, **args)
    algorithm, value = composite(response_headers(head))
    if algorithm and value.endswith(f"-{m.group(1)}"):  # part CRCs: far cheaper than part MD5s
        return Expected("composite", value, algorithm, part_size=int(part["ContentLength"]), etag=etag)
    return Expected("multipart", etag, part_size=int(part["ContentLength"]), etag=etag)


class Digest:
    """An incremental hash of the bytes in order, as `Expected` states it."""

    def __init__(self, exp: Expected):
        self.exp = exp
        self._crc = 0
        self._h = None
        self._parts: list[bytes] = []
        self._in_part = 0
        if exp.kind == "checksum" and exp.algorithm in ("SHA1", "SHA256"):
            self._h = hashlib.new(exp.algorithm.lower())
        elif exp.kind in ("md5", "multipart"):
            self._h = hashlib.md5(usedforsecurity=False)
        self._crc_fn = _CRCS[exp.algorithm][0] if exp.kind in ("checksum", "composite") and \
            exp.algorithm in _CRCS else None
        self._part_crcs: list[int] = []  # a composite's whole parts

    def update(self, data) -> None:
        if self.exp.kind == "composite":
            view, size = memoryview(data), self.exp.part_size
            while view:
                take = min(len(view), size - self._in_part)
                self._crc = self._crc_fn(view[:take], self._crc)
                self._in_part += take
                view = view[take:]
                if self._in_part == size:
                    self._part_crcs.append(self._crc)
                    self._crc, self._in_part = 0, 0
        elif self._crc_fn is not None:
            self._crc = self._crc_fn(data, self._crc)
        elif self.exp.kind == "multipart":
            view, size = memoryview(data), self.exp.part_size
            while view:
                take = min(len(view), size - self._in_part)
                self._h.update(view[:take])
                self._in_part += take
                view = view[take:]
                if self._in_part == size:
                    self._parts.append(self._h.digest())
                    self._h, self._in_part = hashlib.md5(usedforsecurity=False), 0
        elif self._h is not None:
            self._h.update(data)

    def combines(self) -> bool:
        """Whether a chunk's own CRC can be joined on (a full-object CRC): then chunks that arrive
        out of order are hashed as they come, and joined in order (combine)."""
        return self.exp.kind == "checksum" and self.exp.algorithm in _COMBINE

    def combine(self, crc: int, length: int) -> None:
        """Join on the CRC of the next `length` bytes, taken apart from the others."""
        self._crc = _COMBINE[self.exp.algorithm](self._crc, crc, length)

    def parallel(self, offset: int) -> bool:
        """Whether the parts from `offset` on can be hashed apart (a multipart ETag, at a part
        boundary: a kept digest may stop mid-part, and goes on in order)."""
        return self.exp.kind == "multipart" and not self._in_part and offset % self.exp.part_size == 0

    def add_part(self, md5: bytes) -> None:
        """The MD5 of the next whole part (or the short last one), hashed elsewhere."""
        self._parts.append(md5)

    def result(self) -> str:
        exp = self.exp
        if exp.kind == "checksum":
            if self._h is not None:
                return base64.b64encode(self._h.digest()).decode()
            width = 8 if exp.algorithm == "CRC64NVME" else 4
            return base64.b64encode(self._crc.to_bytes(width, "big")).decode()
        if exp.kind == "composite":
            width = _CRCS[exp.algorithm][1]
            crcs = self._part_crcs + ([self._crc] if self._in_part or not self._part_crcs else [])
            joined = b"".join(c.to_bytes(width, "big") for c in crcs)
            return f"{base64.b64encode(self._crc_fn(joined).to_bytes(width, 'big')).decode()}-{len(crcs)}"
        if exp.kind == "md5":
            return self._h.hexdigest()
        if exp.kind == "multipart":
            parts = self._parts + ([self._h.digest()] if self._in_part or not self._parts else [])
            return f"{hashlib.md5(b''.join(parts), usedforsecurity=False).hexdigest()}-{len(parts)}"
        return ""


def _md5_of(fd: int, start: int, length: int) -> bytes:
    h = hashlib.md5(usedforsecurity=False)
    end = start + length
    while start < end:
        data = os.pread(fd, min(_READ, end - start), start)
        if not data:
            raise OSError("the file is shorter than written")
        h.update(data)
        start += len(data)
    return h.digest()


class Mismatch(Exception):
    pass


class Follower:
    """Hashes a file being written, up to what `available()` says is complete, on its own thread.
    `expect()` gives it what to compute (it waits until then: a small download learns it from
    its GET's headers); `result(total)` hashes what is left and returns the digest."""

    def __init__(self, path, available: Callable[[], int], start: int = 0, digest: Digest | None = None):
        self._path = path
        self._available = available
        self._offset = start
        self._digest = digest
        self._total: int | None = None
        self._wake = threading.Event()
        self._stop = False
        self._upto: int | None = None  # a stop that first catches up to here (see stop)
        self._error: BaseException | None = None
        self._lock = threading.Lock()  # the offset advances here or in feed(), never both for one chunk
        self._ahead: dict[int, tuple[int, int]] = {}  # offset -> (length, CRC) fed ahead of the offset
        self._thread = threading.Thread(target=self._run, name="lakegui-verify", daemon=True)
        self._thread.start()

    def expect(self, exp: Expected) -> None:
        if self._digest is None:
            self._digest = Digest(exp)
            self._wake.set()

    @property
    def expected(self) -> Expected | None:
        return self._digest.exp if self._digest else None

    def _run(self) -> None:
        try:
            fd = None
            while not self._halted():
                if self._digest is None or self._digest.exp.kind == "size":
                    if self._stop:
                        return
                    self._wake.wait(0.05)
                    self._wake.clear()
                    if self._total is not None and (self._digest is None or self._digest.exp.kind == "size"):
                        return
                    continue
                if fd is None:
                    fd = os.open(self._path, os.O_RDONLY)
                if self._digest.parallel(self._offset):
                    return self._run_parts(fd)
                limit, start = self._limit(), self._offset
                with self._lock:  # read up to the next chunk hashed ahead, not into it
                    limit = min([limit, *(k for k in self._ahead if k > start)])
                if limit > start:
                    data = os.pread(fd, min(_READ, limit - start), start)
                    if not data:
                        raise OSError(f"{self._path} is shorter than written")
                    with self._lock:
                        if self._offset == start:  # else feed() hashed these bytes meanwhile
                            self._digest.update(data)
                            self._offset += len(data)
                            self._join_ahead()
                elif self._total is not None:
                    return
                else:
                    self._wake.wait(0.02)
                    self._wake.clear()
        except BaseException as exc:  # reported by result()
            self._error = exc
        finally:
            if fd is not None:
                os.close(fd)

    def _run_parts(self, fd: int) -> None:
        """A multipart ETag's parts are independent MD5s: each complete part is hashed on a small
        pool (hashlib releases the GIL), so two cores hash at once where one follower thread held
        a download to one core's MD5 speed. Only the parts hashed in order count as done, so a
        stop leaves `progress()` at a part boundary."""
        digest, size = self._digest, self._digest.exp.part_size
        pending: collections.deque = collections.deque()  # (length, future) in file order
        start = self._offset
        with ThreadPoolExecutor(_WORKERS, thread_name_prefix="lakegui-verify-part") as pool:
            while not self._halted() or (pending and self._upto is not None):
                total = self._total
                limit = self._limit()
                while len(pending) < 2 * _WORKERS and start < limit and (start + size <= limit or total is not None):
                    length = min(size, limit - start)
                    pending.append((length, pool.submit(_md5_of, fd, start, length)))
                    start += length
                if pending and pending[0][1].done():
                    length, future = pending.popleft()
                    digest.add_part(future.result())
                    self._offset += length
                elif pending:
                    wait_futures([pending[0][1]], timeout=0.05)
                elif (total is not None and start >= total) or self._stop:
                    return
                else:
                    self._wake.wait(0.02)
                    self._wake.clear()

    def feed(self, offset: int, chunk) -> None:
        """Hash `chunk`, just written at `offset`, on the writer's thread, when the check is a CRC
        (in C at about 9 GB/s: cheaper than reading it back from the file, which cost the 1 GiB
        download about 0.3 s of CPU): at once when it is the next byte to hash, else, for a
        full-object CRC, apart, to be joined on in order (parts of a ranged download arrive in
        any order). Call it before the chunk counts as available. Otherwise nothing: the follower
        reads what it needs from the file."""
        digest = self._digest
        if digest is None or digest._crc_fn is None:
            return
        if not digest.combines():  # a composite's part boundaries need the bytes, in order
            with self._lock:
                if offset == self._offset:
                    digest.update(chunk)
                    self._offset += len(chunk)
            return
        crc = digest._crc_fn(chunk)  # outside the lock: in C, without the GIL
        with self._lock:
            if offset == self._offset:
                digest.combine(crc, len(chunk))
                self._offset += len(chunk)
                self._join_ahead()
            elif offset > self._offset:
                self._ahead[offset] = (len(chunk), crc)

    def _join_ahead(self) -> None:
        """Join on the chunks hashed ahead that now come next (under the lock)."""
        while (item := self._ahead.pop(self._offset, None)) is not None:
            self._digest.combine(item[1], item[0])
            self._offset += item[0]

    def _limit(self) -> int:
        if self._upto is not None:
            return self._upto
        return self._total if self._total is not None else self._available()

    def _halted(self) -> bool:
        return self._stop and (self._upto is None or self._offset >= self._upto)

    def progress(self) -> tuple[int, Digest | None]:
        """(bytes hashed, the digest so far), once stopped: a paused download's next run in this
        process goes on from there instead of hashing its kept bytes again."""
        return self._offset, self._digest

    def result(self, total: int) -> str:
        self._total = total
        self._wake.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest.result() if self._digest else ""

    def stop(self, catch_up: bool = False) -> None:
        """Ends the thread. With `catch_up` (a pause that keeps its temp file) it first hashes
        what is already complete on disk, at most the whole parts of it, so the next run in this
        process starts from there: a pause right after a range landed kept nothing hashed."""
        if catch_up and self._digest is not None and self._digest.exp.kind != "size":
            self._upto = self._available()
        self._stop = True
        self._wake.set()
        self._thread.join()


class TrackedFile:
    """A file object for s3transfer's downloads that knows how much of its start is written
    (its IO thread writes parts with seek then write, in any order)."""

    def __init__(self, f, start: int = 0):
        self._f = f
        self._pos = 0
        self._base = start  # bytes already in the file before this attempt (a resumed range)
        self.prefix = start
        self._pending: dict[int, int] = {}  # offset -> end of writes beyond the prefix
        self._lock = threading.Lock()

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = self._f.seek(offset + (self._base if whence == 0 else 0), whence) - self._base
        return self._pos

    def tell(self) -> int:
        return self._pos

    def write(self, data) -> int:
        n = self._f.write(data)
        start, end = self._pos + self._base, self._pos + self._base + n
        self._pos += n
        self._f.flush()  # the follower reads with its own descriptor
        with self._lock:
            if start <= self.prefix:
                prefix = max(self.prefix, end)
                while prefix in self._pending:
                    prefix = max(prefix, self._pending.pop(prefix))
                self.prefix = prefix
            else:
                self._pending[start] = max(end, self._pending.get(start, 0))
        return n

    def available(self) -> int:
        return self.prefix
