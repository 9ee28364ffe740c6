"""multiget.MultiGet: a phase's GETs sent together from one thread over kept-alive sockets, and
plan_many's one hole budget for a wave of files.

A small HTTP/1.1 server on loopback answers each GET with its path and Range, in the framing the
test asks for (Content-Length, chunked, or closed after the body), and counts its connections.
"""

from __future__ import annotations

import http.server
import socket

import pytest
from botocore.exceptions import EndpointConnectionError

from lakegui.core.lake.dataset import plan_many, plan_ranges
from lakegui.core.lake.multiget import Cancelled, MultiGet, Request
from tests.support.loopback import CountingServer, serving


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        server = self.server
        with server.lock:
            server.requests += 1
            status = server.statuses.pop(0) if server.statuses else 206
        body = f"{self.path} {self.headers.get('Range', '')}".encode()
        self.send_response(status)
        if server.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:3], body[3:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if server.framing == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if server.framing == "drop":   # a keep-alive connection the server ends without saying so
            self.close_connection = True

    def log_message(self, *args):
        pass


class _Server(CountingServer):
    def __init__(self):
        super().__init__(_Handler)
        self.requests = 0
        self.framing = "length"


@pytest.fixture
def server():
    with serving(_Server()) as srv:
        yield srv


def _requests(server, n: int) -> list[Request]:
    port = server.server_address[1]
    return [Request("127.0.0.1", port, f"/b/k{i}?sig=x", {"Host": f"127.0.0.1:{port}", "Range": f"bytes={i}-{i + 9}"})
            for i in range(n)]


def test_a_phase_s_gets_share_a_few_kept_alive_sockets(server):
    multi = MultiGet(4)
    try:
        first = _requests(server, 30)
        multi.run(first)
        assert [r.body for r in first] == [f"/b/k{i}?sig=x bytes={i}-{i + 9}".encode() for i in range(30)]
        assert {r.status for r in first} == {206} and not any(r.error for r in first)
        assert server.connections <= 4
        again = _requests(server, 8)
        multi.run(again)     # the next phase reuses them
        assert all(r.status == 206 for r in again) and server.connections <= 4
    finally:
        multi.close()
    assert server.requests == 38


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_chunked_and_close_delimited_bodies(server, framing):
    server.framing = framing
    multi = MultiGet(2)
    try:
        reqs = _requests(server, 5)
        multi.run(reqs)
    finally:
        multi.close()
    assert [r.body for r in reqs] == [f"/b/k{i}?sig=x bytes={i}-{i + 9}".encode() for i in range(5)]


def test_a_connection_the_server_dropped_is_tried_again(server):
    server.framing = "drop"
    multi = MultiGet(1)
    try:
        for _ in range(3):   # each run starts on the socket the server closed after the last answer
            reqs = _requests(server, 2)
            multi.run(reqs)
            assert [r.status for r in reqs] == [206, 206] and not any(r.error for r in reqs)
            assert [r.attempt for r in reqs] == [1, 1]   # a kept socket found closed is not an attempt
    finally:
        multi.close()


def test_5xx_answers_are_tried_again_and_the_last_is_kept(server):
    server.statuses = [503, 500]
    multi = MultiGet(1, backoff=0.01)
    try:
        ok = _requests(server, 1)
        multi.run(ok)
        assert ok[0].status == 206 and ok[0].attempt == 3
        server.statuses = [503] * 4
        failed = _requests(server, 1)
        multi.run(failed)
        assert failed[0].status == 503 and failed[0].error is None and failed[0].attempt == 4
    finally:
        multi.close()


def test_an_unreachable_endpoint_is_botocore_s_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # nothing listens here once closed
    multi = MultiGet(2)
    try:
        reqs = [Request("127.0.0.1", port, "/b/k", {}) for _ in range(2)]
        multi.backoff = 0.01
        multi.run(reqs)
    finally:
        multi.close()
    assert all(isinstance(r.error, EndpointConnectionError) for r in reqs)


def test_a_retry_logs_the_url_with_its_signature_masked(caplog):
    """A notebook has no handler of ours: the record itself must not hold the live signature."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/b/k?X-Amz-Credential=k%2F1&X-Amz-Signature=7d9d4ac1bd"
    multi = MultiGet(1, backoff=0.01)
    try:
        with caplog.at_level("WARNING", logger="lakegui.core.lake.multiget"):
            multi.run([Request("127.0.0.1", port, "/b/k", {}, url=url)])
    finally:
        multi.close()
    said = [r.getMessage() for r in caplog.records if "Retrying" in r.getMessage()]
    assert said and all("X-Amz-Signature=***" in m and "7d9d4ac1bd" not in m for m in said)


def test_cancelling_stops_a_phase(server):
    multi = MultiGet(2)
    try:
        with pytest.raises(Cancelled):
            multi.run(_requests(server, 5), cancelled=lambda: True)
    finally:
        multi.close()


def test_one_hole_budget_for_a_wave_of_files():
    # Alone, a file's budget (a tenth of its 2,000 bytes) bridges one of its 150-byte holes.
    busy = [(0, 500), (650, 1150), (1300, 1800), (1950, 2000)]
    assert len(plan_ranges(busy)) == 3
    # Beside files with nothing to bridge, it gets their share too: one GET.
    quiet = [(0, 1500)]
    plans = plan_many([(busy, 0), (quiet, 0), (quiet, 0)])
    assert plans == [[(0, 2000)], [(0, 1500)], [(0, 1500)]]
    assert plan_many([([], 5000), (busy, 0)])[1] == plan_ranges(busy)   # a file that reads nothing adds nothing
