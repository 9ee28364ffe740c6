"""The one queue service under the CLI and the window: it claims queued jobs ahead, hands them
to an executor, records how they ended in batches, keeps the rows a view shows and their
totals, and says what changed through events.

Threads: every method but the read-only queries and the executor's `done` callback belongs
to one owner thread (the UI thread in the window, the runner's thread in the CLI). Executors
run jobs on their own threads and report each end through `done`, which only queues it and
calls `wake` so the owner thread comes back for it (the window turns that into a Qt signal;
the CLI's blocking loop waits on the queue itself). Events go to listeners synchronously on
the owner thread: core emits, the UI marshals.

    file -> job (store) -> service claims -> executor runs -> ends + counters -> events -> view
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Protocol, Sequence

from ..connection import Connection, ConnectionProfile
from ..settings import TransferSettings
from .jobs import BACKFILL, CLEARABLE, REFETCHED, UNFINISHED, Job, JobState, Outcome, display_name
from .progress import BatchProgress, Counts, RateMeter, Totals, count_rows, eta
from .ranges import drop_partial, kept_bytes
from .store import Batch, JobStore, NewJob, QueueError, this_owner, uploaded_records

if TYPE_CHECKING:
    from .engine import EngineBase, JobControl, Progress

# The engines (botocore, awscrt) are imported when a job first runs, not with this module:
# `lakegui-cli queue status` opens the service and must start without them.

__all__ = ["CLAIM_AHEAD", "WRITE_EVERY", "BatchAdded", "EnginePool", "Idle", "JobEnded", "JobExecutor", "JobRow",
           "NewJob", "QueueError", "QueueService", "RowsAdded", "RowsChanged", "RowsRemoved", "RowsReset",
           "RunSummary", "RunningJob", "ThreadExecutor", "TotalsChanged", "end_record", "run_one"]

log = logging.getLogger(__name__)
CLAIM_AHEAD = 3  # jobs claimed per worker slot (the CLI): workers never wait on the owner thread
WRITE_EVERY = 0.05  # seconds the CLI's loop gathers job ends before writing them
SAVE_PROGRESS_EVERY = 2.0  # seconds between saves of running jobs' bytes, so a restart shows them
_IDS_A_STATEMENT = 10_000  # ids sent to the store at once: well under SQLite's limit of ? per statement


class EnginePool:
    """One engine (one TransferManager) per connection profile, shared by all its jobs.

    Jobs name their connection through their batch's saved profile; `known` maps a
    profile to a live Connection (the GUI's current one, which may carry runtime-only
    credentials) so it is reused instead of rebuilt from the credential chain.
    """

    def __init__(self, store: JobStore, settings: TransferSettings, *, known: Iterable[Connection] = (),
                 engine_options: dict | None = None, override: dict | None = None):
        self.store = store
        self.settings = settings
        self.engine_options = engine_options or {}
        self.override = override or {}  # profile fields that win over every batch's (a moved endpoint)
        self._known = {self._profile_key(c.profile.to_dict()): c for c in known}
        self._engines: dict[str, EngineBase] = {}
        self._retired: list[EngineBase] = []
        self._batch_keys: dict[int, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _profile_key(profile: dict) -> str:
        return "|".join(str(profile.get(k, "")) for k in ("endpoint_url", "region", "aws_profile",
                                                          "addressing_style", "verify_tls"))

    def add_connection(self, connection: Connection) -> None:
        with self._lock:
            self._known[self._profile_key(connection.profile.to_dict())] = connection

    def warm(self, connection: Connection) -> None:
        """Build the connection's clients and engine now (loading botocore's models holds the GIL
        for tens of milliseconds), so the first transfer does not pay for it."""
        from .backends import make_engine

        connection.client()
        key = self._profile_key(connection.profile.to_dict())
        with self._lock:
            self._known.setdefault(key, connection)
            if key not in self._engines:
                self._engines[key] = make_engine(self._known[key], self.settings, **self.engine_options)

    def engine_names(self) -> list[str]:
        """Which backends the engines built so far use (awscrt, s3transfer)."""
        with self._lock:
            return [e.name for e in self._engines.values()]

    def remember(self, batch_ids: Iterable[int]) -> None:
        """Note the connections of these batches now (cheap: no engine is built), so their jobs
        still find them once the batches are gone from the queue."""
        for batch_id in set(batch_ids):
            self.connection_key(batch_id)

    def connection_key(self, batch_id: int) -> str:
        with self._lock:
            key = self._batch_keys.get(batch_id)
            if key is None:
                batch = self.store.batch(batch_id)
                profile = {**(batch.profile if batch else {}), **self.override}
                key = self._batch_keys[batch_id] = self._profile_key(profile)
                if key not in self._known:
                    self._known[key] = Connection(ConnectionProfile.from_dict(profile),
                                                  concurrency=self.settings.max_concurrency,
                                                  read_timeout=self.settings.read_timeout)
            return key

    def for_job(self, job: Job) -> EngineBase:
        from .backends import make_engine

        key = self.connection_key(job.batch_id)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = make_engine(self._known[key], self.settings, **self.engine_options)
            return self._engines[key]

    def use_settings(self, settings: TransferSettings) -> None:
        """Later jobs get engines built with `settings`; running ones finish on theirs."""
        with self._lock:
            self.settings = settings
            self._retired += self._engines.values()
            self._engines = {}

    def close(self) -> None:
        with self._lock:
            engines, self._engines = [*self._retired, *self._engines.values()], {}
            self._retired = []
        for e in engines:
            e.close()


def _control() -> JobControl:
    from .engine import JobControl

    return JobControl()


def _progress() -> Progress:
    from .engine import Progress

    return Progress()


@dataclass
class RunningJob:
    """A claimed job, with what stops it and what counts its bytes."""

    job: Job
    control: JobControl = field(default_factory=_control)
    progress: Progress = field(default_factory=_progress)
    started: float = field(default_factory=time.monotonic)


def run_one(store: JobStore, engines: EnginePool, running: RunningJob, *, record: bool = True) -> Outcome:
    """Run a claimed job and (unless the caller batches it) record its end; never raises."""
    job = running.job
    try:
        engine = engines.for_job(job)
        outcome = engine.run(job, running.control, running.progress,
                             on_upload_id=lambda uid: store.set_upload_id(job.id, uid),
                             on_resume=lambda state: store.set_resume(job.id, state))
    except Exception as exc:  # a bug or a broken profile must fail this job, not the queue
        outcome = Outcome(JobState.FAILED, f"{type(exc).__name__}: {exc}", permanent=True)
    if record:
        store.finish_many([end_record(running, outcome)])
    return outcome


def end_record(running: RunningJob, outcome: Outcome) -> tuple:
    """The row JobStore.finish_many writes for a job that ended so."""
    done = outcome.state is JobState.DONE
    return (running.job.id, outcome.state, outcome.error,
            outcome.bytes_done if done else running.progress.done, outcome.etag or None,
            outcome.version_id or None)


# executors

Work = Callable[[RunningJob], Outcome]
Done = Callable[[RunningJob, Outcome], None]


class JobExecutor(Protocol):
    """Where claimed jobs run: local threads today, a cluster later (issue 24).

    `submit` must not block; `work(running)` runs the job and never raises, and `done` is
    called once per submitted job, from any thread, with its Outcome."""

    def submit(self, running: RunningJob, work: Work, done: Done) -> None: ...

    def set_workers(self, n: int) -> None: ...

    def close(self, timeout: float | None = None) -> None:
        """Run nothing new and wait up to `timeout` seconds for running jobs (all, when None)."""


class ThreadExecutor:
    """A ThreadPoolExecutor: the CLI's executor. Claimed-ahead jobs wait in its queue."""

    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="lakegui-job")

    def submit(self, running: RunningJob, work: Work, done: Done) -> None:
        f = self._pool.submit(work, running)
        f.add_done_callback(lambda f: done(running, f.result()))

    def set_workers(self, n: int) -> None:
        pass  # a ThreadPoolExecutor is sized once; the CLI never changes it while running

    def close(self, timeout: float | None = None) -> None:
        self._pool.shutdown(wait=True)


