"""The CLI's fixed cost on a big download (issue 19, item 4): the native engine verifies a
download with HEADs of its own client, signs with the environment's keys, and so loads neither
boto3 nor botocore's session, client or parsers (0.3-0.4 s of CPU at start-up, measured with
bench/cli_timeline.py); the collector's last walk is skipped at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from lakegui.core.connection import Connection
from lakegui.core.errors import classify
from lakegui.core.settings import MB
from lakegui.core.transfers import verify
from lakegui.core.transfers.crt_engine import _NativeHeads
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, JobState
from tests.core.test_engine import BUCKET, Backend, job

pytestmark = pytest.mark.integration


@pytest.fixture
def backend(moto_endpoint):
    with Backend.proxied("awscrt", moto_endpoint) as b:
        yield b


def _multipart(s, key: str, parts: list[bytes]) -> None:
    upload = s.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    done = [{"PartNumber": n, "ETag": s.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=n,
                                                    Body=p)["ETag"]} for n, p in enumerate(parts, 1)]
    s.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": done})


def test_a_verified_big_download_builds_no_botocore_client(backend, tmp_path, monkeypatch):
    engine = backend.engine()
    s = backend.server
    body = os.urandom(12 * MB)
    s.put_object(Bucket=BUCKET, Key="f/crc.bin", Body=body, ChecksumAlgorithm="CRC32")
    parts = [os.urandom(6 * MB), os.urandom(6 * MB), os.urandom(1234)]
    _multipart(s, "f/multi.bin", parts)
    seen = []
    original = verify.Follower.expect
    monkeypatch.setattr(verify.Follower, "expect", lambda self, exp: (seen.append(exp), original(self, exp)))

    def no_client(self, purpose="interactive"):
        raise AssertionError(f"a botocore client ({purpose}) was built")

    with monkeypatch.context() as m:  # until the test's end: the fixture closes the clients it built
        m.setattr(Connection, "client", no_client)
        for key, want in (("f/crc.bin", body), ("f/multi.bin", b"".join(parts))):
            target = tmp_path / key.replace("/", "_")
            out = engine.run(job(Direction.DOWNLOAD, key, target, size=len(want)), JobControl(), Progress())
            assert out.state is JobState.DONE and out.error == "", out.error  # not "checked by size only"
            assert target.read_bytes() == want
    assert [(e.kind, e.algorithm, e.part_size) for e in seen] == [("checksum", "CRC32", 0),
                                                                   ("multipart", "", 6 * MB)]


def test_the_native_heads_answer_as_botocore_does(backend):
    s = backend.server
    s.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    _multipart(s, "h/multi.bin", [os.urandom(5 * MB), os.urandom(100)])
    old = s.head_object(Bucket=BUCKET, Key="h/multi.bin")["VersionId"]
    s.put_object(Bucket=BUCKET, Key="h/multi.bin", Body=b"newer", ChecksumAlgorithm="SHA256")
    heads = _NativeHeads(backend.engine())
    for args in ({"ChecksumMode": "ENABLED"}, {"VersionId": old}, {"VersionId": old, "PartNumber": 1}):
        ours, theirs = (h(Bucket=BUCKET, Key="h/multi.bin", **args) for h in (heads.head_object, s.head_object))
        assert (ours["ETag"], ours["ContentLength"]) == (theirs["ETag"], theirs["ContentLength"]), args
        assert verify.from_headers(verify.response_headers(ours)) == \
            verify.from_headers(verify.response_headers(theirs)), args
    with pytest.raises(ClientError) as ours:
        heads.head_object(Bucket=BUCKET, Key="h/none")
    with pytest.raises(ClientError) as theirs:
        s.head_object(Bucket=BUCKET, Key="h/none")
    assert classify(ours.value).code == classify(theirs.value).code == "404"
    assert classify(ours.value).permanent


def test_an_answer_botocore_could_not_parse_is_still_not_s3():
    from botocore.parsers import ResponseParserError

    assert classify(ResponseParserError("<html>")).code == "NotS3"


# The CLI as its console script runs it; then which of botocore's heavy modules it loaded (its
# parsers and urllib3 stay out too, once nothing imports s3transfer on this path).
WRAPPER = r"""
import json, sys
from lakegui.cli import main
code = main(sys.argv[1:])
heavy = ("boto3", "botocore.session", "botocore.client")
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}), file=sys.stderr)
"""


def test_the_cli_downloads_a_big_object_without_boto3(backend, moto_endpoint, tmp_path):
    s = backend.server  # the CLI goes straight to moto, not through the proxy
    body = os.urandom(12 * MB)  # over the 10 MB threshold: verified by a HEAD first
    s.put_object(Bucket=BUCKET, Key="cli/big.bin", Body=body, ChecksumAlgorithm="CRC32")
    r = subprocess.run([sys.executable, "-c", WRAPPER, "download", f"s3://{BUCKET}/cli/big.bin", str(tmp_path / "out"),
                        "--endpoint-url", moto_endpoint, "--queue", str(tmp_path / "q.sqlite3"), "--json"],
                       capture_output=True, text=True, timeout=60)
    doc = json.loads(r.stderr.strip().splitlines()[-1])
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert doc["code"] == 0 and report["done"] == 1 and report["failures"] == [], r.stderr[-2000:]
    assert (tmp_path / "out" / "big.bin").read_bytes() == body
    assert doc["loaded"] == []


def test_transfer_commands_freeze_the_collector_at_exit_once(monkeypatch):
    import atexit
    import gc

    from lakegui.cli import common

    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(common, "_exit_quick", False)
    common.quick_exit()
    common.quick_exit()
    assert registered == [gc.freeze]
