"""Every download verified (issue 19, item 3), on both engines against moto's server behind the
fault proxy: a full-object checksum where the object has one, else its MD5 ETag, else its
multipart ETag rebuilt with its part size; a body the proxy corrupts is caught and fetched again."""

from __future__ import annotations

import os

import pytest

from lakegui.core.settings import MB
from lakegui.core.transfers import verify
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, JobState
from lakegui.core.transfers.localpaths import temp_path_for
from tests.core.test_engine import BUCKET, ENGINES, Backend, job

pytestmark = pytest.mark.integration


@pytest.fixture(params=ENGINES)
def backend(request, moto_endpoint):
    with Backend.proxied(request.param, moto_endpoint) as b:
        yield b


@pytest.fixture
def checks(monkeypatch):
    """The expectations downloads were checked against."""
    seen: list[verify.Expected] = []
    original = verify.Follower.expect

    def expect(self, exp):
        if self._digest is None:
            seen.append(exp)
        original(self, exp)

    monkeypatch.setattr(verify.Follower, "expect", expect)
    return seen


def download(engine, key, tmp_path, size, **kw):
    target = tmp_path / key.replace("/", "_")
    out = engine.run(job(Direction.DOWNLOAD, key, target, size=size, **kw), JobControl(), Progress())
    return out, target


@pytest.mark.parametrize("algorithm", ["SHA256", "CRC32"])
def test_full_object_checksum_small_and_big(backend, checks, tmp_path, algorithm):
    engine = backend.engine()
    bodies = {"v/small.bin": os.urandom(1000), "v/big.bin": os.urandom(12 * MB + 3)}
    for key, body in bodies.items():
        backend.server.put_object(Bucket=BUCKET, Key=key, Body=body, ChecksumAlgorithm=algorithm)
        out, target = download(engine, key, tmp_path, len(body))
        assert out.state is JobState.DONE, out.error
        assert out.error == ""  # not "checked by size only"
        assert target.read_bytes() == body
    assert [(c.kind, c.algorithm) for c in checks] == [("checksum", algorithm)] * 2


def test_single_part_md5_etag(backend, checks, tmp_path):
    engine = backend.engine()
    body = os.urandom(12 * MB)  # one PUT, bigger than the part size: its ETag is its MD5
    backend.server.put_object(Bucket=BUCKET, Key="v/one.bin", Body=body)
    out, target = download(engine, "v/one.bin", tmp_path, len(body))
    assert out.state is JobState.DONE and out.error == "", out.error
    assert out.attempts == 1
    assert [c.kind for c in checks] == ["md5"]
    assert target.read_bytes() == body


def test_multipart_etag_rebuilt_with_the_objects_part_size(backend, checks, tmp_path):
    engine = backend.engine()
    s = backend.server
    parts = [os.urandom(6 * MB), os.urandom(6 * MB), os.urandom(1234)]  # not the engine's 5 MB
    upload = s.create_multipart_upload(Bucket=BUCKET, Key="v/multi.bin")["UploadId"]
    done = [{"PartNumber": n, "ETag": s.upload_part(Bucket=BUCKET, Key="v/multi.bin", UploadId=upload,
                                                    PartNumber=n, Body=p)["ETag"]}
            for n, p in enumerate(parts, 1)]
    s.complete_multipart_upload(Bucket=BUCKET, Key="v/multi.bin", UploadId=upload,
                                MultipartUpload={"Parts": done})
    out, target = download(engine, "v/multi.bin", tmp_path, sum(map(len, parts)))
    assert out.state is JobState.DONE and out.error == "", out.error
    assert [(c.kind, c.part_size) for c in checks] == [("multipart", 6 * MB)]
    assert target.read_bytes() == b"".join(parts)


@pytest.mark.parametrize("size", [1000, 12 * MB])
def test_a_corrupted_body_is_caught_and_fetched_again(backend, tmp_path, size):
    engine = backend.engine()
    body = os.urandom(size)
    backend.server.put_object(Bucket=BUCKET, Key="v/c.bin", Body=body)
    backend.fail("corrupt", 1, method="GET", under="v/")
    out, target = download(engine, "v/c.bin", tmp_path, size)
    assert backend.proxy.injected["corrupt"] == 1
    assert out.state is JobState.DONE and out.attempts == 2, out.error
    assert target.read_bytes() == body


def test_a_mismatch_fails_the_attempt_and_leaves_no_temp_file(backend, tmp_path):
    engine = backend.engine(max_attempts=1)
    body = os.urandom(12 * MB)
    backend.server.put_object(Bucket=BUCKET, Key="v/bad.bin", Body=body)
    backend.fail("corrupt", 1, method="GET", under="v/")
    out, target = download(engine, "v/bad.bin", tmp_path, len(body))
    assert out.state is JobState.FAILED
    assert "Verification failed" in out.error
    assert not target.exists() and not temp_path_for(target, 1).exists()
