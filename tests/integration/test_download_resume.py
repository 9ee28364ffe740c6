"""Download resume from ranges (issue 19, item 2): an interrupted large download keeps its
`.part` file and the ranges of it that are on disk; the next run fetches only the rest, with
If-Match on the ETag it began with, and starts again from zero when the object was replaced.

The fault proxy paces the bytes (so a kill or a pause lands mid-transfer) and counts what it
sends to the client, so each test can tell how much was fetched again."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState
from lakegui.core.transfers.localpaths import temp_path_for
from lakegui.core.transfers.ranges import kept_bytes, kept_spans
from lakegui.core.transfers.service import QueueService, ThreadExecutor
from lakegui.core.transfers.store import NewJob
from tests.integration.test_cli_transfers import cli, client, kill_9_when, row_of, start_cli
from tests.integration.test_faults import write_settings
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
SIZE = 40 * MB
UNPACED = 1 << 40  # bytes per second: what handlers still pacing a killed run's answers see next


def written(path) -> int:
    """Bytes actually written to a (sparse) temp file: its allocated blocks, not its length."""
    try:
        return os.stat(path).st_blocks * 512
    except OSError:
        return 0


def recorded(q: str) -> int:
    row = row_of(q, "SELECT resume FROM jobs")
    return kept_bytes(json.loads(row[0])) if row else 0


@pytest.mark.slow
@pytest.mark.parametrize("server,engine", [("seaweedfs", "awscrt"), ("moto_endpoint", "s3transfer")])
def test_kill_9_at_60_percent_then_queue_resume_fetches_only_the_rest(server, engine, seaweedfs, moto_endpoint,
                                                                      tmp_path):
    url = seaweedfs.endpoint_url if server == "seaweedfs" else moto_endpoint
    bucket = f"resume-{engine}-{os.getpid()}"
    s3 = client(url)
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="d/big.bin", Body=body)
    # Small parts, two at a time at 2 MB/s each: the file grows smoothly, 10 s in all.
    write_settings(multipart_threshold=5 * MB, multipart_chunksize=1 * MB, max_concurrency=2, engine=engine)
    q, out = str(tmp_path / "q.sqlite3"), tmp_path / "out"
    with FaultProxy(url, bandwidth=2 * MB) as proxy:
        proc = start_cli("download", f"s3://{bucket}/d/", str(out), "--endpoint-url", proxy.url, "--queue", q)
        kill_9_when(proc, lambda: written(out / ".big.bin.lakegui-1.part") >= 0.6 * SIZE, "60% written")
        kept = recorded(q)
        assert (out / ".big.bin.lakegui-1.part").exists() and not (out / "big.bin").exists()
        proxy.bandwidth = UNPACED
        before = proxy.settled()
        done, doc = cli("queue", "resume", "--queue", q, "--json", timeout=120)
        again = proxy.bytes_out - before
    assert done.returncode == 0 and doc["done"] == 1, done.stderr[-2000:]
    assert (out / "big.bin").read_bytes() == body  # exact, and verified (the ETag's MD5) by the run
    assert [p.name for p in out.iterdir()] == ["big.bin"]
    assert kept >= 0.5 * SIZE, f"only {kept / SIZE:.0%} was recorded when 60% was written"
    assert again <= SIZE - kept and again <= 0.45 * SIZE, f"fetched {again / SIZE:.0%} again"
    assert doc["kept"] == kept  # what the earlier run had, apart from this run's bytes (session 10's trial)


def queue_service(tmp_path, url: str, **settings) -> QueueService:
    s = QueueService(tmp_path / "q.sqlite3", TransferSettings(**{
        "multipart_threshold": 5 * MB, "multipart_chunksize": 5 * MB, "max_concurrency": 4, **settings}),
        executor=ThreadExecutor(1))
    s.load_rows()
    return s


def run_until(s: QueueService, state: str, job_id: int, timeout: float = 60) -> None:
    """Drive the service's loop (as the window's timers do) until the job reaches `state`."""
    def reached():
        s.collect_ends()
        s.flush()
        s.sample()
        return s.row(job_id).state == state
    wait_until(reached, timeout, f"the job {state}", interval=0.02)


@pytest.mark.slow
def test_pause_then_resume_keeps_the_part_file_and_the_header_agrees_with_the_row(seaweedfs, tmp_path):
    bucket = f"pause-{os.getpid()}"
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="p/big.bin", Body=body)
    target = tmp_path / "out" / "big.bin"
    with FaultProxy(seaweedfs.endpoint_url, bandwidth=2 * MB) as proxy:
        s = queue_service(tmp_path, proxy.url)
        try:
            profile = ConnectionProfile(name="sw", endpoint_url=proxy.url, bucket=bucket).to_dict()
            batch = s.enqueue("big", "download", profile, [NewJob(Direction.DOWNLOAD, bucket, "p/big.bin",
                                                                  str(target), size=SIZE)])
            job_id = s.batch_rows(batch)[0].job_id
            # complete ranges, recorded: bytes of parts still arriving are not kept by a pause
            wait_until(lambda: (s.collect_ends(), s.sample(),
                                kept_bytes(s.jobs(ids=[job_id])[0].resume) >= 0.3 * SIZE or
                                s.row(job_id).state != "running")[-1], 60, "30% recorded")
            assert s.row(job_id).state == "running", s.row(job_id)
            s.pause([job_id])
            run_until(s, "paused", job_id)
            temp = temp_path_for(target, job_id)
            kept, totals = s.row(job_id).bytes_done, s.totals()
            assert temp.exists() and kept >= 0.3 * SIZE
            # The complaint: the header fell while the row kept its percentage.
            assert totals.bytes_done == kept
            proxy.bandwidth = UNPACED
            before = proxy.settled()
            started = time.monotonic()
            s.resume([job_id])
            assert s.totals().bytes_done == s.row(job_id).bytes_done == kept  # still done as it runs again
            run_until(s, "done", job_id)
            again = proxy.bytes_out - before
        finally:
            s.close()
    assert target.read_bytes() == body and not temp.exists()
    assert again <= SIZE - kept, f"fetched {again:,} bytes again, {kept:,} were kept"
    assert time.monotonic() - started < 60


def test_an_object_replaced_between_attempts_is_fetched_again_from_the_start(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="replaced")
    old, new = os.urandom(12 * MB), os.urandom(12 * MB)
    s3.put_object(Bucket="replaced", Key="r/big.bin", Body=old)
    target = tmp_path / "out" / "big.bin"
    settings = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=4)
    with FaultProxy(moto_endpoint, bandwidth=1 * MB) as proxy:
        conn = Connection(ConnectionProfile(name="t", endpoint_url=proxy.url, addressing_style="path"))
        engine = make_engine(conn, settings)
        try:
            job = Job(7, 1, Direction.DOWNLOAD, "replaced", "r/big.bin", str(target), size=12 * MB)
            control, first = JobControl(), {}
            t = threading.Thread(target=lambda: first.update(out=engine.run(job, control, Progress())))
            t.start()
            wait_until(lambda: kept_bytes(job.resume) > 0 or not t.is_alive(), 30, "a range recorded")
            control.stop(JobState.PAUSED)
            t.join(30)
            assert first["out"].state is JobState.PAUSED and kept_bytes(job.resume) > 0
            s3.put_object(Bucket="replaced", Key="r/big.bin", Body=new)  # same size, other bytes
            proxy.bandwidth, before = UNPACED, proxy.bytes_out
            out = engine.run(job, JobControl(), Progress())
            again = proxy.bytes_out - before
        finally:
            engine.close()
            for purpose in ("interactive", "transfer"):
                conn.client(purpose).close()
    assert out.state is JobState.DONE, out.error
    assert "changed since its download was interrupted" in out.error  # the job says so
    assert target.read_bytes() == new and again >= len(new)
    assert job.resume == {}


def test_a_resume_in_the_same_process_hashes_only_what_the_paused_run_had_not(moto_endpoint, tmp_path, monkeypatch):
    from lakegui.core.transfers import verify

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="rehash")
    body = os.urandom(12 * MB)
    s3.put_object(Bucket="rehash", Key="h/big.bin", Body=body)
    starts = []
    real = verify.Follower.__init__
    monkeypatch.setattr(verify.Follower, "__init__",
                        lambda self, path, available, start=0, digest=None:
                        starts.append(start) or real(self, path, available, start, digest))
    target = tmp_path / "out" / "big.bin"
    settings = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=1)  # parts in order
    with FaultProxy(moto_endpoint, bandwidth=1 * MB) as proxy:
        conn = Connection(ConnectionProfile(name="t", endpoint_url=proxy.url, addressing_style="path"))
        engine = make_engine(conn, settings)
        try:
            job = Job(8, 1, Direction.DOWNLOAD, "rehash", "h/big.bin", str(target), size=len(body))
            control, first = JobControl(), {}
            t = threading.Thread(target=lambda: first.update(out=engine.run(job, control, Progress())))
            t.start()
            # the parts arrive in any order: wait for the first, which the digest goes on from
            wait_until(lambda: any(s == 0 for s, _ in kept_spans(job.resume or {})) or not t.is_alive(), 30,
                       "the first range recorded")
            control.stop(JobState.PAUSED)
            t.join(30)
            proxy.bandwidth = UNPACED
            out = engine.run(job, JobControl(), Progress())
        finally:
            engine.close()
            for purpose in ("interactive", "transfer"):
                conn.client(purpose).close()
    assert first["out"].state is JobState.PAUSED and out.state is JobState.DONE, out.error
    assert target.read_bytes() == body  # and verified: the MD5 went on from the paused run's state
    assert starts[0] == 0 and starts[1] > 0, starts


def test_cancel_or_clear_of_a_stopped_download_removes_the_part_file_it_kept(tmp_path):
    s = QueueService(tmp_path / "q.sqlite3", TransferSettings(), executor=ThreadExecutor(1))
    try:
        batch, _ = s.add_batch("b", "download", {}, [
            NewJob(Direction.DOWNLOAD, "bkt", f"k/{n}.bin", str(tmp_path / f"{n}.bin"), size=10, state=state)
            for n, state in (("paused", JobState.PAUSED), ("failed", JobState.FAILED), ("other", JobState.PAUSED))])
        temps = {}
        for job in s.jobs(batch_id=batch):
            temps[job.key] = temp = temp_path_for(job.local_path, job.id)
            temp.write_bytes(b"x" * 10)
            s._store.set_resume(job.id, {"etag": "e", "size": 10, "ranges": [[0, 6]]})
        temps["k/other.bin"].unlink()
        temps["k/other.bin"].symlink_to(tmp_path / "not-ours")  # planted: never followed nor removed
        s.load_rows()
        paused = [r.job_id for r in s.rows if r.name == "paused.bin"]
        s.cancel(paused)
        assert not temps["k/paused.bin"].exists() and temps["k/failed.bin"].exists()
        assert s.jobs(batch_id=batch)[0].resume == {}
        s.clear(batch_id=batch)
        assert not temps["k/failed.bin"].exists() and temps["k/other.bin"].is_symlink()
    finally:
        s.close()


def test_bytes_written_but_not_synced_are_kept_only_while_the_machine_has_not_restarted(monkeypatch):
    from lakegui.core.transfers import ranges

    monkeypatch.setattr(ranges, "boot_id", lambda: "boot-1")
    record = {"etag": "e", "size": 100, "ranges": [[0, 40]], "written": [[0, 70]], "boot": "boot-1"}
    assert ranges.kept_bytes(record) == 70  # a killed process: the kernel still has its writes
    monkeypatch.setattr(ranges, "boot_id", lambda: "boot-2")
    assert ranges.kept_bytes(record) == 40  # after a reboot only what was synced
    monkeypatch.setattr(ranges, "boot_id", lambda: "")
    assert ranges.kept_bytes(record) == 40  # a system that names no boot: synced only
