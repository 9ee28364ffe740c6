"""The transfer engine: one shared s3transfer TransferManager per connection runs each job.

A job runs on the caller's thread (a QThreadPool worker, or the CLI's pool) and
blocks until it ends; s3transfer's own threads move the parts. Progress arrives
through s3transfer subscribers as byte deltas and is only added to a plain
counter here; whoever displays it samples the counter at its own pace.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import random
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from s3transfer.exceptions import CancelledError as TransferCancelled
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import OSUtils

from ..connection import Connection
from ..errors import classify
from ..settings import TransferSettings
from . import etags
from .jobs import Direction, Job, JobState, Outcome, OverwritePolicy
from .localpaths import temp_path_for

log = logging.getLogger(__name__)

# Content types the lake holds that mimetypes does not know everywhere.
_TYPES = {".parquet": "application/vnd.apache.parquet", ".json": "application/json", ".csv": "text/csv",
          ".tsv": "text/tab-separated-values", ".txt": "text/plain", ".log": "text/plain"}


def content_type(path: Path | str) -> str:
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


class JobError(Exception):
    """A failure the engine itself detects, with its own verdict on retrying."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class _Skip(Exception):
    pass


class Progress:
    """Bytes moved for one job. Written by s3transfer's threads, read by a display timer."""

    __slots__ = ("done", "total", "_lock")

    def __init__(self, total: int = 0):
        self.done = 0
        self.total = total
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:  # parts of one file report from several threads at once
            self.done += n

    def reset(self, total: int) -> None:
        with self._lock:
            self.done, self.total = 0, total


class JobControl:
    """Stops one running job from any thread: the in-flight transfer is cancelled and a
    backoff wait ends at once. `reason` becomes the job's state (cancelled, paused or queued)."""

    def __init__(self):
        self.event = threading.Event()
        self.reason: JobState | None = None
        self._future = None
        self._lock = threading.Lock()

    def stop(self, reason: JobState = JobState.CANCELLED) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            self.event.set()
            future = self._future
        if future is not None:
            future.cancel()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()

    def attach(self, future) -> None:
        with self._lock:
            self._future = future
            stopped = self.event.is_set()
        if stopped:
            future.cancel()


class _Subscriber(BaseSubscriber):
    def __init__(self, progress: Progress, size: int | None = None):
        self._progress = progress
        self._size = size

    def on_queued(self, future, **kwargs):
        if self._size is not None:  # known from the listing: saves s3transfer a HEAD per download
            future.meta.provide_transfer_size(self._size)

    def on_progress(self, future, bytes_transferred, **kwargs):
        self._progress.add(bytes_transferred)


class _TrackingOSUtils(OSUtils):
    """s3transfer opens the file once per part; a cancelled upload leaves the files of parts cut
    short open until garbage collection. Track them per path so the engine closes them."""

    def __init__(self):
        super().__init__()
        self._readers: dict[str, list] = {}
        self._lock = threading.Lock()

    def open(self, filename, mode):
        f = super().open(filename, mode)
        if "r" in mode:
            with self._lock:
                self._readers.setdefault(filename, []).append(f)
        return f

    def close_readers(self, filename: str) -> None:
        with self._lock:
            readers = self._readers.pop(filename, [])
        for reader in readers:
            reader.close()


@dataclass
class _Watch:
    on_upload_id: Callable[[str], None] | None = None
    etag: str = ""
    upload_ids: list[str] = field(default_factory=list)


