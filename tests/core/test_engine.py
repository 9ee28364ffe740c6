"""The transfer engines, both of them, against the same tests: uploads, downloads, progress,
cancel, retries, errors, what an interrupted run left behind.

Each test runs once per backend (awscrt, the default, and s3transfer) against moto's server
behind the fault proxy: the CRT speaks HTTP itself, so in-process moto cannot serve it, and
the proxy injects the same faults into either.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import pytest

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import PENDING_UPLOAD, JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState, OverwritePolicy
from lakegui.core.transfers.localpaths import temp_path_for
from lakegui.core.transfers.planner import plan_download_uri, plan_upload, to_jobs
from lakegui.core.transfers.ranges import kept_bytes
from lakegui.core.transfers.s3transfer_engine import S3TransferEngine
from lakegui.core.transfers.service import EnginePool, QueueService
from lakegui.core.transfers.store import JobStore
from tests.core.test_listing import WEIRD
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

BUCKET = "engine-test"
SMALL = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=4)
ENGINES = ("awscrt", "s3transfer")


class Backend:
    """One engine kind against moto's server through a fault proxy (no faults until asked)."""

    def __init__(self, kind: str, proxy: FaultProxy, server_url: str):
        self.kind = kind
        self.proxy = proxy
        self._connections: list[Connection] = []
        self.conn = self.connection()
        # Straight to the server: what a test sets up or checks meets no fault and no pacing.
        self.server = self.connection(server_url).client()
        self.server.create_bucket(Bucket=BUCKET)
        self._engines = []

    def connection(self, url: str = "") -> Connection:
        conn = Connection(ConnectionProfile(name="t", endpoint_url=url or self.proxy.url, bucket=BUCKET,
                                            addressing_style="path"))
        self._connections.append(conn)
        return conn

    def engine(self, settings: TransferSettings = SMALL, conn: Connection | None = None, **options):
        e = make_engine(conn or self.conn, replace(settings, engine=self.kind), **{"backoff": 0.01, **options})
        assert e.name == self.kind  # the backend asked for, not a fallback
        self._engines.append(e)
        return e

    def fail(self, fault: str, times: int, method: str = "PUT", under: str = "") -> None:
        """Answer the next `times` requests of `method` (on keys under `under`) with `fault`."""
        self.proxy.faults, self.proxy.rate, self.proxy.limit = (fault,), 1.0, times
        self.proxy.injected.clear()
        self.proxy.when = lambda m, path: m == method and path.startswith(f"/{BUCKET}/{under}")

    def close(self) -> None:
        for e in self._engines:
            e.close()
        for conn in self._connections:  # their kept-alive sockets, before garbage collection warns
            for purpose in ("interactive", "transfer"):
                conn.client(purpose).close()

    @classmethod
    @contextmanager
    def proxied(cls, kind: str, server_url: str):
        """A Backend of `kind` behind a fresh fault proxy to `server_url`, closed after (every
        engine test module's fixture)."""
        with FaultProxy(server_url) as proxy:
            b = cls(kind, proxy, server_url)
            try:
                yield b
            finally:
                b.close()


@pytest.fixture(params=[pytest.param(k, marks=pytest.mark.integration) for k in ENGINES])
def backend(request, moto_endpoint):
    with Backend.proxied(request.param, moto_endpoint) as b:
        yield b


@pytest.fixture
def engine(backend):
    return backend.engine()


@pytest.fixture
def server(backend):
    return backend.server


def job(direction, key, local, size=0, **kw) -> Job:
    return Job(id=kw.pop("id", 1), batch_id=1, direction=direction, bucket=BUCKET, key=key, local_path=str(local),
               size=size, **kw)


def run_in_thread(engine, j: Job, control: JobControl, progress: Progress):
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(out=engine.run(j, control, progress)))
    t.start()
    return t, result


