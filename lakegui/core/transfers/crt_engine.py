"""The awscrt backend: the AWS Common Runtime's native S3 client moves the bytes.

It splits, parallelises and retries in C, outside the GIL, and streams straight
from and to files, which is what makes many small files fast here (see the
benchmarks). Requests are signed with credentials resolved through the same
boto3 session as everything else, refreshed as they expire.

Multipart-sized uploads do not come here: the CRT neither reports their upload id nor
continues one it did not start, and it aborts its upload on cancel, so they go through
parts.py (EngineBase.upload_parts), which can resume them (issue 19). Should one come here
anyway (the file grew past the threshold), the job records when it began, and a crash is
cleaned up by aborting that key's uploads since then.
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
import os
import re
import time
from pathlib import Path
from urllib.parse import quote, urlparse

from awscrt.auth import AwsCredentials, AwsCredentialsProvider, AwsSignatureType, AwsSigningAlgorithm, AwsSigningConfig
from awscrt.exceptions import AwsCrtError
from awscrt.http import HttpHeaders, HttpRequest
from awscrt.s3 import (
    S3ChecksumAlgorithm,
    S3ChecksumConfig,
    S3ChecksumLocation,
    S3Client,
    S3RequestTlsMode,
    S3RequestType,
    S3ResponseError,
)
from botocore.exceptions import ClientError, NoCredentialsError

from ..connection import Connection
from ..settings import TransferSettings
from . import range_gets, ranges, tuning, verify
from .engine import PENDING_UPLOAD, BadBytes, EngineBase, JobControl, JobError, Progress
from .jobs import Direction, Job, Outcome
from .range_gets import RangeGets

_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")
_HEADER_ARGS = {"ContentType": "Content-Type", "StorageClass": "x-amz-storage-class",
                "ServerSideEncryption": "x-amz-server-side-encryption",
                "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id"}
# Local conditions the CRT reports by name: permanent, and said as the file system says them.
_LOCAL_CRT = {"AWS_ERROR_NO_SPACE": "The disk is full", "AWS_ERROR_NO_PERMISSION": "Permission denied",
              "AWS_ERROR_FILE_INVALID_PATH": "The local path is not valid",
              "AWS_ERROR_MAX_FDS_EXCEEDED": "Too many open files"}
# CRT error names that retrying cannot fix.
_PERMANENT_CRT = {"AWS_IO_DNS_INVALID_NAME", "AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE", "AWS_ERROR_FILE_INVALID_PATH",
                  "AWS_ERROR_NO_PERMISSION", "AWS_IO_FILE_VALIDATION_FAILURE", "AWS_ERROR_S3_INVALID_RESPONSE_STATUS"}
log = logging.getLogger(__name__)


def refuses_checksums(exc: BaseException) -> bool:
    """Whether a failed upload is a server saying it does not take checksum headers (some
    S3-compatible servers answer 400 or 501 naming the checksum). BadDigest is the opposite: the
    server checked the checksum and the bytes arrived damaged, so that one is sent again as is."""
    if not isinstance(exc, S3ResponseError) or exc.status_code not in (400, 501):
        return False
    body = exc.body or b""
    code = _CODE.search(body)
    return b"hecksum" in body and not (code and code.group(1) == b"BadDigest")


def unsupported_reason(connection: Connection, settings: TransferSettings) -> str:
    """'' when this backend can serve the connection, else why not."""
    p = connection.profile
    if settings.max_bandwidth:
        return "a bandwidth limit is set (only s3transfer limits bandwidth)"
    if p.endpoint_url and urlparse(p.endpoint_url).scheme == "https" and not p.verify_tls:
        return "TLS verification is off for this endpoint"
    if connection.signing_credentials() is None:
        return "no credentials were found"
    return ""


class CrtEngine(EngineBase):
    name = "awscrt"

    def __init__(self, connection: Connection, settings: TransferSettings | None = None, **options):
        super().__init__(connection, settings, **options)
        p = connection.profile
        self._credentials = connection.signing_credentials()
        if self._credentials is None:
            raise NoCredentialsError()
        endpoint = connection.endpoint_url  # also one configured outside lakegui, as botocore finds it
        url = urlparse(endpoint) if endpoint else None
        self._tls = url is None or url.scheme == "https"
        self._netloc = url.netloc if url else ""
        self._region = p.region or "us-east-1"
        self._virtual = p.addressing_style == "virtual" or (url is None and p.addressing_style != "path")
        # CRC32 computed in C while sending; a server that echoes it has checked the body.
        self._checksums = True
        signing = AwsSigningConfig(algorithm=AwsSigningAlgorithm.V4,
                                   signature_type=AwsSignatureType.HTTP_REQUEST_HEADERS,
                                   service="s3", region=self._region,
                                   credentials_provider=AwsCredentialsProvider.new_delegate(self._resolve))
        self._get_signing = range_gets.signing_config(signing)
        s = self.settings
        self._s3 = S3Client(region=self._region, signing_config=signing,
                            tls_mode=S3RequestTlsMode.ENABLED if self._tls else S3RequestTlsMode.DISABLED,
                            part_size=s.multipart_chunksize, multipart_upload_threshold=s.multipart_threshold,
                            throughput_target_gbps=10.0)

    def _resolve(self) -> AwsCredentials:
        # botocore refreshes expiring credentials (SSO, assumed roles) inside get_frozen_credentials.
        f = self._credentials.get_frozen_credentials()
        return AwsCredentials(f.access_key, f.secret_key, f.token)

    def _host_and_path(self, bucket: str, key: str) -> tuple[str, str]:
        path = quote(key, safe="/~")
        if self._netloc:
            if self._virtual:
                return f"{bucket}.{self._netloc}", f"/{path}"
            return self._netloc, f"/{bucket}/{path}"
        if self._virtual and "." not in bucket:
            return f"{bucket}.s3.{self._region}.amazonaws.com", f"/{path}"
        return f"s3.{self._region}.amazonaws.com", f"/{bucket}/{path}"

    def verdict(self, exc, job):
        if isinstance(exc, S3ResponseError):
            body = exc.body or b""
            code = _CODE.search(body)
            message = _MESSAGE.search(body)
            status = exc.status_code or 0
            error = {"Code": code.group(1).decode() if code else str(status),
                     "Message": message.group(1).decode("utf-8", "replace") if message else exc.name}
            exc = ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}},
                              exc.operation_name or "PutObject")
        elif isinstance(exc, AwsCrtError):
            if exc.name in _LOCAL_CRT:
                doing = "writing" if job.direction is Direction.DOWNLOAD else "reading"
                return True, f"{_LOCAL_CRT[exc.name]} {doing} {job.local_path}."
            if exc.name in _PERMANENT_CRT:
                return True, f"{exc.message} ({exc.name})"
            where = self.connection.profile.endpoint_url or "the S3 endpoint"
            return False, f"The connection to {where} failed ({exc.name}); retrying may help."
        return super().verdict(exc, job)

    def facts(self, exc, job):
        if isinstance(exc, S3ResponseError):
            code = _CODE.search(exc.body or b"")
            headers = {k.lower(): v for k, v in (exc.headers or [])}
            return (code.group(1).decode() if code else str(exc.status_code),
                    headers.get("x-amz-request-id", ""))
        if isinstance(exc, AwsCrtError):
            return exc.name, ""
        return super().facts(exc, job)

    def _wait(self, request, progress: Progress) -> None:
        """Wait for a CRT request to finish. The CRT has no read timeout: a request that moves no
        bytes for `read_timeout` seconds is cancelled as stalled, and the retry loop tries again."""
        limit = self.settings.read_timeout
        last, since = progress.sample(), time.monotonic()
        while True:
            try:
                return request.finished_future.result(timeout=1.0)
            except concurrent.futures.TimeoutError:
                done = progress.sample()
                if done != last:
                    last, since = done, time.monotonic()
                elif time.monotonic() - since > limit:
                    request.cancel()
                    request.finished_future.exception()  # until the CRT has let go of it
                    raise JobError(f"No data moved for {limit} s: the connection stalled.", permanent=False)

    def _upload(self, job: Job, control: JobControl, progress: Progress, on_upload_id) -> Outcome:
        path, before, extra = self.upload_source(job)
        progress.reset(before.st_size)
        host, url_path = self._host_and_path(job.bucket, job.key)
        headers = [("Host", host), ("Content-Length", str(before.st_size))]
        headers += [(_HEADER_ARGS[k], v) for k, v in extra.items() if k in _HEADER_ARGS]
        for k, v in extra.get("Metadata", {}).items():
            headers.append((f"x-amz-meta-{k}", v))
        multipart = before.st_size >= self.settings.multipart_threshold
        open_before: set[str] = set()
        if multipart:
            # A cancel can land before the CRT learns its upload id, and it then leaves the upload
            # open; what is new after the attempt is ours to abort.
            open_before = self.open_uploads(job)
            if on_upload_id:
                on_upload_id(f"{PENDING_UPLOAD}{time.time():.0f}")  # so a crash can find and abort it
        got: dict = {}
        checksum = S3ChecksumConfig(algorithm=S3ChecksumAlgorithm.CRC32, location=S3ChecksumLocation.HEADER) \
            if self._checksums and not multipart else None
        request = self._s3.make_request(
            type=S3RequestType.PUT_OBJECT, request=HttpRequest("PUT", url_path, HttpHeaders(headers)),
            send_filepath=str(path), on_progress=progress.add, checksum_config=checksum,
            max_active_connections_override=tuning.plan(before.st_size, tuning.UPLOAD, self.settings).connections
            if multipart else None,
            on_headers=lambda status_code, headers, **kw: got.update((k.lower(), v) for k, v in headers))
        control.attach(request)
        try:
            # A multipart ETag is hashed here while the CRT sends, outside the GIL.
            expected = self.expected_etag(path, before.st_size) if multipart else None
            self._wait(request, progress)
        except BaseException as exc:
            if multipart:
                request.finished_future.exception()  # wait until the CRT has finished every request
                self.abort_new_uploads(job, open_before)
            if checksum is not None and not control.stopped and refuses_checksums(exc):
                # Not a failed attempt: this server takes no checksums, so this engine sends
                # without them from now on and verifies by ETag instead.
                self._checksums = False
                log.info("%s refuses checksum headers; sending without them", self.connection.describe())
                return self._upload(job, control, progress, on_upload_id)
            raise
        if multipart:
            self.abort_new_uploads(job, open_before)  # ones the CRT's own retries left behind
        etag = got.get("etag", "").strip('"')
        if checksum is not None and got.get("x-amz-checksum-crc32"):
            expected = etag  # the server checked the CRC32 of what it received
        elif expected is None:
            expected = self.expected_etag(path, before.st_size)
        return self.check_uploaded(job, path, before, etag, expected, got.get("x-amz-version-id", ""))

    def _download(self, job: Job, control: JobControl, progress: Progress) -> Outcome:
        target, temp = self.download_paths(job)
        progress.reset(job.size)
        host, url_path = self._host_and_path(job.bucket, job.key)
        if job.size == 0:
            # The CRT asks for a first range, which some servers refuse on an empty object (416).
            try:
                version = {"VersionId": job.src_version} if job.src_version else {}
                resp = self.client.get_object(Bucket=job.bucket, Key=job.key, **version)
                body = resp["Body"].read()
                temp.write_bytes(body)
                follower = self.follow(job, temp, lambda: len(body), None if self.verify else verify.SIZE)
                try:
                    return self.finish_download(job, temp, target, follower, verify.response_headers(resp))
                finally:
                    follower.stop()
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        follower, fd, checkpoint, done = None, None, None, ranges.Ranges()
        try:
            exp = self.download_expectation(job)
            done, state, note = self.resume_from(job, temp, exp, control)
            kept = done.done()
            progress.add(kept)  # kept bytes count as done at once
            big = job.size >= self.settings.multipart_threshold
            plan = tuning.plan(job.size, tuning.DOWNLOAD, self.settings)  # measured per size (tuning.py)
            # The body is written here, not by the CRT (recv_filepath): the CRT writes parts in any
            # order and says nothing of which are done, while on_body hands them over at their
            # offset in the object, so `done` knows what the follower may hash and what a later
            # run can keep (pwrite releases the GIL). A big download's parts come from RangeGets
            # (range_gets.py says why), on its threads, in any order.
            fd = os.open(temp, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
            if big:
                checkpoint = ranges.Checkpoint(fd, done, state, lambda record: control.save_resume(job, record))

            def on_body(chunk, offset, counted=False, **kw):  # on several threads at once (RangeGets)
                os.pwrite(fd, chunk, offset)
                follower.feed(offset, chunk)  # a CRC is taken here, before the follower would read it back
                done.add(offset, offset + len(chunk))
                if not counted:
                    progress.add(len(chunk))  # the CRT's on_progress says nothing until a GET ends
                if checkpoint is not None:
                    checkpoint.wake()

            follower = self.follow(job, temp, done.prefix, exp)
            got: dict = {}

            def on_headers(status_code, headers, **kw):
                if not got:
                    got.update((k.lower(), v) for k, v in headers)
                    if exp is None and (stated := verify.from_headers(got)) is not None:
                        follower.expect(stated)
                    if big and not state["etag"]:  # verification off: the first answer names the object
                        state["etag"] = got.get("etag", "").strip('"').lower()

            spans = done.missing(job.size) if done else [(0, job.size if big else 0)]
            if big:
                gets = self._range_gets(host, url_path, job, spans, plan, state, exp, on_body, on_headers,
                                        progress)
                control.attach(gets)
                try:
                    self._wait(gets, progress)
                except range_gets.SizeChanged as changed:  # listed before it changed: the new size next time
                    listed, job.size = job.size, changed.size
                    raise BadBytes(f"{job.uri} changed while it was being downloaded (now {changed.size:,} "
                                   f"bytes, listed as {listed:,}); fetching it again") from None
                finally:
                    gets.finished_future.exception()  # no on_body after this
                spans = []
            # A small download is one GET; a resumed one a ranged GET per missing span.
            for start, end in spans:
                headers = [("Host", host)]
                if end:
                    headers.append(("Range", f"bytes={start}-{end - 1}"))
                if exp is None:
                    headers.append(("x-amz-checksum-mode", "ENABLED"))  # a small object's checksum comes with it
                if big and state["etag"]:
                    headers.append(("If-Match", f'"{state["etag"]}"'))  # the bytes of the object asked about
                request = self._s3.make_request(
                    type=S3RequestType.GET_OBJECT, request=HttpRequest(
                        "GET", url_path + (f"?versionId={quote(job.src_version, safe='')}" if job.src_version else ""),
                        HttpHeaders(headers)),
                    on_body=on_body, on_headers=on_headers, part_size=plan.part_size,
                    max_active_connections_override=plan.connections if (end or job.size) - start >=
                    self.settings.multipart_threshold else None)
                control.attach(request)
                try:
                    self._wait(request, progress)
                finally:
                    request.finished_future.exception()  # no on_body after this
            if checkpoint is not None:
                checkpoint.close(keep=False)
            os.close(fd)
            fd = None
            return self.finish_download(job, temp, target, follower, got, control=control, note=note, kept=kept)
        except BaseException as exc:
            self.end_partial(job, temp, exc, control, progress, checkpoint, done)  # every request has ended
            raise
        finally:
            if fd is not None:
                os.close(fd)
            if follower is not None:
                self.keep_digest(job, temp, follower)

    def _range_gets(self, host: str, url_path: str, job: Job, spans, plan: tuning.Plan, state: dict,
                    exp: verify.Expected | None, on_body, on_headers, progress: Progress) -> RangeGets:
        """A big download's missing spans as parallel ranged GETs (range_gets.py), If-Match on the
        ETag it began with (else the first answer's), so every part is of the one object."""
        headers = [("x-amz-checksum-mode", "ENABLED")] if exp is None else []
        query = f"?versionId={quote(job.src_version, safe='')}" if job.src_version else ""
        return RangeGets(scheme="https" if self._tls else "http", host=host, path=url_path + query, size=job.size,
                         spans=spans, part_size=plan.part_size, threads=plan.connections, signing=self._get_signing,
                         headers=headers, on_body=lambda view, offset: on_body(view, offset, counted=True),
                         on_progress=progress.add, on_headers=on_headers, etag=state["etag"],
                         timeout=self.settings.read_timeout)

    def send(self, method: str, bucket: str, key: str, headers: list[tuple[str, str]], *, operation: str,
             query: str = "", body: bytes = b"", control: JobControl | None = None) -> tuple[int, dict, bytes]:
        """One small S3 request (a CopyObject, a DeleteObject, a DeleteObjects) through the native
        client: signed and sent in C, outside the GIL, where botocore spends a few milliseconds of
        Python on each (and a few tenths of a second building its client first). `key` '' is the
        bucket itself. Returns (status, headers with lower-case names, body); an error answer,
        including the one CopyObject may send inside a 200, raises the ClientError botocore would."""
        host, url_path = self._host_and_path(bucket, key)
        if not key and url_path.endswith("/") and len(url_path) > 1:
            url_path = url_path[:-1]  # path style: /bucket, not /bucket/
        got: dict = {}
        status = [0]
        received: list[bytes] = []

        def on_headers(status_code, headers, **kw):
            status[0] = status_code
            got.update((k.lower(), v) for k, v in headers)

        request = self._s3.make_request(
            type=S3RequestType.DEFAULT, operation_name=operation,
            request=HttpRequest(method, url_path + (f"?{query}" if query else ""),
                                HttpHeaders([("Host", host), ("Content-Length", str(len(body))), *headers]),
                                body_stream=io.BytesIO(body) if body else None),
            on_headers=on_headers, on_body=lambda chunk, offset, **kw: received.append(bytes(chunk)))
        if control is not None:
            control.attach(request)
        try:
            request.finished_future.result(timeout=self.settings.read_timeout)
        except concurrent.futures.TimeoutError:
            request.cancel()
            request.finished_future.exception()  # until the CRT has let go of it
            raise JobError(f"{operation} got no answer for {self.settings.read_timeout} s: the connection "
                           "stalled.", permanent=False) from None
        except S3ResponseError as exc:
            raise _client_error(exc.status_code or 0, exc.body or b"", exc.name, operation) from None
        data = b"".join(received)
        if _ERROR_DOCUMENT.match(data):
            raise _client_error(status[0], data, "Error", operation)
        return status[0], got, data

    def download_expectation(self, job: Job) -> verify.Expected | None:
        """As EngineBase's, with the HEADs sent by the native client: a download then builds no
        botocore client (boto3 and the S3 model: 0.1-0.6 s of the CLI's start, measured)."""
        if not self.verify or (job.size and job.size < self.settings.multipart_threshold):
            return super().download_expectation(job)
        return verify.expected_for(_NativeHeads(self), job.bucket, job.key, job.src_version)

    def close(self) -> None:
        self._s3 = None  # native resources are released when the last reference goes


class _NativeHeads:
    """`head_object` as verify.expected_for calls it, answered as botocore would (headers,
    ETag, ContentLength; an error as its ClientError), sent by CrtEngine.send."""

    def __init__(self, engine: CrtEngine):
        self._engine = engine

    def head_object(self, *, Bucket: str, Key: str, VersionId: str = "", ChecksumMode: str = "",
                    PartNumber: int = 0) -> dict:
        query = "&".join(q for q in (f"partNumber={PartNumber}" if PartNumber else "",
                                     f"versionId={quote(VersionId, safe='')}" if VersionId else "") if q)
        status, headers, _ = self._engine.send("HEAD", Bucket, Key, [("x-amz-checksum-mode", ChecksumMode)]
                                               if ChecksumMode else [], operation="HeadObject", query=query)
        return {"ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
                "ETag": headers.get("etag", ""), "ContentLength": int(headers.get("content-length", 0))}


_ERROR_DOCUMENT = re.compile(rb"\s*(<\?xml[^>]*\?>\s*)?<Error>")  # an answer whose root is an error


def _client_error(status: int, body: bytes, name: str, operation: str) -> ClientError:
    """The ClientError botocore raises for an S3 error answer, from the native client's."""
    code, message = _CODE.search(body), _MESSAGE.search(body)
    error = {"Code": code.group(1).decode() if code else str(status),
             "Message": message.group(1).decode("utf-8", "replace") if message else name}
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
