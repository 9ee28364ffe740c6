"""The connection options at work against a real endpoint (issue 17, items 3 and 4): `ls` and a
download list through presigned GETs without building an S3 client, and `queue resume` and
`queue retry-failed` use the batch's recorded connection unless options name another one."""

from __future__ import annotations

import json
import os

import pytest

from lakegui.cli import main
from lakegui.core.connection import Connection, ConnectionProfile, ListingSigner
from lakegui.core.listing import PrefixLister
from tests.integration.test_cli_transfers import cli, client

pytestmark = pytest.mark.integration
BUCKET = "cli-connection"
ODD = ["a b.txt", "plus+sign.txt", "pct%41.txt", "ünï/cödé.txt", "q?&=.txt", "tilde~.txt"]


@pytest.fixture
def endpoint(moto_endpoint):
    client(moto_endpoint).create_bucket(Bucket=BUCKET)
    return moto_endpoint


def no_clients(monkeypatch):
    import botocore.session

    def refuse(*_a, **_k):
        raise AssertionError("an S3 client was built")

    monkeypatch.setattr(botocore.session.Session, "create_client", refuse)


def test_listing_signer_lists_what_the_client_lists(endpoint):
    s3 = client(endpoint)
    for key in ODD + [f"many/{i:03d}" for i in range(7)]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"1")
    conn = Connection(ConnectionProfile.from_options(endpoint_url=endpoint, bucket=BUCKET))
    signer = conn.listing_client()
    assert isinstance(signer, ListingSigner)

    def keys(lister_client, prefix="", **kw):
        return [(o.key, o.size) for page in PrefixLister(lister_client, BUCKET, prefix, raw=True, **kw)
                for o in page.objects]

    assert keys(signer, recursive=True) == keys(conn.client(), recursive=True)
    assert sorted(k for k, _ in keys(signer, recursive=True)) == sorted(ODD + [f"many/{i:03d}" for i in range(7)])
    assert keys(signer, "many/", page_size=2) == [(f"many/{i:03d}", 1) for i in range(7)]  # continuation tokens
    assert keys(signer, "ünï/") == [("ünï/cödé.txt", 1)]


def test_ls_a_download_and_an_upload_build_no_client(endpoint, monkeypatch, tmp_path, capsys):
    s3 = client(endpoint)
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"p/{i}.bin", Body=bytes([i]) * 1000)
    no_clients(monkeypatch)
    assert main(["ls", f"s3://{BUCKET}/p/", "--endpoint-url", endpoint]) == 0
    assert [line.split()[-1] for line in capsys.readouterr().out.splitlines()] == ["0.bin", "1.bin", "2.bin"]
    assert main(["download", f"s3://{BUCKET}/p/1.bin", str(tmp_path / "out"), "--endpoint-url", endpoint,
                 "--queue", str(tmp_path / "q.sqlite3"), "--json"]) == 0
    assert (tmp_path / "out" / "1.bin").read_bytes() == b"\1" * 1000
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "new.bin").write_bytes(b"n" * 2000)
    assert main(["upload", str(tmp_path / "up"), f"s3://{BUCKET}/p/", "--endpoint-url", endpoint,
                 "--queue", str(tmp_path / "q.sqlite3"), "--json"]) == 0
    assert s3.get_object(Bucket=BUCKET, Key="p/new.bin")["Body"].read() == b"n" * 2000


def test_ls_with_keys_in_the_environment_loads_no_botocore(endpoint):
    """The chain's first link decides (keys in the environment, no profile): ls signs its own GET."""
    from tests.core.test_cli_startup import loaded

    client(endpoint).put_object(Bucket=BUCKET, Key="k/a.txt", Body=b"1")
    code, modules = loaded("ls", f"s3://{BUCKET}/k/", "--endpoint-url", endpoint)
    assert code == 0
    assert not modules & {"botocore", "boto3", "s3transfer", "awscrt", "pyarrow"}


def test_resume_and_retry_failed_use_the_options_given(endpoint, tmp_path):
    """Jobs recorded with an endpoint that moved: the recorded one fails, the one named wins."""
    from lakegui.core.transfers.jobs import Direction, JobState
    from lakegui.core.transfers.store import JobStore, NewJob

    s3 = client(endpoint)
    s3.put_object(Bucket=BUCKET, Key="moved/a.bin", Body=b"a" * 100)
    s3.put_object(Bucket=BUCKET, Key="moved/b.bin", Body=b"b" * 100)
    gone = "http://127.0.0.1:9"  # nothing listens there
    recorded = ConnectionProfile.from_options(endpoint_url=gone, bucket=BUCKET).to_dict()
    q = str(tmp_path / "q.sqlite3")
    store = JobStore(q)
    try:
        batch = store.create_batch("moved", "download", recorded)
        store.add_jobs(batch, [NewJob(Direction.DOWNLOAD, BUCKET, "moved/a.bin", str(tmp_path / "a.bin"), size=100),
                               NewJob(Direction.DOWNLOAD, BUCKET, "moved/b.bin", str(tmp_path / "b.bin"), size=100,
                                      state=JobState.FAILED, error="Cannot reach")])
    finally:
        store.close()
    proc, doc = cli("queue", "resume", "--queue", q, "--endpoint-url", endpoint, "--json", timeout=120)
    assert doc["done"] == 1 and (tmp_path / "a.bin").read_bytes() == b"a" * 100, proc.stderr
    # b.bin failed before and did not run: counted once, not this run's failure nor its exit code
    assert proc.returncode == 0 and doc["failures"] == [] and doc["failed_earlier"] == 1
    proc, doc = cli("queue", "retry-failed", "--json", "--endpoint-url", endpoint, "--queue", q, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert doc["requeued"] == 1 and doc["done"] == 1 and (tmp_path / "b.bin").read_bytes() == b"b" * 100


def test_resume_without_options_uses_the_recorded_connection(endpoint, tmp_path):
    from lakegui.core.transfers.jobs import Direction
    from lakegui.core.transfers.store import JobStore, NewJob

    cfg = os.environ["LAKEGUI_CONFIG_DIR"]
    os.makedirs(cfg, exist_ok=True)
    with open(os.path.join(cfg, "settings.json"), "w") as f:  # one try: the failure is the point
        json.dump({"transfer": {"attempts": 1}}, f)
    recorded = ConnectionProfile.from_options(endpoint_url="http://127.0.0.1:9", bucket=BUCKET).to_dict()
    q = str(tmp_path / "q.sqlite3")
    store = JobStore(q)
    try:
        batch = store.create_batch("moved", "download", recorded)
        store.add_jobs(batch, [NewJob(Direction.DOWNLOAD, BUCKET, "x.bin", str(tmp_path / "x.bin"), size=1)])
    finally:
        store.close()
    proc, doc = cli("queue", "resume", "--queue", q, "--json", timeout=180)
    assert proc.returncode == 1 and doc["failed"] == 1
    assert "127.0.0.1:9" in doc["failures"][0]["error"]