def test_upload_small_and_multipart_then_download(backend, engine, server, tmp_path):
    small, big = tmp_path / "s.parquet", tmp_path / "big.bin"
    small.write_bytes(b"p" * 1000)
    big.write_bytes(os.urandom(12 * MB + 5))
    ids = []
    for i, (path, key) in enumerate(((small, "u/s.parquet"), (big, "u/big.bin")), 1):
        progress = Progress()
        out = engine.run(job(Direction.UPLOAD, key, path, id=i, metadata={"symbol": "AAPL", "data-type": "x"}),
                         JobControl(), progress, on_upload_id=ids.append)
        assert out.state is JobState.DONE, out.error
        assert progress.done == progress.total == path.stat().st_size  # progress reaches 100%
        assert out.etag  # verified against the local file
    head = server.head_object(Bucket=BUCKET, Key="u/big.bin")
    assert head["ETag"].strip('"').endswith("-3") and head["Metadata"] == {"symbol": "AAPL", "data-type": "x"}
    assert server.head_object(Bucket=BUCKET, Key="u/s.parquet")["ContentType"] == "application/vnd.apache.parquet"
    # Only the multipart upload was reported, by its id, before its parts were sent (parts.py, on
    # either engine), so a crash could continue it; then forgotten once it completed.
    assert len(ids) == 2 and ids[0] and not ids[0].startswith(PENDING_UPLOAD) and ids[1] == ""
    target = tmp_path / "down" / "big.bin"
    out = engine.run(job(Direction.DOWNLOAD, "u/big.bin", target, big.stat().st_size, id=3), JobControl(), Progress())
    assert out.state is JobState.DONE and target.read_bytes() == big.read_bytes()
    assert sorted(os.listdir(target.parent)) == ["big.bin"]  # no temp file left


def test_weird_keys_round_trip_exactly(engine, server, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("same bytes")
    for i, key in enumerate(WEIRD):
        out = engine.run(job(Direction.UPLOAD, key, src, id=i), JobControl(), Progress())
        assert out.state is JobState.DONE, (key, out.error)
    assert {o["Key"] for o in server.list_objects_v2(Bucket=BUCKET)["Contents"]} == set(WEIRD)
    for i, key in enumerate(WEIRD):
        if key.endswith("/"):
            continue  # a folder marker has no local file name
        target = tmp_path / "back" / f"{i}.txt"
        out = engine.run(job(Direction.DOWNLOAD, key, target, 10, id=100 + i), JobControl(), Progress())
        assert out.state is JobState.DONE and target.read_text() == "same bytes", (key, out.error)


def slowly(backend: Backend) -> tuple:
    """An engine whose transfers take seconds, and the file size that makes them so. s3transfer
    limits its own bandwidth; the CRT cannot, so the proxy paces its connections instead."""
    if backend.kind == "s3transfer":
        return backend.engine(replace(SMALL, max_concurrency=2, max_bandwidth=2 * MB)), 15 * MB
    backend.proxy.bandwidth = 3 * MB
    return backend.engine(), 40 * MB


@pytest.mark.slow
def test_cancel_multipart_upload_stops_fast_and_leaves_no_orphan(backend, server, tmp_path):
    engine, size = slowly(backend)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(size))
    control, progress = JobControl(), Progress()
    t, result = run_in_thread(engine, job(Direction.UPLOAD, "c/big.bin", path), control, progress)
    try:
        wait_until(lambda: progress.done >= 1 * MB or not t.is_alive(), 30, "1 MB uploaded", interval=0.002)
        assert 0 < progress.done < progress.total
        asked = time.monotonic()
        control.stop(JobState.CANCELLED)
        t.join(10)
        assert not t.is_alive() and time.monotonic() - asked < 2.0
    finally:
        t.join()
    assert result["out"].state is JobState.CANCELLED
    # Aborted by the time run() returns, even when the cancel beat the CRT to its upload id.
    assert server.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert "Contents" not in server.list_objects_v2(Bucket=BUCKET, Prefix="c/")