class TransferEngine:
    """Runs jobs over one connection with one shared TransferManager."""

    _EVENTS = ("CreateMultipartUpload", "PutObject", "CompleteMultipartUpload")

    def __init__(self, connection: Connection, settings: TransferSettings | None = None, *,
                 max_attempts: int = 5, backoff: float = 0.5, backoff_cap: float = 20.0, verify: bool = True):
        self.connection = connection
        self.settings = settings or TransferSettings()
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.verify = verify
        self.client = connection.client("transfer")
        s = self.settings
        self._osutil = _TrackingOSUtils()
        self._uploading: dict[str, int] = {}  # local path -> running uploads of it
        self.manager = TransferManager(self.client, osutil=self._osutil, config=TransferConfig(
            multipart_threshold=s.multipart_threshold,
            multipart_chunksize=s.multipart_chunksize,
            max_request_concurrency=s.max_concurrency,
            max_submission_concurrency=max(5, s.concurrent_files),
            num_download_attempts=s.num_download_attempts,
            max_bandwidth=s.max_bandwidth or None,
        ))
        self._watches: dict[tuple[str, str], _Watch] = {}
        self._watch_lock = threading.Lock()
        self._uid = f"lakegui-engine-{id(self)}"
        events = self.client.meta.events
        for op in self._EVENTS:
            events.register(f"before-parameter-build.s3.{op}", self._on_before_params, unique_id=f"{self._uid}-b-{op}")
            events.register(f"after-call.s3.{op}", self._on_after_call, unique_id=f"{self._uid}-a-{op}")

    # botocore hooks: tie upload ids and ETags to our jobs without extra requests

    def _on_before_params(self, params, context, **kwargs):
        context["lakegui_target"] = (params.get("Bucket"), params.get("Key"))

    def _on_after_call(self, http_response, parsed, model, context, **kwargs):
        if getattr(http_response, "status_code", 500) >= 300:
            return
        with self._watch_lock:
            watch = self._watches.get(context.get("lakegui_target"))
        if watch is None:
            return
        if model.name == "CreateMultipartUpload" and parsed.get("UploadId"):
            watch.upload_ids.append(parsed["UploadId"])
            if watch.on_upload_id:
                watch.on_upload_id(parsed["UploadId"])
        elif parsed.get("ETag"):
            watch.etag = str(parsed["ETag"]).strip('"')

    # running jobs

    def run(self, job: Job, control: JobControl, progress: Progress,
            on_upload_id: Callable[[str], None] | None = None) -> Outcome:
        """Run one job to its end, retrying transient errors with backoff and jitter."""
        attempt = 0
        if job.upload_id or job.direction is Direction.DOWNLOAD:
            self.cleanup(job)  # what an earlier, interrupted run left behind
        while True:
            attempt += 1
            try:
                if job.direction is Direction.UPLOAD:
                    outcome = self._upload(job, control, progress, on_upload_id)
                else:
                    outcome = self._download(job, control, progress)
                return replace(outcome, attempts=attempt)
            except _Skip as skip:
                return Outcome(JobState.SKIPPED, str(skip), attempts=attempt)
            except Exception as exc:
                if control.stopped:
                    return Outcome(control.reason or JobState.CANCELLED, attempts=attempt)
                if isinstance(exc, JobError):
                    permanent, message = exc.permanent, str(exc)
                elif isinstance(exc, TransferCancelled):
                    permanent, message = False, f"The transfer was interrupted: {exc}"
                else:
                    info = classify(exc, bucket=job.bucket, key=job.key,
                                    endpoint=self.connection.profile.endpoint_url or None)
                    permanent, message = info.permanent, info.message
                if permanent or attempt >= self.max_attempts:
                    if not permanent:
                        message = f"{message} (gave up after {attempt} attempts)"
                    return Outcome(JobState.FAILED, message, attempts=attempt, permanent=permanent)
                delay = random.uniform(0, min(self.backoff_cap, self.backoff * 2 ** (attempt - 1)))
                log.info("retrying %s in %.1f s: %s", job.uri, delay, message)
                if control.event.wait(delay):
                    return Outcome(control.reason or JobState.CANCELLED, attempts=attempt)

    def _watch(self, job: Job, on_upload_id) -> _Watch:
        watch = _Watch(on_upload_id)
        with self._watch_lock:
            self._watches[(job.bucket, job.key)] = watch
        return watch

    def _unwatch(self, job: Job) -> None:
        with self._watch_lock:
            self._watches.pop((job.bucket, job.key), None)

    def _upload(self, job: Job, control: JobControl, progress: Progress, on_upload_id) -> Outcome:
        path = Path(job.local_path)
        try:
            before = path.stat()
        except FileNotFoundError:
            raise JobError(f"Local file not found: {path} (moved or deleted since it was queued)",
                           permanent=True) from None
        if not path.is_file():
            raise JobError(f"{path} is not a regular file", permanent=True)
        if not os.access(path, os.R_OK):
            raise JobError(f"Permission denied reading {path}", permanent=True)
        extra = {"ContentType": job.extra.get("ContentType") or content_type(path)}
        for name in ("StorageClass", "ServerSideEncryption", "SSEKMSKeyId"):
            if job.extra.get(name):
                extra[name] = job.extra[name]
        if job.metadata:
            extra["Metadata"] = dict(job.metadata)
        progress.reset(before.st_size)
        watch = self._watch(job, on_upload_id)
        with self._watch_lock:
            self._uploading[str(path)] = self._uploading.get(str(path), 0) + 1
        try:
            future = self.manager.upload(str(path), job.bucket, job.key, extra_args=extra,
                                         subscribers=[_Subscriber(progress)])
            control.attach(future)
            s = self.settings
            # Hash on this otherwise idle thread while s3transfer's threads send the parts.
            expected = etags.upload_etag(path, before.st_size, s.multipart_threshold, s.multipart_chunksize) \
                if self.verify else ""
            future.result()
        finally:
            self._unwatch(job)
            with self._watch_lock:
                left = self._uploading[str(path)] = self._uploading[str(path)] - 1
                if not left:
                    del self._uploading[str(path)]
            if not left:  # no other job reads this file now
                self._osutil.close_readers(str(path))
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise JobError(f"{path} changed while it was being uploaded; sending it again", permanent=False)
        if self.verify and watch.etag and etags.comparable(watch.etag) and watch.etag != expected:
            raise JobError(f"Verification failed for {job.uri}: the server stored ETag {watch.etag}, "
                           f"the local file gives {expected}; sending it again", permanent=False)
        return Outcome(JobState.DONE, bytes_done=before.st_size, etag=watch.etag)

    def _download(self, job: Job, control: JobControl, progress: Progress) -> Outcome:
        target = Path(job.local_path)
        if target.exists() or target.is_symlink():
            if target.is_dir():
                raise JobError(f"{target} is a folder; the object cannot be saved under that name", permanent=True)
            if job.policy is OverwritePolicy.SKIP:
                raise _Skip(f"{target} exists")
            if job.policy is OverwritePolicy.SKIP_IF_SAME:
                if etags.same_content(target, job.size, job.etag, self.settings.multipart_chunksize):
                    raise _Skip(f"{target} exists with the same content")
            elif job.policy is OverwritePolicy.ASK:
                raise JobError(f"{target} exists; choose overwrite or skip to replace or keep it", permanent=True)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JobError(f"Cannot create folder {target.parent}: {exc.strerror or exc}", permanent=True) from exc
        temp = temp_path_for(target, job.id)
        progress.reset(job.size)
        try:
            with open(temp, "wb") as f:
                future = self.manager.download(job.bucket, job.key, f,
                                               subscribers=[_Subscriber(progress, job.size if job.size else None)])
                control.attach(future)
                future.result()
            got = temp.stat().st_size
            if job.size and got != job.size:
                listed, job.size = job.size, 0  # changed since listed: ask the server next time
                raise JobError(f"{job.uri} changed while it was being downloaded ({got:,} bytes, "
                               f"listed as {listed:,}); fetching it again", permanent=False)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)  # never leave a partial file, under any name
            raise
        return Outcome(JobState.DONE, bytes_done=got)

    def cleanup(self, job: Job) -> None:
        """Undo what an interrupted run left: an open multipart upload, a temp file."""
        if job.upload_id:
            try:
                self.client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=job.upload_id)
            except Exception as exc:  # already completed or aborted is fine
                info = classify(exc, bucket=job.bucket, key=job.key)
                if info.code not in ("NoSuchUpload", "404", "NotFound"):
                    raise
            job.upload_id = ""
        if job.direction is Direction.DOWNLOAD and job.local_path:
            temp_path_for(job.local_path, job.id).unlink(missing_ok=True)

    def close(self) -> None:
        self.manager.shutdown(cancel=True, cancel_msg="lakegui is closing")
        events = self.client.meta.events
        for op in self._EVENTS:
            events.unregister(f"before-parameter-build.s3.{op}", unique_id=f"{self._uid}-b-{op}")
            events.unregister(f"after-call.s3.{op}", unique_id=f"{self._uid}-a-{op}")
