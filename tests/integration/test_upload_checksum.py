"""Full-object CRCs on multipart uploads (issue 19): parts.py sends each part with its CRC64NVME
and creates the upload with ChecksumType FULL_OBJECT, so the server states the whole object's
CRC and a later download is checked by it in C rather than by MD5-hashing every byte against the
multipart ETag. A resumed upload's kept parts count in that CRC too; a server refusing checksum
arguments gets the Content-MD5 upload of before, without a failed attempt."""

from __future__ import annotations

import base64
import os
from dataclasses import replace

import pytest
from awscrt import checksums

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.settings import MB
from lakegui.core.transfers import parts, verify
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, JobState
from tests.core.test_engine import BUCKET, ENGINES, SMALL, Backend, job, run_in_thread
from tests.integration.test_verify import checks  # noqa: F401 (a fixture)
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
PART = 5 * MB


def crc64(data: bytes) -> str:
    return base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode()


@pytest.fixture(params=ENGINES)
def backend(request, moto_endpoint):
    with Backend.proxied(request.param, moto_endpoint) as b:
        yield b


def drop_bucket(s3) -> None:
    """SeaweedFS lives for the session: Backend creates its bucket, so none may be left."""
    try:
        for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=o["Key"])
        s3.delete_bucket(Bucket=BUCKET)
    except s3.exceptions.NoSuchBucket:
        pass


@pytest.fixture
def seaweed_backend(seaweedfs):
    s3 = seaweedfs.client()
    drop_bucket(s3)
    with FaultProxy(seaweedfs.endpoint_url) as proxy:
        b = Backend("awscrt", proxy, seaweedfs.endpoint_url)
        try:
            yield b
        finally:
            b.close()
    drop_bucket(s3)
    s3.close()


def stored(backend, key: str) -> tuple[str, str]:
    head = backend.server.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    return head.get("ChecksumCRC64NVME", ""), head.get("ChecksumType", "")


def upload(engine, path, key, **kw):
    return engine.run(job(Direction.UPLOAD, key, path, size=path.stat().st_size, **kw), JobControl(), Progress())


def up_then_down(backend, checks, tmp_path, key):  # noqa: F811
    engine = backend.engine()
    data = os.urandom(2 * PART + 2 * MB + 7)  # three parts, the last one short
    path = tmp_path / "up.bin"
    path.write_bytes(data)
    out = upload(engine, path, key)
    assert out.state is JobState.DONE, out.error
    assert out.etag.endswith("-3")  # a multipart upload, yet with a whole-object CRC
    assert stored(backend, key) == (crc64(data), "FULL_OBJECT")
    target = tmp_path / "down.bin"
    out = engine.run(job(Direction.DOWNLOAD, key, target, size=len(data), id=2), JobControl(), Progress())
    assert out.state is JobState.DONE and out.error == "", out.error
    assert [(c.kind, c.algorithm) for c in checks] == [("checksum", "CRC64NVME")]  # not the multipart ETag
    assert target.read_bytes() == data


def test_a_multipart_upload_stores_a_full_object_crc_its_download_checks(backend, checks, tmp_path):  # noqa: F811
    up_then_down(backend, checks, tmp_path, "c/moto.bin")


def test_seaweedfs_stores_and_states_the_full_object_crc(seaweed_backend, checks, tmp_path):  # noqa: F811
    up_then_down(seaweed_backend, checks, tmp_path, "c/seaweed.bin")


def test_a_corrupted_download_of_it_is_caught_by_the_crc_and_fetched_again(backend, checks, tmp_path):  # noqa: F811
    engine = backend.engine()
    data = os.urandom(2 * PART + 11)
    path = tmp_path / "up.bin"
    path.write_bytes(data)
    assert upload(engine, path, "c/bad.bin").state is JobState.DONE
    backend.fail("corrupt", 1, method="GET", under="c/")
    target = tmp_path / "down.bin"
    out = engine.run(job(Direction.DOWNLOAD, "c/bad.bin", target, size=len(data), id=2), JobControl(), Progress())
    assert backend.proxy.injected["corrupt"] == 1
    assert out.state is JobState.DONE and out.attempts == 2, out.error
    assert {(c.kind, c.algorithm) for c in checks} == {("checksum", "CRC64NVME")}
    assert target.read_bytes() == data


@pytest.fixture
def paced(moto_endpoint):
    """s3transfer's engine, one part at a time, behind a proxy that sends a 5 MB part in 0.3 s."""
    with FaultProxy(moto_endpoint, bandwidth=16 * MB) as proxy:
        b = Backend("s3transfer", proxy, moto_endpoint)
        try:
            yield b, b.engine(replace(SMALL, max_concurrency=1))
        finally:
            b.close()


def test_a_paused_upload_resumes_with_its_kept_parts_in_the_crc(paced, tmp_path):
    b, engine = paced
    data = os.urandom(3 * PART + 3)
    path = tmp_path / "up.bin"
    path.write_bytes(data)
    j = job(Direction.UPLOAD, "c/paused.bin", path, size=len(data))
    control = JobControl()
    thread, result = run_in_thread(engine, j, control, Progress())
    listed = lambda: b.server.list_parts(Bucket=BUCKET, Key=j.key, UploadId=j.upload_id).get("Parts", [])  # noqa: E731
    try:
        wait_until(lambda: j.upload_id and len(listed()) >= 1, timeout=30, what="a part on the server", interval=0.1)
    finally:
        control.stop(JobState.PAUSED)
        thread.join(30)
    assert result["out"].state is JobState.PAUSED, result["out"].error
    assert j.upload_id and j.resume["checksum"] == "CRC64NVME"
    kept = len(listed())
    assert 1 <= kept < 4
    b.proxy.bandwidth, sent_before = 0, b.proxy.bytes_in
    out = engine.run(j, JobControl(), Progress())
    assert out.state is JobState.DONE, out.error
    assert b.proxy.bytes_in - sent_before <= len(data) - kept * PART + 64 * 1024  # the kept parts stayed
    assert stored(b, j.key) == (crc64(data), "FULL_OBJECT")  # the kept parts' CRCs combined in
    assert b.server.get_object(Bucket=BUCKET, Key=j.key)["Body"].read() == data


