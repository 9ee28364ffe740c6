"""One place that decides what an error means: permanent or transient, and what to tell a person."""

from __future__ import annotations

import errno
import shlex
import sys
from dataclasses import dataclass

from botocore import exceptions as bx

# Retrying these cannot help: the user must change something first.
PERMANENT_CODES = frozenset({
    "AccessDenied", "AllAccessDisabled", "NoSuchBucket", "NoSuchKey", "NoSuchUpload",
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName", "InvalidObjectState",
    "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AccountProblem",
    "MethodNotAllowed", "InvalidArgument", "InvalidRequest", "EntityTooLarge", "KeyTooLongError",
    "404", "403", "NotFound", "Forbidden",
})
# A key that is not there: a GET's code, or a HEAD's bare status (its answer has no body).
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# These clear up by themselves: retry with backoff.
TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
    "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
    "500", "502", "503", "504", "BadDigest", "IncompleteBody",
})

_NETWORK_ERRORS = (
    bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
    bx.ConnectionClosedError, bx.ResponseStreamingError, bx.IncompleteReadError,
)


# Local disk conditions that retrying cannot fix.
_DISK_ERRORS = {errno.ENOSPC: "DiskFull", errno.EDQUOT: "QuotaExceeded", errno.EROFS: "ReadOnlyFileSystem",
                errno.ENAMETOOLONG: "NameTooLong", errno.EFBIG: "FileTooLarge"}
_DISK_MESSAGES = {errno.ENOSPC: "The disk is full", errno.EDQUOT: "The disk quota is exceeded",
                  errno.EROFS: "The file system is read-only", errno.ENAMETOOLONG: "The file name is too long",
                  errno.EFBIG: "The file is too large for this file system (or your file size limit)"}


class NotS3Error(Exception):
    """The endpoint answered, but not as an S3 server would (an HTML page, a proxy's login)."""

    def __init__(self, url: str, content_type: str):
        super().__init__(f"{url} answered with {content_type or 'something'} that is not an S3 response")
        self.url, self.content_type = url, content_type


@dataclass(frozen=True)
class ErrorInfo:
    """What went wrong, in a form a person and a retry loop can both use."""

    permanent: bool
    code: str
    message: str
    detail: str = ""
    request_id: str = ""

    @property
    def kind(self) -> str:
        return "permanent" if self.permanent else "transient"


def _where(bucket: str | None, key: str | None) -> str:
    if not bucket:
        return "the endpoint"
    return f"s3://{bucket}/{key or ''}"


def _endpoint_tried(exc: BaseException) -> str:
    """The scheme and host botocore tried to connect to (its error's URL, without the request)."""
    from urllib.parse import urlsplit

    url = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def no_bucket_message(bucket: str | None) -> str:
    """How a missing bucket is said, whichever request found it (a listing's NoSuchBucket, a HEAD's 404)."""
    return f"Bucket '{bucket}' does not exist at this endpoint." if bucket else "The bucket does not exist."


def _client_error_message(code: str, status: int, where: str, bucket: str | None, original: str) -> str:
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        return f"Access denied to {where}: check the profile's permissions."
    if code == "NoSuchBucket":
        return no_bucket_message(bucket)
    if code in NOT_FOUND_CODES:
        return f"{where} was not found: it may have been deleted or renamed."
    if code == "InvalidAccessKeyId":
        return "The access key is not known to this endpoint: check the profile's credentials."
    if code == "SignatureDoesNotMatch":
        return "The secret key does not match the access key: check the profile's credentials."
    if code in ("ExpiredToken", "InvalidToken", "TokenRefreshRequired"):
        return "The session token has expired: sign in again (for example `aws sso login`)."
    if code == "InvalidObjectState":  # GET of a Glacier / Deep Archive object not (yet) restored
        return (f"{where} is archived (Glacier or Deep Archive) and cannot be read until it is restored: "
                "request a restore (Restore… in the browser, or `lakegui-cli restore`), then try again once it "
                "has finished.")
    if code == "InvalidBucketName":
        return f"'{bucket}' is not a valid bucket name."
    if code in ("SlowDown", "Throttling", "ThrottlingException", "TooManyRequests", "RequestLimitExceeded"):
        return "The server asked us to slow down; retrying with backoff."
    if status >= 500 or code in TRANSIENT_CODES:
        return f"The server had a temporary problem ({code}); retrying may help."
    return f"The server refused the request to {where}: {original}"


