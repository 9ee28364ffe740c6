"""The durable queue: batch enqueue, claims, recovery after a crash, two processes, locking."""

from __future__ import annotations

import sqlite3

import pytest

from lakegui.core.transfers.jobs import Direction, JobState
from lakegui.core.transfers.store import JobStore, NewJob, QueueError, this_owner


def new_jobs(n, bucket="bkt"):
    return [NewJob(Direction.UPLOAD, bucket, f"k/{i:06d}.parquet", f"/data/{i}.parquet", size=i) for i in range(n)]


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "q.sqlite3")
    yield s
    s.close()


def test_wal_and_batch_enqueue(store):
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    batch = store.create_batch("backfill", "upload", {"endpoint_url": "http://x"})
    ids = store.add_jobs(batch, new_jobs(20_000))
    assert len(ids) == 20_000 and ids == sorted(ids)
    assert store.counts() == {"queued": (20_000, sum(range(20_000)))}
    assert store.job(ids[-1]).key == "k/019999.parquet"
    assert store.batch(batch).profile == {"endpoint_url": "http://x"}
    assert store.integrity_ok()


def test_claim_limit_and_no_double_claim_across_connections(tmp_path):
    a, b = JobStore(tmp_path / "q.sqlite3"), JobStore(tmp_path / "q.sqlite3")  # as two processes would
    try:
        a.add_jobs(a.create_batch("x", "upload", {}), new_jobs(10))
        got_a = a.claim(4, "host:1")
        got_b = b.claim(10, "host:2")
        assert len(got_a) == 4 and len(got_b) == 6
        assert not {j.id for j in got_a} & {j.id for j in got_b}
        assert all(j.state is JobState.RUNNING and j.attempts == 1 for j in got_a)
        assert a.claim(5, "host:1") == []
    finally:
        a.close()
        b.close()


def test_finish_retry_remove(store):
    batch = store.create_batch("x", "upload", {})
    store.add_jobs(batch, new_jobs(3))
    j1, j2, j3 = store.claim(3, this_owner())
    store.finish(j1.id, JobState.DONE, bytes_done=10, etag="abc")
    store.finish(j2.id, JobState.FAILED, error="Access denied")
    store.finish(j3.id, JobState.CANCELLED)
    assert store.job(j1.id).etag == "abc" and store.job(j2.id).error == "Access denied"
    assert store.retry_failed() == [j2.id]  # issue 18.3: the cancelled job stays cancelled
    assert store.job(j2.id).state is JobState.QUEUED and store.job(j2.id).error == ""
    assert store.job(j3.id).state is JobState.CANCELLED
    assert store.remove(states=[JobState.DONE]) == 1
    assert store.job(j1.id) is None and store.counts() == {"queued": (1, 1), "cancelled": (1, 2)}


def test_a_version_1_queue_gains_the_hidden_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE batches (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
                     "profile TEXT NOT NULL, created REAL NOT NULL, runner TEXT NOT NULL DEFAULT 'cli');"
                     "CREATE TABLE jobs (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, direction TEXT NOT NULL, "
                     "bucket TEXT NOT NULL, key TEXT NOT NULL, local_path TEXT NOT NULL, size INTEGER NOT NULL "
                     "DEFAULT 0, mtime REAL NOT NULL DEFAULT 0, etag TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, "
                     "bytes_done INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL "
                     "DEFAULT '', policy TEXT NOT NULL, upload_id TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL "
                     "DEFAULT '{}', extra TEXT NOT NULL DEFAULT '{}', owner TEXT NOT NULL DEFAULT '', "
                     "updated REAL NOT NULL);"
                     "INSERT INTO batches VALUES (1, 'old', 'backfill', '{}', 0, 'cli');"
                     "INSERT INTO jobs(batch_id, direction, bucket, key, local_path, state, policy, updated) "
                     "VALUES (1, 'upload', 'b', 'k', '/f', 'done', 'ask', 0);")
    db.close()
    store = JobStore(path)
    try:
        assert len(store.view_rows()) == 1
        assert store.remove(states=[JobState.DONE], keep_kinds=["backfill"]) == 1
        assert store.view_rows() == [] and store.counts() == {"done": (1, 0)}  # hidden, kept
    finally:
        store.close()


def test_pause_and_resume_only_touch_their_states(store):
    batch = store.create_batch("x", "upload", {})
    ids = store.add_jobs(batch, new_jobs(4))
    store.claim(1, "me:1")
    paused = store.set_state(ids, JobState.PAUSED, from_states=[JobState.QUEUED])
    assert paused == ids[1:]
    assert store.claim(5, "me:1") == []  # paused jobs are never claimed
    assert store.set_state(None, JobState.QUEUED, from_states=[JobState.PAUSED]) == ids[1:]


def test_recover_orphans_of_a_dead_process(store):
    batch = store.create_batch("x", "upload", {})
    store.add_jobs(batch, new_jobs(3))
    dead, alive = store.claim(2, "host:dead"), store.claim(1, "host:alive")
    store.set_upload_id(dead[0].id, "upload-123")
    store.save_progress({dead[0].id: 4096})
    recovered = store.recover_orphans(alive=lambda owner: owner == "host:alive")
    assert sorted(recovered) == sorted(j.id for j in dead)
    job = store.job(dead[0].id)
    # Back in line, and the upload id is kept so the engine can abort the orphan upload first.
    assert job.state is JobState.QUEUED and job.upload_id == "upload-123"
    assert job.bytes_done == 4096  # the queue shows where it was
    assert store.claim(5, "host:alive")[0].bytes_done == 0  # and a new run starts from zero
    assert store.job(alive[0].id).state is JobState.RUNNING


def test_locked_database_gives_a_clear_error(tmp_path):
    store = JobStore(tmp_path / "q.sqlite3", busy_timeout=0.2)
    other = sqlite3.connect(str(tmp_path / "q.sqlite3"), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(QueueError, match="locked by another process"):
            store.create_batch("x", "upload", {})
        other.execute("ROLLBACK")
        assert store.create_batch("x", "upload", {}) > 0  # usable once the other lets go
    finally:
        other.close()
        store.close()


def test_not_a_database(tmp_path):
    bad = tmp_path / "q.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(QueueError, match="cannot be used"):
        JobStore(bad)


def test_a_selection_of_more_ids_than_sqlite_takes_is_paused_resumed_listed_and_removed(store):
    # SQLite builds differ in how many variables one statement takes (999 in old ones, 32,766 in
    # many); the window's Select All of a big queue names every id. Set the old limit and work on
    # 3,000 ids: one placeholder each raised "too many SQL variables".
    store._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    batch = store.create_batch("b", "upload", {})
    ids = store.add_jobs(batch, new_jobs(3000))
    assert len(store.set_state(ids, JobState.PAUSED, from_states=[JobState.QUEUED])) == 3000
    assert len(store.jobs(ids=ids, states=[JobState.PAUSED])) == 3000
    assert store.set_state(ids[:10], JobState.QUEUED, from_states=[JobState.PAUSED]) == ids[:10]
    store.adopt(ids, "gui")
    assert store.open_uploads(states=[JobState.PAUSED], ids=ids) == []
    assert store.kept_downloads(states=[JobState.PAUSED], ids=ids) == []
    assert store.remove(states=[JobState.PAUSED], ids=ids) == 2990
    assert [j.id for j in store.jobs(ids=ids)] == ids[:10]
