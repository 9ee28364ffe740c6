"""fetch.Connections: the keep-alive http.client connections that raw listings and RawGets share.

A small HTTP/1.1 server on loopback counts the connections it accepts and answers as each test says.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import socket
import subprocess
import sys

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from lakegui.core.lake.fetch import Connections
from tests.support.loopback import CountingServer, serving


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        server = self.server
        with server.lock:
            server.requests.append(self.path)
            status = server.statuses.pop(0) if server.statuses else 200
        body = server.body
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if server.close_after:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(CountingServer):
    def __init__(self):
        super().__init__(_Handler)
        self.requests: list[str] = []
        self.close_after = False
        self.body = b"<ok/>"


@pytest.fixture
def server():
    with serving(_Server()) as srv:
        yield srv


def _get(pool: Connections, server, path="/b?list-type=2", **kw):
    netloc = f"127.0.0.1:{server.server_address[1]}"
    return pool.get("http", netloc, path, {}, url=f"http://{netloc}{path}", **kw)


def test_requests_share_one_kept_alive_connection(server):
    pool = Connections(connect_timeout=3, read_timeout=5)
    try:
        for n in range(3):
            resp, data = _get(pool, server, f"/b?page={n}")
            assert (resp.status, data) == (200, b"<ok/>")
    finally:
        pool.close()
    assert server.requests == ["/b?page=0", "/b?page=1", "/b?page=2"]
    assert server.connections == 1


def test_a_connection_the_server_closes_is_not_reused(server):
    server.close_after = True
    pool = Connections(connect_timeout=3, read_timeout=5)
    try:
        for _ in range(2):
            assert _get(pool, server)[0].status == 200
    finally:
        pool.close()
    assert server.connections == 2


def test_a_5xx_is_retried_and_logged(server, caplog):
    server.statuses = [503, 500]
    pool = Connections(connect_timeout=3, read_timeout=5)
    with caplog.at_level(logging.WARNING, logger="lakegui.core.lake.fetch"):
        try:
            resp, _ = _get(pool, server, attempts=3, backoff=0.01)
        finally:
            pool.close()
    assert resp.status == 200 and len(server.requests) == 3
    assert sum("Retrying" in r.getMessage() for r in caplog.records) == 2


def test_the_last_5xx_is_returned_for_the_caller_to_classify(server):
    server.statuses = [503, 503]
    pool = Connections(connect_timeout=3, read_timeout=5)
    try:
        resp, _ = _get(pool, server, attempts=2, backoff=0.01)
    finally:
        pool.close()
    assert resp.status == 503 and len(server.requests) == 2


def test_an_unreachable_endpoint_is_an_endpoint_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = Connections(connect_timeout=1, read_timeout=1)
    with pytest.raises(EndpointConnectionError) as info:
        pool.get("http", f"127.0.0.1:{port}", "/b", {}, url=f"http://127.0.0.1:{port}/b?X-Amz-Signature=s",
                 attempts=2, backoff=0.01)
    assert "X-Amz-Signature" not in str(info.value)  # the endpoint is named, not the signed URL


def test_a_retry_logs_the_url_with_its_signature_masked(caplog):
    """The Python API's path: with no handler of ours, Python's last-resort handler printed the
    record to stderr as it was, live signature and all (trial B)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = Connections(connect_timeout=1, read_timeout=1)
    url = f"http://127.0.0.1:{port}/lake?list-type=2&X-Amz-Credential=k%2F1&X-Amz-Signature=7d9d4ac1bd"
    with caplog.at_level(logging.WARNING, logger="lakegui.core.lake.fetch"), pytest.raises(EndpointConnectionError):
        pool.get("http", f"127.0.0.1:{port}", "/lake", {}, url=url, attempts=2, backoff=0.01)
    said = [r.getMessage() for r in caplog.records if "Retrying" in r.getMessage()]
    assert said and all("X-Amz-Signature=***" in m and "7d9d4ac1bd" not in m for m in said)


def test_an_endpoint_that_stops_answering_is_a_read_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection (the backlog), never answers
    port = listener.getsockname()[1]
    pool = Connections(connect_timeout=1, read_timeout=0.3)
    try:
        with pytest.raises(ReadTimeoutError):
            pool.get("http", f"127.0.0.1:{port}", "/b", {}, url=f"http://127.0.0.1:{port}/b")
    finally:
        pool.close()
        listener.close()


LISTING = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           b"<Name>bkt</Name><Prefix>P/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
           b"<EncodingType>url</EncodingType><Contents><Key>P/a+b.parquet</Key><LastModified>2026-01-02T03:04:05.000Z"
           b"</LastModified><ETag>&quot;x&quot;</ETag><Size>7</Size><StorageClass>STANDARD</StorageClass></Contents>"
           b"</ListBucketResult>")
LOADED = r"""
import json, sys
from lakegui.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted({m.split('.')[0] for m in sys.modules})}), file=sys.stderr)
"""


def test_ls_loads_neither_urllib3_nor_botocore(server, tmp_path):
    """Issue 17's `ls` start-up: with keys in the environment, a listing of a named endpoint is presigned
    with hashlib and sent with http.client; urllib3 alone cost 0.1 s of a 0.3 s `ls`."""
    server.body = LISTING
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="secret-key-1")
    r = subprocess.run([sys.executable, "-c", LOADED, "ls", "s3://bkt/P/", "--endpoint-url",
                        f"http://127.0.0.1:{server.server_address[1]}"], capture_output=True, text=True,
                       timeout=60, env=env)
    doc = json.loads(r.stderr.strip().splitlines()[-1])
    assert doc["code"] == 0 and "P/a b.parquet" not in r.stdout and "a b.parquet" in r.stdout, r.stdout
    assert not set(doc["modules"]) & {"urllib3", "botocore", "boto3", "requests"}, doc["modules"]
    assert len(server.requests) == 1 and "X-Amz-Signature=" in server.requests[0]
