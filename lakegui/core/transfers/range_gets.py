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
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable

from awscrt.auth import AwsSignedBodyHeaderType, AwsSignedBodyValue, AwsSigningConfig, aws_sign_request
from awscrt.http import HttpHeaders, HttpRequest

from ..lake import fetch

ERROR_BODY = 64 * 1024  # of an error answer, enough for its XML
# What one readinto asks for. A buffered readinto fills all it is given before it returns, so a
# whole 8 MiB part was one call: progress (and the stall watch, 60 s without a byte) saw nothing
# until a part ended, minutes on a slow link. 256 KiB is 4,096 calls a GiB, each one in C.
READ = 256 * 1024
log = logging.getLogger(__name__)


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


class SizeChanged(Exception):
    """The object's size is not the one the download was planned for (listed before it changed)."""

    def __init__(self, size: int):
        super().__init__(f"the object now has {size:,} bytes")
        self.size = size


class RangeGets:
    """The GETs of `spans` ([start, end) byte ranges of one object of `size` bytes) in `part_size`
    pieces on `threads` threads. Looks like a native request to the engine: `cancel()` and a
    `finished_future` that holds None or the first error. A part that fails on the way (a dropped
    connection, a 5xx, a short body) is fetched again here, as the native client retries its
    parts, before it fails the download. Every answer must come from one object: the ETag given
    (`etag`), else the first answer's, is sent as If-Match and checked, so a replaced object is a
    412 (PreconditionFailed), and a size other than `size` is SizeChanged."""

    def __init__(self, *, scheme: str, host: str, path: str, size: int, spans: Iterable[tuple[int, int]],
                 part_size: int, threads: int, signing: AwsSigningConfig, headers: list[tuple[str, str]],
                 on_body: Callable[[memoryview, int], None], on_progress: Callable[[int], None],
                 on_headers: Callable[[int, list[tuple[str, str]]], None] | None = None, etag: str = "",
                 timeout: float = fetch.TIMEOUT, attempts: int = fetch.ATTEMPTS, backoff: float = 0.2):
        self._scheme, self._host, self._path = scheme, host, path
        self._size = size
        self._signing = signing
        self._headers = headers
        self._on_body, self._on_progress, self._on_headers = on_body, on_progress, on_headers
        self._etag = etag.strip('"').lower()
        self._timeout = timeout
        self._attempts, self._backoff = attempts, backoff
        self._parts = [(s, min(s + part_size, end)) for start, end in spans for s in range(start, end, part_size)]
        self._next = 0
        self._done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()  # cancelled, or failed: every thread ends at its next step
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
        for started, t in enumerate(self._threads):
            try:
                t.start()
            except BaseException as exc:  # no thread to be had: the ones started stop, and say why
                with self._lock:
                    self._running -= count - started
                    none_left = self._running == 0
                self._fail(exc)
                self._threads = self._threads[:started]
                if none_left:
                    self.finished_future.set_exception(exc)
                break

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
        self._halt()

    def _fail(self, exc: BaseException) -> None:
        """The first error ends the download: the other threads stop too."""
        with self._lock:
            if self._error is None:
                self._error = Cancelled() if self._cancelled else exc
        self._halt()

    def _halt(self) -> None:
        self._stop.set()
        with self._lock:
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
            if self._stop.is_set() or self._next >= len(self._parts):
                return None
            self._next += 1
            return self._parts[self._next - 1]

    def _work(self) -> None:
        view = memoryview(bytearray(self._buffer))
        conn = None
        try:
            while (part := self._take()) is not None:
                conn = self._fetch(conn, part, view)
                with self._lock:
                    self._done += 1
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on finished_future
            self._fail(exc)
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
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(self._host, timeout=self._timeout, context=_tls_context())
        else:
            conn = http.client.HTTPConnection(self._host, timeout=self._timeout)
        with self._lock:
            self._open.add(conn)
        try:
            conn.connect()
        except BaseException:
            self._close(conn)
            raise
        if self._stop.is_set():  # cancelled while connecting: the shutdown found no socket yet
            self._close(conn)
            raise Cancelled()
        return conn

    def _close(self, conn) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def _fetch(self, conn, part: tuple[int, int], view: memoryview):
        """One part, tried again on a new connection after a transient failure; the connection to
        use next."""
        for attempt in range(1, self._attempts + 1):
            counted = [0]
            try:
                conn = conn or self._connect()
                self._get(conn, part, view, counted)
                break
            except (Cancelled, SizeChanged):
                raise
            except Exception as exc:
                if conn is not None:
                    self._close(conn)
                    conn = None
                self._on_progress(-counted[0])  # that part's bytes come again
                if self._stop.is_set():
                    raise Cancelled() if self._cancelled else exc
                if attempt == self._attempts or not _transient(exc):
                    raise
                log.info("part %d-%d of %s failed (%s); trying again", part[0], part[1], self._path, exc)
                if self._stop.wait(self._backoff * attempt):
                    raise Cancelled() if self._cancelled else exc
        self._on_body(view[:part[1] - part[0]], part[0])
        return conn

    def _get(self, conn, part: tuple[int, int], view: memoryview, counted: list[int]) -> None:
        start, end = part
        length = end - start
        try:
            resp = self._send(conn, start, end)
            if resp.status >= 300:
                raise fetch.client_error(resp.status, resp.reason, resp.read(ERROR_BODY))
            self._check(resp, start, length)
            got = 0
            while got < length:
                if self._stop.is_set():
                    raise Cancelled()
                n = resp.readinto(view[got:min(length, got + READ)])
                if not n:
                    raise ConnectionError(f"the connection closed {length - got} bytes before the part's end")
                got += n
                counted[0] += n
                self._on_progress(n)
            if resp.read(1):
                raise ConnectionError("the server sent more than the range asked for")
        except http.client.HTTPException as exc:  # a garbled or cut answer: the connection's fault
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def _check(self, resp, start: int, length: int) -> None:
        """The answer is this part of the object the download began with."""
        total = _total(resp.getheader("Content-Range", ""), resp.status, resp.length)
        if total is not None and total != self._size:
            raise SizeChanged(total)
        if resp.status != 206 and not (resp.status == 200 and start == 0 and resp.length == length):
            raise ConnectionError(f"the server answered a ranged GET with HTTP {resp.status}")
        etag = (resp.getheader("ETag") or "").strip('"').lower()
        with self._lock:
            first, self._answered = not self._answered, True
            if not self._etag:
                self._etag = etag  # the object this download is of: If-Match on every later part
            expected = self._etag
        if etag and expected and etag != expected:
            raise fetch.client_error(412, "Precondition Failed", b"")  # replaced between two parts
        if first and self._on_headers is not None:
            self._on_headers(resp.status, resp.getheaders())

    def _send(self, conn, start: int, end: int):
        headers = [("Host", self._host), ("Range", f"bytes={start}-{end - 1}"), *self._headers]
        if self._etag and not any(name.lower() == "if-match" for name, _ in self._headers):
            headers.append(("If-Match", f'"{self._etag}"'))
        signed = aws_sign_request(HttpRequest("GET", self._path, HttpHeaders(headers)), self._signing).result()
        conn.putrequest("GET", self._path, skip_host=True, skip_accept_encoding=True)
        for name, value in signed.headers:
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse()


