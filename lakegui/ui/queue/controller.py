"""The GUI's transfer queue: the durable store, the engines and a QThreadPool of workers,
with the item model the queue view shows.

Workers report only when a job ends. Bytes in flight live in plain counters that a
100 ms timer samples on the main thread, so the UI gets at most ten updates a
second however many chunks arrive. Another process (lakegui-cli) may share the
database: a 1 s timer picks up its changes when SQLite says there are any.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from ...core.connection import Connection
from ...core.settings import TransferSettings
from ...core.transfers.jobs import FINISHED, JobState, Outcome, display_name
from ...core.transfers import backends  # noqa: F401  imported now, not on the first job's thread
from ...core.transfers.runner import EnginePool, RunningJob, end_record
from ...core.transfers.store import JobStore, NewJob, QueueError, this_owner
from .workers import CallRunnable, TransferWorker, WorkerSignals
from .model import JobRow, TransferTableModel

log = logging.getLogger(__name__)
RUNNER = "gui"


@dataclass(frozen=True)
class Totals:
    files_done: int = 0  # done or skipped
    files_total: int = 0  # all but cancelled
    failed: int = 0
    running: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    speed: float = 0.0
    eta: float | None = None


WORKERS_PER_TURN = 4  # workers started per turn of the event loop


class TransferQueue(QObject):
    totals_changed = Signal(object)  # Totals
    job_finished = Signal(int, str)  # job id, state
    jobs_added = Signal(int, int)  # batch id, jobs
    idle = Signal()  # nothing running and nothing left to claim

    TICK_MS = 100
    SYNC_MS = 1000

    def __init__(self, settings: TransferSettings | None = None, parent=None, *, store_path=None):
        super().__init__(parent)
        self.settings = settings or TransferSettings()
        self.model = TransferTableModel(self)
        self.error = ""
        try:
            self.store: JobStore | None = JobStore(store_path)
        except QueueError as exc:  # e.g. locked by another process: the app still opens
            self.store, self.error = None, str(exc)
        self.engines = EnginePool(self.store, self.settings) if self.store else None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, self.settings.concurrent_files))
        self.owner = this_owner()
        self._running: dict[int, RunningJob] = {}  # claimed: in the ready line or on a worker
        self._ready: collections.deque[RunningJob] = collections.deque()
        self.outcomes: dict[int, Outcome] = {}  # written by workers, read on the main thread
        self._workers_alive = 0
        self._start_scheduled = False
        self._line_lock = threading.Lock()
        self.signals = WorkerSignals(self)
        self.signals.finished.connect(self._on_worker_finished)
        self._resume_on_stop: set[int] = set()
        self._ends: list[tuple] = []  # job ends not yet written, flushed with the next claim
        self._flush_scheduled = False
        self._closing = False
        self._ticks = 0
        self._totals_dirty = True
        self._moved_samples: collections.deque = collections.deque(maxlen=60)
        self._finished_bytes = 0  # bytes of jobs that ended done, for the aggregate speed
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(self.TICK_MS)
        self.tick_timer.timeout.connect(self._on_tick_timer_timeout)
        self.sync_timer = QTimer(self)
        self.sync_timer.setInterval(self.SYNC_MS)
        self.sync_timer.timeout.connect(self._on_sync_timer_timeout)
        self._last_sync = time.time()
        self._data_version = 0
        if self.store:
            self._load()

    # lifecycle

    def _load(self) -> None:
        self.store.recover_orphans()  # jobs a crashed process left running go back in line
        self._last_sync = time.time()
        self._data_version = self.store.data_version()
        self.model.set_rows([JobRow.from_view_row(r) for r in self.store.view_rows()])
        self._totals_dirty = True

    def start(self) -> None:
        """Begin running queued jobs (also those left from the last session) and watching the store."""
        if self.store and not self._closing:
            self.sync_timer.start()
            self._pump()
            self._emit_totals()

    def set_connection(self, connection: Connection | None) -> None:
        """Use this live connection for its profile's jobs, and prepare its engine in the background."""
        if connection is not None and self.engines:
            self.engines.add_connection(connection)
            if not self._closing:
                self.pool.start(CallRunnable(lambda: self.engines.warm(connection)))

    def apply_settings(self, settings: TransferSettings) -> None:
        """New tuning for jobs that start from now on."""
        self.settings = settings
        self.pool.setMaxThreadCount(max(1, settings.concurrent_files))
        if self.engines:
            self.engines.use_settings(settings)
        self._pump()

    @property
    def running_count(self) -> int:
        return len(self._running)

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop workers (their jobs go back in the queue for next time) and close the store."""
        if self._closing:
            return
        self._closing = True
        self.tick_timer.stop()
        self.sync_timer.stop()
        with self._line_lock:
            self._ready.clear()  # not started: they stay claimed and are released below
        for r in list(self._running.values()):
            r.control.stop(JobState.QUEUED)
        self.pool.waitForDone(timeout_ms)
        if self.store:
            # Jobs that ended while we stopped: their signals will not be delivered now.
            self._ends += [end_record(r, self.outcomes[i]) for i, r in self._running.items() if i in self.outcomes]
            self.store.finish_many(self._ends)
            self._ends.clear()
            self.store.release(self.owner)
            self.engines.close()
            self.store.close()

    # adding jobs

    def enqueue(self, name: str, kind: str, profile: dict, jobs: list[NewJob]) -> int:
        """Add a batch; rows appear at once and queued jobs start as slots free up."""
        return self.show_stored(*self.store_batch(name, kind, profile, jobs))

    def store_batch(self, name: str, kind: str, profile: dict, jobs: list[NewJob]) -> tuple[int, list[JobRow]]:
        """Write a batch to the queue database; safe on any thread (a 75,000-job backfill
        takes a second, which must not be the UI thread's). Returns the batch and its rows."""
        if not self.store:
            raise QueueError(self.error)
        batch = self.store.create_batch(name, kind, profile, runner=RUNNER)
        ids = self.store.add_jobs(batch, jobs)
        return batch, [JobRow(display_name(j.direction, j.key, j.local_path), str(j.direction), str(j.state), 0,
                              j.size, error=j.error, job_id=i, uri=f"s3://{j.bucket}/{j.key}",
                              local_path=j.local_path) for i, j in zip(ids, jobs)]

    def show_stored(self, batch: int, rows: list[JobRow]) -> int:
        """Show a stored batch's rows and start its jobs (UI thread)."""
        self.model.append_rows(rows)
        self._totals_dirty = True
        self.jobs_added.emit(batch, len(rows))
        self._pump()
        self._emit_totals()
        return batch

    # controls; ids None means every job

    def pause(self, ids=None) -> None:
        self._write_ends()
        moved = self.store.set_state(ids, JobState.PAUSED, from_states=[JobState.QUEUED])
        self._set_rows_state(moved, "paused")
        self._stop_running(ids, JobState.PAUSED)

    def resume(self, ids=None) -> None:
        self._write_ends()
        # Jobs still winding down from a pause go back in line once they have stopped.
        self._resume_on_stop.update(job_id for job_id, r in self._running.items()
                                    if r.control.reason is JobState.PAUSED and (ids is None or job_id in ids))
        moved = self.store.set_state(ids, JobState.QUEUED, from_states=[JobState.PAUSED])
        self.store.adopt(moved, RUNNER)
        self._set_rows_state(moved, "queued")
        self._pump()

    def cancel(self, ids=None) -> None:
        self._write_ends()
        moved = self.store.set_state(ids, JobState.CANCELLED, from_states=[JobState.QUEUED, JobState.PAUSED])
        self._set_rows_state(moved, "cancelled")
        self._stop_running(ids, JobState.CANCELLED)

    def retry(self, ids=None) -> None:
        self._write_ends()
        moved = self.store.retry_failed(ids)
        self.store.adopt(moved, RUNNER)
        self._set_rows_state(moved, "queued")
        self._pump()

    def remove_finished(self) -> None:
        self._write_ends()
        done = [JobState.DONE, JobState.SKIPPED, JobState.CANCELLED]
        ids = [r.job_id for r in self.model._rows if r.state in {str(s) for s in done}]
        self.store.remove(states=done, ids=ids)
        self.model.remove_ids(ids)
        self._totals_dirty = True
        self._emit_totals()

    def clear(self) -> None:
        """Remove every job that is not running."""
        self._write_ends()
        ids = [r.job_id for r in self.model._rows if r.job_id not in self._running]
        self.store.remove(states=[s for s in JobState if s is not JobState.RUNNING], ids=ids)
        self.model.remove_ids(ids)
        self._totals_dirty = True
        self._emit_totals()

    def _stop_running(self, ids, reason: JobState) -> None:
        for job_id, r in list(self._running.items()):
            if ids is None or job_id in ids:
                r.control.stop(reason)

    def _set_rows_state(self, ids, state: str) -> None:
        for job_id in ids:
            row = self.model.row_for(job_id)
            if row is not None:
                row.state = state
                if state == "queued":
                    row.error, row.bytes_done, row.speed = "", 0, 0.0
        self.model.rows_changed(ids)
        self._totals_dirty = True
        self._emit_totals()

    # running

    def _pump(self) -> None:
        if not self.store or self._closing:
            return
        free = self.settings.concurrent_files - len(self._running)
        if free <= 0:
            return
        claimed = self.store.claim(free, self.owner, runner=RUNNER)
        for job in claimed:
            running = RunningJob(job)
            self._running[job.id] = running
            row = self.model.row_for(job.id)
            if row is not None:
                row.state, row.bytes_done, row.bytes_total, row.error, row.speed = "running", 0, job.size, "", 0.0
                row.attempts = job.attempts
        with self._line_lock:
            self._ready.extend(self._running[j.id] for j in claimed)
        self._start_workers()
        self.model.rows_changed([j.id for j in claimed])  # one repaint for the whole claim
        self._totals_dirty = True
        if self._running and not self.tick_timer.isActive():
            self.tick_timer.start()

    def _start_workers(self) -> None:
        """Start workers for the ready line, a few per turn of the event loop: each new thread
        wants the GIL at once, and starting 32 in one go stalled the UI for 70 ms."""
        self._start_scheduled = False
        if self._closing:
            return
        with self._line_lock:
            # Every worker runs one job at a time, so workers alive <= the limit bounds the jobs.
            wanted = min(self.settings.concurrent_files - self._workers_alive, len(self._ready))
            start = max(0, min(wanted, WORKERS_PER_TURN))
            self._workers_alive += start
        for _ in range(start):
            self.pool.start(TransferWorker(self, self.signals))
        if wanted > start and not self._start_scheduled:
            self._start_scheduled = True
            QTimer.singleShot(0, self._start_workers)

    def next_ready(self) -> RunningJob | None:
        """For workers (any thread): the next claimed job, or None, and then the worker ends."""
        with self._line_lock:
            if self._ready and not self._closing:
                return self._ready.popleft()
            self._workers_alive -= 1
            return None

    def _on_worker_finished(self, job_id: int, outcome: Outcome) -> None:
        running = self._running.pop(job_id, None)
        self.outcomes.pop(job_id, None)
        if job_id in self._resume_on_stop:
            self._resume_on_stop.discard(job_id)
            if outcome.state is JobState.PAUSED and not self._closing:
                outcome = Outcome(JobState.QUEUED)  # resumed while it was stopping: back in line
        if running is not None:
            self._ends.append(end_record(running, outcome))
        done = outcome.state is JobState.DONE
        if running is not None:
            moved = outcome.bytes_done if done else running.progress.done
            if done:
                self._finished_bytes += moved
            row = self.model.row_for(job_id)
            if row is not None:
                row.state, row.error, row.speed = str(outcome.state), outcome.error, 0.0
                row.bytes_done = moved
                if done and outcome.bytes_done:
                    row.bytes_total = outcome.bytes_done
                row.attempts = running.job.attempts + max(0, outcome.attempts - 1)
                self.model.rows_changed([job_id])
        self._totals_dirty = True
        self.job_finished.emit(job_id, str(outcome.state))
        if not self._flush_scheduled:  # coalesce the ends that arrive in one turn of the event loop
            self._flush_scheduled = True
            QTimer.singleShot(0, self._flush)

    def _write_ends(self) -> None:
        if self._ends and self.store:
            self.store.finish_many(self._ends)
            self._ends.clear()

    def _flush(self) -> None:
        """Write the ends that arrived, claim what the freed slots allow, and say when all is done."""
        self._flush_scheduled = False
        if self._closing or not self.store:
            return
        self._write_ends()
        self._pump()
        if not self._running:
            self.tick_timer.stop()
            self._emit_totals()
            self.idle.emit()

    def _on_tick_timer_timeout(self) -> None:
        now = time.monotonic()
        done = {job_id: r.progress.sample() for job_id, r in self._running.items()}  # one stat per download
        for job_id, r in self._running.items():
            row = self.model.row_for(job_id)
            if row is not None:
                row.sample(now, done[job_id])
                if r.progress.total:
                    row.bytes_total = r.progress.total
        self.model.rows_changed(list(self._running))
        self._ticks += 1
        if self._ticks % 20 == 0 and done:  # every 2 s, so a restart shows where things were
            self.store.save_progress(done)
        self._emit_totals(now, sum(done.values()))

    def _on_sync_timer_timeout(self) -> None:
        """Show what another process (lakegui-cli) changed in the shared queue."""
        version = self.store.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        since, self._last_sync = self._last_sync, time.time()
        new_rows, changed = [], []
        for job in self.store.changed_since(since - 1.0):
            if job.id in self._running:
                continue
            row = self.model.row_for(job.id)
            if row is None:
                new_rows.append(JobRow.from_job(job))
            elif (row.state, row.error, row.bytes_done) != (str(job.state), job.error, job.bytes_done):
                row.state, row.error, row.bytes_done = str(job.state), job.error, job.bytes_done
                changed.append(job.id)
        self.model.append_rows(new_rows)
        self.model.rows_changed(changed)
        if new_rows or changed:
            self._totals_dirty = True
            self._emit_totals()

    # totals

    def _emit_totals(self, now: float | None = None, in_flight: int | None = None) -> None:
        now = time.monotonic() if now is None else now
        if in_flight is None:
            in_flight = sum(r.progress.sample() for r in self._running.values())
        self._moved_samples.append((now, self._finished_bytes + in_flight))
        while len(self._moved_samples) > 2 and now - self._moved_samples[0][0] > 5.0:
            self._moved_samples.popleft()
        if self._totals_dirty:
            self._totals_dirty = False
            self._counts = _count(self.model._rows)
        files_done, files_total, failed, bytes_done_finished, bytes_total, remaining = self._counts
        t0, b0 = self._moved_samples[0]
        moved = self._moved_samples[-1][1]
        speed = (moved - b0) / (now - t0) if now - t0 > 0.3 and self._running else 0.0
        left = max(0, remaining - in_flight)
        self.totals_changed.emit(Totals(files_done, files_total, failed, len(self._running),
                                        bytes_done_finished + in_flight, bytes_total, speed,
                                        left / speed if speed > 0 else None))


_FINISHED_STATES = {str(s) for s in FINISHED}


def _count(rows) -> tuple[int, int, int, int, int, int]:
    """(files done or skipped, files not cancelled, failed, bytes done, bytes not cancelled, bytes left)."""
    files_done = files_total = failed = bytes_done = bytes_total = remaining = 0
    for r in rows:
        state = r.state
        if state == "cancelled":
            continue
        files_total += 1
        if state == "skipped":
            files_done += 1
            continue
        bytes_total += r.bytes_total
        if state == "done":
            files_done += 1
            bytes_done += r.bytes_total
        elif state == "failed":
            failed += 1
        elif state not in _FINISHED_STATES:
            remaining += r.bytes_total
    return files_done, files_total, failed, bytes_done, bytes_total, remaining
