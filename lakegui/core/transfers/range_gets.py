"""A big download as ranged GETs on a few Python threads, each over its own keep-alive
http.client connection, signed by awscrt's SigV4 signer in C.

Why not the native client, which moves everything else: measured on a 1 GiB download against
loopback SeaweedFS (bench/crt_floor.py, docs/BENCHMARKS.md), the bare CRT GET, verified, took
1.7x s5cmd's time and 400 MB, and this way 1.2-1.4x and 60-90 MB. The CRT holds parts back to
hand them over in order, and its C callbacks into Python cost more than a thread's readinto and
pwrite, which release the GIL. s3transfer's download goes through botocore's per-request
machinery and a queue of small chunks, which is slower still (aws's figures in the same runs).

Parts come back in any order: `on_body(view, offset)` gets each whole part once its bytes are in
hand (the view is reused after the call returns), `on_progress(n)` every read, for a smooth
progress bar and the stall watch. Errors are botocore ClientErrors (fetch.client_error), or the
OSError of the connection, so the engine's retry loop classifies them as it does botocore's.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import socket
import threading
from collections.abc import Callable, Iterable

from awscrt.auth import AwsSignedBodyHeaderType, AwsSignedBodyValue, AwsSigningConfig, aws_sign_request
from awscrt.http import HttpHeaders, HttpRequest

from ..lake import fetch

ERROR_BODY = 64 * 1024  # of an error answer, enough for its XML


class Cancelled(Exception):
    """The GETs were cancelled (a pause or a cancel); the engine reports the job's own reason."""


def signing_config(base: AwsSigningConfig) -> AwsSigningConfig:
    """S3's SigV4 for a GET with no body: the path signed as sent (S3 neither double-encodes nor
    normalises keys, so `a//b` and `a/../b` stay themselves), UNSIGNED-PAYLOAD in its header."""
    return AwsSigningConfig(algorithm=base.algorithm, signature_type=base.signature_type,
                            credentials_provider=base.credentials_provider, region=base.region, service="s3",
                            use_double_uri_encode=False, should_normalize_uri_path=False,
                            signed_body_value=AwsSignedBodyValue.UNSIGNED_PAYLOAD,
                            signed_body_header_type=AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256)


class RangeGets:
    """The GETs of `spans` ([start, end) byte ranges of one object) in `part_size` pieces on
    `threads` threads. Looks like a native request to the engine: `cancel()` and a
    `finished_future` that holds None or the first error."""

    def __init__(self, *, scheme: str, host: str, path: str, spans: Iterable[tuple[int, int]], part_size: int,
                 threads: int, signing: AwsSigningConfig, headers: list[tuple[str, str]],
                 on_body: Callable[[memoryview, int], None], on_progress: Callable[[int], None],
                 on_headers: Callable[[int, list[tuple[str, str]]], None] | None = None,
                 timeout: float = fetch.TIMEOUT, verify=True):
        self._scheme, self._host, self._path = scheme, host, path
        self._signing = signing
        self._headers = headers
        self._on_body, self._on_progress, self._on_headers = on_body, on_progress, on_headers
        self._timeout, self._verify = timeout, verify
        self._parts = [(s, min(s + part_size, end)) for start, end in spans for s in range(start, end, part_size)]
        self._next = 0
        self._done = 0
        self._lock = threading.Lock()
        self._cancelled = False
        self._error: BaseException | None = None
        self._answered = False
        self._open: set = set()  # connections in use, shut on cancel to end a blocked read
        self.finished_future: concurrent.futures.Future = concurrent.futures.Future()
        self._buffer = part_size
        count = max(1, min(threads, len(self._parts)))
        self._running = count
        self._threads = [threading.Thread(target=self._work, name=f"lakegui-get-{i}", daemon=True)
                         for i in range(count)]
        for t in self._threads:
            t.start()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            conns = list(self._open)
        for conn in conns:  # a read blocked in the kernel ends with an error at once
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _take(self) -> tuple[int, int] | None:
        with self._lock:
            if self._cancelled or self._error is not None or self._next >= len(self._parts):
                return None
            self._next += 1
            return self._parts[self._next - 1]

    def _work(self) -> None:
        view = memoryview(bytearray(self._buffer))
        conn = None
        try:
            while (part := self._take()) is not None:
                conn = self._get(conn, part, view)
                with self._lock:
                    self._done += 1
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on finished_future
            with self._lock:
                if self._error is None:
                    self._error = Cancelled() if self._cancelled else exc
        finally:
            if conn is not None:
                self._close(conn)
            with self._lock:
                self._running -= 1
                last = self._running == 0
                if last and self._error is None and self._done < len(self._parts):
                    self._error = Cancelled()  # every thread stopped taking parts
            if last:
                if self._error is None:
                    self.finished_future.set_result(None)
                else:
                    self.finished_future.set_exception(self._error)

    def _connect(self):
        conn = fetch.new_connection(self._scheme, self._host, self._verify, self._timeout)
        with self._lock:
            if self._cancelled:
                raise Cancelled()
            self._open.add(conn)
        return conn

    def _close(self, conn) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def _get(self, conn, part: tuple[int, int], view: memoryview):
        """GET one part into `view` and hand it over; the connection to use next."""
        start, end = part
        length = end - start
        for attempt in (1, 2):  # a keep-alive connection the server dropped is opened again once
            conn = conn or self._connect()
            try:
                resp = self._send(conn, start, end)
                break
            except (ConnectionError, http.client.HTTPException):
                self._close(conn)
                conn = None
                if attempt == 2 or self._cancelled:
                    raise
        try:
            if resp.status >= 300:
                raise fetch.client_error(resp.status, resp.reason, resp.read(ERROR_BODY))
            if resp.status != 206 and not (resp.status == 200 and start == 0 and resp.length == length):
                raise ConnectionError(f"the server answered a ranged GET with HTTP {resp.status}")
            if self._on_headers is not None:
                with self._lock:
                    first, self._answered = not self._answered, True
                if first:
                    self._on_headers(resp.status, resp.getheaders())
            got = 0
            while got < length:
                n = resp.readinto(view[got:length])
                if not n:
                    raise ConnectionError(f"the connection closed {length - got} bytes before the part's end")
                got += n
                self._on_progress(n)
            if resp.read(1):
                raise ConnectionError("the server sent more than the range asked for")
        except BaseException:
            self._close(conn)
            raise
        self._on_body(view[:length], start)
        return conn

    def _send(self, conn, start: int, end: int):
        headers = [("Host", self._host), ("Range", f"bytes={start}-{end - 1}"), *self._headers]
        signed = aws_sign_request(HttpRequest("GET", self._path, HttpHeaders(headers)), self._signing).result()
        conn.putrequest("GET", self._path, skip_host=True, skip_accept_encoding=True)
        for name, value in signed.headers:
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse()
