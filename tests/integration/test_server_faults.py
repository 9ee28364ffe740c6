"""The server and the account misbehaving (issue 7): an endpoint that is not S3, a session token
that has expired, a bucket deleted in the middle of a backfill. Each ends fast with a message a
person can act on, and nothing already sent is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lakegui.core.settings import MB
from tests.integration.test_cli_transfers import cli, client
from tests.integration.test_faults import write_settings
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


class _Html(BaseHTTPRequestHandler):
    def _page(self):
        body = b"<html><body>Please sign in to the corporate proxy</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = _page

    def log_message(self, *args):
        pass


@pytest.fixture
def not_s3():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_endpoint_that_is_not_s3_says_so(not_s3, tmp_path):
    proc, _ = cli("ls", "s3://lake/", "--endpoint-url", not_s3)
    assert proc.returncode == 1 and "did not answer like an S3 server" in proc.stderr
    (tmp_path / "f.txt").write_text("x")
    proc, doc = cli("upload", str(tmp_path / "f.txt"), "s3://lake/x/", "--endpoint-url", not_s3, "--json",
                    check_json=False)
    assert proc.returncode == 1 and "S3 server" in proc.stdout + proc.stderr


def test_an_expired_session_token_fails_fast_with_what_to_do(moto_endpoint, tmp_path):
    client(moto_endpoint).create_bucket(Bucket="tokens")
    (tmp_path / "f.txt").write_text("x")
    with FaultProxy(moto_endpoint, rate=1.0, faults=("expired",)) as proxy:
        started = time.monotonic()
        proc, _ = cli("ls", "s3://tokens/", "--endpoint-url", proxy.url)
        assert proc.returncode == 1 and "session token has expired" in proc.stderr and "aws sso login" in proc.stderr
        proc, doc = cli("upload", str(tmp_path / "f.txt"), "s3://tokens/x/", "--endpoint-url", proxy.url,
                        "--queue", str(tmp_path / "q.sqlite3"), "--json", check_json=False)
        assert proc.returncode == 1 and "session token has expired" in proc.stdout + proc.stderr
        assert time.monotonic() - started < 30  # permanent: no five rounds of backoff


def test_access_denied_on_one_prefix_says_so_and_the_rest_works(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="policy")
    for key in ("open/a.txt", "secret/b.txt"):
        s3.put_object(Bucket="policy", Key=key, Body=b"x")
    # A bucket policy denying one prefix: listings of it and requests for its keys get 403.
    denied = lambda method, path: "secret%2F" in path or "/secret/" in path or "prefix=secret" in path.lower()
    with FaultProxy(moto_endpoint, rate=1.0, faults=("denied",), when=denied) as proxy:
        proc, _ = cli("ls", "s3://policy/secret/", "--endpoint-url", proxy.url)
        assert proc.returncode == 1
        assert "Access denied to s3://policy/secret/: check the profile's permissions." in proc.stderr
        proc, doc = cli("ls", "s3://policy/open/", "--endpoint-url", proxy.url, "--json")
        assert proc.returncode == 0 and [o["key"] for o in doc["objects"]] == ["open/a.txt"]


def test_a_bucket_deleted_mid_backfill_stops_it_and_keeps_what_was_sent(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="vanishing")
    write_settings(max_bandwidth=2 * MB, concurrent_files=1, engine="s3transfer")
    local = tmp_path / "daily"
    local.mkdir()
    for i in range(12):
        (local / f"S{i:02d}_2024.parquet").write_bytes(bytes([i]) * 400_000)
    q = str(tmp_path / "q.sqlite3")
    proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", "backfill", str(local), "s3://vanishing/",
                             "--endpoint-url", moto_endpoint, "--template", "daily-ticks", "--queue", q, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: s3.list_objects_v2(Bucket="vanishing").get("KeyCount"), 60, "the first upload")
    sent_before = {o["Key"] for o in s3.list_objects_v2(Bucket="vanishing").get("Contents", [])}
    for key in sent_before:
        s3.delete_object(Bucket="vanishing", Key=key)
    s3.delete_bucket(Bucket="vanishing")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    import json

    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["failed"] >= 1 and doc["done"] >= 1 and doc["done"] + doc["failed"] == 12
    assert all("Bucket 'vanishing' does not exist" in f["error"] for f in doc["failures"])
    _, status = cli("queue", "status", "--queue", q, "--json")
    assert status["states"]["failed"]["jobs"] == doc["failed"]  # recorded, ready to retry once it is back