def stop_download_midway(backend, server, tmp_path, reason: JobState):
    """A download stopped with `reason` once part of it is written (and, for a pause, a complete
    range recorded: the bytes of parts still arriving are not kept): (its job, outcome, body)."""
    engine, size = slowly(backend)
    body = os.urandom(size)
    server.put_object(Bucket=BUCKET, Key="d/big.bin", Body=body)
    target = tmp_path / "out" / "big.bin"
    control, progress = JobControl(), Progress()
    j = job(Direction.DOWNLOAD, "d/big.bin", target, size, id=9)
    t, result = run_in_thread(engine, j, control, progress)
    try:
        wait_until(lambda: progress.sample() >= 512 * 1024 or not t.is_alive(), 30, "512 KB downloaded",
                   interval=0.002)
        if reason is JobState.PAUSED:
            wait_until(lambda: kept_bytes(j.resume or {}) > 0 or not t.is_alive(), 30, "a range recorded",
                       interval=0.002)
        assert progress.sample() < size
        control.stop(reason)
        t.join(10)
        assert not t.is_alive()
    finally:
        t.join()
    assert result["out"].state is reason
    return engine, j, progress, body


@pytest.mark.slow
def test_cancelled_download_leaves_no_temp_file(backend, server, tmp_path):
    _, j, progress, _ = stop_download_midway(backend, server, tmp_path, JobState.CANCELLED)
    assert list((tmp_path / "out").iterdir()) == []  # neither the file nor its temp
    assert j.resume == {} and progress.done == 0  # nothing kept, nothing counted


@pytest.mark.slow
def test_paused_download_keeps_its_temp_file_and_resumes_from_it(backend, server, tmp_path):
    engine, j, progress, body = stop_download_midway(backend, server, tmp_path, JobState.PAUSED)
    temp = temp_path_for(j.local_path, j.id)
    kept = sum(e - s for s, e in j.resume["ranges"])
    assert temp.exists() and kept > 0 and progress.done == kept  # what is in place counts as done
    backend.proxy.bandwidth = 1 << 40  # unpaced (0 would stop a handler still pacing the first run's answers)
    before = backend.proxy.settled()
    out = engine.run(j, JobControl(), Progress())
    assert out.state is JobState.DONE, out.error
    assert (tmp_path / "out" / "big.bin").read_bytes() == body and not temp.exists()
    assert backend.proxy.bytes_out - before <= len(body) - kept  # only what was missing
    assert j.resume == {}


@pytest.mark.slow
def test_transient_errors_are_retried_beyond_the_sdk(backend, server, tmp_path, monkeypatch):
    from lakegui.core import connection

    # botocore gives up after 2 attempts here; the CRT retries in C as it sees fit. Either way,
    # the engine's own loop goes on until the server answers.
    monkeypatch.setitem(connection.PURPOSES, "transfer", dict(connection.PURPOSES["transfer"], total_max_attempts=2))
    engine = backend.engine(conn=backend.connection())
    path = tmp_path / "f.txt"
    path.write_text("hello")
    times = 4 if backend.kind == "s3transfer" else 7  # the CRT tries 6 times itself, backing off for 8 s
    backend.fail("503", times, under="r/")
    out = engine.run(job(Direction.UPLOAD, "r/f.txt", path), JobControl(), Progress())
    assert out.state is JobState.DONE, out.error
    assert backend.proxy.injected["503"] == times and out.attempts > 1
    if backend.kind == "s3transfer":
        assert out.attempts == 3  # 2 + 2 failed tries, then the fifth request got through
    assert server.get_object(Bucket=BUCKET, Key="r/f.txt")["Body"].read() == b"hello"


