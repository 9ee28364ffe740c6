"""The transfer engine against moto in-process: uploads, downloads, progress, cancel, retries, errors."""

from __future__ import annotations

import os
import threading
import time

import pytest
from botocore.awsrequest import AWSResponse

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.s3transfer_engine import S3TransferEngine
from lakegui.core.transfers.jobs import Direction, Job, JobState, OverwritePolicy
from lakegui.core.transfers.localpaths import temp_path_for
from lakegui.core.transfers.planner import plan_download_uri, plan_upload, to_jobs
from lakegui.core.transfers.runner import EnginePool, QueueRunner
from lakegui.core.transfers.store import JobStore
from tests.support.waiting import wait_until

BUCKET = "engine-test"
# moto in-process only intercepts botocore: these tests pin the s3transfer backend.
SMALL = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=4,
                         engine="s3transfer")


@pytest.fixture
def conn(s3):
    s3.create_bucket(Bucket=BUCKET)
    return Connection(ConnectionProfile(bucket=BUCKET))


@pytest.fixture
def engine(conn):
    e = S3TransferEngine(conn, SMALL, backoff=0.01)
    yield e
    e.close()


def job(direction, key, local, size=0, **kw) -> Job:
    return Job(id=kw.pop("id", 1), batch_id=1, direction=direction, bucket=BUCKET, key=key, local_path=str(local),
               size=size, **kw)


def test_upload_small_and_multipart_then_download(engine, conn, tmp_path):
    small, big = tmp_path / "s.parquet", tmp_path / "big.bin"
    small.write_bytes(b"p" * 1000)
    big.write_bytes(os.urandom(12 * MB))
    ids = []
    for i, (path, key) in enumerate(((small, "u/s.parquet"), (big, "u/big.bin")), 1):
        progress = Progress()
        out = engine.run(job(Direction.UPLOAD, key, path, id=i, metadata={"symbol": "AAPL"}),
                         JobControl(), progress, on_upload_id=ids.append)
        assert out.state is JobState.DONE, out.error
        assert progress.done == progress.total == path.stat().st_size  # progress reaches 100%
    head = conn.client().head_object(Bucket=BUCKET, Key="u/big.bin")
    assert head["ETag"].strip('"').endswith("-3") and head["Metadata"] == {"symbol": "AAPL"}
    assert conn.client().head_object(Bucket=BUCKET, Key="u/s.parquet")["ContentType"] == \
        "application/vnd.apache.parquet"
    assert len(ids) == 1  # the multipart upload's id was reported, so a crash could clean it up
    target = tmp_path / "down" / "big.bin"
    out = engine.run(job(Direction.DOWNLOAD, "u/big.bin", target, 12 * MB, id=3), JobControl(), Progress())
    assert out.state is JobState.DONE and target.read_bytes() == big.read_bytes()
    assert sorted(os.listdir(target.parent)) == ["big.bin"]  # no temp file left


def test_cancel_multipart_upload_stops_fast_and_leaves_no_orphan(conn, tmp_path):
    slow = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2,
                            max_bandwidth=2 * MB)
    engine = S3TransferEngine(conn, slow)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(15 * MB))
    control, progress, result = JobControl(), Progress(), {}
    t = threading.Thread(target=lambda: result.update(out=engine.run(
        job(Direction.UPLOAD, "c/big.bin", path), control, progress)))
    t.start()
    try:
        wait_until(lambda: progress.done >= 1 * MB or not t.is_alive(), 10, "1 MB uploaded")
        assert 0 < progress.done < progress.total
        asked = time.monotonic()
        control.stop(JobState.CANCELLED)
        t.join(5)
        assert not t.is_alive() and time.monotonic() - asked < 2.0
        assert result["out"].state is JobState.CANCELLED
        assert conn.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
        assert "Contents" not in conn.client().list_objects_v2(Bucket=BUCKET, Prefix="c/")
    finally:
        t.join()
        engine.close()


