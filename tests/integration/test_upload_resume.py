"""Upload resume from parts (issue 19, item 1), on moto's server and SeaweedFS, with a counting
proxy in front: a kill -9 mid-upload then `queue resume` sends only the parts the server lacks
and leaves no upload open; a pause keeps the parts; a local file changed between attempts, or
an upload that vanished from the server, restarts cleanly; cancel and `queue clear` abort."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers import parts
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState, OverwritePolicy
from lakegui.core.transfers.ranges import kept_bytes
from lakegui.core.transfers.service import QueueService, ThreadExecutor
from lakegui.core.transfers.store import JobStore, NewJob
from tests.integration.test_cli_transfers import cli, row_of
from tests.integration.test_faults import write_settings
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
BUCKET = "resume-up"
PART = 5 * MB
SETTINGS = TransferSettings(multipart_threshold=PART, multipart_chunksize=PART)
ENGINES = ["awscrt", "s3transfer"]


@pytest.fixture(params=["moto", "seaweedfs"])
def server_url(request, moto_server_url, seaweedfs):  # both started before the test's thread check
    if request.param == "moto":
        return request.getfixturevalue("moto_endpoint")
    return seaweedfs.endpoint_url


def connection(url: str) -> Connection:
    return Connection(ConnectionProfile(name="t", endpoint_url=url, addressing_style="path"))


def fresh_bucket(url: str, name: str = BUCKET):
    s3 = connection(url).client()
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for u in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):  # SeaweedFS lives for the session
        s3.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
    return s3


def open_uploads(s3, bucket: str = BUCKET) -> list:
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_job(path, key: str, **kw) -> Job:
    return Job(id=kw.pop("id", 1), batch_id=1, direction=Direction.UPLOAD, bucket=BUCKET, key=key,
               local_path=str(path), size=path.stat().st_size, **kw)


def started_upload(s3, path, key: str, sent: dict[int, bytes]) -> Job:
    """A job as a killed run leaves it: its upload created and recorded, `sent` parts on the server."""
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    for number, body in sent.items():
        s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
    return upload_job(path, key, upload_id=upload_id, attempts=2,
                      resume=parts.resume_state("awscrt", PART, path.stat()))


@pytest.mark.parametrize("kind", ENGINES)
def test_continues_from_the_parts_the_server_has_and_resends_a_damaged_one(kind, moto_endpoint, tmp_path):
    s3 = fresh_bucket(moto_endpoint)
    data = os.urandom(6 * PART + 123)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    # Parts 1-3 as the local file has them; part 4 with other bytes (a different file's, say).
    sent = {n: data[(n - 1) * PART:n * PART] for n in (1, 2, 3)}
    sent[4] = os.urandom(PART)
    job = started_upload(s3, path, "k/f.bin", sent)
    ids, saved = [], []
    with FaultProxy(moto_endpoint) as proxy:
        engine = make_engine(connection(proxy.url), replace(SETTINGS, engine=kind))
        try:
            progress = Progress()
            out = engine.run(job, JobControl(), progress, on_upload_id=ids.append, on_resume=saved.append)
        finally:
            engine.close()
    assert out.state is JobState.DONE, out.error
    assert out.error == ""  # nothing to say: it simply continued
    # Parts 4-7 went again, 1-3 were kept (the proxy counts request bodies).
    assert len(data) - 3 * PART <= proxy.bytes_in < len(data) - 3 * PART + MB
    assert progress.done == len(data)
    assert sha(s3.get_object(Bucket=BUCKET, Key="k/f.bin")["Body"].read()) == sha(data)
    assert open_uploads(s3) == []
    assert saved[:-1] and all(kept_bytes(state) > 3 * PART for state in saved[:-1])  # the kept parts, and more
    assert ids == [""] and saved[-1] == {}  # completed: the queue forgets the upload


def test_a_file_changed_between_attempts_aborts_and_starts_again(seaweedfs, tmp_path):
    s3 = fresh_bucket(seaweedfs.endpoint_url)
    old = os.urandom(3 * PART)
    path = tmp_path / "f.bin"
    path.write_bytes(old)
    job = started_upload(s3, path, "k/changed.bin", {1: old[:PART], 2: old[PART:2 * PART]})
    stale = job.upload_id
    new = os.urandom(3 * PART + 7)
    path.write_bytes(new)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    engine = make_engine(connection(seaweedfs.endpoint_url), SETTINGS)
    try:
        out = engine.run(job, JobControl(), Progress())
    finally:
        engine.close()
    assert out.state is JobState.DONE, out.error
    assert "changed since its upload was interrupted" in out.error  # the job says why it started again
    assert sha(s3.get_object(Bucket=BUCKET, Key="k/changed.bin")["Body"].read()) == sha(new)
    assert stale not in {u["UploadId"] for u in open_uploads(s3)} and open_uploads(s3) == []


def test_an_upload_that_vanished_restarts_cleanly(server_url, tmp_path):
    s3 = fresh_bucket(server_url)
    data = os.urandom(2 * PART + 5)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    job = started_upload(s3, path, "k/gone.bin", {1: data[:PART]})
    s3.abort_multipart_upload(Bucket=BUCKET, Key="k/gone.bin", UploadId=job.upload_id)  # a lifecycle rule
    ids = []
    engine = make_engine(connection(server_url), SETTINGS)
    try:
        out = engine.run(job, JobControl(), Progress(), on_upload_id=ids.append)
    finally:
        engine.close()
    assert out.state is JobState.DONE, out.error
    assert "gone from the server" in out.error
    assert ids[0] == "" and ids[1] and ids[-1] == ""  # forgot the old id, recorded the new one, then done
    assert sha(s3.get_object(Bucket=BUCKET, Key="k/gone.bin")["Body"].read()) == sha(data)
    assert open_uploads(s3) == []


def run_service(tmp_path, url: str, paths, *, settings=SETTINGS) -> QueueService:
    service = QueueService(tmp_path / "q.sqlite3", settings, executor=ThreadExecutor(1), concurrency=1,
                           engine_options={"backoff": 0.01})
    profile = ConnectionProfile(name="t", endpoint_url=url, addressing_style="path").to_dict()
    service.enqueue("up", "upload", profile, [NewJob(Direction.UPLOAD, BUCKET, f"p/{p.name}", str(p),
                                                     size=p.stat().st_size, policy=OverwritePolicy.OVERWRITE)
                                              for p in paths])
    return service


def wait_for_end(service: QueueService, job_id: int, state: str, timeout: float = 60) -> None:
    def ended():
        service.collect_ends()
        service.flush()
        row = service.row(job_id)
        return row is not None and row.state == state
    wait_until(ended, timeout=timeout, what=f"job {job_id} {state}")


def server_parts(s3, key: str, upload_id: str) -> int:
    return len(s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id).get("Parts", []))


def test_pause_keeps_the_parts_resume_sends_the_rest_cancel_aborts(moto_endpoint, tmp_path):
    s3 = fresh_bucket(moto_endpoint)
    data = os.urandom(8 * PART)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(data)
    b.write_bytes(data[::-1])
    # 4 MB/s per connection, two parts in flight: a pause lands mid-upload.
    with FaultProxy(moto_endpoint, bandwidth=4 * MB) as proxy:
        service = run_service(tmp_path, proxy.url, [a, b], settings=replace(SETTINGS, max_concurrency=2))
        try:
            first, second = service.rows[0].job_id, service.rows[1].job_id
            service.pause([second])  # waits, so that only the first one's bytes are counted
            job = lambda: service.jobs(ids=[first])[0]  # noqa: E731
            wait_until(lambda: job().upload_id and server_parts(s3, "p/a.bin", job().upload_id) >= 3,
                       timeout=60, what="three parts on the server")
            service.pause([first])
            wait_for_end(service, first, "paused")
            paused = job()
            kept = server_parts(s3, "p/a.bin", paused.upload_id)
            assert paused.upload_id and paused.resume["part_size"] == PART and kept >= 3  # the parts stay
            assert paused.resume["size"] == len(data) and paused.resume["mtime_ns"] == a.stat().st_mtime_ns
            assert PART <= kept_bytes(paused.resume) <= kept * PART, (paused.resume, kept)  # recorded as sent
            sent_before = proxy.bytes_in
            service.resume([first])
            # The header does not fall back: the recorded parts count as done from the claim on.
            row = service.row(first)
            assert row.state == "running" and row.bytes_done >= PART, (row.state, row.bytes_done)
            wait_for_end(service, first, "done")
            # What the server kept was not sent again; the rest was, once.
            resent = proxy.bytes_in - sent_before
            assert len(data) - kept * PART <= resent <= len(data) - kept * PART + 64 * 1024, (resent, kept)
            assert kept < 8  # the pause came before the end
            assert service.jobs(ids=[first])[0].upload_id == ""  # completed and forgotten
            assert sha(s3.get_object(Bucket=BUCKET, Key="p/a.bin")["Body"].read()) == sha(data)
            # The second: paused with parts kept, then cancelled while paused, which aborts them.
            service.resume([second])
            wait_until(lambda: service.jobs(ids=[second])[0].upload_id and
                       server_parts(s3, "p/b.bin", service.jobs(ids=[second])[0].upload_id) >= 1,
                       timeout=60, what="a part of the second file")
            service.pause([second])
            wait_for_end(service, second, "paused")
            assert len(open_uploads(s3)) == 1
            service.cancel([second])
        finally:
            service.close()
    assert open_uploads(s3) == []
    store = JobStore(tmp_path / "q.sqlite3")
    try:
        cancelled = store.job(second)
        assert cancelled.state is JobState.CANCELLED and cancelled.upload_id == "" and cancelled.resume == {}
    finally:
        store.close()


def kill_9_at(proc: subprocess.Popen, condition, what: str, stderr) -> None:
    def reached():
        assert proc.poll() is None, f"the CLI ended (exit {proc.returncode}) before {what}: " \
                                    f"{stderr.read_text()[-2000:]}"
        return condition()

    try:
        wait_until(reached, timeout=120, what=what)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.slow
# Each engine once, on each server once (as the download side does): the four pairs took CI a minute.
@pytest.mark.parametrize("kind, server_url", [("awscrt", "seaweedfs"), ("s3transfer", "moto")],
                         indirect=["server_url"])
def test_kill_9_at_60_percent_then_queue_resume_sends_at_most_45_percent(kind, server_url, tmp_path):
    s3 = fresh_bucket(server_url)
    write_settings(multipart_threshold=PART, multipart_chunksize=PART, engine=kind)
    data = os.urandom(8 * PART)  # 40 MB in 5 MB parts
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    q = str(tmp_path / "q.sqlite3")
    # 1.5 MB/s per connection (4 parts in flight): the rest takes seconds, so the kill lands before
    # the end even on a loaded machine.
    with FaultProxy(server_url, bandwidth=3 * MB // 2) as proxy:
        with open(tmp_path / "first.err", "w") as err:  # SeaweedFS lives for the session: a key of its own
            proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", "upload", str(big),
                                     f"s3://{BUCKET}/{kind}/", "--endpoint-url", proxy.url, "--queue", q],
                                    stdout=subprocess.DEVNULL, stderr=err)

        def on_server() -> int:
            row = row_of(q, "SELECT upload_id FROM jobs WHERE upload_id != ''")
            if not row:
                return 0
            listed = s3.list_parts(Bucket=BUCKET, Key=f"{kind}/big.bin", UploadId=row[0]).get("Parts", [])
            return sum(p["Size"] for p in listed)

        kill_9_at(proc, lambda: on_server() >= 0.6 * len(data), "60% of the file on the server",
                  tmp_path / "first.err")
    # Parts the killed process had already written to its sockets reached the server as the proxy
    # drained them; a second proxy counts only what the resume sends.
    assert len(open_uploads(s3)) == 1  # the killed run's, kept for the resume
    with FaultProxy(server_url) as proxy:
        proc, doc = cli("queue", "resume", "--queue", q, "--endpoint-url", proxy.url, "--json", timeout=180)
        resent = proxy.bytes_in
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert doc["done"] == 1
    log = "".join(p.read_text() for p in (tmp_path / "lakegui" / "log").glob("*.log"))
    assert 0 < resent <= 0.45 * len(data), f"{resent:,} bytes sent again of {len(data):,}: {log[-6000:]}"
    assert open_uploads(s3) == []  # no orphan
    assert sha(s3.get_object(Bucket=BUCKET, Key=f"{kind}/big.bin")["Body"].read()) == sha(data)


def test_queue_clear_aborts_the_uploads_it_removes(moto_endpoint, tmp_path):
    s3 = fresh_bucket(moto_endpoint)
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(2 * PART))
    left = started_upload(s3, path, "k/left.bin", {1: path.read_bytes()[:PART]})
    store = JobStore(tmp_path / "q.sqlite3")
    try:
        profile = ConnectionProfile(name="t", endpoint_url=moto_endpoint, addressing_style="path").to_dict()
        batch = store.create_batch("b", "upload", profile)
        [job_id] = store.add_jobs(batch, [NewJob(Direction.UPLOAD, BUCKET, left.key, str(path), size=2 * PART,
                                                 state=JobState.PAUSED)])
        store.set_upload_id(job_id, left.upload_id)
        store.set_resume(job_id, left.resume)
    finally:
        store.close()
    proc, doc = cli("queue", "clear", "--queue", str(tmp_path / "q.sqlite3"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert doc == {"removed": 1}
    assert open_uploads(s3) == []


def test_on_aws_the_parts_checksums_are_named_again_when_completing(s3, tmp_path):
    # No endpoint: botocore adds a CRC32 to each part (moto in-process stands in for AWS).
    s3.create_bucket(Bucket=BUCKET)
    data = os.urandom(2 * PART + 1)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    job = started_upload(s3, path, "k/aws.bin", {1: data[:PART]})
    engine = make_engine(Connection(ConnectionProfile(name="aws", region="us-east-1")),
                         replace(SETTINGS, engine="s3transfer"))
    completes = []
    engine.client.meta.events.register("before-call.s3.CompleteMultipartUpload",
                                       lambda params, **kw: completes.append(params["body"]))
    try:
        out = engine.run(job, JobControl(), Progress())
    finally:
        engine.close()
    assert out.state is JobState.DONE, out.error
    # The two parts sent name their CRC32 (moto's list_parts states none for the kept part 1).
    assert len(completes) == 1 and completes[0].count(b"<ChecksumCRC32>") == 2
    assert sha(s3.get_object(Bucket=BUCKET, Key="k/aws.bin")["Body"].read()) == sha(data)
