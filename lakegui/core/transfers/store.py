"""The durable transfer queue: jobs and batches in SQLite (WAL), shared safely by processes.

The GUI and `lakegui-cli` open the same database. Every change is one short
transaction, claims take a write lock first (BEGIN IMMEDIATE) so two processes
never run the same job, and a process that dies leaves its jobs "running" under
its owner tag; the next process to open the queue puts them back in line.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .. import paths
from .jobs import RETRYABLE, Direction, Job, JobState, OverwritePolicy

QUEUE_FILE = "queue.sqlite3"
SCHEMA_VERSION = 5  # 2: jobs.hidden; 3: jobs.src_bucket, src_key, src_version (copies); 4: version_id,
# replaced_version (uploads to versioned buckets); 5: resume (what an interrupted transfer kept, issue 19)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    profile TEXT NOT NULL,
    created REAL NOT NULL,
    runner TEXT NOT NULL DEFAULT 'cli'
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    local_path TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    mtime REAL NOT NULL DEFAULT 0,
    etag TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    policy TEXT NOT NULL,
    upload_id TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{}',
    extra TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    src_bucket TEXT NOT NULL DEFAULT '',
    src_key TEXT NOT NULL DEFAULT '',
    src_version TEXT NOT NULL DEFAULT '',
    version_id TEXT NOT NULL DEFAULT '',
    replaced_version TEXT NOT NULL DEFAULT '',
    resume TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs(batch_id, state);
CREATE INDEX IF NOT EXISTS jobs_by_updated ON jobs(updated);
CREATE TABLE IF NOT EXISTS flags (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""
_COLUMNS = ("id", "batch_id", "direction", "bucket", "key", "local_path", "size", "mtime", "etag", "state",
            "bytes_done", "attempts", "error", "policy", "upload_id", "metadata", "extra", "owner",
            "src_bucket", "src_key", "src_version", "version_id", "replaced_version", "resume")
_ADDED_COLUMNS = {"hidden": "INTEGER NOT NULL DEFAULT 0", "src_bucket": "TEXT NOT NULL DEFAULT ''",
                  "src_key": "TEXT NOT NULL DEFAULT ''", "src_version": "TEXT NOT NULL DEFAULT ''",
                  "version_id": "TEXT NOT NULL DEFAULT ''", "replaced_version": "TEXT NOT NULL DEFAULT ''",
                  "resume": "TEXT NOT NULL DEFAULT '{}'"}
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM jobs"
# Ends after which a later run may continue the job's transfer (see finish_many).
_KEEPS_RESUME = frozenset(str(s) for s in (JobState.PAUSED, JobState.QUEUED, JobState.FAILED))


class QueueError(RuntimeError):
    """The queue database cannot be used (locked by another process, unreadable, …)."""


@dataclass(frozen=True)
class Batch:
    id: int
    name: str
    kind: str
    profile: dict
    created: float


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue; the store gives it an id and the queued state."""

    direction: Direction
    bucket: str
    key: str
    local_path: str
    size: int = 0
    mtime: float = 0.0
    etag: str = ""
    policy: OverwritePolicy = OverwritePolicy.ASK
    metadata: dict | None = None
    extra: dict | None = None
    state: JobState = JobState.QUEUED
    error: str = ""
    src_bucket: str = ""
    src_key: str = ""
    src_version: str = ""
    replaced_version: str = ""  # uploads: the version of the key the planner saw, which this replaces
    resume: dict | None = None  # kept on the job: the planner's mark of a conflict (jobs.CONFLICT)


def default_queue_path() -> Path:
    return paths.data_dir() / QUEUE_FILE