def test_cancelled_download_leaves_no_temp_file(conn, tmp_path):
    conn.client().put_object(Bucket=BUCKET, Key="d/big.bin", Body=os.urandom(12 * MB))
    engine = S3TransferEngine(conn, TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB,
                                                   max_concurrency=2, max_bandwidth=2 * MB))
    target = tmp_path / "out" / "big.bin"
    control, progress, result = JobControl(), Progress(), {}
    t = threading.Thread(target=lambda: result.update(out=engine.run(
        job(Direction.DOWNLOAD, "d/big.bin", target, 12 * MB, id=9), control, progress)))
    t.start()
    try:
        wait_until(lambda: progress.sample() >= 512 * 1024 or not t.is_alive(), 10, "512 KB downloaded")
        control.stop(JobState.PAUSED)
        t.join(5)
        assert result["out"].state is JobState.PAUSED
        assert list(target.parent.iterdir()) == []  # neither the file nor its temp
    finally:
        t.join()
        engine.close()


def fail_first(conn, operation, times, status=503, code="SlowDown"):
    """Answer the first `times` calls of `operation` with an error, as a struggling server would."""
    calls = {"n": 0}

    def handler(request, **kwargs):
        calls["n"] += 1
        if calls["n"] <= times:
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            return AWSResponse(request.url, status, {}, _Raw(body))
        return None

    conn.client("transfer").meta.events.register_first(f"before-send.s3.{operation}", handler)
    return calls


class _Raw:
    def __init__(self, body):
        self._body = body

    def stream(self, **kwargs):
        yield self._body


def test_transient_errors_are_retried_beyond_botocore(s3, tmp_path, monkeypatch):
    from lakegui.core import connection

    monkeypatch.setitem(connection.PURPOSES, "transfer", dict(connection.PURPOSES["transfer"], total_max_attempts=2))
    s3.create_bucket(Bucket=BUCKET)
    conn = Connection(ConnectionProfile(bucket=BUCKET))
    engine = S3TransferEngine(conn, SMALL, backoff=0.01)
    path = tmp_path / "f.txt"
    path.write_text("hello")
    calls = fail_first(conn, "PutObject", times=4)  # botocore's 2 attempts give up twice; the engine goes on
    try:
        out = engine.run(job(Direction.UPLOAD, "r/f.txt", path), JobControl(), Progress())
    finally:
        engine.close()
    assert out.state is JobState.DONE and out.attempts == 3 and calls["n"] == 5
    assert conn.client().get_object(Bucket=BUCKET, Key="r/f.txt")["Body"].read() == b"hello"


