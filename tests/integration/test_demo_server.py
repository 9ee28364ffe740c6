"""`lakegui-cli demo-server` serves the demo lake to other tools over real HTTP."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


@pytest.fixture
def demo_server():
    proc = subprocess.Popen([str(BIN / "lakegui-cli"), "demo-server", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    yield proc, info
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


def test_aws_cli_lists_seeded_parquet_and_pyarrow_reads_it(demo_server):
    proc, info = demo_server
    assert info["endpoint_url"].startswith("http://127.0.0.1:")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": info["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": info["aws_secret_access_key"], "AWS_DEFAULT_REGION": info["region"]}
    aws = shutil.which("aws", path=str(BIN)) or shutil.which("aws")
    out = subprocess.run([aws, "--endpoint-url", info["endpoint_url"], "s3", "ls",
                          f"s3://{info['bucket']}/data/ticks/daily/", "--recursive"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    keys = [line.split()[-1] for line in out.stdout.splitlines()]
    assert len(keys) >= 30 and all(k.endswith("/ticks.parquet") for k in keys)
    assert "data/ticks/daily/AAPL/2024/ticks.parquet" in keys

    s3 = boto3.client("s3", endpoint_url=info["endpoint_url"], region_name=info["region"],
                      aws_access_key_id=info["aws_access_key_id"],
                      aws_secret_access_key=info["aws_secret_access_key"])
    body = s3.get_object(Bucket=info["bucket"], Key=keys[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == ["date", "open", "high", "low", "close", "volume"] and table.num_rows > 200


def test_interrupt_stops_cleanly(demo_server):
    proc, _ = demo_server
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0


def test_human_output_names_endpoint_and_credentials():
    with subprocess.Popen([str(BIN / "lakegui-cli"), "demo-server", "--port", "0"], stdout=subprocess.PIPE,
                          text=True) as proc:
        try:
            lines = [proc.stdout.readline() for _ in range(6)]
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
    text = "".join(lines)
    assert "serving at http://127.0.0.1:" in text and "AWS_ACCESS_KEY_ID=" in text
    assert "s3://us-equity-datalake/" in text


def test_busy_port_is_a_clear_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([str(BIN / "lakegui-cli"), "demo-server", "--port", str(port)], capture_output=True,
                           text=True, timeout=60)
    assert r.returncode == 1 and f"127.0.0.1:{port}" in r.stderr


def test_cli_version_and_usage():
    r = subprocess.run([str(BIN / "lakegui-cli"), "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("lakegui-cli ")
    r = subprocess.run([str(BIN / "lakegui-cli"), "no-such-command"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unknown command 'no-such-command'" in r.stderr


@pytest.mark.parametrize("recursive", [True, False])
def test_raw_listing_matches_botocore_exactly(moto_endpoint, recursive):
    """The raw page parser gives what botocore's does: odd keys, folders, sizes, times, tokens."""
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.listing import PrefixLister
    from tests.core.test_listing import WEIRD

    conn = Connection(ConnectionProfile(name="t", endpoint_url=moto_endpoint, bucket="raw-list",
                                        addressing_style="path"))
    s3 = conn.client()
    s3.create_bucket(Bucket="raw-list")
    keys = WEIRD + [f"many/{i:04d}.parquet" for i in range(25)] + ["dir/a/b.txt", "dir/c.txt"]
    for k in keys:
        s3.put_object(Bucket="raw-list", Key=k, Body=b"x" * (len(k) % 7))

    def pages(raw):
        return list(PrefixLister(s3, "raw-list", "", recursive=recursive, page_size=10, raw=raw))

    fast, slow = pages(True), pages(False)
    assert len(fast) == len(slow) and fast[-1].is_last
    if recursive:  # moto answers a delimited listing in one page
        assert len(fast) > 2 and not fast[0].is_last
    assert [p.prefixes for p in fast] == [p.prefixes for p in slow]
    assert [p.objects for p in fast] == [p.objects for p in slow]
    if recursive:
        assert set(WEIRD) <= {o.key for p in fast for o in p.objects}


def test_raw_listing_errors_are_classified(moto_endpoint):
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.errors import classify
    from lakegui.core.listing import PrefixLister

    conn = Connection(ConnectionProfile(name="t", endpoint_url=moto_endpoint, addressing_style="path"))
    with pytest.raises(Exception) as e:
        PrefixLister(conn.client(), "no-such-bucket-raw", raw=True).next_page()
    assert classify(e.value, bucket="no-such-bucket-raw").code == "NoSuchBucket"
    closed = Connection(ConnectionProfile(name="t", endpoint_url="http://127.0.0.1:9", addressing_style="path"))
    with pytest.raises(Exception) as e:
        PrefixLister(closed.client(), "b", raw=True).next_page()
    assert classify(e.value, endpoint="http://127.0.0.1:9").code == "EndpointConnectionError"
