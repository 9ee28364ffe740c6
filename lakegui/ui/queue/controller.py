"""The window's transfer queue: a thin Qt adapter over the queue service (core/transfers/service.py).

The service claims, runs (on QThreadPool workers, ui/queue/workers.py), records and counts;
this adapter gives it a main thread: a signal that brings job ends back from the workers, a
100 ms timer that samples bytes in flight (so the UI gets at most ten updates a second however
many chunks arrive), a 1 s timer that picks up what another process (lakegui-cli) changed in
the shared database, Qt signals, and the item model the queue view shows.

While jobs run, the store's claims and end writes run on a thread of their own (one, so they
keep their order): a SQLite transaction on the UI thread gives up the GIL at each call and
waits for it behind 32 busy workers (20-220 ms at a time under load during a 10,000-key move).
One claim is in flight at a time; a control (pause, cancel, a new batch, …) first starts the
jobs it took, so the service sees claims and controls in the order they were made.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from ...core.connection import Connection
from ...core.settings import TransferSettings
from ...core.transfers import backends  # noqa: F401  imported now, not on the first job's thread
from ...core.transfers.jobs import Job
from ...core.transfers.progress import BatchProgress, Totals
from ...core.transfers.service import (
    BatchAdded,
    Idle,
    JobEnded,
    JobRow,
    NewJob,
    QueueError,
    QueueService,
    RowsAdded,
    RowsChanged,
    RowsRemoved,
    RowsReset,
    TotalsChanged,
)
from .model import TransferTableModel
from .workers import QtPoolExecutor

log = logging.getLogger(__name__)
RUNNER = "gui"

__all__ = ["RUNNER", "Totals", "TransferQueue"]


class TransferQueue(QObject):
    totals_changed = Signal(object)  # Totals
    job_finished = Signal(int, str)  # job id, state
    # [(job id, state)] of the ends taken in one turn: one call into a listener for many ends (each
    # call from Qt into Python waits for the GIL while workers are busy)
    jobs_finished = Signal(list)
    jobs_added = Signal(int, int)  # batch id, jobs
    idle = Signal()  # nothing running and nothing left to claim
    _ended = Signal()  # from worker threads: ends wait in the service
    _claimed = Signal(object)  # from the store thread: the claim's Future
    _versioned = Signal(object)  # from the store thread: the Future of a data_version read

    TICK_MS = 100
    SYNC_MS = 1000
    WRITE_EVERY = 0.05  # seconds: job ends arriving within it share one write
    # Job ends taken in one turn of the event loop. Each end's JobEnded is a Qt signal, and every
    # call into Qt gives up the GIL and waits to get it back behind the busy workers (0.5 ms and
    # more each): 50 ends in one turn held the UI thread 50-200 ms under load.
    ENDS_PER_TURN = 16

    def __init__(self, settings: TransferSettings | None = None, parent=None, *, store_path=None):
        super().__init__(parent)
        self.settings = settings or TransferSettings()
        self.model = TransferTableModel(self)
        self.error = ""
        self.executor = QtPoolExecutor(self.settings.concurrent_files, self)
        try:
            self.service: QueueService | None = QueueService(
                store_path, self.settings, runner=RUNNER, claim_runner=RUNNER, claim_ahead=1, executor=self.executor)
        except QueueError as exc:  # e.g. locked by another process: the app still opens
            self.service, self.error = None, str(exc)
        self._flush_scheduled = False
        self._finished: list[tuple[int, str]] = []  # ends announced this turn, for jobs_finished
        self._last_write = 0.0
        self._closing = False
        self._store_thread = ThreadPoolExecutor(1, thread_name_prefix="lakegui-queue-store")
        self._claiming: Future | None = None  # the claim in flight on the store thread
        self._writing: Future | None = None  # the write of ends in flight there
        self._settle = False  # ends came: say Idle once nothing runs
        self.write_timer = QTimer(self)
        self.write_timer.setSingleShot(True)
        self.write_timer.timeout.connect(self._write)
        self._ended.connect(self._on_ended)
        self._claimed.connect(self._on_claimed)
        self._versioned.connect(self._on_versioned)
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(self.TICK_MS)
        self.tick_timer.timeout.connect(self._on_tick_timer_timeout)
        self.sync_timer = QTimer(self)
        self.sync_timer.setInterval(self.SYNC_MS)
        self.sync_timer.timeout.connect(self._on_sync_timer_timeout)
        if self.service:
            self.service.wake = self._ended.emit  # any thread: Qt queues it to ours
            self.service.in_background = self._in_store_thread  # saving running jobs' bytes
            self.service.subscribe(self._on_event)
            self.service.load_rows()

    @property
    def available(self) -> bool:
        """Whether the queue database could be opened (else `error` says why)."""
        return self.service is not None

    @property
    def pool(self):
        return self.executor.pool

    @property
    def running_count(self) -> int:
        return self.service.running_count if self.service else 0

    # service events -> model and signals (all on this thread)

    def _on_event(self, event) -> None:
        if isinstance(event, RowsChanged):
            self.model.rows_changed(event.ids)
        elif isinstance(event, TotalsChanged):
            self.totals_changed.emit(event.totals)
        elif isinstance(event, JobEnded):
            self._finished.append((event.job_id, event.state))
            self.job_finished.emit(event.job_id, event.state)
        elif isinstance(event, RowsAdded):
            self.model.append_rows(event.rows)
        elif isinstance(event, RowsRemoved):
            self.model.remove_ids(event.ids)
        elif isinstance(event, RowsReset):
            self.model.set_rows(event.rows)
        elif isinstance(event, BatchAdded):
            self.jobs_added.emit(event.batch_id, event.jobs)
        elif isinstance(event, Idle):
            self.tick_timer.stop()
            self.idle.emit()

    # lifecycle

    def start(self) -> None:
        """Begin running queued jobs (also those left from the last session) and watching the store."""
        if self.service and not self._closing:
            self.sync_timer.start()
            self._claim()
            self.service.emit_totals()

    def set_connection(self, connection: Connection | None) -> None:
        """Use this live connection for its profile's jobs, and prepare its engine in the background."""
        if connection is not None and self.service:
            self.service.add_connection(connection)
            if not self._closing:
                service = self.service
                self.executor.call(lambda: service.warm(connection))

    def apply_settings(self, settings: TransferSettings) -> None:
        """New tuning for jobs that start from now on."""
        self.settings = settings
        if self.service:
            self._take_claim()
            self.service.apply_settings(settings)  # resizes the pool and claims for the new slots
            self._start_ticking()
        else:
            self.executor.set_workers(settings.concurrent_files)

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop workers (their jobs go back in the queue for next time) and close the store."""
        if self._closing:
            return
        self._closing = True
        self.write_timer.stop()
        self.tick_timer.stop()
        self.sync_timer.stop()
        self._store_thread.shutdown(wait=True)  # a claim in flight ends first: close hands its jobs back
        if self.service:
            self.service.close(timeout_ms / 1000)
        else:
            self.executor.close(timeout_ms / 1000)

    # adding jobs

    def enqueue(self, name: str, kind: str, profile: dict, jobs: list[NewJob]) -> int:
        """Add a batch; rows appear at once and queued jobs start as slots free up."""
        return self.show_stored(*self.store_batch(name, kind, profile, jobs))

    def store_batch(self, name: str, kind: str, profile: dict, jobs: list[NewJob]) -> tuple[int, list[JobRow]]:
        """Write a batch to the queue database; safe on any thread (a 75,000-job backfill
        takes a second, which must not be the UI thread's). Returns the batch and its rows."""
        if not self.service:
            raise QueueError(self.error)
        return self.service.add_batch(name, kind, profile, jobs)

    def show_stored(self, batch: int, rows: list[JobRow]) -> int:
        """Show a stored batch's rows and start its jobs (UI thread)."""
        self._take_claim()
        self.service.show_batch(batch, rows)
        self._start_ticking()
        return batch

    # controls: by selection (job ids; None means every job) or by batch

    def pause(self, ids=None, *, batch_id: int | None = None) -> None:
        if self.service:
            self._take_claim()
            self.service.pause(ids, batch_id=batch_id)

    def resume(self, ids=None, *, batch_id: int | None = None) -> None:
        if self.service:
            self._take_claim()
            self.service.resume(ids, batch_id=batch_id)
            self._start_ticking()

    def cancel(self, ids=None, *, batch_id: int | None = None) -> None:
        if self.service:
            self._take_claim()
            self.service.cancel(ids, batch_id=batch_id)

    def retry(self, ids=None, *, batch_id: int | None = None) -> list[Job]:
        """Queue failed jobs again (cancelled ones stay as the user left them), but not a tag,
        restore or make-bucket job that failed for good: those are returned, left as they are."""
        if not self.service:
            return []
        self._take_claim()
        _, left = self.service.retry_failed(ids, batch_id=batch_id)
        self._start_ticking()
        return left

    def remove_finished(self, ids=None, *, batch_id: int | None = None) -> None:
        """Remove done, skipped and cancelled jobs from the list; backfills keep their records."""
        if self.service:
            self._take_claim()
            self.service.remove_finished(ids, batch_id=batch_id)

    def clear(self, ids=None, *, batch_id: int | None = None) -> None:
        """Remove every job that is not running. The queue's Clear (no batch) leaves the backfill
        records "Remove finished" hid; clearing a batch (the dashboard's Remove backfill) takes all."""
        if self.service:
            self._take_claim()
            self.service.clear(ids, batch_id=batch_id, keep_hidden=batch_id is None)

    # what views ask

    def row_for(self, job_id: int) -> JobRow | None:
        return self.service.row(job_id) if self.service else None

    def unfinished_ids(self, batch_id: int) -> list[int]:
        """Jobs of the batch still to end, as the queue knows them now."""
        return self.service.unfinished_ids(batch_id) if self.service else []

    def batch_jobs(self, batch_id: int) -> list[Job]:
        """The batch's jobs as stored, ends already announced included (any thread)."""
        return self.service.jobs(batch_id=batch_id) if self.service else []

    def job(self, job_id: int) -> Job | None:
        """The job as stored, its end already announced included (any thread)."""
        found = self.service.jobs(ids=[job_id]) if self.service else []
        return found[0] if found else None

    def batch_progress(self, batch_id: int) -> BatchProgress | None:
        return self.service.batch_progress(batch_id) if self.service else None

    # running: claims and writes on the store thread

    def _claim(self) -> None:
        """Claim for the free slots on the store thread; the jobs start when it answers."""
        if not self.service or self._closing or self._claiming is not None:
            return
        n = self.service.claimable()
        if not n:
            self._settled()
            return
        future = self._claiming = self._store_thread.submit(self.service.claim, n)
        future.add_done_callback(self._claimed.emit)  # any thread: Qt queues it to ours

    def _on_claimed(self, future: Future) -> None:
        if future is not self._claiming:  # a control took it already
            return
        if self._take_claim():
            self._claim()  # for slots freed while it was claimed
        else:
            self._settled()  # nothing was left to claim
        self._start_ticking()

    def _take_claim(self) -> int:
        """Start the jobs of the claim in flight (waiting for it when a control comes first); how many."""
        future, self._claiming = self._claiming, None
        if future is None or self._closing or not self.service:
            return 0
        try:
            jobs = future.result()
        except Exception as exc:  # noqa: BLE001  e.g. the database locked for longer than its timeout
            log.warning("Could not claim queued jobs: %s", exc)
            return 0
        return len(self.service.start_claimed(jobs))

    def _settled(self) -> None:
        """Once ends came and nothing runs or is being claimed: the last writes and Idle."""
        if self._settle and self.service and not self.service.running_count and self._claiming is None:
            self._settle = False
            self.write_timer.stop()
            self.service.flush()  # writes what is left, claims what a new batch brought, or says Idle
            self._start_ticking()

    def _start_ticking(self) -> None:
        if self.service and self.service.running_count and not self.tick_timer.isActive() and not self._closing:
            self.tick_timer.start()

    def _on_ended(self) -> None:
        if self._closing or not self.service:
            return
        ends = self.service.collect_ends(self.ENDS_PER_TURN)
        if self._finished:
            finished, self._finished = self._finished, []
            self.jobs_finished.emit(finished)
        if len(ends) == self.ENDS_PER_TURN:  # more wait: the next turn takes them, after other events
            QTimer.singleShot(0, self._on_ended)
        if ends and not self._flush_scheduled:
            # Coalesce the ends that arrive in one turn of the event loop into one write and claim.
            self._flush_scheduled = True
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._closing or not self.service:
            return
        self._settle = True
        self._claim()  # before the write on the store thread: workers wait for claims, not for writes
        self._write()
        self._start_ticking()

    def _in_store_thread(self, fn) -> None:
        if not self._closing:
            self._store_thread.submit(fn).add_done_callback(_log_failure)

    def _write(self) -> None:
        """Write the ends collected on the store thread: at most one write in flight, and at most
        one every WRITE_EVERY, so ends arriving close together share a transaction."""
        if self._closing or not self.service:
            return
        now = time.monotonic()
        if (self._writing is not None and not self._writing.done()) or now - self._last_write < self.WRITE_EVERY:
            if not self.write_timer.isActive():
                self.write_timer.start(int(self.WRITE_EVERY * 1000))
            return
        self._last_write = now
        self._writing = self._store_thread.submit(self.service.write_ends)
        self._writing.add_done_callback(_log_failure)

    def _on_tick_timer_timeout(self) -> None:
        if self.service:
            self.service.sample()

    def _on_sync_timer_timeout(self) -> None:
        """Show what another process (lakegui-cli) changed in the shared queue. Its version is read
        on the store thread: a batch of 10,000 jobs being written holds the store for a second or
        more under load, and the read waited for it on the UI thread (440 ms)."""
        if self.service and not self._closing:
            self._store_thread.submit(self.service.data_version).add_done_callback(self._versioned.emit)

    def _on_versioned(self, future: Future) -> None:
        if self.service and not self._closing and future.exception() is None:
            self.service.sync(future.result())  # reads the store only when another process wrote


def _log_failure(future: Future) -> None:
    if future.exception() is not None:  # unwritten ends: those jobs run again after a restart
        log.warning("Could not write to the transfer queue: %s", future.exception())
