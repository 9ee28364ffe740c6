"""Ranged GETs without botocore's per-request machinery, for scans of many small ranges.

botocore spends a couple of milliseconds of Python per request (serialising, signing, hooks,
parsing), which is most of the cost of a lake query whose files each need a footer and a few
column chunks. Here each object is presigned once (locally, from the same credentials) and every
ranged GET of it goes over a keep-alive connection of the thread's (raw listings presign too,
listing._raw_page).
Range and If-Match are not part of a presigned URL's signature, so one URL serves every range.
Errors come back as botocore ClientErrors, so callers classify them as they would botocore's.
Only for named endpoints: in-process test doubles of AWS intercept botocore itself.
"""

from __future__ import annotations

import io
import threading
import time
import xml.etree.ElementTree as ET

PRESIGN_SECONDS = 900
REUSE_SECONDS = 600   # a URL is presigned again after this, well before it expires
TIMEOUT = 30
MAX_TARGETS = 100_000  # presigned URLs kept per RawGets
ATTEMPTS = 4          # a dropped keep-alive connection or a 5xx is tried again, with a short pause
RETRY_STATUS = (500, 502, 503, 504)
def _new_connection(scheme: str, netloc: str, verify):
    """http.client directly: urllib3 spends about 0.4 ms of Python per request re-encoding a
    presigned URL's long query string."""
    import http.client

    if scheme == "https":
        import ssl

        from botocore.httpsession import get_cert_path

        ctx = ssl.create_default_context(cafile=get_cert_path(verify)) if verify is not False \
            else ssl._create_unverified_context()
        return http.client.HTTPSConnection(netloc, timeout=TIMEOUT, context=ctx)
    return http.client.HTTPConnection(netloc, timeout=TIMEOUT)


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
        self._local = threading.local()   # one keep-alive connection per thread and endpoint
        self._opened: list = []

    def _connection(self, scheme: str, netloc: str):
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        conn = conns.get((scheme, netloc))
        if conn is None:
            conn = conns[(scheme, netloc)] = _new_connection(scheme, netloc, self.verify)
            with self._lock:
                self._opened.append(conn)
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = getattr(self._local, "conns", {}).pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every connection opened (a later GET opens a new one)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

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
        import http.client

        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        scheme, netloc, target, url = self._target(Bucket, Key, VersionId)
        headers = {"Host": netloc}
        if Range:
            headers["Range"] = Range
        if IfMatch:
            headers["If-Match"] = IfMatch
        for attempt in range(ATTEMPTS):
            conn = self._connection(scheme, netloc)
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except TimeoutError as exc:
                self._drop(scheme, netloc)
                raise ReadTimeoutError(endpoint_url=url.split("?")[0], error=exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(scheme, netloc)
                if attempt + 1 == ATTEMPTS:
                    raise EndpointConnectionError(endpoint_url=url.split("?")[0], error=exc) from exc
                time.sleep(0.05 * attempt)
                continue
            if resp.status in RETRY_STATUS and attempt + 1 < ATTEMPTS:
                time.sleep(0.1 * (attempt + 1))
                continue
            break
        if resp.will_close:
            self._drop(scheme, netloc)
        if resp.status >= 300:
            code, message = str(resp.status), resp.reason or ""
            try:
                root = ET.fromstring(data) if data else None
            except ET.ParseError:
                root = None
            if root is not None:
                code = root.findtext("Code") or code
                message = root.findtext("Message") or message
            if resp.status == 412:
                code = "PreconditionFailed"
            raise ClientError({"Error": {"Code": code, "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": resp.status}}, "GetObject")
        return {"Body": io.BytesIO(data), "ContentLength": len(data)}
