"""Ranged GETs without botocore's per-request machinery, for scans of many small ranges.

botocore spends a couple of milliseconds of Python per request (serialising, signing, hooks,
parsing), which is most of the cost of a lake query whose files each need a footer and a few
column chunks. Here each object is presigned once (locally, from the same credentials) and every
ranged GET of it goes over a keep-alive http.client connection (Connections, which raw listings
share too: listing.presigned_xml).
Range and If-Match are not part of a presigned URL's signature, so one URL serves every range.
Errors come back as botocore ClientErrors, so callers classify them as they would botocore's.
Only for named endpoints: in-process test doubles of AWS intercept botocore itself.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import xml.etree.ElementTree as ET

PRESIGN_SECONDS = 900
REUSE_SECONDS = 600   # a URL is presigned again after this, well before it expires
TIMEOUT = 30
MAX_TARGETS = 100_000  # presigned URLs kept per RawGets
ATTEMPTS = 4          # a dropped keep-alive connection or a 5xx is tried again, with a short pause
RETRY_STATUS = (500, 502, 503, 504)
MAX_IDLE = 16         # idle connections kept per endpoint

log = logging.getLogger(__name__)


def masked(url: str) -> str:
    """`url` as it may be logged: its signature masked by logs.scrub, as the GUI's log shows it. At
    the call, not only in a handler: a notebook has no handler of ours, and Python's last-resort
    one printed the live signature to stderr."""
    from ..logs import scrub

    return scrub(url)


def _new_connection(scheme: str, netloc: str, verify, timeout: float = TIMEOUT):
    """http.client directly: urllib3 spends about 0.4 ms of Python per request re-encoding a
    presigned URL's long query string, and 0.1 s importing itself (a third of an `ls`)."""
    import http.client

    if scheme == "https":
        import ssl

        from botocore.httpsession import get_cert_path

        ctx = ssl.create_default_context(cafile=get_cert_path(verify)) if verify is not False \
            else ssl._create_unverified_context()
        return http.client.HTTPSConnection(netloc, timeout=timeout, context=ctx)
    return http.client.HTTPConnection(netloc, timeout=timeout)


class ConnectError(OSError):
    """The endpoint could not be reached (refused, unresolvable, or no answer within the connect timeout)."""


class Connections:
    """Keep-alive http.client connections per endpoint (scheme, host), each lent to one request at a
    time and kept for the next once its response has been read. Each RawGets has its own (its close()
    ends them); listings share `shared(verify)`, so an `ls` and its later pages reuse one socket."""

    def __init__(self, verify=True, *, connect_timeout: float = TIMEOUT, read_timeout: float = TIMEOUT):
        self.verify = verify
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._idle: dict[tuple[str, str], list] = {}
        self._lock = threading.Lock()

    def _take(self, scheme: str, netloc: str):
        with self._lock:
            idle = self._idle.get((scheme, netloc))
            if idle:
                return idle.pop()
        conn = _new_connection(scheme, netloc, self.verify, self.connect_timeout)
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            raise ConnectError(str(exc)) from exc
        # The connect timeout only bounds the connect; a slow answer may take the read timeout.
        conn.timeout = self.read_timeout
        conn.sock.settimeout(self.read_timeout)
        return conn

    def _keep(self, scheme: str, netloc: str, conn) -> None:
        with self._lock:
            idle = self._idle.setdefault((scheme, netloc), [])
            if len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection (a later request opens a new one)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def get(self, scheme: str, netloc: str, target: str, headers: dict, *, url: str,
            attempts: int = ATTEMPTS, backoff: float = 0.1):
        """GET `target` (path?query) from the endpoint: (response, body). A connection that fails or
        a 5xx answer is tried again, up to `attempts` in all, each retry logged (to the log file);
        errors come back as botocore's: ReadTimeoutError when the endpoint stops answering,
        EndpointConnectionError when it cannot be reached. `url` names the request in messages."""
        import http.client

        endpoint = url.split("?")[0]
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                conn = self._take(scheme, netloc)
            except ConnectError as exc:
                if last:
                    _raise_unreachable(endpoint, exc)
                log.warning("Retrying (attempt %d of %d) after %s: GET %s", attempt + 2, attempts, exc, masked(url))
                time.sleep(backoff * attempt)
                continue
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except TimeoutError as exc:
                conn.close()
                from botocore.exceptions import ReadTimeoutError

                raise ReadTimeoutError(endpoint_url=endpoint, error=exc) from exc
            except (OSError, http.client.HTTPException) as exc:  # a keep-alive connection the server dropped
                conn.close()
                if last:
                    _raise_unreachable(endpoint, exc)
                log.warning("Retrying (attempt %d of %d) after %r: GET %s", attempt + 2, attempts, exc, masked(url))
                time.sleep(backoff * attempt)
                continue
            if resp.will_close:
                conn.close()
            else:
                self._keep(scheme, netloc, conn)
            if resp.status in RETRY_STATUS and not last:
                log.warning("Retrying (attempt %d of %d) after HTTP %d: GET %s", attempt + 2, attempts,
                            resp.status, masked(url))
                time.sleep(backoff * (attempt + 1))
                continue
            return resp, data
        raise AssertionError("unreachable")  # the last attempt returns or raises


def _raise_unreachable(endpoint: str, exc: Exception):
    from botocore.exceptions import EndpointConnectionError

    raise EndpointConnectionError(endpoint_url=endpoint, error=exc) from exc


_SHARED: dict[str, Connections] = {}
_SHARED_LOCK = threading.Lock()


def shared(verify=True) -> Connections:
    """The process's Connections for listings (interactive timeouts: 3 s to connect, 20 s to answer),
    one per TLS verification setting."""
    with _SHARED_LOCK:
        pool = _SHARED.get(str(verify))
        if pool is None:
            pool = _SHARED[str(verify)] = Connections(verify, connect_timeout=3, read_timeout=20)
        return pool


