"""Many ranged GETs at once from one thread: non-blocking keep-alive sockets and one selector.

A lake query's GETs are small (a footer, a few column chunks) and many. Sent from threads, each
cost a thread start, http.client's header parsing (the email package: about 0.3 ms of Python a
response) and the GIL's hand-offs, which grow with the machine's load. Here every request of a
phase is written at once to one of up to `connections` sockets and the answers are read as they
come, in the caller's thread. Plain http only: https endpoints go through threads (fetch.RawGets).

Failures follow fetch.Connections: a dropped keep-alive connection or a 5xx answer is tried
again (up to ATTEMPTS in all), a connection that cannot be made becomes botocore's
EndpointConnectionError, an endpoint that stops answering its ReadTimeoutError.
"""

from __future__ import annotations

import errno
import logging
import selectors
import socket
import time
from collections import deque

from .fetch import ATTEMPTS, RETRY_STATUS, TIMEOUT, masked

CONNECTIONS = 16       # sockets at once per MultiGet (DuckDB's httpfs keeps a few per thread)
RECV = 256 * 1024
BACKOFF = 0.1
TICK = 0.05            # how often a wait looks at `cancelled`

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """`cancelled()` said so while requests were in flight."""


class Request:
    """One GET: where to, and (after MultiGet.run) its answer or the exception that stands for it."""

    __slots__ = ("host", "port", "target", "headers", "url", "status", "reason", "response_headers", "body",
                 "error", "attempt", "fresh", "tag")

    def __init__(self, host: str, port: int, target: str, headers: dict, *, url: str = "", tag=None):
        self.host, self.port, self.target, self.headers = host, port, target, headers
        self.url = url or f"http://{host}:{port}{target}"
        self.status = 0
        self.reason = ""
        self.response_headers: dict = {}
        self.body = b""
        self.error: BaseException | None = None
        self.attempt = 0
        self.fresh = False   # on a new connection: a kept one failed it before it answered
        self.tag = tag

    def wire(self) -> bytes:
        lines = [f"GET {self.target} HTTP/1.1", f"Host: {self.headers.get('Host', self.host)}",
                 "Accept-Encoding: identity"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k != "Host"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Conn:
    __slots__ = ("sock", "where", "req", "out", "buf", "head", "length", "keep", "connecting", "reused", "last")

    def __init__(self, sock, where, *, connecting: bool, reused: bool):
        self.sock, self.where = sock, where
        self.connecting, self.reused = connecting, reused
        self.req: Request | None = None
        self.out = b""
        self.buf = bytearray()
        self.head = 0          # bytes of the status line and headers, once parsed
        self.length = None     # body length; -1 chunked, -2 until the server closes
        self.keep = True
        self.last = time.monotonic()


def _parse_head(buf: bytearray):
    """(status, reason, headers, head length) once the headers are in, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers, end + 4, parts[0]


def _dechunk(data: bytes | bytearray):
    """(body, bytes consumed) of a complete chunked body, else None."""
    out, pos = [], 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(data[pos:eol]).split(b";")[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n\r\n", pos - 2)   # trailers, if any, end with an empty line
            return (b"".join(out), end + 4) if end >= 0 else None
        if len(data) < pos + size + 2:
            return None
        out.append(bytes(data[pos:pos + size]))
        pos += size + 2


class MultiGet:
    """Keep-alive sockets to plain-http endpoints, lent to one request at a time and kept between
    `run` calls (a scan's footers, then its chunks, reuse them); `close` ends them."""

    def __init__(self, connections: int = CONNECTIONS, *, connect_timeout: float = TIMEOUT,
                 read_timeout: float = TIMEOUT, backoff: float = BACKOFF):
        self.limit = max(1, connections)
        self.backoff = backoff   # the pause before a retry, times the attempts made
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._idle: dict[tuple[str, int], list] = {}
        self._addresses: dict[tuple[str, int], tuple] = {}   # resolved once per endpoint
        self._sel = selectors.DefaultSelector()

    def close(self) -> None:
        for socks in self._idle.values():
            for s in socks:
                s.close()
        self._idle = {}
        self._sel.close()

    def run(self, requests: list[Request], cancelled=None) -> None:
        """Send every request, at most `connections` at once, and wait for all of them: each ends
        with its status, headers and body, or with `error` set. Raises Cancelled (closing what is
        in flight) when `cancelled()` turns true."""
        pending = deque(requests)
        waiting: list[tuple[float, Request]] = []   # (not before, request): retries after a pause
        active: dict[int, _Conn] = {}
        try:
            while pending or waiting or active:
                now = time.monotonic()
                if waiting:
                    due = [w for w in waiting if w[0] <= now]
                    waiting = [w for w in waiting if w[0] > now]
                    pending.extend(r for _, r in due)
                while pending and len(active) < self.limit:
                    req = pending.popleft()
                    conn = self._start(req)
                    if conn is None:
                        self._retry_or_fail(req, waiting, None)
                    else:
                        active[conn.sock.fileno()] = conn
                if cancelled is not None and cancelled():
                    raise Cancelled()
                timeout = TICK if cancelled is not None else 1.0
                if waiting:
                    timeout = min(timeout, max(0.0, min(w[0] for w in waiting) - now))
                if not active:
                    if waiting:
                        time.sleep(timeout)
                    continue
                for key, mask in self._sel.select(timeout):
                    self._step(key.data, mask, active, waiting)
                now = time.monotonic()
                for conn in [c for c in active.values()
                             if now - c.last > (self.connect_timeout if c.connecting else self.read_timeout)]:
                    self._drop(conn, active)
                    if conn.connecting:
                        self._retry_or_fail(conn.req, waiting, TimeoutError("connect timed out"), connect=True)
                    else:
                        conn.req.error = _read_timeout(conn.req, TimeoutError("read timed out"))
        finally:
            for conn in list(active.values()):
                self._drop(conn, active)

    # one connection's turn

    def _start(self, req: Request):
        where = (req.host, req.port)
        idle = self._idle.get(where) if not req.fresh else None
        req.attempt += 1
        if idle:
            conn = _Conn(idle.pop(), where, connecting=False, reused=True)
        else:
            try:
                sock = socket.socket(socket.AF_INET6 if ":" in req.host else socket.AF_INET, socket.SOCK_STREAM)
            except OSError as exc:
                req.error = exc
                return None
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                address = self._addresses.get(where) or self._addresses.setdefault(where, _address(*where))
                code = sock.connect_ex(address)
            except OSError as exc:   # a name that does not resolve
                sock.close()
                req.error = exc
                return None
            if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                sock.close()
                req.error = OSError(code, errno.errorcode.get(code, str(code)))
                return None
            conn = _Conn(sock, where, connecting=code != 0, reused=False)
        conn.req = req
        conn.out = req.wire()
        self._sel.register(conn.sock, selectors.EVENT_WRITE, conn)
        return conn

    def _step(self, conn: _Conn, mask: int, active: dict, waiting: list) -> None:
        req = conn.req
        if conn.connecting:
            err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._drop(conn, active)
                self._retry_or_fail(req, waiting, OSError(err, errno.errorcode.get(err, str(err))), connect=True)
                return
            conn.connecting = False
        conn.last = time.monotonic()
        try:
            if mask & selectors.EVENT_WRITE and conn.out:
                n = conn.sock.send(conn.out)
                conn.out = conn.out[n:]
                if not conn.out:
                    self._sel.modify(conn.sock, selectors.EVENT_READ, conn)
                return
            data = conn.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:   # reset: a keep-alive connection the server had closed
            self._drop(conn, active)
            self._stale(conn)
            self._retry_or_fail(req, waiting, exc)
            return
        if not data:
            if conn.length == -2 and conn.head:
                self._done(conn, bytes(conn.buf[conn.head:]), active, waiting, keep=False)
            else:
                self._drop(conn, active)
                self._stale(conn)
                self._retry_or_fail(req, waiting, ConnectionResetError("the server closed the connection"))
            return
        conn.buf += data
        try:
            self._parse(conn, active, waiting)
        except ValueError as exc:
            self._drop(conn, active)
            self._retry_or_fail(req, waiting, OSError(str(exc)))

    def _parse(self, conn: _Conn, active: dict, waiting: list) -> None:
        req = conn.req
        if not conn.head:
            head = _parse_head(conn.buf)
            if head is None:
                return
            req.status, req.reason, req.response_headers, conn.head, version = head
            h = req.response_headers
            closing = h.get("connection", "").lower()
            conn.keep = closing != "close" and (version != "HTTP/1.0" or closing == "keep-alive")
            if req.status in (204, 304) or 100 <= req.status < 200:
                conn.length = 0
            elif "chunked" in h.get("transfer-encoding", "").lower():
                conn.length = -1
            elif h.get("content-length", "").isdigit():
                conn.length = int(h["content-length"])
            else:
                conn.length, conn.keep = -2, False
        body = memoryview(conn.buf)[conn.head:]
        if conn.length >= 0:
            if len(body) >= conn.length:
                data = bytes(body[:conn.length])
                body.release()
                self._done(conn, data, active, waiting, keep=conn.keep)
            else:
                body.release()
        elif conn.length == -1:
            body.release()
            got = _dechunk(conn.buf[conn.head:])
            if got is not None:
                self._done(conn, got[0], active, waiting, keep=conn.keep)
        else:
            body.release()

    def _done(self, conn: _Conn, data: bytes, active: dict, waiting: list, *, keep: bool) -> None:
        req = conn.req
        self._sel.unregister(conn.sock)
        del active[conn.sock.fileno()]
        if keep:
            self._idle.setdefault(conn.where, []).append(conn.sock)
        else:
            conn.sock.close()
        if req.status in RETRY_STATUS and req.attempt < ATTEMPTS:
            log.warning("Retrying (attempt %d of %d) after HTTP %d: GET %s", req.attempt + 1, ATTEMPTS,
                        req.status, masked(req.url))
            waiting.append((time.monotonic() + self.backoff * req.attempt, req))
            return
        req.body = data

    def _stale(self, conn: _Conn) -> None:
        """A kept connection that failed before any answer had been closed by the server while
        idle: its request goes again on a new connection, and that is not counted as an attempt."""
        if conn.reused and not conn.buf:
            conn.req.attempt -= 1
            conn.req.fresh = True

    def _drop(self, conn: _Conn, active: dict) -> None:
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        active.pop(conn.sock.fileno(), None)
        conn.sock.close()

    def _retry_or_fail(self, req: Request, waiting: list, exc, *, connect: bool = False) -> None:
        if exc is None:
            exc = req.error
        if req.attempt < ATTEMPTS:
            log.warning("Retrying (attempt %d of %d) after %r: GET %s", req.attempt + 1, ATTEMPTS, exc,
                        masked(req.url))
            req.error = None
            req.status, req.response_headers = 0, {}
            waiting.append((time.monotonic() + self.backoff * (req.attempt - 1), req))
            return
        req.error = _unreachable(req, exc)


def _address(host: str, port: int):
    if host.startswith("["):
        host = host[1:-1]
    if ":" in host:
        return host, port, 0, 0
    try:
        socket.inet_aton(host)
        return host, port
    except OSError:
        return socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]


def _unreachable(req: Request, exc) -> BaseException:
    from botocore.exceptions import EndpointConnectionError

    err = EndpointConnectionError(endpoint_url=req.url.split("?")[0], error=exc)
    err.__cause__ = exc if isinstance(exc, BaseException) else None
    return err


def _read_timeout(req: Request, exc) -> BaseException:
    from botocore.exceptions import ReadTimeoutError

    return ReadTimeoutError(endpoint_url=req.url.split("?")[0], error=exc)