def classify(exc: BaseException, *, bucket: str | None = None, key: str | None = None,
             endpoint: str | None = None, version_id: str | None = None) -> ErrorInfo:
    """Classify an exception from boto3 or the local file system.

    `bucket`, `key`, `endpoint` and `version_id` (of a request for one version) only make the
    message concrete.
    """
    where = _where(bucket, key)
    target = endpoint or "the S3 endpoint"
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) or {}
        meta = exc.response.get("ResponseMetadata", {}) or {}
        code = str(err.get("Code") or meta.get("HTTPStatusCode") or "Unknown")
        status = int(meta.get("HTTPStatusCode") or 0)
        request_id = str(meta.get("RequestId") or "")
        if code in PERMANENT_CODES:
            permanent = True
        elif code in TRANSIENT_CODES or status >= 500 or status == 429:
            permanent = False
        else:
            permanent = 400 <= status < 500 or status == 0
        original = str(err.get("Message") or exc)
        if version_id and (code == "MethodNotAllowed" or status == 405):  # S3's answer to a GET or HEAD of a marker
            return ErrorInfo(True, code, f"version {version_id!r} of {where} is a delete marker, which holds no "
                                         f"data: `lakegui-cli ls {shlex.quote(where)} --versions` lists the "
                                         "versions before it.", detail=str(exc), request_id=request_id)
        if version_id and (code == "NoSuchVersion" or code in NOT_FOUND_CODES or
                           code in ("InvalidArgument", "400", "Bad Request")):
            # A HEAD names no code; a malformed id is a 400. Either way: no such version of the key.
            return ErrorInfo(True, code, f"{where} has no version {version_id!r}: `lakegui-cli ls "
                                         f"{shlex.quote(where)} --versions` lists its versions.", detail=str(exc),
                             request_id=request_id)
        return ErrorInfo(permanent, code, _client_error_message(code, status, where, bucket, original),
                         detail=str(exc), request_id=request_id)
    if isinstance(exc, bx.NoCredentialsError):
        return ErrorInfo(True, "NoCredentials",
                         "No AWS credentials were found: configure a profile (`aws configure`), "
                         "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or sign in with SSO.", str(exc))
    if isinstance(exc, bx.PartialCredentialsError):
        return ErrorInfo(True, "PartialCredentials", f"The credentials are incomplete: {exc}", str(exc))
    if isinstance(exc, bx.ProfileNotFound):
        return ErrorInfo(True, "ProfileNotFound",
                         f"{exc}. Pick a profile from your AWS config, or leave it empty.", str(exc))
    ssl = sys.modules.get("ssl")  # not imported: no certificate was checked
    if isinstance(exc, bx.SSLError) or (ssl is not None and isinstance(exc, ssl.SSLCertVerificationError)):
        return ErrorInfo(True, "SSLError",
                         f"The TLS certificate of {target} could not be verified.", str(exc))
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        tried = endpoint or _endpoint_tried(exc) or "the S3 endpoint"  # which one, when none was named
        return ErrorInfo(False, "EndpointConnectionError",
                         f"Cannot reach {tried}: check the endpoint URL and your network.", str(exc))
    if isinstance(exc, _NETWORK_ERRORS):
        return ErrorInfo(False, "NetworkError",
                         f"The connection to {target} failed mid-request; retrying may help.", str(exc))
    if isinstance(exc, NotS3Error) or _unparsable(exc):
        return ErrorInfo(True, "NotS3", f"{target} did not answer like an S3 server: check the endpoint URL "
                                        "(and that nothing in between, such as a proxy login page, answers instead).",
                         str(exc))
    if isinstance(exc, bx.ParamValidationError):
        return ErrorInfo(True, "InvalidParameter", f"Invalid request: {exc}", str(exc))
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
        where_local = f" writing {exc.filename}" if exc.filename else ""
        return ErrorInfo(True, _DISK_ERRORS[exc.errno], f"{_DISK_MESSAGES[exc.errno]}{where_local}.", str(exc))
    if isinstance(exc, FileNotFoundError):
        return ErrorInfo(True, "FileNotFound", f"Local file not found: {exc.filename}", str(exc))
    if isinstance(exc, PermissionError):
        return ErrorInfo(True, "PermissionDenied", f"Permission denied: {exc.filename}", str(exc))
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return ErrorInfo(True, "InvalidEndpoint", f"Invalid endpoint URL: {exc}", str(exc))
    if isinstance(exc, OSError):
        return ErrorInfo(False, "OSError", f"{exc.strerror or exc}", str(exc))
    # Unknown failures are bugs or misuse; retrying would only repeat them.
    return ErrorInfo(True, type(exc).__name__, str(exc) or type(exc).__name__, repr(exc))


def _unparsable(exc: BaseException) -> bool:
    """Whether botocore could not parse the answer. Its parsers are looked up, not imported: a
    process that never loaded them (the native engine's download: 0.1 s of botocore.compat,
    urllib3 and the rest) cannot have raised their error."""
    parsers = sys.modules.get("botocore.parsers")
    return parsers is not None and isinstance(exc, parsers.ResponseParserError)