@pytest.mark.parametrize("method", ["POST", "PUT"])  # refused at CreateMultipartUpload, or on each part
def test_a_server_refusing_checksums_gets_the_md5_upload_without_a_failed_attempt(backend, tmp_path, method):
    engine = backend.engine()
    backend.proxy.faults, backend.proxy.rate, backend.proxy.limit = ("checksum",), 1.0, None
    backend.proxy.when = lambda m, path: m == method and path.startswith(f"/{BUCKET}/")
    data = os.urandom(2 * PART + 5)
    path = tmp_path / "up.bin"
    path.write_bytes(data)
    out = upload(engine, path, "c/plain.bin")
    assert backend.proxy.injected["checksum"] >= 1
    assert out.state is JobState.DONE and out.attempts == 1, out.error
    assert backend.server.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []  # the refused one aborted
    assert stored(backend, "c/plain.bin")[0] == ""  # no CRC: its downloads check the multipart ETag
    assert backend.server.get_object(Bucket=BUCKET, Key="c/plain.bin")["Body"].read() == data
    refusals = backend.proxy.injected["checksum"]
    again = upload(engine, path, "c/plain2.bin", id=2)  # the engine remembers: no refusal this time
    assert again.state is JobState.DONE and backend.proxy.injected["checksum"] == refusals


def test_a_server_whose_stored_crc_differs_fails_the_attempt(backend, tmp_path, monkeypatch):
    engine = backend.engine()
    real = parts.PartsUpload.stored_checksum
    answers = iter(["AAAAAAAAAAA="])  # damaged once, then the server's real answer
    monkeypatch.setattr(parts.PartsUpload, "stored_checksum",
                        lambda self, resp, version="": next(answers, None) or real(self, resp, version))
    data = os.urandom(PART + 1)
    path = tmp_path / "up.bin"
    path.write_bytes(data)
    out = upload(engine, path, "c/differs.bin")
    assert out.state is JobState.DONE and out.attempts == 2, out.error
    assert stored(backend, "c/differs.bin") == (crc64(data), "FULL_OBJECT")


def test_created_with_trusts_only_an_echoed_full_object_checksum():
    assert parts.created_with({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "FULL_OBJECT"}, "CRC64NVME")
    assert parts.created_with({"UploadId": "u"}, "CRC64NVME") == ""  # ignored: Content-MD5 parts
    assert parts.created_with({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"}, "CRC64NVME") == ""
    assert verify.from_headers({"etag": '"%s-3"' % ("a" * 32), "x-amz-checksum-crc64nvme": "V15Z2ExdL/0=",
                                "x-amz-checksum-type": "FULL_OBJECT"}).kind == "checksum"


def test_a_composite_crc_is_checked_part_by_part(seaweed_backend, checks, tmp_path):  # noqa: F811
    # Another tool's upload: CRC32 parts of 6 MB, completed as COMPOSITE ("CRC of the CRCs"-3),
    # which SeaweedFS states with its -N suffix as S3 does (moto's has none, so it is not used).
    b, key = seaweed_backend, "c/composite.bin"
    chunks = [os.urandom(6 * MB), os.urandom(6 * MB), os.urandom(1000)]
    upload_id = b.server.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32",
                                                 ChecksumType="COMPOSITE")["UploadId"]
    done = []
    for n, chunk in enumerate(chunks, 1):
        crc = base64.b64encode(checksums.crc32(chunk).to_bytes(4, "big")).decode()
        r = b.server.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=n, Body=chunk,
                                 ChecksumCRC32=crc)
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": crc})
    b.server.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    target = tmp_path / "down.bin"
    out = b.engine().run(job(Direction.DOWNLOAD, key, target, size=12 * MB + 1000), JobControl(), Progress())
    assert out.state is JobState.DONE and out.error == "", out.error
    assert [(c.kind, c.algorithm, c.part_size) for c in checks] == [("composite", "CRC32", 6 * MB)]
    assert target.read_bytes() == b"".join(chunks)
    digest = verify.Digest(checks[0])
    digest.update(b"".join(chunks)[:-1] + b"x")  # one byte off gives another value
    assert digest.result() != checks[0].value


def test_on_aws_botocore_adds_no_checksum_of_its_own_to_the_crc_parts(s3, tmp_path):
    # No endpoint: botocore's checksums are on (when_supported); moto in-process stands in for AWS.
    s3.create_bucket(Bucket=BUCKET)
    data = os.urandom(2 * PART + 1)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    engine = make_engine(Connection(ConnectionProfile(name="aws", region="us-east-1")),
                         replace(SMALL, engine="s3transfer"))
    sent = []
    engine.client.meta.events.register("before-send.s3.UploadPart", lambda request, **kw: sent.append(
        sorted(k.lower() for k in request.headers if k.lower().startswith(("x-amz-checksum", "content-md5")))))
    try:
        out = upload(engine, path, "k/aws.bin")
    finally:
        engine.close()
    assert out.state is JobState.DONE, out.error
    assert sent == [["x-amz-checksum-crc64nvme"]] * 3
    head = s3.head_object(Bucket=BUCKET, Key="k/aws.bin", ChecksumMode="ENABLED")
    assert (head.get("ChecksumCRC64NVME"), head.get("ChecksumType")) == (crc64(data), "FULL_OBJECT")
