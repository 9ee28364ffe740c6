"""Running the durable queue without a GUI: a bounded thread pool claims queued jobs,
runs them through the engine and records how each ended. `lakegui-cli` uses it; the
GUI runs the same engine from QThreadPool workers instead.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..connection import Connection, ConnectionProfile
from ..settings import TransferSettings
from .backends import make_engine
from .engine import EngineBase, JobControl, Progress
from .jobs import Job, JobState, Outcome
from .store import JobStore, this_owner


class EnginePool:
    """One engine (one TransferManager) per connection profile, shared by all its jobs.

    Jobs name their connection through their batch's saved profile; `known` maps a
    profile to a live Connection (the GUI's current one, which may carry runtime-only
    credentials) so it is reused instead of rebuilt from the credential chain.
    """

    def __init__(self, store: JobStore, settings: TransferSettings, *, known: Iterable[Connection] = (),
                 engine_options: dict | None = None):
        self.store = store
        self.settings = settings
        self.engine_options = engine_options or {}
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
        connection.client()
        key = self._profile_key(connection.profile.to_dict())
        with self._lock:
            self._known.setdefault(key, connection)
            if key not in self._engines:
                self._engines[key] = make_engine(self._known[key], self.settings, **self.engine_options)

    def for_job(self, job: Job) -> EngineBase:
        with self._lock:
            key = self._batch_keys.get(job.batch_id)
            if key is None:
                batch = self.store.batch(job.batch_id)
                profile = batch.profile if batch else {}
                key = self._batch_keys[job.batch_id] = self._profile_key(profile)
                if key not in self._known:
                    self._known[key] = Connection(ConnectionProfile.from_dict(profile),
                                                  concurrency=self.settings.max_concurrency,
                                                  read_timeout=self.settings.read_timeout)
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


@dataclass
class RunningJob:
    job: Job
    control: JobControl = field(default_factory=JobControl)
    progress: Progress = field(default_factory=Progress)
    started: float = field(default_factory=time.monotonic)


def run_one(store: JobStore, engines: EnginePool, running: RunningJob, *, record: bool = True) -> Outcome:
    """Run a claimed job and (unless the caller batches it) record its end; never raises."""
    job = running.job
    try:
        engine = engines.for_job(job)
        outcome = engine.run(job, running.control, running.progress,
                             on_upload_id=lambda uid: store.set_upload_id(job.id, uid))
    except Exception as exc:  # a bug or a broken profile must fail this job, not the queue
        outcome = Outcome(JobState.FAILED, f"{type(exc).__name__}: {exc}", permanent=True)
    if record:
        store.finish_many([end_record(running, outcome)])
    return outcome


def end_record(running: RunningJob, outcome: Outcome) -> tuple:
    """The row JobStore.finish_many writes for a job that ended so."""
    done = outcome.state is JobState.DONE
    return (running.job.id, outcome.state, outcome.error,
            outcome.bytes_done if done else running.progress.done, outcome.etag or None)


@dataclass
class RunSummary:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    bytes: int = 0
    seconds: float = 0.0
    interrupted: bool = False


CLAIM_AHEAD = 3  # jobs claimed per worker slot
WRITE_EVERY = 0.05  # seconds the runner gathers job ends before writing them


class QueueRunner:
    """Claims and runs queued jobs, `concurrency` files at a time, until none are left."""

    def __init__(self, store: JobStore, engines: EnginePool, *, concurrency: int = 8,
                 on_tick: Callable[[list[RunningJob], RunSummary], None] | None = None, tick: float = 0.5):
        self.store = store
        self.engines = engines
        self.concurrency = max(1, concurrency)
        self.on_tick = on_tick
        self.tick = tick
        self.owner = this_owner()
        self._stopping = threading.Event()
        self._running: dict[Future, RunningJob] = {}

    def stop(self) -> None:
        """Stop claiming and hand running jobs back to the queue (Ctrl+C): `queue resume` continues."""
        self._stopping.set()
        for r in list(self._running.values()):
            r.control.stop(JobState.QUEUED)

    def run(self, batch_ids: Iterable[int] | None = None) -> RunSummary:
        batch_ids = list(batch_ids) if batch_ids is not None else None
        summary = RunSummary()
        start = time.monotonic()
        last_tick = 0.0
        done_queue: queue.SimpleQueue = queue.SimpleQueue()
        # Jobs are claimed ahead (the pool queues them) and their ends written in batches, so the
        # workers never wait on this thread: one claim and one write per small file, 350 of each
        # turns for 1,000 files, cost about 0.6 s of this thread's time, much of it under the GIL.
        ahead = self.concurrency * CLAIM_AHEAD
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="lakegui-job") as pool:
            while True:
                free = ahead - len(self._running)
                refill = free >= self.concurrency or (free > 0 and len(self._running) < self.concurrency)
                if refill and not self._stopping.is_set():
                    for job in self.store.claim(free, self.owner, batch_ids=batch_ids):
                        r = RunningJob(job)
                        f = pool.submit(run_one, self.store, self.engines, r, record=False)
                        self._running[f] = r
                        f.add_done_callback(done_queue.put)
                if not self._running:
                    break
                finished = []
                try:
                    finished.append(done_queue.get(timeout=self.tick))
                    # Gather ends for a moment while enough work is in hand to keep every worker busy.
                    until = time.monotonic() + WRITE_EVERY
                    while len(self._running) - len(finished) > self.concurrency \
                            and (left := until - time.monotonic()) > 0:
                        finished.append(done_queue.get(timeout=left))
                except queue.Empty:
                    pass
                try:
                    while True:
                        finished.append(done_queue.get_nowait())
                except queue.Empty:
                    pass
                # One transaction for every job that ended since the last turn.
                ends = [(f, self._running.pop(f), f.result()) for f in finished]
                self.store.finish_many([end_record(r, outcome) for _, r, outcome in ends])
                for _, r, outcome in ends:
                    if outcome.state is JobState.DONE:
                        summary.done += 1
                        summary.bytes += outcome.bytes_done
                    elif outcome.state is JobState.FAILED:
                        summary.failed += 1
                    elif outcome.state is JobState.SKIPPED:
                        summary.skipped += 1
                    elif outcome.state is JobState.CANCELLED:
                        summary.cancelled += 1
                now = time.monotonic()
                if self.on_tick and (now - last_tick >= self.tick or not self._running):
                    last_tick = now
                    summary.seconds = now - start
                    self.on_tick(list(self._running.values()), summary)
        summary.seconds = time.monotonic() - start
        summary.interrupted = self._stopping.is_set()
        return summary