_SENTINEL = "lakegui-presign-check/a=b c+d~e"


class _Presigner:
    """SigV4 query signing for many keys of one bucket, from one URL botocore presigned (2-3 ms of
    Python each, more than the GET itself). The URL's date, scope and layout are reused, and the
    signature computed with hmac; the sentinel key's own signature must come out as botocore's,
    else nothing here is used."""

    def __init__(self, url: str, key: str, secret: str):
        from urllib.parse import parse_qsl, quote, urlsplit

        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        encoded = quote(key, safe="/~")
        if not parts.path.endswith(encoded) or params.get("X-Amz-SignedHeaders") != "host":
            raise ValueError("unexpected presigned URL layout")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.path_prefix = parts.path[: -len(encoded)]
        self.signature = params.pop("X-Amz-Signature")
        self.params = params
        access, date, region, service, _ = params["X-Amz-Credential"].split("/")
        self.scope = f"{date}/{region}/{service}/aws4_request"
        k = _hmac(("AWS4" + secret).encode(), date)
        for part in (region, service, "aws4_request"):
            k = _hmac(k, part)
        self.signing_key = k
        if self._sign(encoded, {}) != self.signature:
            raise ValueError("the signature does not match botocore's")

    def _sign(self, encoded_key: str, extra: dict) -> str:
        import hashlib
        import hmac
        from urllib.parse import quote

        params = dict(self.params, **extra)
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
        canonical = f"GET\n{self.path_prefix}{encoded_key}\n{query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = "\n".join(("AWS4-HMAC-SHA256", params["X-Amz-Date"], self.scope,
                             hashlib.sha256(canonical.encode()).hexdigest()))
        return hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()

    def url(self, key: str, version: str = "") -> str:
        from urllib.parse import quote, urlencode

        encoded = quote(key, safe="/~")
        extra = {"versionId": version} if version else {}
        params = dict(self.params, **extra)
        params["X-Amz-Signature"] = self._sign(encoded, extra)
        return f"{self.base}{self.path_prefix}{encoded}?{urlencode(params, safe='-_.~', quote_via=quote)}"


def _hmac(key: bytes, msg: str) -> bytes:
    import hashlib
    import hmac

    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class RawGets:
    """Stands in for a boto3 client where RangeFile calls `get_object(Bucket, Key, Range, IfMatch)`."""

    def __init__(self, client, verify=True):
        self.client = client
        self.verify = verify
        self._signers: dict[str, tuple[_Presigner | None, float]] = {}
        self._targets: dict[tuple[str, str, str], tuple[str, str, str, str]] = {}
        self._lock = threading.Lock()
        self._connections = Connections(verify)  # as many as GETs run at once, kept alive between them

    def close(self) -> None:
        """Close every connection opened (a later GET opens a new one)."""
        self._connections.close()

    def _target(self, bucket: str, key: str, version: str) -> tuple[str, str, str, str]:
        """(scheme, host, path?query, url) of the key's presigned URL, made once per key while
        its signer is fresh: a file's footer and chunks share it."""
        from urllib.parse import urlsplit

        now = time.monotonic()
        with self._lock:
            signer = self._signers.get(bucket)
            hit = self._targets.get((bucket, key, version))
        if signer is None or now - signer[1] >= REUSE_SECONDS:
            signer = (self._presigner(bucket), now)
            with self._lock:
                self._signers[bucket] = signer
                self._targets.clear()
            hit = None
        if hit is not None:
            return hit
        if signer[0] is not None:
            url = signer[0].url(key, version)
        else:
            params = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
            url = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGN_SECONDS)
        parts = urlsplit(url)
        hit = (parts.scheme, parts.netloc, f"{parts.path}?{parts.query}", url)
        with self._lock:
            if len(self._targets) >= MAX_TARGETS:
                self._targets.clear()
            self._targets[(bucket, key, version)] = hit
        return hit

    def _presigner(self, bucket: str):
        """A _Presigner for the bucket, or None (then botocore presigns every key)."""
        url = self.client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": _SENTINEL},
                                                 ExpiresIn=PRESIGN_SECONDS)
        try:
            creds = self.client._request_signer._credentials.get_frozen_credentials()
            return _Presigner(url, _SENTINEL, creds.secret_key)
        except (AttributeError, KeyError, ValueError):
            return None

    def get_object(self, *, Bucket: str, Key: str, Range: str = "", IfMatch: str = "",
                   VersionId: str = "") -> dict:
        scheme, netloc, target, url = self._target(Bucket, Key, VersionId)
        headers = {"Host": netloc}
        if Range:
            headers["Range"] = Range
        if IfMatch:
            headers["If-Match"] = IfMatch
        resp, data = self._connections.get(scheme, netloc, target, headers, url=url)
        if resp.status >= 300:
            raise client_error(resp.status, resp.reason, data)
        return {"Body": io.BytesIO(data), "ContentLength": len(data)}

    def target(self, bucket: str, key: str, version: str = "") -> tuple[str, str, str, str]:
        """(scheme, host[:port], path?query, url) of the key's presigned GET (one per key, reused)."""
        return self._target(bucket, key, version)


def client_error(status: int, reason: str, data: bytes):
    """The botocore ClientError an S3 error answer (status, reason, XML body) stands for."""
    from botocore.exceptions import ClientError

    code, message = str(status), reason or ""
    try:
        root = ET.fromstring(data) if data else None
    except ET.ParseError:
        root = None
    if root is not None:
        code = root.findtext("Code") or code
        message = root.findtext("Message") or message
    if status == 412:
        code = "PreconditionFailed"
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")