def test_permanent_errors_fail_fast(backend, engine, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x")
    started = time.monotonic()
    nobucket = engine.run(Job(1, 1, Direction.UPLOAD, "no-such-bucket-here", "k", str(path)), JobControl(),
                          Progress())
    assert nobucket.state is JobState.FAILED and nobucket.permanent and "does not exist" in nobucket.error
    assert nobucket.attempts == 1
    out = engine.run(job(Direction.DOWNLOAD, "nope/missing.bin", tmp_path / "m.bin", 5), JobControl(), Progress())
    assert out.state is JobState.FAILED and out.permanent and "not found" in out.error
    assert not list(tmp_path.glob(".m.bin*"))  # the partial file is removed
    backend.fail("denied", 100, under="p/")
    out = engine.run(job(Direction.UPLOAD, "p/f.txt", path), JobControl(), Progress())
    assert out.state is JobState.FAILED and out.permanent and "Access denied" in out.error
    assert backend.proxy.injected["denied"] == 1 and out.attempts == 1
    missing = engine.run(job(Direction.UPLOAD, "p/g.txt", tmp_path / "gone.txt"), JobControl(), Progress())
    assert missing.state is JobState.FAILED and "not found" in missing.error and missing.attempts == 1
    assert time.monotonic() - started < 5


def test_a_server_that_refuses_checksums_gets_the_upload_without_them(backend, engine, server, tmp_path):
    # The CRT sends a CRC32 header with single-part uploads; some S3-compatible servers refuse
    # it. s3transfer sends none to a custom endpoint, so it never meets the refusal.
    path = tmp_path / "f.txt"
    path.write_text("checked by ETag")
    backend.fail("checksum", 1)
    out = engine.run(job(Direction.UPLOAD, "k/f.txt", path), JobControl(), Progress())
    assert out.state is JobState.DONE and out.attempts == 1, out.error  # a resend, not a failed attempt
    assert backend.proxy.injected["checksum"] == (1 if backend.kind == "awscrt" else 0)
    assert server.get_object(Bucket=BUCKET, Key="k/f.txt")["Body"].read() == b"checked by ETag"
    # The engine remembers: the next upload goes without checksums at once.
    backend.fail("checksum", 1)
    out = engine.run(job(Direction.UPLOAD, "k/g.txt", path, id=2), JobControl(), Progress())
    assert out.state is JobState.DONE and backend.proxy.injected["checksum"] == 0


def test_existing_download_target_is_never_overwritten_silently(engine, server, tmp_path):
    server.put_object(Bucket=BUCKET, Key="o/a.txt", Body=b"new")
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


def test_a_download_a_killed_run_finished_is_done_on_resume(engine, server, tmp_path):
    put = server.put_object(Bucket=BUCKET, Key="o/b.txt", Body=b"body")
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


def test_orphan_multipart_upload_of_a_crashed_run_is_aborted(engine, server, tmp_path):
    orphan = server.create_multipart_upload(Bucket=BUCKET, Key="x/f.bin")["UploadId"]
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    temp = temp_path_for(tmp_path / "d.bin", 5)
    temp.write_bytes(b"half")
    out = engine.run(job(Direction.UPLOAD, "x/f.bin", path, upload_id=orphan), JobControl(), Progress())
    assert out.state is JobState.DONE
    assert server.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    engine.cleanup(job(Direction.DOWNLOAD, "x/f.bin", tmp_path / "d.bin", id=5))
    assert not temp.exists()


def test_runner_moves_a_folder_through_the_queue(backend, server, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(12):
        (src / ("sub" if i % 2 else "") / f"f{i}.json").write_text(f'{{"i": {i}}}')
    store = JobStore(tmp_path / "q.sqlite3")
    engines = EnginePool(store, replace(SMALL, engine=backend.kind), known=[backend.conn],
                         engine_options={"backoff": 0.01})
    try:
        plan = plan_upload(server, BUCKET, "lake/", [src])
        batch = store.create_batch("t", "upload", backend.conn.profile.to_dict())
        store.add_jobs(batch, to_jobs(plan, OverwritePolicy.ASK, chunksize=5 * MB, metadata={"source": "t"}))
        summary = QueueService(store=store, engines=engines, concurrency=3).run()
        assert (summary.done, summary.failed) == (12, 0)
        assert store.counts() == {"done": (12, plan.total_bytes)}
        keys = {o["Key"] for o in server.list_objects_v2(Bucket=BUCKET, Prefix="lake/")["Contents"]}
        assert "lake/sub/f1.json" in keys and len(keys) == 12
        # A second run finds everything in place with one listing, and skips it.
        again = to_jobs(plan_upload(server, BUCKET, "lake/", [src]), OverwritePolicy.ASK, chunksize=5 * MB)
        assert {j.state for j in again} == {JobState.SKIPPED}
    finally:
        engines.close()
        store.close()


# Not per engine: choosing one, planning, progress, and how the CRT's errors are read.

def test_a_bandwidth_limit_chooses_s3transfer(moto_endpoint):
    conn = Connection(ConnectionProfile(name="t", endpoint_url=moto_endpoint, addressing_style="path"))
    auto, limited = make_engine(conn, SMALL), make_engine(conn, replace(SMALL, max_bandwidth=MB))
    try:
        assert (auto.name, limited.name) == ("awscrt", "s3transfer")
        assert isinstance(limited, S3TransferEngine)
    finally:
        auto.close()
        limited.close()


def test_the_crt_verdict_only_classifies(moto_endpoint):
    from awscrt.s3 import S3ResponseError

    from lakegui.core.transfers.crt_engine import CrtEngine, refuses_checksums

    def response(status, code, message):
        return S3ResponseError(code=14343, name="AWS_ERROR_S3_INVALID_RESPONSE_STATUS", message="failed",
                               status_code=status, headers=[], operation_name="PutObject",
                               body=f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode())

    refusal = response(400, "InvalidRequest", "Checksum headers are not supported")
    damaged = response(400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
    assert refuses_checksums(refusal) and refuses_checksums(response(501, "NotImplemented", "x-amz-checksum"))
    assert not refuses_checksums(damaged) and not refuses_checksums(response(403, "AccessDenied", "checksum"))
    conn = Connection(ConnectionProfile(name="t", endpoint_url=moto_endpoint, addressing_style="path"))
    engine = CrtEngine(conn, SMALL)
    try:
        j = job(Direction.UPLOAD, "k", "f")
        for exc in (refusal, damaged):
            permanent, message = engine.verdict(exc, j)
            assert message and engine._checksums  # asking twice gives the same answer
            assert engine.verdict(exc, j) == (permanent, message)
    finally:
        engine.close()


def test_planned_download_skips_keys_that_would_escape(s3, tmp_path):
    s3.create_bucket(Bucket=BUCKET)
    for key in ("in/ok.txt", "in/../../escape.txt", "in/sub/fine.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    plan = plan_download_uri(s3, BUCKET, "in/", tmp_path / "dest")
    assert sorted(p.key for p in plan.items) == ["in/ok.txt", "in/sub/fine.txt"]
    assert [s.path for s in plan.skipped] == ["in/../../escape.txt"] and "outside" in plan.skipped[0].reason


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


def test_a_finished_run_lets_go_of_its_transfer_so_the_native_client_can_be_freed(backend, server, tmp_path):
    """A native request's callbacks are held in C and lead back to the job's control (the
    checkpoint records through it), a loop the collector cannot see: every big download kept
    its request, and with it the engine's whole native client, after the engine was closed."""
    import gc
    import weakref

    data = os.urandom(6 * MB)  # over SMALL's threshold: ranges, a checkpoint, a verifying HEAD
    server.put_object(Bucket=BUCKET, Key="big.bin", Body=data)
    e = backend.engine()
    control = JobControl()
    out = e.run(job(Direction.DOWNLOAD, "big.bin", tmp_path / "big.bin", size=len(data)), control, Progress())
    assert out.state is JobState.DONE and (tmp_path / "big.bin").read_bytes() == data
    assert control._transfer is None
    native = weakref.ref(e._s3) if backend.kind == "awscrt" else None
    backend._engines.remove(e)
    e.close()
    del e
    gc.collect()
    assert native is None or native() is None


def test_a_create_whose_answer_was_lost_leaves_no_upload_open(backend, engine, server, tmp_path):
    """The server created the multipart upload, the answer was cut off, and the SDK sent the
    CreateMultipartUpload again: the first upload stayed open, where nobody knew of it (CI's
    fault run found one after a 1,000-file backfill)."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MB))
    backend.fail("reset", 1, method="POST", under="lost/")  # the first POST is the create
    out = engine.run(job(Direction.UPLOAD, "lost/big.bin", big), JobControl(), Progress())
    assert out.state is JobState.DONE, out.error
    assert sum(backend.proxy.injected.values()) == 1
    assert server.get_object(Bucket=BUCKET, Key="lost/big.bin")["Body"].read() == big.read_bytes()
    assert server.list_multipart_uploads(Bucket=BUCKET, Prefix="lost/").get("Uploads", []) == []
