"""A seekable, read-only file over one S3 object, read with ranged GETs.

Previews read a few hundred kilobytes of files that can be gigabytes, so every byte
is fetched on demand and kept: the first read is one suffix request that holds the
footer of typical Parquet files, later reads are served from cache where they can,
and planned reads (`prefetch`) coalesce neighbouring ranges into one GET. The file
counts what it fetched, so the preview can say what it cost.
"""

from __future__ import annotations

import bisect
import io
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..units import human_size

FIRST_READ = 512 * 1024      # one suffix GET: the footer of typical Parquet files, or the whole small file
# Planned ranges closer than this share one GET: a request costs about as much as reading this much more.
HOLE_LIMIT = 256 * 1024
SEQUENTIAL_MAX = 16 << 20    # readahead for sequential reads doubles up to this
CACHE_LIMIT = 256 << 20      # bytes kept; least recently used blocks go first
PREFETCH_WORKERS = 8


class PreviewCancelled(Exception):
    """The preview this file serves was superseded; no more requests are made."""


class ObjectChanged(Exception):
    """The object was replaced while it was being read (its ETag no longer matches)."""


@dataclass(frozen=True)
class ReadStats:
    requests: int
    bytes: int
    size: int

    def describe(self) -> str:
        """'3 requests, 1.2 MB of 480.0 MB'"""
        noun = "request" if self.requests == 1 else "requests"
        return f"{self.requests} {noun}, {human_size(self.bytes)} of {human_size(self.size)}"

    def line(self) -> str:
        """'Read 3 requests, 1.2 MB of 480.0 MB', or '' when nothing was read (a kind with no
        preview, an archived object): '0 requests, 0 B' reads as a failed read."""
        return f"Read {self.describe()}" if self.requests else ""