# what views show

@dataclass(slots=True)
class JobRow:
    """What a queue view shows of one job; bytes are plain Python ints (no 32-bit overflow)."""

    name: str
    direction: str  # "upload" or "download"
    state: str
    bytes_done: int = 0
    bytes_total: int = 0
    speed: float = 0.0  # bytes per second, rolling average while it runs
    error: str = ""
    job_id: int = 0
    uri: str = ""
    local_path: str = ""
    attempts: int = 0
    batch_id: int = 0
    meter: RateMeter | None = field(default=None, repr=False)  # made when the job first runs

    @classmethod
    def from_job(cls, job: Job) -> "JobRow":
        return cls(job.name, str(job.direction), str(job.state), job.bytes_done, job.size, error=job.error,
                   job_id=job.id, uri=job.uri, local_path=job.local_path, attempts=job.attempts,
                   batch_id=job.batch_id)

    @classmethod
    def from_view_row(cls, r: tuple) -> "JobRow":
        """From JobStore.view_rows(): the fast path for reopening a large queue."""
        job_id, batch_id, direction, bucket, key, local_path, size, state, bytes_done, error, attempts = r
        return cls(display_name(direction, key, local_path), direction, state, bytes_done, size, 0.0, error, job_id,
                   f"s3://{bucket}/{key}", local_path, attempts, batch_id)

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0

    @property
    def eta(self) -> float | None:
        if self.state != "running":
            return None
        return eta(self.bytes_total - self.bytes_done, self.speed)

    def sample(self, now: float, done: int) -> None:
        """Take a progress reading; speed is the average over the last few seconds."""
        self.bytes_done = done
        if self.meter is None:
            self.meter = RateMeter(window=3.0, min_span=0.2, maxlen=30)
        self.speed = self.meter.add(now, done)


# events: what changed, for listeners on the owner thread

@dataclass(frozen=True)
class RowsAdded:
    rows: list  # JobRow, appended at the end


@dataclass(frozen=True)
class RowsChanged:
    ids: list  # job ids whose rows changed in place


@dataclass(frozen=True)
class RowsRemoved:
    ids: list


@dataclass(frozen=True)
class RowsReset:
    rows: list  # every row, in order


@dataclass(frozen=True)
class BatchAdded:
    batch_id: int
    jobs: int


@dataclass(frozen=True)
class JobEnded:
    job_id: int
    state: str


@dataclass(frozen=True)
class TotalsChanged:
    totals: Totals


@dataclass(frozen=True)
class Idle:
    """Nothing runs and nothing is left to claim."""


