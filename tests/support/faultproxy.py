"""A loopback HTTP proxy in front of a real S3 endpoint that injects faults into chosen requests.

Faults, as networks and busy servers produce them:
- "503": 503 SlowDown, the request never reaches the server;
- "500": 500 InternalError, the request never reaches the server;
- "reset": the server handled the request; the client gets the headers and half the body,
  then a TCP reset;
- "truncate": the server handled the request; the client gets the headers (full
  Content-Length) and half the body, then the connection closes;
- "stall": nothing comes back for `stall_seconds` (longer than the client's read timeout),
  then the connection closes; the request never reaches the server;
- "expired": 400 ExpiredToken, as AWS answers a request signed with an expired session token;
- "denied": 403 AccessDenied, as a bucket policy on a prefix answers (use `when` to pick the prefix).

Requests are forwarded with their Host header unchanged, so SigV4 signatures made for the
proxy's address still verify upstream. Which requests fail is drawn from a seeded random
generator, so a run can be repeated.
"""

from __future__ import annotations

import collections
import http.client
import random
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = ("503", "500", "reset", "truncate", "stall")
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}


class FaultProxy:
    def __init__(self, upstream: str, *, rate: float = 0.0, faults=FAULTS, seed: int = 0,
                 stall_seconds: float = 3.0, when=None):
        u = urlsplit(upstream)
        self.upstream = (u.hostname, u.port or 80)
        self.rate = rate
        self.faults = tuple(faults)
        self.stall_seconds = stall_seconds
        self.when = when  # optional (method, path) -> bool: which requests may fail
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.injected: collections.Counter = collections.Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.upstreams: list[http.client.HTTPConnection] = []  # closed at stop

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def choose(self, method: str, path: str) -> str:
        with self._lock:
            self.requests += 1
            if self.rate <= 0 or (self.when is not None and not self.when(method, path)):
                return ""
            if self._random.random() >= self.rate:
                return ""
            fault = self._random.choice(self.faults)
            self.injected[fault] += 1
            return fault

    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
        with self._lock:
            upstreams, self.upstreams = self.upstreams, []
        for conn in upstreams:
            conn.close()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect of S3

    def log_message(self, *args) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.owner.choose(self.command, self.path)
        if fault in ("503", "500", "expired", "denied"):
            code, name = {"503": (503, "SlowDown"), "500": (500, "InternalError"),
                          "expired": (400, "ExpiredToken"), "denied": (403, "AccessDenied")}[fault]
            return self._reply(code, f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{name}</Code>"
                                     f"<Message>injected by the fault proxy</Message>"
                                     f"<RequestId>fault-{fault}</RequestId></Error>".encode(),
                               [("Content-Type", "application/xml")])
        if fault == "stall":
            self.owner._stopping.wait(self.owner.stall_seconds)
            self.close_connection = True
            return
        status, reason, headers, data = self._forward(body)
        if fault in ("reset", "truncate") and data:
            self.send_response_only(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if fault == "reset":  # SO_LINGER 0: close sends RST, not FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if fault in ("reset", "truncate"):  # nothing to cut: drop the connection before the answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self._reply(status, data, headers, reason)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def _forward(self, body: bytes):
        conn = self._upstream()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        for attempt in (1, 2):  # a kept-alive upstream connection may have been closed meanwhile
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = self._upstream(fresh=True)
                if attempt == 2:
                    raise
        # A HEAD's Content-Length is the object's size, not this reply's: keep it.
        drop = _HOP if self.command == "HEAD" else _HOP | {"content-length"}
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in drop]
        return resp.status, resp.reason, out, data

    def _upstream(self, fresh: bool = False) -> http.client.HTTPConnection:
        """One persistent upstream connection per proxy thread, closed when the proxy stops."""
        conn = getattr(_local, "conn", None)
        if conn is None or fresh:
            conn = _local.conn = http.client.HTTPConnection(*self.owner.upstream, timeout=60)
            with self.owner._lock:
                self.owner.upstreams.append(conn)
        return conn

    def _reply(self, status: int, data: bytes, headers, reason: str | None = None) -> None:
        self.send_response_only(status, reason)
        for k, v in headers:
            self.send_header(k, v)
        if self.command != "HEAD" or not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


_local = threading.local()