def coalesce(ranges: list[tuple[int, int]], hole: int = HOLE_LIMIT) -> list[tuple[int, int]]:
    """Merge [start, end) ranges that overlap or lie within `hole` bytes of each other."""
    merged: list[list[int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1] + hole:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


class RangeFile(io.RawIOBase):
    """Read-only, seekable view of s3://bucket/key (of `version_id`, if given) of known `size`
    (from the listing: no HEAD).

    Thread-safe: pyarrow may read from its own threads while `prefetch` fills the cache.
    """

    def __init__(self, client, bucket: str, key: str, size: int, *, etag: str = "", version_id: str = "",
                 first_read: int = FIRST_READ, cache_limit: int = CACHE_LIMIT):
        super().__init__()
        self.client, self.bucket, self.key, self.size, self.etag = client, bucket, key, int(size), etag
        self.version_id = version_id  # read this version of the object ('' = the current one)
        self.first_read = first_read
        self.cache_limit = cache_limit
        self._pos = 0
        self._lock = threading.RLock()
        self._blocks: OrderedDict[int, bytes] = OrderedDict()  # start -> bytes, in LRU order
        self._starts: list[int] = []                            # sorted block starts
        self._cached = 0
        self._readahead: dict[int, int] = {}                    # end of a block -> next readahead
        self._cancelled = threading.Event()
        self.requests = 0
        self.bytes_fetched = 0

    # the io interface pyarrow uses

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        data = self.read_range(self._pos, end)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    # what previews use

    @property
    def stats(self) -> ReadStats:
        return ReadStats(self.requests, self.bytes_fetched, self.size)

    def cancel(self) -> None:
        """Make every later fetch raise PreviewCancelled (reads already cached still succeed)."""
        self._cancelled.set()

    def read_range(self, start: int, end: int) -> bytes:
        """Bytes [start, end), fetching what the cache lacks."""
        end = min(end, self.size)
        if start >= end:
            return b""
        with self._lock:
            if not self._starts and self.first_read:
                self._fetch_suffix()
            for gap_start, gap_end in self._gaps(start, end):
                self._fetch(gap_start, self._extend(gap_start, gap_end))
            return self._assemble(start, end)

    def prefetch(self, ranges: list[tuple[int, int]], hole: int = HOLE_LIMIT) -> None:
        """Fetch planned ranges ahead of the reads that need them: coalesced, concurrently."""
        with self._lock:
            wanted = [gap for s, e in ranges for gap in self._gaps(max(0, s), min(e, self.size))]
        plan = coalesce(wanted, hole)
        if len(plan) == 1:
            self._fetch(*plan[0])
        elif plan:
            with ThreadPoolExecutor(min(PREFETCH_WORKERS, len(plan)), thread_name_prefix="rangefile") as pool:
                for future in [pool.submit(self._fetch, s, e) for s, e in plan]:
                    future.result()

    def cached(self, start: int, end: int) -> bool:
        with self._lock:
            return not self._gaps(start, min(end, self.size))

    # cache internals

    def _fetch_suffix(self) -> None:
        n = min(self.size, self.first_read)
        self._store(self.size - n, self._get(f"bytes=-{n}", n))

    def _fetch(self, start: int, end: int) -> None:
        self._store(start, self._get(f"bytes={start}-{end - 1}", end - start))
        with self._lock:
            # A read that continues this block is sequential: read further ahead next time.
            self._readahead[end] = min(SEQUENTIAL_MAX, max(2 * (end - start), 256 * 1024))

    def _extend(self, start: int, end: int) -> int:
        ahead = self._readahead.pop(start, 0)
        limit = self._next_start(start)
        return min(max(end, start + ahead), limit, self.size)

    def _get(self, byte_range: str, expected: int) -> bytes:
        if self._cancelled.is_set():
            raise PreviewCancelled(self.key)
        params = {"Bucket": self.bucket, "Key": self.key, "Range": byte_range}
        if self.etag:
            params["IfMatch"] = f'"{self.etag}"'
        if self.version_id:
            params["VersionId"] = self.version_id
        try:
            body = self.client.get_object(**params)["Body"]
            data = body.read()
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise self.changed() from exc
            raise
        return self._counted(data, expected, byte_range)

    def _counted(self, data: bytes, expected: int, byte_range: str) -> bytes:
        """Count one request's bytes; a short or long answer means the object changed."""
        with self._lock:
            self.requests += 1
            self.bytes_fetched += len(data)
        if len(data) != expected:
            raise ObjectChanged(f"s3://{self.bucket}/{self.key}: asked for {expected:,} bytes ({byte_range}), "
                                f"got {len(data):,}; the object may have changed.")
        return data

    def changed(self) -> ObjectChanged:
        return ObjectChanged(f"s3://{self.bucket}/{self.key} changed while it was being read; "
                             "refresh and open it again.")

    def _store(self, start: int, data: bytes) -> None:
        with self._lock:
            # Drop cached blocks this one covers, then keep the cache under its limit.
            end = start + len(data)
            for s in [s for s in self._starts if start <= s and s + len(self._blocks[s]) <= end]:
                self._drop(s)
            self._blocks[start] = data
            bisect.insort(self._starts, start)
            self._cached += len(data)
            while self._cached > self.cache_limit and len(self._blocks) > 1:
                self._drop(next(iter(self._blocks)))

    def _drop(self, start: int) -> None:
        self._cached -= len(self._blocks.pop(start))
        self._starts.remove(start)

    def _next_start(self, pos: int) -> int:
        i = bisect.bisect_right(self._starts, pos)
        return self._starts[i] if i < len(self._starts) else self.size

    def _gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        """Parts of [start, end) no cached block covers."""
        gaps, pos = [], start
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while pos < end and i < len(self._starts):
            s = self._starts[i]
            e = s + len(self._blocks[s])
            if s > pos:
                gaps.append((pos, min(s, end)))
            pos = max(pos, e)
            i += 1
        if pos < end:
            gaps.append((pos, end))
        return gaps

    def _assemble(self, start: int, end: int) -> bytes:
        parts, pos = [], start
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while pos < end:
            s = self._starts[i]
            block = self._blocks[s]
            if s <= pos < s + len(block):
                take = block[pos - s:min(end, s + len(block)) - s]
                parts.append(take)
                pos += len(take)
                self._blocks.move_to_end(s)
            i += 1
        return parts[0] if len(parts) == 1 else b"".join(parts)