def uploaded_records(path: Path | str | None, bucket: str) -> dict[str, tuple[int, float, str]]:
    """{key: (size, mtime, etag)} of uploads to `bucket` the queue at `path` finished: what a
    rerun needs to know a file is unchanged without hashing it. Read-only; a missing
    database is an empty record, and is not created."""
    path = Path(path) if path else default_queue_path()
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute("SELECT key, size, mtime, etag FROM jobs WHERE direction = 'upload' AND state = 'done' "
                          "AND bucket = ? AND etag != '' ORDER BY id", (bucket,)).fetchall()
    except sqlite3.DatabaseError:
        return {}
    finally:
        db.close()
    return {k: (size, mtime, etag) for k, size, mtime, etag in rows}


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether the process named by an owner tag still runs. Another host's owner counts as
    alive: we cannot tell, and stealing its jobs could run them twice."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return bool(owner)
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _job(row: Sequence) -> Job:
    d = dict(zip(_COLUMNS, row))
    return Job(id=d["id"], batch_id=d["batch_id"], direction=Direction(d["direction"]), bucket=d["bucket"],
               key=d["key"], local_path=d["local_path"], size=d["size"], mtime=d["mtime"], etag=d["etag"],
               state=JobState(d["state"]), bytes_done=d["bytes_done"], attempts=d["attempts"],
               error=d["error"], policy=OverwritePolicy(d["policy"]), upload_id=d["upload_id"],
               metadata=json.loads(d["metadata"]), extra=json.loads(d["extra"]), owner=d["owner"],
               src_bucket=d["src_bucket"], src_key=d["src_key"], src_version=d["src_version"],
               version_id=d["version_id"], replaced_version=d["replaced_version"],
               resume=json.loads(d["resume"] or "{}"))


_LISTED_IDS = 500  # more ids than this go to SQLite as one JSON array


def _in_ids(column: str, ids: list[int]) -> tuple[str, list]:
    """`column IN (...)` for these ids, and its arguments. A long list is one JSON array read by
    json_each, since one placeholder per id passes SQLite's limit on variables for a big
    selection (32,766 in many builds, 999 in old ones)."""
    if len(ids) > _LISTED_IDS:
        return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(ids)]
    return f"{column} IN ({','.join('?' * len(ids))})", list(ids)


def _chosen(states: Iterable[JobState], ids: Iterable[int] | None, batch_id: int | None) -> tuple[list, list] | None:
    """SQL conditions and arguments for jobs in `states` (of `ids`, of `batch_id`); None when
    `ids` names none."""
    states = [str(s) for s in states]
    where, args = [f"state IN ({','.join('?' * len(states))})"], list(states)
    if ids is not None:
        ids = list(ids)
        if not ids:
            return None
        clause, more = _in_ids("id", ids)
        where.append(clause)
        args += more
    if batch_id is not None:
        where.append("batch_id = ?")
        args.append(batch_id)
    return where, args


