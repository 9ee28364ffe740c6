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
- "denied": 403 AccessDenied, as a bucket policy on a prefix answers (use `when` to pick the prefix);
- "checksum": 400 InvalidRequest naming the checksum, as S3-compatible servers that take no
  checksum headers answer; only requests that carry an x-amz-checksum-* header get it;
- "corrupt": the server handled the request; the client gets the whole answer with one byte of
  its body flipped, as a bad NIC or disk would (only verification catches it).

`bytes_in` / `bytes_out` count the request and response body bytes that passed, so a test can
tell how much a resumed transfer sent or fetched again.

`limit` caps how many faults are injected in all (e.g. 1: the first matching request only).
`bandwidth` (bytes per second, per connection) paces request and response bodies, so a
transfer is still under way when a test stops it, whatever the client's own limits.

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
_INJECTED = "injected by the fault proxy"
# Faults answered by the proxy itself: (status, S3 error code, message).
_ANSWERS = {"503": (503, "SlowDown", _INJECTED), "500": (500, "InternalError", _INJECTED),
            "expired": (400, "ExpiredToken", _INJECTED), "denied": (403, "AccessDenied", _INJECTED),
            "checksum": (400, "InvalidRequest", "Checksum headers are not supported (injected by the fault proxy)")}
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}


class FaultProxy:
    def __init__(self, upstream: str, *, rate: float = 0.0, faults=FAULTS, seed: int = 0,
                 stall_seconds: float = 3.0, when=None, limit: int | None = None, bandwidth: int = 0):
        u = urlsplit(upstream)
        self.upstream = (u.hostname, u.port or 80)
        self.rate = rate
        self.faults = tuple(faults)
        self.stall_seconds = stall_seconds
        self.when = when  # optional (method, path) -> bool: which requests may fail
        self.limit = limit
        self.bandwidth = bandwidth
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_in = 0  # request bodies received from clients
        self.bytes_out = 0  # response bodies sent to clients
        self.injected: collections.Counter = collections.Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.upstreams: list[http.client.HTTPConnection] = []  # closed at stop
        self.clients: list[tuple[socket.socket, threading.Thread]] = []  # shut down at stop

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def choose(self, method: str, path: str, headers=None) -> str:
        with self._lock:
            self.requests += 1
            if self.rate <= 0 or (self.when is not None and not self.when(method, path)):
                return ""
            if self.limit is not None and sum(self.injected.values()) >= self.limit:
                return ""
            faults = self.faults
            if "checksum" in faults and not any(k.lower().startswith("x-amz-checksum-") for k in (headers or {})):
                faults = tuple(f for f in faults if f != "checksum")
                if not faults:
                    return ""
            if self._random.random() >= self.rate:
                return ""
            fault = self._random.choice(faults)
            self.injected[fault] += 1
            return fault

    def settled(self, quiet: float = 0.5, timeout: float = 30) -> int:
        """bytes_out once no answer has been sent for `quiet` seconds: a stopped or killed client's
        last requests are still answered (and counted as their answers start), read or not."""
        import time

        last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
        while time.monotonic() - since < quiet:
            if self.bytes_out != last:
                last, since = self.bytes_out, time.monotonic()
            if time.monotonic() > deadline:
                raise AssertionError(f"the proxy still sends after {timeout:.0f} s")
            self._stopping.wait(0.05)
        return self.bytes_out

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
            clients, self.clients = self.clients, []
        # A client's kept-alive connection holds its handler thread in a read: end it, so an
        # in-process client (the CRT frees its connections lazily) leaves no thread behind.
        for sock, _ in clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in clients:
            thread.join(10)
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

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner.clients.append((self.connection, threading.current_thread()))

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self._read_body(length)
        if len(body) < length or self.owner._stopping.is_set():  # the client or the proxy went away
            self.close_connection = True
            return
        fault = self.owner.choose(self.command, self.path, self.headers.keys())
        if fault in _ANSWERS:
            code, name, message = _ANSWERS[fault]
            return self._reply(code, f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{name}</Code>"
                                     f"<Message>{message}</Message>"
                                     f"<RequestId>fault-{fault}</RequestId></Error>".encode(),
                               [("Content-Type", "application/xml")])
        if fault == "stall":
            self.owner._stopping.wait(self.owner.stall_seconds)
            self.close_connection = True
            return
        with self.owner._lock:
            self.owner.bytes_in += len(body)
        status, reason, headers, data = self._forward(body)
        if fault == "corrupt" and data and self.command == "GET":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
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
        if self.command != "HEAD":
            with self.owner._lock:
                self.owner.bytes_out += len(data)
        self.send_response_only(status, reason)
        for k, v in headers:
            self.send_header(k, v)
        if self.command != "HEAD" or not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self._write_body(data)

    def _pace(self, n: int) -> bool:
        """Wait as long as `n` bytes take at the proxy's bandwidth; False once the proxy stops."""
        return not self.owner._stopping.wait(n / self.owner.bandwidth)

    def _read_body(self, length: int) -> bytes:
        if not self.owner.bandwidth:
            return self.rfile.read(length) if length else b""
        parts, left = [], length
        while left > 0 and self._pace(min(_CHUNK, left)):
            part = self.rfile.read(min(_CHUNK, left))
            if not part:
                break
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _write_body(self, data: bytes) -> None:
        if not self.owner.bandwidth:
            self.wfile.write(data)
            return
        for i in range(0, len(data), _CHUNK):
            if not self._pace(min(_CHUNK, len(data) - i)):
                self.close_connection = True
                return
            self.wfile.write(data[i:i + _CHUNK])


_local = threading.local()
_CHUNK = 64 * 1024
