"""The awscrt backend against real HTTP endpoints (moto's server, SeaweedFS)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from lakegui.core.connection import Connection, ConnectionProfile, StaticCredentials
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import PENDING_UPLOAD, JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState
from tests.core.test_listing import WEIRD
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
pytest.importorskip("awscrt")
BUCKET = "crt-engine"
SETTINGS = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)


def connection(url, **creds) -> Connection:
    profile = ConnectionProfile(name="t", endpoint_url=url, bucket=BUCKET, addressing_style="path")
    return Connection(profile, credentials=StaticCredentials(**creds) if creds else None)


@pytest.fixture
def moto_conn(moto_endpoint):
    conn = connection(moto_endpoint)
    conn.client().create_bucket(Bucket=BUCKET)
    return conn


@pytest.fixture
def engine(moto_conn):
    e = make_engine(moto_conn, SETTINGS, backoff=0.01)
    assert e.name == "awscrt"
    yield e
    e.close()


def job(direction, key, local, size=0, **kw) -> Job:
    return Job(id=kw.pop("id", 1), batch_id=1, direction=direction, bucket=BUCKET, key=key, local_path=str(local),
               size=size, **kw)


def test_bandwidth_limit_or_no_tls_verify_choose_s3transfer(moto_conn):
    e = make_engine(moto_conn, TransferSettings(max_bandwidth=MB))
    try:
        assert e.name == "s3transfer"
    finally:
        e.close()


def test_upload_and_download_small_and_multipart(engine, moto_conn, tmp_path):
    small, big = tmp_path / "t.parquet", tmp_path / "big.bin"
    small.write_bytes(b"q" * 777)
    big.write_bytes(os.urandom(12 * MB + 5))
    marks = []
    for i, (path, key) in enumerate(((small, "u/t.parquet"), (big, "u/big.bin")), 1):
        progress = Progress()
        out = engine.run(job(Direction.UPLOAD, key, path, id=i, metadata={"symbol": "MSFT", "data-type": "x"}),
                         JobControl(), progress, on_upload_id=marks.append)
        assert out.state is JobState.DONE, out.error
        assert progress.done == progress.total == path.stat().st_size
        assert out.etag  # verified against the local file
    s3 = moto_conn.client()
    head = s3.head_object(Bucket=BUCKET, Key="u/t.parquet")
    assert head["ContentType"] == "application/vnd.apache.parquet"
    assert head["Metadata"] == {"symbol": "MSFT", "data-type": "x"}
    assert s3.head_object(Bucket=BUCKET, Key="u/big.bin")["ETag"].strip('"').endswith("-3")
    assert len(marks) == 1 and marks[0].startswith(PENDING_UPLOAD)  # only the multipart one
    target = tmp_path / "d" / "big.bin"
    out = engine.run(job(Direction.DOWNLOAD, "u/big.bin", target, big.stat().st_size, id=7), JobControl(), Progress())
    assert out.state is JobState.DONE and target.read_bytes() == big.read_bytes()
    assert os.listdir(target.parent) == ["big.bin"]


def test_weird_keys_round_trip_exactly(engine, moto_conn, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("same bytes")
    for i, key in enumerate(WEIRD):
        out = engine.run(job(Direction.UPLOAD, key, src, id=i), JobControl(), Progress())
        assert out.state is JobState.DONE, (key, out.error)
    listed = {o["Key"] for o in moto_conn.client().list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert listed == set(WEIRD)


def test_missing_bucket_and_key_fail_fast(engine, moto_conn, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("x")
    started = time.monotonic()
    out = engine.run(Job(1, 1, Direction.UPLOAD, "no-such-bucket-crt", "k", str(src)), JobControl(), Progress())
    assert out.state is JobState.FAILED and out.permanent and "does not exist" in out.error
    out = engine.run(job(Direction.DOWNLOAD, "nope/missing.bin", tmp_path / "m.bin", 5), JobControl(), Progress())
    assert out.state is JobState.FAILED and out.permanent and "not found" in out.error
    assert not list(tmp_path.glob(".m.bin*"))  # the CRT's partial file is removed
    assert time.monotonic() - started < 5


def test_cancel_multipart_upload_leaves_no_orphan(engine, moto_conn, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:  # large enough that the cancel lands mid-upload
        f.write(os.urandom(MB) * 400)
    control, progress, result = JobControl(), Progress(), {}
    t = threading.Thread(target=lambda: result.update(out=engine.run(
        job(Direction.UPLOAD, "c/big.bin", big), control, progress)))
    t.start()
    try:
        wait_until(lambda: progress.done > 0 or not t.is_alive(), 20, "the first part sent", interval=0.002)
        assert 0 < progress.done < progress.total
        asked = time.monotonic()
        control.stop(JobState.CANCELLED)
        t.join(10)
        assert time.monotonic() - asked < 2.0
    finally:
        t.join()
    assert result["out"].state is JobState.CANCELLED
    # Aborted by the time run() returns, even when the cancel beat the CRT to its upload id.
    assert moto_conn.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_crash_marker_aborts_only_this_keys_recent_uploads(seaweedfs, tmp_path):
    # SeaweedFS, since moto reports a fixed 2010 start time for every upload.
    conn = connection(seaweedfs.endpoint_url, access_key=seaweedfs.access_key, secret_key=seaweedfs.secret_key)
    s3 = conn.client()
    s3.create_bucket(Bucket="crt-crash")
    mine = s3.create_multipart_upload(Bucket="crt-crash", Key="k/a.bin")["UploadId"]
    other = s3.create_multipart_upload(Bucket="crt-crash", Key="k/a.bin.other")["UploadId"]
    src = tmp_path / "a.bin"
    src.write_bytes(b"abc")
    engine = make_engine(conn, SETTINGS)
    try:
        out = engine.run(Job(1, 1, Direction.UPLOAD, "crt-crash", "k/a.bin", str(src),
                             upload_id=f"{PENDING_UPLOAD}{time.time() - 5:.0f}"), JobControl(), Progress())
    finally:
        engine.close()
    assert out.state is JobState.DONE
    left = {u["UploadId"] for u in s3.list_multipart_uploads(Bucket="crt-crash").get("Uploads", [])}
    assert mine not in left and other in left


def test_seaweedfs_multipart_and_weird_keys(seaweedfs, tmp_path):
    conn = connection(seaweedfs.endpoint_url, access_key=seaweedfs.access_key, secret_key=seaweedfs.secret_key)
    s3 = conn.client()
    s3.create_bucket(Bucket=BUCKET)
    engine = make_engine(conn, SETTINGS)
    try:
        assert engine.name == "awscrt"
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(11 * MB))
        out = engine.run(job(Direction.UPLOAD, "sw/ünï côde+%.bin", big), JobControl(), Progress())
        assert out.state is JobState.DONE and out.etag.endswith("-3"), out.error
        target = tmp_path / "back.bin"
        out = engine.run(job(Direction.DOWNLOAD, "sw/ünï côde+%.bin", target, 11 * MB, id=2), JobControl(), Progress())
        assert out.state is JobState.DONE and target.read_bytes() == big.read_bytes()
        bad = connection(seaweedfs.endpoint_url, access_key=seaweedfs.access_key, secret_key="wrong")
        bad_engine = make_engine(bad, SETTINGS)
        try:
            out = bad_engine.run(job(Direction.UPLOAD, "sw/x", big), JobControl(), Progress())
            assert out.state is JobState.FAILED and out.permanent and "credentials" in out.error
        finally:
            bad_engine.close()
    finally:
        engine.close()
