"""Queued jobs run on a Dask cluster (issue 24): the desktop (or the CLI) plans, records and
watches; `distributed` workers move the bytes.

`ClusterExecutor` is a `JobExecutor`: the queue service still claims the jobs and records
every end, so the SQLite queue stays the one record and only this process opens it. Claimed
jobs are gathered into chunks (a few hundred files or a few GB) and each chunk is one Dask
task, `run_chunk`, which builds the same engine from the batch's connection profile and the
transfer settings on the worker: credentials come from the worker's own chain, never from
the task. Results come back per chunk; progress comes as worker events a few times a second.

    service claims -> executor (chunks) -> scheduler -> worker: run_chunk -> results -> service

A chunk whose worker died is run again elsewhere by Dask. That second run knows it (a mark
in the scheduler's metadata) and first asks the bucket whether each upload is already there
with the same size and ETag, so finished files are not sent twice, and aborts this key's
multipart uploads begun since the first run (the engine's crash clean-up). A job claimed
again after the coordinator itself died (attempts > 1) is checked the same way.

Pause, cancel and Ctrl+C stop jobs through their JobControl as locally: chunks not started
are withheld (or cancelled at the scheduler), running chunks read the stopped ids from the
scheduler's metadata and stop those jobs.

The cluster's facts (scheduler, dashboard link, per-worker counters) go to two small tables in
the queue database, written by this process about once a second, for the backfill dashboard.
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import json
import logging
import pickle
import queue
import sqlite3
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .jobs import Direction, Job, JobState, Outcome, OverwritePolicy
from .progress import RateMeter

if TYPE_CHECKING:
    from .service import Done, QueueService, RunningJob, Work

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'lakegui[cluster]'"
CHUNK_FILES = 250  # files per chunk at most
CHUNK_BYTES = 2 << 30  # bytes per chunk at most (one file bigger than this is a chunk of its own)
MIN_CHUNK_FILES = 16  # smaller chunks cost more in scheduling than they gain in balance
CHUNKS_PER_THREAD = 4  # a short queue's chunks are sized so each worker thread gets a few (the tail stays short)
PROGRESS_EVERY = 0.5  # seconds between a running chunk's progress events
FACTS_EVERY = 1.0  # seconds between writes of the cluster's facts to the queue database
GATHER = 0.05  # seconds the dispatcher waits for more claimed jobs before cutting chunks
LIVE_FOR = 10.0  # a run whose facts are older than this is not shown as running (its coordinator died)
TOPIC = "lakegui-progress"


class ClusterError(Exception):
    """The cluster cannot run these jobs (unreachable, no workers, another lakegui version)."""


def missing_reason() -> str:
    """'' when dask and distributed can be imported, else what to install."""
    import importlib.util

    for name in ("dask", "distributed"):
        try:
            found = importlib.util.find_spec(name) is not None  # not imported here: that takes a second
        except (ImportError, ValueError):  # a blocked or half-installed module
            found = False
        if not found:
            return f"--cluster needs dask and distributed, which are not installed: {INSTALL_HINT}"
    return ""


def lakegui_version() -> str:
    """This process's lakegui version (run on workers by the version check)."""
    import lakegui

    return lakegui.__version__


# path maps