@dataclass
class RunSummary:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    bytes: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    kept: int = 0  # of bytes, what earlier runs had moved: not this run's speed
    notes: list = field(default_factory=list)  # (uri, note) of done jobs that say something

    def add(self, outcome: Outcome, uri: str = "") -> None:
        if outcome.state is JobState.DONE:
            self.done += 1
            self.bytes += outcome.bytes_done
            self.kept += outcome.kept
            if REFETCHED in outcome.error and len(self.notes) < 100:
                self.notes.append((uri, outcome.error))
        elif outcome.state is JobState.FAILED:
            self.failed += 1
        elif outcome.state is JobState.SKIPPED:
            self.skipped += 1
        elif outcome.state is JobState.CANCELLED:
            self.cancelled += 1


Selection = Iterable[int] | None  # job ids; None means every job (of the batch, when one is given)


class QueueService:
    """The durable queue, run: claims, executor, batched ends, view rows, totals and events.

    `runner` tags the batches this service creates ("gui" or "cli"); `claim_runner`, when set,
    claims only jobs of batches so tagged (the window never takes jobs a CLI run waits for) and
    adopts the jobs it resumes or retries. `claim_ahead` jobs per worker are claimed (the CLI
    claims ahead so its workers never wait; the window claims one per worker, so its rows say
    "running" only for jobs that are about to run).
    """

    def __init__(self, path: Path | str | None = None, settings: TransferSettings | None = None, *,
                 runner: str = "cli", claim_runner: str | None = None, claim_ahead: int = CLAIM_AHEAD,
                 executor: JobExecutor | None = None, known: Iterable[Connection] = (),
                 engine_options: dict | None = None, override: dict | None = None, concurrency: int | None = None,
                 store: JobStore | None = None, engines: EnginePool | None = None):
        self._store = store if store is not None else JobStore(path)  # raises QueueError
        # Nothing outside core/transfers touches the store: views and the CLI ask this service.
        self.settings = settings or TransferSettings()
        self.runner = runner
        self.claim_runner = claim_runner
        self.claim_ahead = max(1, claim_ahead)
        self.owner = this_owner()
        self.engines = engines or EnginePool(self._store, self.settings, known=known, engine_options=engine_options,
                                             override=override)
        self.executor = executor
        self.concurrency = max(1, concurrency or self.settings.concurrent_files)
        self.wake: Callable[[], None] = lambda: None  # called (any thread) when an end waits for the owner
        # Where the owner's periodic store writes run: here, or (the window) on a thread of its own.
        self.in_background: Callable[[Callable[[], object]], object] = lambda fn: fn()
        self._listeners: list[Callable[[object], None]] = []
        self._running: dict[int, RunningJob] = {}  # claimed: waiting in the executor or running
        self._ended: queue.SimpleQueue = queue.SimpleQueue()  # (RunningJob, Outcome) from executors
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        self._ends: list[tuple] = []  # job ends not yet written
        self._ends_lock = threading.Lock()  # jobs() writes them from any thread
        self._write_lock = threading.Lock()  # one write of them at a time
        self._resume_on_stop: set[int] = set()
        # Paused as a whole (Pause with nothing selected): jobs added later wait too, until a
        # Resume of everything. A pause of a selection or a batch holds only those jobs. Kept in
        # the store, so every process follows it (lakegui-cli queue pause, the window's Pause).
        self.held = self._store.held()
        self._hold_version = self._store.data_version()  # the store's, when the hold was last read
        self._aborting: list[threading.Thread] = []  # aborting uploads of cancelled or removed jobs
        self._stopping = threading.Event()
        self._closed = False
        # view rows
        self.rows: list[JobRow] = []
        self._index: dict[int, JobRow] = {}
        self._counts: Counts | None = None
        self._finished_bytes = 0  # bytes of jobs that ended done this session, for the speed
        self._meter = RateMeter(window=5.0, min_span=0.3)
        self._last_save = time.monotonic()
        self._last_sync = time.time()
        self._data_version = 0

    # plumbing

    @property
    def path(self) -> Path:
        return self._store.path

    def subscribe(self, listener: Callable[[object], None]) -> None:
        """Call `listener(event)` on the owner thread for every event (RowsAdded, JobEnded, ...)."""
        self._listeners.append(listener)

    def _emit(self, event) -> None:
        for listener in self._listeners:
            listener(event)

    def add_connection(self, connection: Connection) -> None:
        self.engines.add_connection(connection)

    def set_override(self, override: dict | None) -> None:
        """Connection profile fields that win over those batches recorded (a moved endpoint named
        on the command line); for engines built from now on."""
        self.engines.override = dict(override or {})

    def warm(self, connection: Connection) -> None:
        """Prepare the connection's engine (any thread; slow: run it off the UI thread)."""
        self.engines.warm(connection)

    def apply_settings(self, settings: TransferSettings) -> None:
        """New tuning for jobs that start from now on."""
        self.settings = settings
        self.concurrency = max(1, settings.concurrent_files)
        self.engines.use_settings(settings)
        if self.executor is not None:
            self.executor.set_workers(self.concurrency)
        self.pump()

    @property
    def running_count(self) -> int:
        return len(self._running)

    def is_running(self, job_id: int) -> bool:
        return job_id in self._running

    # reads; safe on any thread (the store serialises them)

    def batch(self, batch_id: int) -> Batch | None:
        return self._store.batch(batch_id)

    def batches(self, kind: str | None = None) -> list[Batch]:
        return [b for b in self._store.batches() if kind is None or b.kind == kind]

    def counts(self, batch_id: int | None = None) -> dict[str, tuple[int, int]]:
        """{state: (jobs, bytes)} of one batch or of the whole queue."""
        return self._store.counts(batch_id)

    def batch_progress(self, batch_id: int) -> BatchProgress | None:
        """How a batch is doing (see progress.py for what counts as done)."""
        batch = self._store.batch(batch_id)
        if batch is None:
            return None
        return BatchProgress.of(batch, self._store.counts(batch_id), self._store.bytes_in_flight(batch_id))

    def jobs(self, *, states: Iterable[JobState] | None = None, batch_id: int | None = None,
             ids: Iterable[int] | None = None) -> list[Job]:
        # An end already announced (JobEnded) may wait for the next flush: a listener that reads
        # its job at once saw it still running (a sync's deletes counted as failed in CI).
        self.write_ends()
        return self._store.jobs(states=states, batch_id=batch_id, ids=ids)

    def extra_values(self, batch_id: int, name: str) -> list:
        """extra[name] of a batch's jobs that have it (store.extra_values)."""
        return self._store.extra_values(batch_id, name)

    def note_extra(self, notes: dict[int, dict]) -> None:
        """Merge {job id: {name: value}} into those jobs' extra (any thread)."""
        self._store.note_extra(notes)

    def rollup(self, batch_id: int, field_name: str) -> list[tuple]:
        return self._store.rollup(batch_id, field_name)

    def metadata_fields(self, batch_id: int) -> list[str]:
        return self._store.metadata_fields(batch_id)

    def data_version(self) -> int:
        return self._store.data_version()

    def uploaded_records(self, bucket: str) -> dict[str, tuple[int, float, str]]:
        """{key: (size, mtime, etag)} of uploads to `bucket` this queue finished (for planning)."""
        return uploaded_records(self._store.path, bucket)

    def recover_orphans(self) -> list[int]:
        """Put jobs a dead process left running back in line."""
        return self._store.recover_orphans()

    # adding jobs

    def add_batch(self, name: str, kind: str, profile: dict, jobs: Sequence[NewJob]) -> tuple[int, list[JobRow]]:
        """Write a batch to the queue (any thread: 75,000 jobs take a second, which must not be
        the UI thread's). Returns the batch id and its rows, for `show_batch`."""
        jobs = self._held_back(jobs)
        batch = self._store.create_batch(name, kind, profile, runner=self.runner)
        ids = self._store.add_jobs(batch, jobs)
        return batch, [JobRow(display_name(j.direction, j.key, j.local_path), str(j.direction), str(j.state), 0,
                              j.size, error=j.error, job_id=i, uri=f"s3://{j.bucket}/{j.key}",
                              local_path=j.local_path, batch_id=batch) for i, j in zip(ids, jobs)]

    def add_jobs(self, batch_id: int, jobs: Sequence[NewJob]) -> list[int]:
        """Add jobs to a stored batch (any thread): `rm` queues each listed page while the pages
        before it are deleted. A `run` claims them when it next pumps; one that has ended does not."""
        return self._store.add_jobs(batch_id, self._held_back(jobs))

    def _held_back(self, jobs: Sequence[NewJob]) -> Sequence[NewJob]:
        """`jobs`, the queued ones stored paused while the queue is held, so no claim takes them
        before Resume (read on any thread)."""
        if not self.held:
            return jobs
        return [replace(j, state=JobState.PAUSED) if j.state is JobState.QUEUED else j for j in jobs]

    def show_batch(self, batch_id: int, rows: list[JobRow]) -> int:
        """Show a stored batch's rows and start its jobs (owner thread)."""
        self._add_rows(rows)
        self._emit(BatchAdded(batch_id, len(rows)))
        self.pump()
        self.emit_totals()
        return batch_id

    def enqueue(self, name: str, kind: str, profile: dict, jobs: Sequence[NewJob]) -> int:
        """Add a batch; its rows appear at once and its jobs start as slots free up."""
        return self.show_batch(*self.add_batch(name, kind, profile, jobs))

    # rows

    def load_rows(self) -> None:
        """Read every job the view shows (after putting orphans back in line)."""
        self._store.recover_orphans()
        self._last_sync = time.time()
        self._data_version = self._store.data_version()
        self.rows = [JobRow.from_view_row(r) for r in self._store.view_rows()]
        self._index = {r.job_id: r for r in self.rows}
        self._counts = None
        self._emit(RowsReset(self.rows))

    def row(self, job_id: int) -> JobRow | None:
        return self._index.get(job_id)

    def batch_rows(self, batch_id: int) -> list[JobRow]:
        return [r for r in self.rows if r.batch_id == batch_id]

    def unfinished_ids(self, batch_id: int) -> list[int]:
        """Jobs of the batch still queued, running or paused, as the view knows them (ends not
        yet written count as ended)."""
        unfinished = {str(s) for s in UNFINISHED}
        return [r.job_id for r in self.rows if r.batch_id == batch_id and r.state in unfinished]

    def _add_rows(self, rows: list[JobRow]) -> None:
        if rows:
            self.rows.extend(rows)
            self._index.update((r.job_id, r) for r in rows)
            self._counts = None
            self._emit(RowsAdded(rows))

    def _remove_rows(self, ids) -> None:
        ids = set(ids)
        if ids:
            self.rows = [r for r in self.rows if r.job_id not in ids]
            for i in ids:
                self._index.pop(i, None)
            self._counts = None
            self._emit(RowsRemoved(sorted(ids)))

    def _set_rows_state(self, ids, state: str) -> None:
        for job_id in ids:
            row = self._index.get(job_id)
            if row is not None:
                if state == "queued":  # a paused job keeps what it had in place (a download's ranges)
                    row.error, row.speed = "", 0.0
                    if row.state != "paused":
                        row.bytes_done = 0
                row.state = state
        self._counts = None
        self._emit(RowsChanged(list(ids)))
        self.emit_totals()

    @staticmethod
    def _matcher(ids: Selection, batch_id: int | None) -> Callable[[int, int], bool]:
        """Whether (job id, batch id) is in a selection (ids, within a batch; None: all)."""
        wanted = None if ids is None else set(ids)
        return lambda job_id, batch: (wanted is None or job_id in wanted) and (batch_id is None or batch == batch_id)

    # controls (owner thread): by selection (job ids), by batch, or everything. The batch goes to
    # the store as a batch, never as a list of its ids (SQLite takes at most 32,766 per statement).

    def pause(self, ids: Selection = None, *, batch_id: int | None = None) -> list[int]:
        """Pause jobs (of `ids`, of `batch_id`, else all). Pausing all holds the queue: jobs
        added afterwards are stored paused too, until `resume` of all."""
        ids = None if ids is None else list(ids)
        if ids is None and batch_id is None:
            self.held = True
            self._store.set_held(True)
        self.write_ends()
        moved = self._store.set_state(ids, JobState.PAUSED, from_states=[JobState.QUEUED], batch_id=batch_id)
        self._set_rows_state(moved, "paused")
        self._stop_running(ids, batch_id, JobState.PAUSED)
        return moved

    def follow_hold(self) -> bool:
        """Follow a hold another process set or ended (lakegui-cli queue pause or resume, the
        window's Pause): held there, what runs here pauses too; ended there (its resume queued the
        jobs again), this one is no longer held. Cheap unless the store changed. Owner thread;
        whether the hold changed."""
        version = self._store.data_version()
        if version == self._hold_version:
            return False
        self._hold_version = version
        held = self._store.held()
        if held == self.held:
            return False
        if held:
            self.pause()
        else:
            self.held = False
        return True

    def resume(self, ids: Selection = None, *, batch_id: int | None = None) -> list[int]:
        """Queue paused jobs again (of `ids`, of `batch_id`, else all: which ends a hold)."""
        ids = None if ids is None else list(ids)
        if ids is None and batch_id is None:
            self.held = False
            self._store.set_held(False)
        self.write_ends()
        # Jobs still winding down from a pause go back in line once they have stopped.
        match = self._matcher(ids, batch_id)
        self._resume_on_stop.update(job_id for job_id, r in self._running.items()
                                    if r.control.reason is JobState.PAUSED and match(job_id, r.job.batch_id))
        moved = self._store.set_state(ids, JobState.QUEUED, from_states=[JobState.PAUSED], batch_id=batch_id)
        if self.claim_runner:
            self._store.adopt(moved, self.claim_runner)
        self._set_rows_state(moved, "queued")
        self.pump()
        return moved

    def cancel(self, ids: Selection = None, *, batch_id: int | None = None) -> list[int]:
        ids = None if ids is None else list(ids)
        self.write_ends()
        kept = self._store.open_uploads(states=[JobState.QUEUED, JobState.PAUSED], ids=ids, batch_id=batch_id)
        self._drop_partials(self._store.kept_downloads(states=[JobState.QUEUED, JobState.PAUSED], ids=ids,
                                                       batch_id=batch_id), forget=True)
        moved = self._store.set_state(ids, JobState.CANCELLED, from_states=[JobState.QUEUED, JobState.PAUSED],
                                      batch_id=batch_id)
        self._abort_uploads(kept, forget=True)
        self._set_rows_state(moved, "cancelled")
        self._stop_running(ids, batch_id, JobState.CANCELLED)
        return moved

    def retry(self, ids: Selection = None, *, batch_id: int | None = None) -> list[int]:
        """Queue failed jobs again; cancelled ones stay cancelled (the user stopped them)."""
        ids = None if ids is None else list(ids)
        self.write_ends()
        moved = self._store.retry_failed(ids, batch_id=batch_id)
        if self.claim_runner:
            self._store.adopt(moved, self.claim_runner)
        self._set_rows_state(moved, "queued")
        self.pump()
        return moved

    def retry_failed(self, ids: Selection = None, *, batch_id: int | None = None) -> tuple[list[int], list[Job]]:
        """Queue failed jobs again (of `ids`, of `batch_id`, else all), but not a tag, restore or
        make-bucket job that failed for a reason retrying cannot fix, nor an upload or download whose
        target exists with other content (object_jobs.permanent_failure): asking again gets the same
        answer, or replaces what the user was asked about. Returns (ids queued again, jobs left as they are).
        The CLI's `queue retry-failed` and the window's Retry failed both ask this."""
        from .object_jobs import permanent_failure  # with the engines: not on this module's import

        ids = None if ids is None else list(ids)
        chunks = [None] if ids is None else [ids[n:n + _IDS_A_STATEMENT] for n in range(0, len(ids), _IDS_A_STATEMENT)]
        failed = [j for chunk in chunks for j in self.jobs(states=[JobState.FAILED], batch_id=batch_id, ids=chunk)]
        left = [j for j in failed if permanent_failure(j)]
        if not left and ids is None:  # the store selects them itself: no ids to send
            return self.retry(batch_id=batch_id), []
        skip = {j.id for j in left}
        chosen = [j.id for j in failed if j.id not in skip]
        return [i for n in range(0, len(chosen), _IDS_A_STATEMENT)
                for i in self.retry(chosen[n:n + _IDS_A_STATEMENT])], left

    def remove_finished(self, ids: Selection = None, *, batch_id: int | None = None) -> int:
        """Take done, skipped and cancelled jobs out of the queue. A backfill's records stay
        (hidden from the queue) for its dashboard and manifest, until the backfill is cleared."""
        ids = None if ids is None else list(ids)
        self.write_ends()
        finished, match = {str(s) for s in CLEARABLE}, self._matcher(ids, batch_id)
        gone = [r.job_id for r in self.rows if r.state in finished and match(r.job_id, r.batch_id)]
        n = self._store.remove(states=CLEARABLE, ids=ids, batch_id=batch_id, keep_kinds=[BACKFILL])
        self._remove_rows(gone)
        self.emit_totals()
        return n

    def clear(self, ids: Selection = None, *, batch_id: int | None = None, keep_hidden: bool = False) -> int:
        """Remove every job that is not running, backfills' records included (the explicit clear);
        with `keep_hidden`, only jobs the view shows (the records "Remove finished" hid stay)."""
        ids = None if ids is None else list(ids)
        self.write_ends()
        match = self._matcher(ids, batch_id)
        gone = [r.job_id for r in self.rows if r.job_id not in self._running and match(r.job_id, r.batch_id)]
        states = [s for s in JobState if s is not JobState.RUNNING]
        kept = self._store.open_uploads(states=states, ids=ids, batch_id=batch_id, visible_only=keep_hidden)
        self._abort_uploads(kept)
        self._drop_partials(self._store.kept_downloads(states=states, ids=ids, batch_id=batch_id,
                                                       visible_only=keep_hidden))
        n = self._store.remove(states=states, ids=ids, batch_id=batch_id, visible_only=keep_hidden)
        self._remove_rows(gone)
        self.emit_totals()
        return n

    def _drop_partials(self, jobs: list[Job], *, forget: bool = False) -> None:
        """Remove the temp files downloads cancelled or removed while not running kept for a
        resume (issue 19): local files, so here and now."""
        for job in jobs:
            drop_partial(job)
            if forget:
                self._store.set_resume(job.id, {})

    def _abort_uploads(self, jobs: list[Job], *, forget: bool = False) -> None:
        """Abort the multipart uploads that jobs cancelled or removed while not running kept for
        a resume (issue 19). On a thread of its own: each is a request, and this is the owner
        (UI) thread; `close` waits for it."""
        if not jobs:
            return
        self.engines.remember(j.batch_id for j in jobs)  # before their batches may be removed

        def abort() -> None:
            for job in jobs:
                try:
                    self.engines.for_job(job).discard_upload(job)
                    if forget:
                        self._store.set_upload_id(job.id, "")
                        self._store.set_resume(job.id, {})
                except Exception as exc:  # the server is unreachable: nothing else to do here
                    log.warning("could not abort the upload of %s: %s", job.uri, exc)

        thread = threading.Thread(target=abort, name="lakegui-abort-uploads", daemon=True)
        self._aborting.append(thread)
        thread.start()

    def _stop_running(self, ids, batch_id: int | None, reason: JobState) -> None:
        match = self._matcher(ids, batch_id)
        for job_id, r in list(self._running.items()):
            if match(job_id, r.job.batch_id):
                r.control.stop(reason)

    # running (owner thread)

    def work(self, running: RunningJob) -> Outcome:
        """What an executor runs for a job (any thread)."""
        return run_one(self._store, self.engines, running, record=False)

    def pump(self, batch_ids: Iterable[int] | None = None) -> list[Job]:
        """Claim what free slots allow and hand the jobs to the executor."""
        free = self.claimable()
        return self.start_claimed(self.claim(free, batch_ids=batch_ids)) if free else []

    def claimable(self) -> int:
        """How many jobs the free slots take now; 0 when there is no need to claim (owner thread)."""
        if self._closed or self._stopping.is_set() or self.executor is None:
            return 0
        free = self.concurrency * self.claim_ahead - len(self._running)
        # Claim when a whole round of work is free, or when some workers would sit idle.
        return free if free >= self.concurrency or (free > 0 and len(self._running) < self.concurrency) else 0

    def claim(self, limit: int, *, batch_ids: Iterable[int] | None = None) -> list[Job]:
        """Take up to `limit` queued jobs in the store (any thread: the window claims on a thread of
        its own, as a transaction on the UI thread waits for the GIL); `start_claimed` runs them."""
        return self._store.claim(limit, self.owner, batch_ids=batch_ids, runner=self.claim_runner)

    def start_claimed(self, claimed: list[Job]) -> list[Job]:
        """Show jobs `claim` took as running and hand them to the executor (owner thread). Between
        the two the owner does nothing else to the queue; after `close` the store hands them back."""
        if self._closed or self.executor is None:
            return []
        for job in claimed:
            running = self._running[job.id] = RunningJob(job)
            running.progress.done = kept = kept_bytes(job.resume)  # an interrupted download's ranges
            row = self._index.get(job.id)
            if row is not None:
                before = self._row_counts(row)
                row.state, row.bytes_done, row.bytes_total, row.error, row.speed = "running", kept, job.size, "", 0.0
                row.attempts = job.attempts
                self._recount(row, before)
        for job in claimed:
            self.executor.submit(self._running[job.id], self.work, self._on_done)
        if claimed:
            self._emit(RowsChanged([j.id for j in claimed]))  # one repaint for the whole claim
        return claimed

    def _on_done(self, running: RunningJob, outcome: Outcome) -> None:
        """An executor's report of one end (any thread): queue it and wake the owner once."""
        self._ended.put((running, outcome))
        with self._wake_lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        self.wake()

    def collect_ends(self, limit: int | None = None) -> list[tuple[RunningJob, Outcome]]:
        """Take the ends executors reported (owner thread), at most `limit` (the rest wait for the
        next call): rows, totals and JobEnded events now; the writes wait for `flush` (or
        `write_ends`), so ends arriving together share one."""
        with self._wake_lock:
            self._wake_pending = False
        ends = []
        try:
            while limit is None or len(ends) < limit:
                ends.append(self._ended.get_nowait())
        except queue.Empty:
            pass
        for running, outcome in ends:
            self._end(running, outcome, repaint=False)
        if ends:
            self._emit(RowsChanged([r.job.id for r, _ in ends]))  # one repaint for all of them
        return ends

    def _end(self, running: RunningJob, outcome: Outcome, *, repaint: bool = True) -> Outcome:
        job_id = running.job.id
        self._running.pop(job_id, None)
        if job_id in self._resume_on_stop:
            self._resume_on_stop.discard(job_id)
            if outcome.state is JobState.PAUSED and not self._closed:
                outcome = Outcome(JobState.QUEUED)  # resumed while it was stopping: back in line
        self._keep_end(end_record(running, outcome))
        done = outcome.state is JobState.DONE
        moved = outcome.bytes_done if done else running.progress.done
        if done:
            self._finished_bytes += moved
        row = self._index.get(job_id)
        if row is not None:  # (a row not shown is in no count)
            before = self._row_counts(row)
            row.state, row.error, row.speed = str(outcome.state), outcome.error, 0.0
            row.bytes_done = moved
            if done and outcome.bytes_done:
                row.bytes_total = outcome.bytes_done
            row.attempts = running.job.attempts + max(0, outcome.attempts - 1)
            self._recount(row, before)
            if repaint:
                self._emit(RowsChanged([job_id]))
        self._emit(JobEnded(job_id, str(outcome.state)))
        return outcome

    def _row_counts(self, row: JobRow) -> Counts | None:
        return count_rows((row,)) if self._counts is not None else None

    def _recount(self, row: JobRow, before: Counts | None) -> None:
        """Bring the totals' counts up to date with one row changed in place (they are sums over
        rows): a tick after every end recounted all 10,000 rows of a batch on the UI thread."""
        if self._counts is not None and before is not None:
            after = count_rows((row,))
            self._counts = Counts._make(c + a - b for c, a, b in zip(self._counts, after, before))

    def _keep_end(self, record: tuple) -> None:
        with self._ends_lock:
            self._ends.append(record)

    def write_ends(self) -> None:
        """Record the ends collected so far, in one transaction (any thread)."""
        with self._write_lock:  # a reader after us sees them written
            with self._ends_lock:  # held only to take them: ends keep arriving while they are written
                ends, self._ends = self._ends, []
            if ends:
                self._store.finish_many(ends)

    def flush(self) -> None:
        """Write the ends that arrived, claim what the freed slots allow, and say when all is done."""
        if self._closed:
            return
        self.write_ends()
        self.pump()
        if not self._running:
            self.emit_totals()
            self._emit(Idle())

    def sample(self, now: float | None = None) -> None:
        """Read running jobs' counters into their rows and the totals (a display's tick)."""
        now = time.monotonic() if now is None else now
        done = {job_id: r.progress.sample() for job_id, r in self._running.items()}  # one stat per download
        for job_id, r in self._running.items():
            row = self._index.get(job_id)
            if row is not None:
                row.sample(now, done[job_id])
                if r.progress.total and r.progress.total != row.bytes_total:
                    before = self._row_counts(row)
                    row.bytes_total = r.progress.total
                    self._recount(row, before)
        if done:
            self._emit(RowsChanged(list(done)))
            if now - self._last_save >= SAVE_PROGRESS_EVERY:
                self._last_save = now
                self.in_background(lambda: self._store.save_progress(done))
        self.emit_totals(now, sum(done.values()))

    def totals(self, now: float | None = None, in_flight: int | None = None) -> Totals:
        """The view's totals; feeds the rolling speed, so call it at a steady pace."""
        now = time.monotonic() if now is None else now
        if in_flight is None:
            in_flight = sum(r.progress.sample() for r in self._running.values())
        speed = self._meter.add(now, self._finished_bytes + in_flight)
        shown = [row for job_id in self._running if (row := self._index.get(job_id)) is not None]
        if shown and all(row.meter is not None for row in shown):  # a view's rows, sampled: the header
            speed = sum(row.speed for row in shown)  # says what they add up to (it said 6.5 MB/s beside
            # a row's 11, and 0 for a while after one of two was cancelled: its bytes left the sum)
        if not self._running:
            speed = 0.0
        if self._counts is None:
            self._counts = count_rows(self.rows)
        c = self._counts
        return Totals(c.files_done, c.files_total, c.failed, len(self._running), c.bytes_done + in_flight,
                      c.bytes_total, speed, eta(c.bytes_left - in_flight, speed), c.paused, self.held)

    def emit_totals(self, now: float | None = None, in_flight: int | None = None) -> None:
        self._emit(TotalsChanged(self.totals(now, in_flight)))

    def sync(self, version: int | None = None) -> bool:
        """Show what another process (lakegui-cli) changed in the shared queue; whether anything did.
        `version`: the store's data_version, read already (on another thread)."""
        version = self._store.data_version() if version is None else version
        if version == self._data_version:
            return False
        self._data_version = version
        self.follow_hold()
        since, self._last_sync = self._last_sync, time.time()
        new_rows, changed = [], []
        for job in self._store.changed_since(since - 1.0):
            if job.id in self._running:
                continue
            row = self._index.get(job.id)
            if row is None:
                new_rows.append(JobRow.from_job(job))
            elif (row.state, row.error, row.bytes_done) != (str(job.state), job.error, job.bytes_done):
                row.state, row.error, row.bytes_done = str(job.state), job.error, job.bytes_done
                changed.append(job.id)
        self._add_rows(new_rows)
        gone = self._gone_from_store()
        self._remove_rows(gone)
        if changed:
            self._counts = None
            self._emit(RowsChanged(changed))
        if new_rows or changed or gone:
            self.emit_totals()
        return bool(new_rows or changed or gone)

    def _gone_from_store(self) -> list[int]:
        """Rows whose jobs another process removed or hid (lakegui-cli queue clear). A count comes
        first: the ids of 10,000 jobs are read only when it differs from the rows shown."""
        if self._store.visible_count() == len(self.rows):
            return []
        kept = self._store.visible_ids()
        return [r.job_id for r in self.rows if r.job_id not in kept and r.job_id not in self._running]

    # the CLI's loop

    def run(self, batch_ids: Iterable[int] | None = None, *,
            on_tick: Callable[[list[RunningJob], RunSummary], None] | None = None,
            tick: float = 0.5) -> RunSummary:
        """Run queued jobs (of `batch_ids`, or all) on this thread until none are left; `stop`
        from another thread (Ctrl+C) hands the unfinished ones back."""
        batch_ids = list(batch_ids) if batch_ids is not None else None
        summary = RunSummary()
        start = time.monotonic()
        last_tick = 0.0
        own_executor = self.executor is None
        if own_executor:
            self.executor = ThreadExecutor(self.concurrency)
        try:
            while True:
                self.pump(batch_ids)
                if not self._running:
                    break
                # Gather ends for a moment while enough work is in hand to keep every worker busy,
                # so one transaction records many: one per small file cost the loop's thread 0.6 s
                # per 1,000 files, much of it under the GIL.
                finished = []
                try:
                    finished.append(self._ended.get(timeout=tick))
                    until = time.monotonic() + WRITE_EVERY
                    while len(self._running) - len(finished) > self.concurrency \
                            and (left := until - time.monotonic()) > 0:
                        finished.append(self._ended.get(timeout=left))
                except queue.Empty:
                    pass
                try:
                    while True:
                        finished.append(self._ended.get_nowait())
                except queue.Empty:
                    pass
                for running, outcome in finished:
                    summary.add(self._end(running, outcome), running.job.uri)
                self.write_ends()
                self.follow_hold()  # paused as a whole by another process: what runs here pauses
                now = time.monotonic()
                if on_tick and (now - last_tick >= tick or not self._running):
                    last_tick = now
                    summary.seconds = now - start
                    on_tick(list(self._running.values()), summary)
        finally:
            if own_executor:
                self.executor.close()
                self.executor = None
        summary.seconds = time.monotonic() - start
        summary.interrupted = self._stopping.is_set()
        return summary

    def stop(self) -> None:
        """Stop claiming and hand running jobs back to the queue (Ctrl+C; any thread)."""
        self._stopping.set()
        for r in list(self._running.values()):
            r.control.stop(JobState.QUEUED)

    def close(self, timeout: float | None = None) -> None:
        """Stop running jobs (they go back in the queue for next time), record what ended, and
        close the engines and the store."""
        if self._closed:
            return
        self._closed = True
        for r in list(self._running.values()):
            r.control.stop(JobState.QUEUED)
        if self.executor is not None:
            self.executor.close(timeout)
        try:
            while True:  # jobs that ended while we stopped
                running, outcome = self._ended.get_nowait()
                self._running.pop(running.job.id, None)
                self._keep_end(end_record(running, outcome))
        except queue.Empty:
            pass
        for r in self._running.values():  # paused or cancelled before an executor started them
            if r.control.reason in (JobState.PAUSED, JobState.CANCELLED):
                self._keep_end(end_record(r, Outcome(r.control.reason)))
        self.write_ends()
        self._store.release(self.owner)  # the rest go back in line
        for thread in self._aborting:
            thread.join()
        self.engines.close()
        self._store.close()
