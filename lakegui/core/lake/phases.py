"""How a scan fetches each phase's ranges (every file's footer, then every file's chunks) together.

A scan plans its GETs a phase at a time, over all the files of a wave, and hands them here:
- LoopFetch, for plain-http named endpoints: every GET of the phase at once from the calling
  thread (multiget.MultiGet), no thread started;
- ThreadFetch, for the rest (https, a boto3 client, which in-process test doubles intercept): a
  pool of threads, each GET through the file's own RangeFile.
Either way the bytes land in the file's ScanFile, whose reads are then served from memory.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ..preview.rangefile import ObjectChanged, RangeFile
from .fetch import RawGets, client_error
from .multiget import Cancelled, MultiGet, Request


class ScanFile(RangeFile):
    """A RangeFile a scan fills with ranges it fetched for many files at once; any read outside
    them is fetched as RangeFile fetches (one GET through its client)."""

    error: BaseException | None = None   # the first failure of one of its GETs

    def missing(self, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The parts of `ranges` not held yet."""
        with self._lock:
            return [gap for s, e in ranges for gap in self._gaps(max(0, s), min(e, self.size))]

    def fetch_range(self, start: int, end: int) -> None:
        """GET [start, end) through the client (counted) and keep it."""
        self._store(start, self._get(f"bytes={start}-{end - 1}", end - start))

    def put(self, start: int, data: bytes, expected: int, byte_range: str) -> None:
        """Keep bytes fetched elsewhere for [start, start + expected), counted as one request."""
        self._store(start, self._counted(data, expected, byte_range))


class QueryStopped(Exception):
    """The scan's `cancelled()` turned true while a phase was in flight."""


class ThreadFetch:
    """Each GET of a phase from a pool of up to `concurrency` threads (started per phase)."""

    def __init__(self, concurrency: int):
        self.concurrency = max(1, concurrency)

    def run(self, jobs: list[tuple[ScanFile, int, int]], cancelled) -> None:
        def one(job) -> None:
            rf, start, end = job
            if rf.error is not None or cancelled():
                return
            try:
                rf.fetch_range(start, end)
            except Exception as exc:  # noqa: BLE001  the file is reported with it; the rest goes on
                if rf.error is None:
                    rf.error = exc

        if len(jobs) == 1:
            one(jobs[0])
        elif jobs:
            with ThreadPoolExecutor(min(self.concurrency, len(jobs)), thread_name_prefix="lake-scan") as pool:
                list(pool.map(one, jobs))
        if cancelled():
            raise QueryStopped()

    def close(self) -> None:
        pass


class LoopFetch:
    """Each GET of a phase at once over keep-alive sockets from the calling thread, to presigned
    URLs (RawGets signs them, once per key)."""

    def __init__(self, raw: RawGets, bucket: str, connections: int):
        self.raw, self.bucket = raw, bucket
        self.multi = MultiGet(connections)

    def run(self, jobs: list[tuple[ScanFile, int, int]], cancelled) -> None:
        requests = []
        for rf, start, end in jobs:
            if rf.error is not None:
                continue
            _, netloc, target, url = self.raw.target(self.bucket, rf.key, rf.version_id)
            parts = urlsplit(url)
            headers = {"Host": netloc, "Range": f"bytes={start}-{end - 1}"}
            if rf.etag:
                headers["If-Match"] = f'"{rf.etag}"'
            requests.append(Request(parts.hostname, parts.port or 80, target, headers, url=url,
                                    tag=(rf, start, end)))
        try:
            self.multi.run(requests, cancelled)
        except Cancelled:
            raise QueryStopped() from None
        for r in requests:
            rf, start, end = r.tag
            if rf.error is not None:
                continue
            if r.error is not None:
                rf.error = r.error
            elif r.status >= 300:
                rf.error = rf.changed() if r.status == 412 else client_error(r.status, r.reason, r.body)
            else:
                try:
                    rf.put(start, r.body, end - start, r.headers["Range"])
                except ObjectChanged as exc:
                    rf.error = exc

    def close(self) -> None:
        self.multi.close()


def fetcher_for(client, bucket: str, key: str, concurrency: int, connections: int):
    """LoopFetch when `client` is a RawGets to a plain-http endpoint, else ThreadFetch."""
    if isinstance(client, RawGets) and client.target(bucket, key)[0] == "http":
        return LoopFetch(client, bucket, connections)
    return ThreadFetch(concurrency)