@dataclass(frozen=True)
class PathMap:
    """Where workers see the coordinator's files: LOCAL=REMOTE prefixes, the longest match wins."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> "PathMap":
        """From `--path-map LOCAL=REMOTE` values; ValueError names a bad one."""
        pairs = []
        for spec in specs or ():
            local, sep, remote = spec.partition("=")
            if not sep or not local or not remote:
                raise ValueError(f"--path-map wants LOCAL=REMOTE, got {spec!r}")
            pairs.append((local.rstrip("/\\") or local, remote.rstrip("/\\") or remote))
        return cls(tuple(sorted(pairs, key=lambda p: -len(p[0]))))

    def translate(self, path: str) -> str:
        for local, remote in self.pairs:
            if path == local:
                return remote
            if path.startswith(local) and path[len(local)] in "/\\":
                return remote + path[len(local):]
        return path

    def to_list(self) -> list[list[str]]:
        return [list(p) for p in self.pairs]


# the worker's side

_engines: dict[str, object] = {}
_engines_lock = threading.RLock()  # also held through the warm-up: a chunk beside it waits, not imports alongside


def _engine_for(profile: dict, settings: dict):
    """One engine per connection and settings per worker process, kept across chunks (the
    native client's start-up is paid once)."""
    from ..connection import Connection, ConnectionProfile
    from ..settings import TransferSettings
    from .backends import make_engine

    key = json.dumps([profile, settings], sort_keys=True)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            s = TransferSettings.from_dict(settings)
            conn = Connection(ConnectionProfile.from_dict(profile), concurrency=s.max_concurrency,
                              read_timeout=s.read_timeout)
            engine = _engines[key] = make_engine(conn, s)
        return engine


_frozen = False


def warm_worker(profile: dict | None = None, settings: dict | None = None) -> None:
    """A task run once on every worker while the coordinator plans (and before its first chunk,
    the worker having one thread per task): the worker's client, the engine's imports and, when
    the connection is known, the engine itself, so no chunk waits for them."""
    from distributed import get_client

    with _engines_lock:
        get_client()  # the chunks' link to the scheduler (their marks and stops)
        from . import backends  # noqa: F401  (botocore, awscrt)

        if profile is not None and settings is not None:
            _engine_for(profile, settings)
        freeze_imports()


def freeze_imports() -> None:
    """Move what exists now (mostly modules: distributed, botocore, awscrt) out of the garbage
    collector's sight, once per process: they live as long as it does, and walking them made
    each full collection and the interpreter's exit cost 0.1-0.3 s on a busy 2-core machine."""
    global _frozen
    if not _frozen:
        import gc

        _frozen = True
        gc.freeze()


def job_to_dict(job: Job) -> dict:
    """A job as plain values (shallow: it is pickled at once, and asdict's deep copy cost 0.3 ms a job)."""
    d = {f.name: getattr(job, f.name) for f in dataclasses.fields(job)}
    for k in ("direction", "state", "policy"):
        d[k] = str(d[k])
    return d


def job_from_dict(d: dict) -> Job:
    return Job(**{**d, "direction": Direction(d["direction"]), "state": JobState(d["state"]),
                  "policy": OverwritePolicy(d["policy"])})


def already_uploaded(engine, job: Job) -> str:
    """The stored ETag when the bucket already holds this job's file (same size and content by
    ETag): an earlier run finished it but its result never reached the queue. '' otherwise."""
    from . import etags

    try:
        head = engine.client.head_object(Bucket=job.bucket, Key=job.key)
        size = Path(job.local_path).stat().st_size
    except Exception:  # not there, or not readable: the engine's run says why
        return ""
    etag = str(head.get("ETag", "")).strip('"')
    if head.get("ContentLength") != size or size != job.size or not etag:
        return ""
    return etag if etags.same_content(job.local_path, size, etag, engine.settings.multipart_chunksize) else ""


def chunk_key(run: str, number: int, *name: str) -> list[str]:
    """Where a chunk's facts live in the scheduler's metadata: its first run's start ("first")
    and the jobs the coordinator stopped ("stop")."""
    return ["lakegui", run, "chunk", str(number), *name]


def pack(value) -> bytes:
    """A chunk's payload or result as one opaque value: Dask walks a task's arguments for keys
    and sizes its results item by item, which for 250 jobs cost more than the pickle itself."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def run_chunk(packed: bytes) -> bytes:
    """One chunk of jobs on a Dask worker (its `pack`ed payload); returns each job's outcome,
    packed. Never opens the queue."""
    return pack(_run_chunk(pickle.loads(packed)))


_pools = threading.local()


def _chunk_pool(size: int):
    """The calling Dask thread's pool for its chunks' jobs, kept across chunks. Starting threads
    per chunk is not only waste: on Python 3.11 a thread start can deadlock the worker against
    Dask's profiler (`sys._current_frames` holds the runtime's lock while a GC callback gives up
    the GIL), which hung a worker in one of ~40 benchmark runs."""
    from concurrent.futures import ThreadPoolExecutor

    pool = getattr(_pools, "pool", None)
    if pool is None or _pools.size != size:
        if pool is not None:
            pool.shutdown(wait=True)
        pool = _pools.pool = ThreadPoolExecutor(size, thread_name_prefix="lakegui-chunk")
        _pools.size = size
    return pool


def _run_chunk(payload: dict) -> dict:
    from distributed import get_client, get_worker

    with _engines_lock:  # after a warm-up running on another of the worker's threads
        from .engine import JobControl, Progress

    started = time.time()
    worker = get_worker()
    where = worker.address
    run, number = payload["run"], payload["chunk"]
    mine = lakegui_version()
    if payload["version"] != mine:  # before the jobs are read: another release may not know their fields
        message = (f"worker {where} runs lakegui {mine}, the coordinator {payload['version']}: "
                   f"install lakegui {payload['version']} on every worker")
        return {"worker": where, "chunk": number, "started": started, "ended": time.time(), "rerun": False,
                "results": [[d["id"], "failed", message, 0, "", 0, True] for d in payload["jobs"]]}
    jobs = [job_from_dict(d) for d in payload["jobs"]]
    client = get_client()
    # One read for both: the mark of a first run (so this is a rerun) and stops sent meanwhile.
    marks = client.get_metadata(chunk_key(run, number), None) or {}
    first = marks.get("first")
    rerun = first is not None  # Dask runs it again: its first worker was lost
    if not rerun:
        client.set_metadata(chunk_key(run, number, "first"), started)
    path_map = PathMap(tuple(tuple(p) for p in payload["path_map"]))
    settings = payload["settings"]
    engine = _engine_for(payload["profile"], settings)
    threshold = engine.settings.multipart_threshold
    controls = {j.id: JobControl() for j in jobs}
    for job_id, reason in (marks.get("stop") or {}).items():
        controls[int(job_id)].stop(JobState(reason))  # stopped while the chunk waited at the scheduler
    progress = {j.id: Progress(j.size) for j in jobs}
    ended: dict[int, list] = {}
    lock = threading.Lock()
    finished = threading.Event()

    def report() -> None:
        with lock:
            done_files = sum(1 for r in ended.values() if r[1] in ("done", "skipped"))
            done_bytes = sum(r[3] for r in ended.values() if r[1] == "done")
        live = {str(i): p.sample() for i, p in progress.items() if i not in ended and p.done}
        worker.log_event(f"{TOPIC}-{run}", {"chunk": number, "worker": where, "files": done_files,
                                            "bytes": done_bytes + sum(live.values()), "live": live})

    key = worker.get_current_task()

    def orphaned() -> bool:
        """Whether nobody waits for this chunk any more (its coordinator died, or cancelled it):
        Dask cannot interrupt a running task, so the chunk stops its jobs itself."""
        ts = worker.state.tasks.get(key)
        return ts is None or ts.state in ("cancelled", "released", "forgotten")

    def watch() -> None:
        stop_key = chunk_key(run, number, "stop")
        while not finished.wait(PROGRESS_EVERY):
            try:
                if orphaned():
                    for control in controls.values():
                        control.stop(JobState.QUEUED)
                    continue
                for job_id, reason in (client.get_metadata(stop_key, None) or {}).items():
                    controls[int(job_id)].stop(JobState(reason))
                report()
            except Exception as exc:  # the scheduler is going away; the chunk's own result still counts
                log.debug("chunk %s: progress not sent: %s", number, exc)

    def one(job: Job) -> list:
        control = controls[job.id]
        try:
            original = job.local_path
            job.local_path = path_map.translate(job.local_path)  # an upload's source, a download's target
            if rerun or job.attempts > 1:
                job.attempts = max(job.attempts, 2)  # a download's AlreadyDone check looks at this
                if job.direction is Direction.UPLOAD and not control.stopped:
                    etag = already_uploaded(engine, job)
                    if etag:
                        return [job.id, "done", "", job.size, etag, 1, False]
                    if job.size >= threshold and not job.upload_id:
                        since = first if rerun else payload["since"].get(str(job.batch_id), 0)
                        job.upload_id = f"pending:{since:.0f}"  # the engine aborts what the lost run left open
            outcome = engine.run(job, control, progress[job.id])
            error = outcome.error
            if outcome.state is JobState.FAILED and job.local_path != original:
                error = f"{error} (on worker {where}, mapped from {original})"
            elif outcome.state is JobState.FAILED:
                error = f"{error} (on worker {where})"
            return [job.id, str(outcome.state), error, outcome.bytes_done, outcome.etag, outcome.attempts,
                    outcome.permanent]
        except Exception as exc:  # a bug or a broken profile fails this job, not the chunk
            return [job.id, "failed", f"{type(exc).__name__}: {exc} (on worker {where})", 0, "", 1, True]

    def run_job(job: Job) -> None:
        result = one(job)
        with lock:
            ended[job.id] = result

    host = where.rsplit(":", 1)[0]
    in_flight = payload.get("in_flight", {}).get(host) or int(settings.get("concurrent_files", 32))
    pool = _chunk_pool(in_flight + 1)  # the watcher and `in_flight` jobs
    worker.log_event(f"{TOPIC}-{run}", {"chunk": number, "worker": where, "files": 0, "bytes": 0, "live": {}})
    watcher = pool.submit(watch)
    try:
        # Largest first: the chunk's last jobs, which end while fewer than `in_flight` run and
        # the worker waits for its next chunk, are then its smallest.
        list(pool.map(run_job, sorted(jobs, key=lambda j: -j.size)))
    finally:
        finished.set()
        watcher.result()
    return {"worker": where, "chunk": number, "started": started, "ended": time.time(), "rerun": rerun,
            "results": [ended[j.id] for j in jobs]}


# the coordinator's side

@dataclass
class _Chunk:
    number: int
    items: list  # (RunningJob, Done)
    future: object = None
    worker: str = ""  # set by its first progress event
    stops_sent: set = field(default_factory=set)


@dataclass
class WorkerStats:
    """One worker's counters as the coordinator sees them."""

    worker: str
    files: int = 0  # jobs ended in its finished chunks
    bytes: int = 0
    live: dict = field(default_factory=dict)  # chunk -> (files, bytes) of its running chunks
    meter: RateMeter = field(default_factory=lambda: RateMeter(window=5.0, min_span=0.5, maxlen=30))
    speed: float = 0.0

    @property
    def files_done(self) -> int:
        return self.files + sum(f for f, _ in self.live.values())

    @property
    def bytes_done(self) -> int:
        return self.bytes + sum(b for _, b in self.live.values())


