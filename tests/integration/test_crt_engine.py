"""The engines against SeaweedFS, a real server that is not moto. The engine tests both backends
share are in tests/core/test_engine.py; the crash marker is the CRT's alone (s3transfer reports
real upload ids)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from lakegui.core.connection import Connection, ConnectionProfile, StaticCredentials
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import PENDING_UPLOAD, JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState

pytestmark = pytest.mark.integration
pytest.importorskip("awscrt")
BUCKET = "crt-engine"
SETTINGS = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)


def connection(url, **creds) -> Connection:
    profile = ConnectionProfile(name="t", endpoint_url=url, bucket=BUCKET, addressing_style="path")
    return Connection(profile, credentials=StaticCredentials(**creds) if creds else None)


def job(direction, key, local, size=0, **kw) -> Job:
    return Job(id=kw.pop("id", 1), batch_id=1, direction=direction, bucket=kw.pop("bucket", BUCKET), key=key,
               local_path=str(local), size=size, **kw)


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


@pytest.mark.parametrize("kind", ["awscrt", "s3transfer"])
def test_seaweedfs_multipart_and_weird_keys(seaweedfs, tmp_path, kind):
    conn = connection(seaweedfs.endpoint_url, access_key=seaweedfs.access_key, secret_key=seaweedfs.secret_key)
    s3 = conn.client()
    bucket = f"{BUCKET}-{kind}"
    s3.create_bucket(Bucket=bucket)
    settings = replace(SETTINGS, engine=kind)
    engine = make_engine(conn, settings)
    try:
        assert engine.name == kind
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(11 * MB))
        out = engine.run(job(Direction.UPLOAD, "sw/ünï côde+%.bin", big, bucket=bucket), JobControl(), Progress())
        assert out.state is JobState.DONE and out.etag.endswith("-3"), out.error
        target = tmp_path / "back.bin"
        out = engine.run(job(Direction.DOWNLOAD, "sw/ünï côde+%.bin", target, 11 * MB, id=2, bucket=bucket),
                         JobControl(), Progress())
        assert out.state is JobState.DONE and target.read_bytes() == big.read_bytes()
        bad = connection(seaweedfs.endpoint_url, access_key=seaweedfs.access_key, secret_key="wrong")
        bad_engine = make_engine(bad, settings)
        try:
            out = bad_engine.run(job(Direction.UPLOAD, "sw/x", big, bucket=bucket), JobControl(), Progress())
            assert out.state is JobState.FAILED and out.permanent and "credentials" in out.error
        finally:
            bad_engine.close()
    finally:
        engine.close()
