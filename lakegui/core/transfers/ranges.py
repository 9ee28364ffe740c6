"""Which byte ranges of a download's temp file are complete, kept across runs (issue 19).

A large download records, in the queue (`job.resume`), the ETag it started from and the
ranges of its `.part` file whose bytes are on disk. The next run after a pause, a kill or a
lost connection keeps those bytes and asks only for the rest, with If-Match on that ETag.

The record is written in batches by a `Checkpoint` thread, in two kinds. `written`: what
pwrite has handed to the kernel, recorded often and cheaply; it survives the process (a kill,
a crash) but not the machine, so it is trusted only while the boot id it names is the
machine's. `ranges`: what was complete before an fdatasync of the file returned, recorded
less often; it survives a power cut too.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

# A checkpoint when about 1.5% of the file (at most 16 MiB) is new since the last one, or every
# CHECKPOINT_SECONDS while bytes arrive: a kill loses about that much. It syncs the file first
# only every SYNC_SECONDS: under load an fdatasync took long enough that a 1 GiB download killed
# at 60% written had only 54-58% recorded when every checkpoint waited for one. Between syncs the
# boot-stamped `written` record covers a kill, so a sync only matters after the machine itself
# went down; and a sync still running when a download ends holds the process's exit until the
# kernel has written that second's bytes (0.26 s at the end of a 1 GiB CLI download at 1 s).
CHECKPOINT_SECONDS = 0.25
CHECKPOINT_BYTES = 16 * 1024 * 1024
SYNC_SECONDS = 5.0


def boot_id() -> str:
    """This boot of the machine ('' where the system does not say): page-cache bytes written
    before it are still there after a process dies, not after a reboot."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def batch_bytes(size: int) -> int:
    """How many new bytes make a checkpoint for a file of `size` bytes."""
    return max(1024 * 1024, min(CHECKPOINT_BYTES, size // 64))


_READ = 1024 * 1024


class Ranges:
    """Sorted, disjoint [start, end) spans of a file, safe to add to from several threads."""

    def __init__(self, spans=()):
        self._spans: list[list[int]] = []
        self._lock = threading.Lock()
        for start, end in spans:
            self.add(int(start), int(end))

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        with self._lock:
            merged = []
            for s, e in self._spans:
                if e < start or s > end:  # apart; touching spans merge
                    merged.append([s, e])
                else:
                    start, end = min(start, s), max(end, e)
            merged.append([start, end])
            self._spans = sorted(merged)

    def spans(self) -> list[list[int]]:
        with self._lock:
            return [list(s) for s in self._spans]

    def done(self) -> int:
        """Bytes complete."""
        with self._lock:
            return sum(e - s for s, e in self._spans)

    def prefix(self) -> int:
        """Where the complete run from byte 0 ends (what may be hashed, in order)."""
        with self._lock:
            return self._spans[0][1] if self._spans and self._spans[0][0] == 0 else 0

    def missing(self, size: int) -> list[tuple[int, int]]:
        """The spans of [0, size) not complete yet, in order."""
        gaps, at = [], 0
        for s, e in self.spans():
            if s > at:
                gaps.append((at, min(s, size)))
            at = max(at, e)
        if at < size:
            gaps.append((at, size))
        return [(s, e) for s, e in gaps if e > s]

    def __bool__(self) -> bool:
        return self.done() > 0


def kept_spans(resume: dict) -> list:
    """The spans of an interrupted download's temp file a later run may keep: all it wrote if the
    machine has not restarted since, else what was synced."""
    try:
        boot = resume.get("boot", "")
        if boot and boot == boot_id() and "written" in resume:
            return [(int(s), int(e)) for s, e in resume["written"]]
        return [(int(s), int(e)) for s, e in resume.get("ranges", ())]
    except (TypeError, ValueError, AttributeError):
        return []


def kept_bytes(resume: dict) -> int:
    """Bytes an interrupted download kept, from its job's resume record (0 for anything else)."""
    return sum(e - s for s, e in kept_spans(resume))


def reusable_temp(temp: Path, resume: dict) -> bool:
    """Whether `temp` can be what `resume` describes: a regular file of our own (not a link planted
    under its name, nor a second name of someone else's file) that reaches its last range."""
    if not kept_bytes(resume):
        return False
    try:
        st = os.lstat(temp)
        end = max(e for _, e in kept_spans(resume))
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_uid == os.getuid() and st.st_size >= end


def drop_partial(job) -> None:
    """Remove the temp file a download kept to resume from (it was cancelled or removed)."""
    from .localpaths import temp_path_for

    if job.local_path and kept_bytes(job.resume):
        temp = temp_path_for(job.local_path, job.id)
        if reusable_temp(temp, job.resume):  # ours: never remove what someone else put there
            temp.unlink(missing_ok=True)


class Checkpoint:
    """Records `ranges` (with `state`: the ETag and version they belong to) through `save`, in
    batches, on its own thread; `wake()` after writes. `close(keep)` stops it, recording a last
    time when the file is kept."""

    def __init__(self, fd: int, ranges: Ranges, state: dict, save: Callable[[dict], None], *,
                 every: float = CHECKPOINT_SECONDS, every_bytes: int | None = None):
        self._fd = os.dup(fd)  # its own: a close that does not wait may leave a sync running on it
        self._ranges = ranges
        self.state = state  # etag, version_id, size; the etag may be filled in once the GET answers
        self._save = save
        self._every = every
        self._every_bytes = every_bytes or batch_bytes(int(state.get("size") or 0))
        self._saved = ranges.done()
        self._synced: list = []
        self._last_sync = float("-inf")  # the first record syncs: what this run kept is on disk too
        self._boot = boot_id()
        self._wake = threading.Event()
        self._stop = False
        self._dropped = False  # closed without keeping: nothing more is recorded
        self._exited = False
        self._lock = threading.Lock()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lakegui-checkpoint", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        last = time.monotonic()
        try:
            while not self._stop:
                self._wake.wait(self._every)
                self._wake.clear()
                new = self._ranges.done() - self._saved
                if new > 0 and (new >= self._every_bytes or time.monotonic() - last >= self._every) \
                        and not self._stop:
                    try:
                        self.flush()
                    except BaseException as exc:  # a full disk fails the transfer too; nothing to add here
                        self.error = exc
                        return
                    last = time.monotonic()
        finally:
            with self._lock:
                self._exited = True
                if self._dropped:
                    os.close(self._fd)

    def flush(self, sync: bool = False) -> None:
        """Record what is written; first, every SYNC_SECONDS (or when `sync`), sync the file and
        record as synced what was complete before the sync began."""
        if not self.state.get("etag"):
            return  # without the ETag a later run could not tell the bytes are still the object's
        spans = self._ranges.spans()
        if sync or not self._boot or time.monotonic() - self._last_sync >= SYNC_SECONDS:
            os.fdatasync(self._fd)
            self._synced, self._last_sync = spans, time.monotonic()
        record = {**self.state, "ranges": self._synced}
        if self._boot:
            record.update(written=spans, boot=self._boot)
        with self._lock:
            if self._dropped:
                return  # the job went on without it (finished, or its file removed)
            self._save(record)
        self._saved = sum(e - s for s, e in spans)

    def close(self, keep: bool) -> None:
        """Stop; with `keep`, record a last time. Only the first call counts (the file may be
        closed after it). Without `keep` it does not wait for a sync in progress (at the end
        of a 1 GiB download, 0.2 s of writing out the page cache): that record is dropped,
        and the thread closes its own descriptor when the sync returns."""
        if self._stop:
            return
        self._stop = True
        self._wake.set()
        if not keep:
            with self._lock:
                self._dropped = True
                if self._exited:
                    os.close(self._fd)
            return
        self._thread.join()
        try:
            if self.error is None:
                self.flush(sync=True)
        finally:
            os.close(self._fd)


class _Stop:
    """What a JobControl cancels for a ranged fetch: the workers see it between reads."""

    def __init__(self):
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Cancelled(Exception):
    pass


def fetch(client, bucket: str, key: str, gaps: list[tuple[int, int]], fd: int, ranges: Ranges, *,
          etag: str, version: str = "", part_size: int, workers: int, control,
          on_bytes: Callable[[int], None], bandwidth: int = 0) -> None:
    """GET `gaps` of an object in part-sized ranges, `workers` at a time, with If-Match on `etag`,
    writing each read at its offset and adding it to `ranges`. The s3transfer engine's way to fetch
    only what an interrupted run is missing: s3transfer itself always downloads the whole object."""
    stop = _Stop()
    control.attach(stop)
    pieces = [(s, min(e, s + part_size)) for g0, e in gaps for s in range(g0, e, part_size)]
    pace = {"next": time.monotonic()}
    lock = threading.Lock()

    def throttle(n: int) -> None:  # one limit over all workers, as s3transfer's own limiter
        if not bandwidth:
            return
        with lock:
            now = time.monotonic()
            begin = max(pace["next"], now)
            pace["next"] = begin + n / bandwidth
        if begin > now and control.event.wait(begin - now):
            raise Cancelled()

    def one(piece: tuple[int, int]) -> None:
        start, end = piece
        if stop.cancelled:
            raise Cancelled()
        args = {"Bucket": bucket, "Key": key, "Range": f"bytes={start}-{end - 1}", "IfMatch": f'"{etag}"'}
        if version:
            args["VersionId"] = version
        body = client.get_object(**args)["Body"]
        try:
            at = start
            while at < end:
                if stop.cancelled:
                    raise Cancelled()
                data = body.read(min(_READ, end - at))
                if not data:
                    raise OSError(f"the server sent {at - start:,} of the {end - start:,} bytes asked for")
                throttle(len(data))
                os.pwrite(fd, data, at)
                ranges.add(at, at + len(data))
                on_bytes(len(data))
                at += len(data)
        finally:
            body.close()

    with ThreadPoolExecutor(max(1, min(workers, len(pieces))), thread_name_prefix="lakegui-range") as pool:
        futures = [pool.submit(one, p) for p in pieces]
        try:
            for f in futures:
                f.result()
        except BaseException:
            stop.cancel()
            raise