_TLS: list = []


def _tls_context() -> ssl.SSLContext:
    """What the native client trusts (the system's certificates), and what botocore does (its
    bundle, AWS_CA_BUNDLE): an endpoint the HEAD before the GETs reached must not fail them. This
    engine never runs with verification off (crt_engine.unsupported_reason)."""
    if not _TLS:
        import os

        from botocore.httpsession import get_cert_path

        ctx = ssl.create_default_context()
        for bundle in (get_cert_path(True), os.environ.get("AWS_CA_BUNDLE")):
            if bundle and os.path.exists(bundle):
                ctx.load_verify_locations(cafile=bundle)
        _TLS.append(ctx)
    return _TLS[0]


def _total(content_range: str, status: int, length: int | None) -> int | None:
    """The object's size an answer states: after the '/' of a 206's Content-Range, or a 200's
    length; None when it says none ('*')."""
    if status == 206:
        tail = content_range.rpartition("/")[2].strip()
        return int(tail) if tail.isdigit() else None
    return length if status == 200 else None


def _transient(exc: BaseException) -> bool:
    """Whether fetching the part again may help: a dropped or stalled connection, or the server
    busy or failing (5xx, 429); not a refusal (403, 404, 412) or a certificate."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    if isinstance(exc, OSError):
        return True
    response = getattr(exc, "response", None)  # a ClientError's (fetch.client_error)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if isinstance(response, dict) else 0
    return status in fetch.RETRY_STATUS or status == 429