@dataclass
class ChunkEnd:
    """When a chunk ended on its worker and when its results reached the coordinator (the benchmark's figure)."""

    chunk: int
    worker: str
    started: float
    ended: float
    received: float
    job_ids: list


# What `import distributed` pulls in only to use when present: numpy (buffers for big frames,
# which a coordinator's few-KB messages do not need) and jinja2 (Dask's notebook views).
# Together they were a third of the import's 0.4 s of CPU, on the path to the first chunk.
OPTIONAL_IMPORTS = ("numpy", "jinja2")


class _Refused(importlib.abc.MetaPathFinder):
    """Refuse `names` to one thread, as if they were not installed (any other thread gets them)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.thread = threading.get_ident()

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def import_lean() -> None:
    """Import distributed without its optional imports (OPTIONAL_IMPORTS) when this process has
    not imported them: for the CLI's coordinator, which renders no notebook views and sends
    small messages. They import as usual afterwards, for whoever needs them."""
    if "distributed" in sys.modules:
        return
    finder = _Refused(tuple(n for n in OPTIONAL_IMPORTS if n not in sys.modules))
    sys.meta_path.insert(0, finder)
    try:
        import distributed  # noqa: F401
    finally:
        sys.meta_path.remove(finder)


def connect(address: str, *, timeout: float = 10.0):
    """A distributed Client on the scheduler at `address`, whose workers run this lakegui version."""
    from distributed import Client

    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except Exception as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        check_versions(client, address, timeout=timeout)
    except BaseException:
        client.close()
        raise
    return client


class PendingConnection:
    """`connect` on a thread of its own, begun before planning (importing distributed alone takes
    a second); `result` waits for it. Workers that pass the version check are sent a warm-up
    task, which nobody waits for: it runs while the caller queues and claims the jobs."""

    def __init__(self, address: str, *, profile: dict | None = None, settings: dict | None = None):
        self.address = address
        self._client = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._connect, args=(profile, settings), daemon=True,
                                        name="lakegui-cluster-connect")
        self._thread.start()

    def _connect(self, profile, settings) -> None:
        try:
            import_lean()
            self._client = connect(self.address)
        except BaseException as exc:
            self._error = exc
            return
        freeze_imports()  # this process is the CLI's: distributed's import is its biggest share
        try:
            warm_up(self._client, profile, settings)
        except Exception as exc:  # what is not warm is built by the first chunk
            log.info("warming the workers failed: %s", exc)

    def result(self):
        """The connected Client; raises ClusterError when it could not be had."""
        self._thread.join()
        if self._error is not None:
            raise self._error if isinstance(self._error, ClusterError) else ClusterError(str(self._error))
        return self._client


def warm_up(client, profile: dict | None = None, settings: dict | None = None) -> None:
    """One `warm_worker` task on each worker, first in its line (fire and forget)."""
    from distributed import fire_and_forget

    tag = uuid.uuid4().hex[:12]
    fire_and_forget([client.submit(warm_worker, profile, settings, key=f"lakegui-warm-{tag}-{i}", workers=[w],
                                   allow_other_workers=True, pure=False)
                     for i, w in enumerate(sorted(client.nthreads()))])


def check_versions(client, address: str = "", *, timeout: float = 10.0) -> dict[str, str]:
    """{worker: lakegui version}; ClusterError when there are no workers or one runs another version."""
    mine = lakegui_version()
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception as exc:
        raise ClusterError(f"the Dask scheduler {address or client.scheduler.address} has no workers") from exc
    try:
        versions = client.run(lakegui_version)
    except Exception as exc:  # a worker without lakegui cannot even unpickle the check
        raise ClusterError(f"a Dask worker cannot run lakegui ({type(exc).__name__}: {exc}): "
                           f"install lakegui {mine} on every worker") from exc
    other = {w: v for w, v in versions.items() if v != mine}
    if other:
        listed = ", ".join(f"{w} has {v}" for w, v in sorted(other.items()))
        raise ClusterError(f"refusing workers that run another lakegui version ({listed}; this coordinator "
                           f"has {mine}): install lakegui {mine} on every worker")
    return versions


class ClusterExecutor:
    """A JobExecutor whose jobs run in chunks on a Dask cluster (see the module docstring).

    `service` is the queue service whose jobs these are: its batches give each chunk its
    connection profile, its settings the engine's. `attach` sizes the service's claim window
    so the cluster always has chunks waiting."""

    def __init__(self, client, service: "QueueService", *, address: str = "", path_map: PathMap | None = None,
                 chunk_files: int = CHUNK_FILES, chunk_bytes: int = CHUNK_BYTES, expected_jobs: int = 0,
                 own_client: bool = True):
        self.client = client
        self.service = service
        self.address = address or client.scheduler.address
        self.path_map = path_map or PathMap()
        self.run_id = uuid.uuid4().hex[:12]
        nthreads = client.nthreads()  # one call: each asks the scheduler
        self.threads = max(1, sum(nthreads.values()))
        # The settings' files in flight are a host's budget: workers sharing a host share it.
        per_host: dict[str, int] = {}
        for addr, n in nthreads.items():
            host = addr.rsplit(":", 1)[0]
            per_host[host] = per_host.get(host, 0) + n
        self.in_flight = {h: max(1, service.settings.concurrent_files // n) for h, n in per_host.items()}
        fair = expected_jobs // (self.threads * CHUNKS_PER_THREAD) if expected_jobs else chunk_files
        self.chunk_files = max(1, min(chunk_files, max(MIN_CHUNK_FILES, fair)))
        self.chunk_bytes = chunk_bytes
        self.own_client = own_client
        self.version = lakegui_version()
        self.chunk_ends: list[ChunkEnd] = []
        self._written = 0  # chunk_ends already in the facts
        self.workers: dict[str, WorkerStats] = {}
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._chunks: dict[int, _Chunk] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._next = 0
        self._profiles: dict[int, dict] = {}
        self._since: dict[int, float] = {}
        self._closed = threading.Event()
        self._facts = ClusterFacts(service.path, self.run_id)
        self._facts.start(self.address, getattr(client, "dashboard_link", "") or "")
        self._topic = f"{TOPIC}-{self.run_id}"
        client.subscribe_topic(self._topic, self._on_event)
        self._dispatcher = threading.Thread(target=self._dispatch, name="lakegui-cluster-dispatch", daemon=True)
        self._monitor = threading.Thread(target=self._watch, name="lakegui-cluster-monitor", daemon=True)
        self._dispatcher.start()
        self._monitor.start()

    def attach(self) -> None:
        """Make this the service's executor, claiming enough to keep two chunks per worker thread waiting."""
        self.service.executor = self
        self.service.claim_ahead = 1
        self.service.concurrency = self.chunk_files * self.threads * 2

    # JobExecutor

    def submit(self, running: "RunningJob", work: "Work", done: "Done") -> None:
        self._inbox.put((running, done))

    def set_workers(self, n: int) -> None:
        pass  # the cluster's size is the cluster's business

    def close(self, timeout: float | None = None) -> None:
        """Send nothing new; wait up to `timeout` for chunks in flight, then cancel the rest."""
        if self._closed.is_set():
            return
        self._inbox.put(None)
        self._dispatcher.join()
        with self._lock:
            self._idle.wait_for(lambda: not self._chunks, timeout)
            left = list(self._chunks.values())
        for chunk in left:
            chunk.future.cancel()
        with self._lock:
            self._idle.wait_for(lambda: not self._chunks, 10)
        self._closed.set()
        self._monitor.join()
        self._write_facts(ended=True)
        self._facts.close()
        try:
            self.client.unsubscribe_topic(self._topic)
            self.client.set_metadata(["lakegui", self.run_id], None)
        except Exception as exc:
            log.debug("cluster clean-up: %s", exc)
        if self.own_client:
            self.client.close()

    # dispatch (its own thread)

    def _dispatch(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            items = [item]
            stop = False
            try:  # a chunk's worth goes at once: a worker waiting is worth more than fewer sends
                while len(items) < self.chunk_files:
                    more = self._inbox.get(timeout=GATHER)
                    if more is None:
                        stop = True
                        break
                    items.append(more)
            except queue.Empty:
                pass
            try:
                self._send_all(items)
            except Exception as exc:  # the client is gone: these jobs go back in line
                log.warning("could not hand jobs to the cluster: %s", exc)
                for running, done in items:
                    done(running, Outcome(running.control.reason or JobState.QUEUED, attempts=0))
            if stop:
                return

    def _send_all(self, items: list) -> None:
        by_batch: dict[int, list] = {}
        for running, done in items:
            if running.control.stopped:  # paused or cancelled while it waited here: withheld
                done(running, Outcome(running.control.reason or JobState.CANCELLED, attempts=0))
            else:
                by_batch.setdefault(running.job.batch_id, []).append((running, done))
        for batch_id, group in by_batch.items():
            chunk, size = [], 0
            for item in group:
                job_size = item[0].job.size
                if chunk and (len(chunk) >= self.chunk_files or size + job_size > self.chunk_bytes):
                    self._send(batch_id, chunk)
                    chunk, size = [], 0
                chunk.append(item)
                size += job_size
            if chunk:
                self._send(batch_id, chunk)

    def _profile(self, batch_id: int) -> dict:
        if batch_id not in self._profiles:
            batch = self.service.batch(batch_id)
            profile = {**(batch.profile if batch else {}), **self.service.engines.override}
            if not profile.get("endpoint_url"):
                # An endpoint configured here (AWS config file, AWS_ENDPOINT_URL) goes with the jobs:
                # the workers' machines may configure none, and then send the bytes to AWS.
                from ..connection import Connection, ConnectionProfile

                if endpoint := Connection(ConnectionProfile.from_dict(profile)).endpoint_url:
                    profile["endpoint_url"] = endpoint
            self._profiles[batch_id] = profile
            self._since[batch_id] = batch.created if batch else 0.0
        return self._profiles[batch_id]

    def _send(self, batch_id: int, items: list) -> None:
        with self._lock:
            number = self._next
            self._next += 1
        payload = {"run": self.run_id, "chunk": number, "version": self.version,
                   "profile": self._profile(batch_id), "since": {str(batch_id): self._since[batch_id]},
                   "settings": dataclasses.asdict(self.service.settings), "path_map": self.path_map.to_list(),
                   "in_flight": self.in_flight,
                   "jobs": [job_to_dict(r.job) for r, _ in items]}
        chunk = _Chunk(number, items)
        with self._lock:
            self._chunks[number] = chunk
        chunk.future = self.client.submit(run_chunk, pack(payload), key=f"lakegui-chunk-{self.run_id}-{number}",
                                          pure=False)
        chunk.future.add_done_callback(lambda f, n=number: self._chunk_done(n, f))

    # results (the client's callback thread)

    def _chunk_done(self, number: int, future) -> None:
        received = time.time()
        with self._lock:
            chunk = self._chunks.get(number)
        if chunk is None:
            return
        outcomes: dict[int, Outcome] = {}
        try:
            if future.cancelled():
                raise _Cancelled()
            result = pickle.loads(future.result())
        except _Cancelled:
            for running, _ in chunk.items:
                outcomes[running.job.id] = Outcome(running.control.reason or JobState.QUEUED, attempts=0)
        except Exception as exc:  # lost too many workers, or the chunk could not even start
            message = f"the cluster could not run its chunk: {type(exc).__name__}: {exc}"
            for running, _ in chunk.items:
                outcomes[running.job.id] = Outcome(running.control.reason or JobState.FAILED,
                                                   "" if running.control.stopped else message)
        else:
            worker = result["worker"]
            with self._lock:
                stats = self.workers.setdefault(worker, WorkerStats(worker))
                for job_id, state, error, bytes_done, etag, attempts, permanent in result["results"]:
                    outcomes[job_id] = Outcome(JobState(state), error, bytes_done, etag, permanent, attempts)
                    if state in ("done", "skipped"):
                        stats.files += 1
                        stats.bytes += bytes_done if state == "done" else 0
                for s in self.workers.values():
                    s.live.pop(number, None)
                self.chunk_ends.append(ChunkEnd(number, worker, result["started"], result["ended"], received,
                                                [r.job.id for r, _ in chunk.items]))
        for running, done in chunk.items:
            outcome = outcomes.get(running.job.id) or Outcome(JobState.QUEUED, attempts=0)
            done(running, outcome)
        with self._lock:
            self._chunks.pop(number, None)
            self._idle.notify_all()

    def _on_event(self, event) -> None:
        """A running chunk's progress (the client's event loop): job bytes and worker counters."""
        _, msg = event
        with self._lock:
            chunk = self._chunks.get(msg["chunk"])
            if chunk is None:
                return
            chunk.worker = msg["worker"]
            for s in self.workers.values():
                if s.worker != chunk.worker:
                    s.live.pop(chunk.number, None)  # run again elsewhere: the lost worker's share is gone
            stats = self.workers.setdefault(msg["worker"], WorkerStats(msg["worker"]))
            stats.live[chunk.number] = (msg["files"], msg["bytes"])
            live = msg["live"]
            for running, _ in chunk.items:
                done = live.get(str(running.job.id))
                if done is not None:
                    running.progress.done = done

    # stops and facts (its own thread)

    def _watch(self) -> None:
        last_facts = 0.0
        while not self._closed.wait(0.25):
            try:
                self._send_stops()
                now = time.monotonic()
                if now - last_facts >= FACTS_EVERY:
                    last_facts = now
                    self._take_requests()
                    self._write_facts()
            except Exception as exc:  # a busy database or a closing client: try again next round
                log.debug("cluster monitor: %s", exc)

    def _send_stops(self) -> None:
        with self._lock:
            chunks = list(self._chunks.values())
        for chunk in chunks:
            stopped = {r.job.id: str(r.control.reason or JobState.CANCELLED) for r, _ in chunk.items
                       if r.control.stopped}
            if not stopped or set(stopped) <= chunk.stops_sent:
                continue
            chunk.stops_sent = set(stopped)
            if not chunk.worker and len(stopped) == len(chunk.items):
                chunk.future.cancel()  # not started yet: withheld (a run that just began reads the stops)
            self.client.set_metadata(chunk_key(self.run_id, chunk.number, "stop"), stopped)

    def _take_requests(self) -> None:
        """Pause or cancel asked for from the window (another process): stop this run's jobs so."""
        reason = self._facts.take_request()
        if reason:
            with self._lock:
                chunks = list(self._chunks.values())
            for chunk in chunks:
                for running, _ in chunk.items:
                    running.control.stop(reason)

    def _write_facts(self, ended: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            rows = []
            for s in self.workers.values():
                s.speed = s.meter.add(now, s.bytes_done) if not ended else 0.0
                rows.append((s.worker, s.files_done, s.bytes_done, s.speed))
            batches = sorted({r.job.batch_id for c in self._chunks.values() for r, _ in c.items})
            chunks = self.chunk_ends[self._written:]
            self._written = len(self.chunk_ends)
        self._facts.update(rows, batches, ended=ended, chunks=chunks)


class _Cancelled(Exception):
    pass


# facts for the window

_FACTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_runs (
    run TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    dashboard TEXT NOT NULL DEFAULT '',
    batches TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'running',
    request TEXT NOT NULL DEFAULT '',
    started REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_workers (
    run TEXT NOT NULL,
    worker TEXT NOT NULL,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    speed REAL NOT NULL DEFAULT 0,
    updated REAL NOT NULL,
    PRIMARY KEY (run, worker)
);
CREATE TABLE IF NOT EXISTS cluster_chunks (
    run TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    worker TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    received REAL NOT NULL,
    jobs TEXT NOT NULL,
    PRIMARY KEY (run, chunk)
)
"""


def _open_facts(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")  # one commit for the three tables (a fresh queue paid a sync for each)
    for statement in filter(str.strip, _FACTS_SCHEMA.split(";")):
        db.execute(statement)
    db.execute("COMMIT")
    return db


class ClusterFacts:
    """The coordinator's record of one cluster run, beside the queue's tables (its only writer)."""

    def __init__(self, path: Path | str, run: str):
        self.run = run
        self._db = _open_facts(path)
        self._lock = threading.Lock()
        self._batches: list[int] = []

    def start(self, address: str, dashboard: str) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO cluster_runs(run, address, dashboard, started, updated) "
                             "VALUES (?, ?, ?, ?, ?)", (self.run, address, dashboard, now, now))

    def update(self, workers: list[tuple], batches: list[int], *, ended: bool = False,
               chunks: Iterable[ChunkEnd] = ()) -> None:
        """The run's state and per-worker counters; `chunks` that ended since the last update
        (when each ended on its worker and reached the coordinator, and its job ids)."""
        now = time.time()
        self._batches = sorted(set(self._batches) | set(batches))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE cluster_runs SET batches = ?, state = ?, updated = ? WHERE run = ?",
                                 (json.dumps(self._batches), "ended" if ended else "running", now, self.run))
                self._db.executemany("INSERT OR REPLACE INTO cluster_workers(run, worker, files, bytes, speed, "
                                     "updated) VALUES (?, ?, ?, ?, ?, ?)",
                                     [(self.run, w, f, b, s, now) for w, f, b, s in workers])
                self._db.executemany("INSERT OR REPLACE INTO cluster_chunks(run, chunk, worker, started, ended, "
                                     "received, jobs) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     [(self.run, c.chunk, c.worker, c.started, c.ended, c.received,
                                       json.dumps(c.job_ids))
                                      for c in chunks])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def take_request(self) -> JobState | None:
        with self._lock:
            row = self._db.execute("SELECT request FROM cluster_runs WHERE run = ?", (self.run,)).fetchone()
            if not row or not row[0]:
                return None
            self._db.execute("UPDATE cluster_runs SET request = '' WHERE run = ?", (self.run,))
        return JobState(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(frozen=True)
class WorkerFacts:
    worker: str
    files: int
    bytes: int
    speed: float  # bytes per second


@dataclass(frozen=True)
class ClusterStatus:
    """What the window shows of a batch's latest cluster run."""

    run: str
    address: str
    dashboard: str
    live: bool  # its coordinator wrote within LIVE_FOR seconds and has not ended
    workers: list

    @property
    def bytes(self) -> int:
        return sum(w.bytes for w in self.workers)


def cluster_status(path: Path | str, batch_id: int | None) -> ClusterStatus | None:
    """The latest cluster run of `batch_id` (or of any batch, when None) recorded in the queue at
    `path`; None when it never ran on a cluster. Any thread; opens its own connection."""
    if not Path(path).exists():
        return None
    db = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True, timeout=5.0)
    try:
        try:
            runs = db.execute("SELECT run, address, dashboard, batches, state, updated FROM cluster_runs "
                              "ORDER BY started DESC").fetchall()
        except sqlite3.OperationalError:  # no cluster ever ran on this queue
            return None
        for run, address, dashboard, batches, state, updated in runs:
            if batch_id is None or batch_id in json.loads(batches):
                workers = [WorkerFacts(*r) for r in db.execute(
                    "SELECT worker, files, bytes, speed FROM cluster_workers WHERE run = ? ORDER BY worker", (run,))]
                live = state == "running" and time.time() - updated < LIVE_FOR
                return ClusterStatus(run, address, dashboard, live, workers)
        return None
    finally:
        db.close()


def request_stop(path: Path | str, run: str, reason: JobState) -> None:
    """Ask the coordinator of `run` (another process) to pause or cancel its running jobs; it
    reads the request within a second."""
    db = _open_facts(path)
    try:
        db.execute("UPDATE cluster_runs SET request = ? WHERE run = ?", (str(reason), run))
    finally:
        db.close()