def test_permanent_errors_fail_fast(engine, conn, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x")
    nobucket = engine.run(Job(1, 1, Direction.UPLOAD, "no-such-bucket-here", "k", str(path)), JobControl(),
                          Progress())
    assert nobucket.state is JobState.FAILED and "does not exist" in nobucket.error and nobucket.attempts == 1
    calls = fail_first(conn, "PutObject", times=100, status=403, code="AccessDenied")
    started = time.monotonic()
    out = engine.run(job(Direction.UPLOAD, "p/f.txt", path), JobControl(), Progress())
    assert out.state is JobState.FAILED and out.permanent and "Access denied" in out.error
    assert calls["n"] == 1 and time.monotonic() - started < 2
    missing = engine.run(job(Direction.UPLOAD, "p/g.txt", tmp_path / "gone.txt"), JobControl(), Progress())
    assert missing.state is JobState.FAILED and "not found" in missing.error and missing.attempts == 1


def test_existing_download_target_is_never_overwritten_silently(engine, conn, tmp_path):
    conn.client().put_object(Bucket=BUCKET, Key="o/a.txt", Body=b"new")
    target = tmp_path / "a.txt"
    target.write_bytes(b"mine")
    out = engine.run(job(Direction.DOWNLOAD, "o/a.txt", target, 3, policy=OverwritePolicy.ASK), JobControl(),
                     Progress())
    assert out.state is JobState.FAILED and "exists" in out.error and target.read_bytes() == b"mine"
    out = engine.run(job(Direction.DOWNLOAD, "o/a.txt", target, 3, policy=OverwritePolicy.SKIP), JobControl(),
                     Progress())
    assert out.state is JobState.SKIPPED and target.read_bytes() == b"mine"
    out = engine.run(job(Direction.DOWNLOAD, "o/a.txt", target, 3, policy=OverwritePolicy.OVERWRITE),
                     JobControl(), Progress())
    assert out.state is JobState.DONE and target.read_bytes() == b"new"


def test_a_download_a_killed_run_finished_is_done_on_resume(engine, conn, tmp_path):
    import hashlib

    put = conn.client().put_object(Bucket=BUCKET, Key="o/b.txt", Body=b"body")
    etag = put["ETag"].strip('"')
    assert etag == hashlib.md5(b"body").hexdigest()
    target = tmp_path / "b.txt"
    target.write_bytes(b"body")  # renamed into place by a run killed before it recorded the end
    resumed = job(Direction.DOWNLOAD, "o/b.txt", target, 4, etag=etag, policy=OverwritePolicy.ASK, attempts=2)
    out = engine.run(resumed, JobControl(), Progress())
    assert out.state is JobState.DONE and target.read_bytes() == b"body"
    # A first attempt, or different content, still never replaces what is there.
    first = job(Direction.DOWNLOAD, "o/b.txt", target, 4, etag=etag, policy=OverwritePolicy.ASK, attempts=1)
    assert engine.run(first, JobControl(), Progress()).state is JobState.FAILED
    target.write_bytes(b"mine")
    out = engine.run(resumed, JobControl(), Progress())
    assert out.state is JobState.FAILED and target.read_bytes() == b"mine"


def test_orphan_multipart_upload_of_a_crashed_run_is_aborted(engine, conn, tmp_path):
    s3 = conn.client()
    orphan = s3.create_multipart_upload(Bucket=BUCKET, Key="x/f.bin")["UploadId"]
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    temp = temp_path_for(tmp_path / "d.bin", 5)
    temp.write_bytes(b"half")
    out = engine.run(job(Direction.UPLOAD, "x/f.bin", path, upload_id=orphan), JobControl(), Progress())
    assert out.state is JobState.DONE
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    engine.cleanup(job(Direction.DOWNLOAD, "x/f.bin", tmp_path / "d.bin", id=5))
    assert not temp.exists()


def test_planned_download_skips_keys_that_would_escape(conn, tmp_path):
    s3 = conn.client()
    for key in ("in/ok.txt", "in/../../escape.txt", "in/sub/fine.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    plan = plan_download_uri(s3, BUCKET, "in/", tmp_path / "dest")
    assert sorted(p.key for p in plan.items) == ["in/ok.txt", "in/sub/fine.txt"]
    assert [s.path for s in plan.skipped] == ["in/../../escape.txt"] and "outside" in plan.skipped[0].reason


def test_runner_moves_a_folder_through_the_queue(conn, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(12):
        (src / ("sub" if i % 2 else "") / f"f{i}.json").write_text(f'{{"i": {i}}}')
    store = JobStore(tmp_path / "q.sqlite3")
    engines = EnginePool(store, SMALL, known=[conn])
    try:
        plan = plan_upload(conn.client(), BUCKET, "lake/", [src])
        batch = store.create_batch("t", "upload", conn.profile.to_dict())
        store.add_jobs(batch, to_jobs(plan, OverwritePolicy.ASK, chunksize=5 * MB, metadata={"source": "t"}))
        summary = QueueRunner(store, engines, concurrency=3).run()
        assert (summary.done, summary.failed) == (12, 0)
        assert store.counts() == {"done": (12, plan.total_bytes)}
        keys = {o["Key"] for o in conn.client().list_objects_v2(Bucket=BUCKET, Prefix="lake/")["Contents"]}
        assert "lake/sub/f1.json" in keys and len(keys) == 12
        # A second run finds everything in place with one listing, and skips it.
        again = to_jobs(plan_upload(conn.client(), BUCKET, "lake/", [src]), OverwritePolicy.ASK, chunksize=5 * MB)
        assert {j.state for j in again} == {JobState.SKIPPED}
    finally:
        engines.close()
        store.close()


def test_progress_samples_a_watched_download_file(tmp_path):
    f = tmp_path / ".x.part"
    p = Progress()
    p.reset(100, watch_file=f)
    assert p.sample() == 0  # no file yet
    f.write_bytes(b"x" * 40)
    assert p.sample() == 40
    p.add(70)  # callbacks, when they come, win when ahead
    assert p.sample() == 70
    f.write_bytes(b"x" * 500)
    assert p.sample() == 100  # never beyond the total