class JobStore:
    """Jobs and batches in one SQLite file. Thread-safe: one connection behind a lock."""

    def __init__(self, path: Path | str | None = None, *, busy_timeout: float = 10.0):
        self.path = Path(path) if path else default_queue_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(self.path), timeout=busy_timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._write():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(jobs)")}
                for name, decl in _ADDED_COLUMNS.items():  # a queue written by an older version
                    if name not in columns:
                        self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {decl}")
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise QueueError(self._explain(exc)) from exc

    def _explain(self, exc: sqlite3.Error) -> str:
        if "locked" in str(exc) or "busy" in str(exc):
            return (f"The transfer queue {self.path} is locked by another process; "
                    "close the other lakegui or lakegui-cli and try again.")
        return f"The transfer queue {self.path} cannot be used: {exc}"

    class _Tx:
        def __init__(self, store: "JobStore"):
            self.store = store

        def __enter__(self):
            self.store._lock.acquire()
            try:
                self.store._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self.store._lock.release()
                raise QueueError(self.store._explain(exc)) from exc
            return self.store._db

        def __exit__(self, exc_type, exc, tb):
            try:
                self.store._db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.store._lock.release()
            return False

    def _write(self) -> "_Tx":
        return JobStore._Tx(self)

    def _read(self, sql: str, args: Sequence = ()) -> list:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise QueueError(self._explain(exc)) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # batches

    def create_batch(self, name: str, kind: str, profile: dict, *, runner: str = "cli") -> int:
        """A named group of jobs. `profile` is the connection profile (never a secret) that
        lets any process run them later; `runner` says which kind of process runs them
        ("gui" or "cli"), so the GUI never takes jobs a CLI run is waiting for."""
        with self._write() as db:
            cur = db.execute("INSERT INTO batches(name, kind, profile, created, runner) VALUES (?, ?, ?, ?, ?)",
                             (name, kind, json.dumps(profile), time.time(), runner))
            return int(cur.lastrowid)

    def adopt(self, job_ids: Iterable[int], runner: str) -> None:
        """Hand the batches of these jobs to `runner` (the GUI resuming what a CLI run left)."""
        ids = list(job_ids)
        if ids:
            with self._write() as db:
                clause, args = _in_ids("id", ids)
                db.execute(f"UPDATE batches SET runner = ? WHERE id IN (SELECT DISTINCT batch_id FROM jobs "
                           f"WHERE {clause})", [runner, *args])

    def batch(self, batch_id: int) -> Batch | None:
        rows = self._read("SELECT id, name, kind, profile, created FROM batches WHERE id = ?", (batch_id,))
        return Batch(rows[0][0], rows[0][1], rows[0][2], json.loads(rows[0][3]), rows[0][4]) if rows else None

    def batches(self) -> list[Batch]:
        return [Batch(r[0], r[1], r[2], json.loads(r[3]), r[4])
                for r in self._read("SELECT id, name, kind, profile, created FROM batches ORDER BY id")]

    # jobs

    def add_jobs(self, batch_id: int, jobs: Iterable[NewJob]) -> list[int]:
        """Enqueue many jobs in one transaction (75,000 take about a second)."""
        now = time.time()
        rows = [(batch_id, str(j.direction), j.bucket, j.key, j.local_path, j.size, j.mtime, j.etag, str(j.state),
                 j.error, str(j.policy), json.dumps(j.metadata or {}), json.dumps(j.extra or {}), now,
                 j.src_bucket, j.src_key, j.src_version, j.replaced_version, json.dumps(j.resume or {}))
                for j in jobs]
        with self._write() as db:
            first = (db.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]) + 1
            db.executemany("INSERT INTO jobs(batch_id, direction, bucket, key, local_path, size, mtime, etag, "
                           "state, error, policy, metadata, extra, updated, src_bucket, src_key, src_version, "
                           "replaced_version, resume) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        # ids are assigned in order inside one write transaction
        return list(range(first, first + len(rows)))

    def job(self, job_id: int) -> Job | None:
        rows = self._read(f"{_SELECT} WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def jobs(self, *, states: Iterable[JobState] | None = None, batch_id: int | None = None,
             ids: Iterable[int] | None = None, after_id: int = 0, limit: int = -1) -> list[Job]:
        where, args = ["id > ?"], [after_id]
        if states is not None:
            states = [str(s) for s in states]
            where.append(f"state IN ({','.join('?' * len(states))})")
            args += states
        if batch_id is not None:
            where.append("batch_id = ?")
            args.append(batch_id)
        if ids is not None:
            clause, more = _in_ids("id", list(ids))
            where.append(clause)
            args += more
        return [_job(r) for r in self._read(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
                                            [*args, limit])]

    def view_rows(self) -> list[tuple]:
        """What a queue view shows of every job it has not hidden, oldest first, without decoding
        metadata: (id, batch_id, direction, bucket, key, local_path, size, state, bytes_done, error, attempts)."""
        return self._read("SELECT id, batch_id, direction, bucket, key, local_path, size, state, bytes_done, error, "
                          "attempts FROM jobs WHERE hidden = 0 ORDER BY id")

    def claim(self, limit: int, owner: str, *, batch_ids: Iterable[int] | None = None,
              runner: str | None = None) -> list[Job]:
        """Move up to `limit` queued jobs to running under `owner`, oldest first (only of
        `batch_ids`, or of batches run by `runner`, when given)."""
        if limit <= 0:
            return []
        where, args = "state = 'queued'", []
        if runner is not None:
            where += " AND batch_id IN (SELECT id FROM batches WHERE runner = ?)"
            args.append(runner)
        if batch_ids is not None:
            batch_ids = list(batch_ids)
            if not batch_ids:
                return []
            where += f" AND batch_id IN ({','.join('?' * len(batch_ids))})"
            args += batch_ids
        with self._write() as db:
            rows = db.execute(f"{_SELECT} WHERE {where} ORDER BY id LIMIT ?", [*args, limit]).fetchall()
            if not rows:
                return []
            ids = [r[0] for r in rows]
            db.execute(f"UPDATE jobs SET state = 'running', owner = ?, bytes_done = 0, error = '', "
                       f"attempts = attempts + 1, updated = ? WHERE id IN ({','.join('?' * len(ids))})",
                       [owner, time.time(), *ids])
        claimed = [_job(r) for r in rows]
        for j in claimed:
            j.state, j.owner, j.bytes_done, j.error, j.attempts = JobState.RUNNING, owner, 0, "", j.attempts + 1
        return claimed

    def finish(self, job_id: int, state: JobState, *, error: str = "", bytes_done: int | None = None,
               etag: str | None = None) -> None:
        """Record how a running job ended."""
        self.finish_many([(job_id, state, error, bytes_done, etag)])

    def finish_many(self, ends: Sequence[tuple]) -> None:
        """Record how running jobs ended, (id, state, error, bytes_done, etag[, version_id]) each, in one
        transaction. A job that ended done, skipped or cancelled keeps no upload id and nothing to
        resume: its upload was completed or aborted. One paused, handed back or failed keeps both,
        so its next run continues from what was sent (issue 19); the engine clears them itself when
        it aborts (a permanent failure, a changed file)."""
        if not ends:
            return
        now = time.time()
        rows = [(str(end[1]), end[2], now, str(end[1]) in _KEEPS_RESUME, str(end[1]) in _KEEPS_RESUME, end[3],
                 end[4], end[5] if len(end) > 5 else None, end[0]) for end in ends]
        with self._write() as db:
            db.executemany("UPDATE jobs SET state = ?, error = ?, owner = '', updated = ?, "
                           "upload_id = CASE WHEN ? THEN upload_id ELSE '' END, "
                           "resume = CASE WHEN ? THEN resume ELSE '{}' END, "
                           "bytes_done = COALESCE(?, bytes_done), etag = COALESCE(?, etag), "
                           "version_id = COALESCE(?, version_id) WHERE id = ?", rows)

    def open_uploads(self, *, states: Iterable[JobState], ids: Iterable[int] | None = None,
                     batch_id: int | None = None, visible_only: bool = False) -> list[Job]:
        """Jobs in `states` (of `ids`, of `batch_id`) that hold a multipart upload: what must be
        aborted when they are cancelled or removed without running again."""
        return self._holding("upload_id != ''", states, ids, batch_id, visible_only)

    def kept_downloads(self, *, states: Iterable[JobState], ids: Iterable[int] | None = None,
                       batch_id: int | None = None, visible_only: bool = False) -> list[Job]:
        """Downloads in `states` (of `ids`, of `batch_id`) that kept a temp file to resume from:
        what must be removed when they are cancelled or removed without running again."""
        return self._holding("direction = 'download' AND resume LIKE '%\"ranges\"%'", states, ids, batch_id,
                             visible_only)

    def _holding(self, condition: str, states: Iterable[JobState], ids: Iterable[int] | None,
                 batch_id: int | None, visible_only: bool) -> list[Job]:
        """Jobs in `states` (of `ids`, of `batch_id`) matching `condition`: what a run left on the
        server or the disk for a later run."""
        chosen = _chosen(states, ids, batch_id)
        if chosen is None:
            return []
        where, args = chosen
        where.append(condition)
        if visible_only:
            where.append("hidden = 0")
        return [_job(r) for r in self._read(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY id", args)]

    def set_upload_id(self, job_id: int, upload_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET upload_id = ?, updated = ? WHERE id = ?", (upload_id, time.time(), job_id))

    def note_extra(self, notes: dict[int, dict]) -> None:
        """Merge {job id: {name: value}} into those jobs' extra (a rollback's record of what it undid)."""
        with self._write() as db:
            db.executemany("UPDATE jobs SET extra = json_patch(extra, ?) WHERE id = ?",
                           [(json.dumps(v), i) for i, v in notes.items()])

    def extra_values(self, batch_id: int, name: str) -> list:
        """The values of extra[name] of a batch's jobs that have one."""
        rows = self._read("SELECT json_quote(json_extract(extra, ?)) FROM jobs WHERE batch_id = ? AND "
                          "json_type(extra, ?) IS NOT NULL ORDER BY id", (f"$.{name}", batch_id, f"$.{name}"))
        return [json.loads(v) for v, in rows]

    def set_resume(self, job_id: int, resume: dict) -> None:
        """What an interrupted run of this job can reuse (parts sent, ranges fetched); {} forgets it."""
        with self._write() as db:
            db.execute("UPDATE jobs SET resume = ?, updated = ? WHERE id = ?", (json.dumps(resume), time.time(), job_id))

    def save_progress(self, progress: dict[int, int]) -> None:
        """Persist bytes done of running jobs (so a restart shows the queue as it was)."""
        if progress:
            with self._write() as db:
                db.executemany("UPDATE jobs SET bytes_done = ? WHERE id = ? AND state = 'running'",
                               [(b, i) for i, b in progress.items()])

    def set_state(self, ids: Iterable[int] | None, to: JobState, *, from_states: Iterable[JobState],
                  batch_id: int | None = None) -> list[int]:
        """Move jobs in `from_states` to `to` (pause, resume, retry, cancel queued ones); returns their ids."""
        chosen = _chosen(from_states, ids, batch_id)
        if chosen is None:
            return []
        where, args = chosen
        clause = " AND ".join(where)
        with self._write() as db:
            moved = [r[0] for r in db.execute(f"SELECT id FROM jobs WHERE {clause}", args).fetchall()]
            extra = ", error = '', bytes_done = 0" if to is JobState.QUEUED else ""
            db.execute(f"UPDATE jobs SET state = ?, updated = ?{extra} WHERE {clause}", [str(to), time.time(), *args])
        return moved

    def retry_failed(self, ids: Iterable[int] | None = None, batch_id: int | None = None) -> list[int]:
        return self.set_state(ids, JobState.QUEUED, from_states=RETRYABLE, batch_id=batch_id)

    def remove(self, *, states: Iterable[JobState], ids: Iterable[int] | None = None,
               batch_id: int | None = None, keep_kinds: Iterable[str] = (), visible_only: bool = False) -> int:
        """Delete jobs in the given states (never running ones); drops batches left empty.
        Jobs of batches of `keep_kinds` (backfills, whose records make their manifest) are only
        hidden from the queue's view instead; `visible_only` leaves hidden jobs alone. Returns
        how many jobs went from the view."""
        states = [str(s) for s in states if s is not JobState.RUNNING]
        if not states:
            return 0
        where, args = f"state IN ({','.join('?' * len(states))})", list(states)
        if ids is not None:
            ids = list(ids)
            if not ids:
                return 0
            clause, more = _in_ids("id", ids)
            where += f" AND {clause}"
            args += more
        if batch_id is not None:
            where += " AND batch_id = ?"
            args.append(batch_id)
        if visible_only:
            where += " AND hidden = 0"
        keep_kinds = list(keep_kinds)
        kept = f"batch_id IN (SELECT id FROM batches WHERE kind IN ({','.join('?' * len(keep_kinds))}))"
        with self._write() as db:
            n = 0
            if keep_kinds:
                n += db.execute(f"UPDATE jobs SET hidden = 1 WHERE hidden = 0 AND {where} AND {kept}",
                                [*args, *keep_kinds]).rowcount
                where, args = f"{where} AND NOT {kept}", [*args, *keep_kinds]
            n += db.execute(f"DELETE FROM jobs WHERE {where}", args).rowcount
            db.execute("DELETE FROM batches WHERE id NOT IN (SELECT DISTINCT batch_id FROM jobs)")
        return n

    def recover_orphans(self, alive=owner_alive) -> list[int]:
        """Put jobs left running by a dead process back in the queue. Their upload id stays
        recorded, so the engine cleans up before running them again, and so do their last
        saved bytes, so the queue shows where they were (claiming starts them from zero)."""
        with self._write() as db:
            rows = db.execute("SELECT id, owner FROM jobs WHERE state = 'running'").fetchall()
            dead = [job_id for job_id, owner in rows if not alive(owner)]
            if dead:
                clause, args = _in_ids("id", dead)
                db.execute(f"UPDATE jobs SET state = 'queued', owner = '', updated = ? WHERE {clause}",
                           [time.time(), *args])
        return dead

    def release(self, owner: str, to: JobState = JobState.QUEUED) -> int:
        """Hand back this owner's running jobs (on a clean exit) so any process can resume them."""
        with self._write() as db:
            return db.execute("UPDATE jobs SET state = ?, owner = '', bytes_done = 0, updated = ? "
                              "WHERE state = 'running' AND owner = ?", (str(to), time.time(), owner)).rowcount

    def counts(self, batch_id: int | None = None) -> dict[str, tuple[int, int]]:
        """{state: (jobs, bytes)} for one batch or all."""
        sql, args = "SELECT state, COUNT(*), COALESCE(SUM(size), 0) FROM jobs", []
        if batch_id is not None:
            sql += " WHERE batch_id = ?"
            args.append(batch_id)
        return {state: (n, b) for state, n, b in self._read(sql + " GROUP BY state", args)}

    def rollup(self, batch_id: int, field: str) -> list[tuple]:
        """Per value of a metadata field (symbol, year, ...): (value, jobs, done, failed, bytes,
        bytes done), one aggregate query however many jobs the batch holds. Skipped jobs count as
        done, as everywhere (see progress.py)."""
        return self._read(
            "SELECT json_extract(metadata, ?) AS v, COUNT(*), SUM(state IN ('done', 'skipped')), "
            "SUM(state = 'failed'), COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN state IN ('done', 'skipped') THEN size "
            "WHEN state = 'running' THEN bytes_done ELSE 0 END), 0) "
            "FROM jobs WHERE batch_id = ? GROUP BY v ORDER BY v", (f'$."{field}"', batch_id))

    def metadata_fields(self, batch_id: int) -> list[str]:
        """The metadata keys of a batch's jobs (from its first job)."""
        rows = self._read("SELECT metadata FROM jobs WHERE batch_id = ? ORDER BY id LIMIT 1", (batch_id,))
        return list(json.loads(rows[0][0])) if rows else []

    def bytes_in_flight(self, batch_id: int) -> int:
        return self._read("SELECT COALESCE(SUM(bytes_done), 0) FROM jobs WHERE batch_id = ? AND state = 'running'",
                          (batch_id,))[0][0]

    def held(self) -> bool:
        """Whether the queue is held as a whole (a Pause of everything, in any process): jobs
        added wait paused, and every process pauses what it runs, until a Resume of everything."""
        rows = self._read("SELECT value FROM flags WHERE name = 'held'")
        return bool(rows and rows[0][0])

    def set_held(self, held: bool) -> None:
        with self._write() as db:
            db.execute("INSERT INTO flags(name, value) VALUES ('held', ?) "
                       "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (int(held),))

    def data_version(self) -> int:
        """Changes when another connection (another process) commits; cheap to poll."""
        return self._read("PRAGMA data_version")[0][0]

    def visible_count(self) -> int:
        """How many jobs the view shows (one aggregate step, cheap to ask after every change)."""
        return self._read("SELECT COUNT(*) FROM jobs WHERE hidden = 0")[0][0]

    def visible_ids(self) -> set[int]:
        """The ids of the jobs the view shows."""
        return {r[0] for r in self._read("SELECT id FROM jobs WHERE hidden = 0")}

    def changed_since(self, when: float) -> list[Job]:
        """Jobs the view shows that changed (by anyone) after `when`, a time.time() value."""
        return [_job(r) for r in self._read(f"{_SELECT} WHERE updated > ? AND hidden = 0 ORDER BY id", (when,))]

    def integrity_ok(self) -> bool:
        return self._read("PRAGMA integrity_check")[0][0] == "ok"
