"""The s3transfer backend: one shared TransferManager per connection runs every job.

botocore event hooks tie each multipart UploadId and each stored ETag to its job
without extra requests; the upload id goes to the queue at once, so a crash never
leaves an upload nobody knows about. Multipart-sized uploads go through parts.py
instead (s3transfer aborts on cancel and always starts from part 1), unless a bandwidth
limit is set, which only s3transfer applies; those are not resumable.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Callable

from s3transfer.exceptions import CancelledError as TransferCancelled
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import OSUtils

from ..connection import Connection
from ..settings import TransferSettings
from . import ranges, verify
from .engine import EngineBase, JobControl, Progress
from .jobs import Job, Outcome


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
        self._files: dict[str, list] = {}
        self._lock = threading.Lock()

    def open(self, filename, mode):
        f = super().open(filename, mode)
        if "r" in mode:
            with self._lock:
                self._files.setdefault(filename, []).append(f)
        return f

    def close_files(self, filename: str) -> None:
        with self._lock:
            files = self._files.pop(filename, [])
        for f in files:
            f.close()


class _RangeFile(verify.TrackedFile):
    """A TrackedFile that also adds each write to the download's complete ranges (s3transfer's IO
    thread writes its parts one at a time, each a seek then writes)."""

    def __init__(self, f, done: ranges.Ranges, wrote):
        super().__init__(f)
        self._done = done
        self._wrote = wrote

    def write(self, data) -> int:
        start = self.tell()
        n = super().write(data)
        self._done.add(start, start + n)
        self._wrote()
        return n


@dataclass
class _Watch:
    on_upload_id: Callable[[str], None] | None = None
    etag: str = ""
    version_id: str = ""  # of a versioned bucket's new version


class S3TransferEngine(EngineBase):
    name = "s3transfer"
    _EVENTS = ("CreateMultipartUpload", "PutObject", "CompleteMultipartUpload", "GetObject")

    def __init__(self, connection: Connection, settings: TransferSettings | None = None, **options):
        super().__init__(connection, settings, **options)
        s = self.settings
        self._osutil = _TrackingOSUtils()
        self.manager = TransferManager(self.client, osutil=self._osutil, config=TransferConfig(
            multipart_threshold=s.multipart_threshold,
            multipart_chunksize=s.multipart_chunksize,
            max_request_concurrency=s.max_concurrency,
            max_submission_concurrency=max(5, s.concurrent_files),
            num_download_attempts=s.num_download_attempts,
            max_bandwidth=s.max_bandwidth or None,
        ))
        self._watches: dict[tuple[str, str], _Watch] = {}
        self._gets: dict[tuple[str, str], dict] = {}  # (bucket, key) -> the first GET's headers
        self._uploading: dict[str, int] = {}  # local path -> running uploads of it
        self._lock = threading.Lock()
        self._uid = f"lakegui-engine-{id(self)}"
        events = self.client.meta.events
        for op in self._EVENTS:
            events.register(f"before-parameter-build.s3.{op}", self._on_before_params, unique_id=f"{self._uid}-b-{op}")
            events.register(f"after-call.s3.{op}", self._on_after_call, unique_id=f"{self._uid}-a-{op}")

    def verdict(self, exc, job):
        if isinstance(exc, TransferCancelled):
            return False, f"The transfer was interrupted: {exc}"
        return super().verdict(exc, job)

    # botocore hooks

    def _on_before_params(self, params, context, **kwargs):
        context["lakegui_target"] = (params.get("Bucket"), params.get("Key"))

    def _on_after_call(self, http_response, parsed, model, context, **kwargs):
        if getattr(http_response, "status_code", 500) >= 300:
            return
        with self._lock:
            if model.name == "GetObject":  # a download's headers: what its bytes must hash to
                got = self._gets.get(context.get("lakegui_target"))
                if got is not None and not got:
                    got.update((k.lower(), v) for k, v in http_response.headers.items())
                return
            watch = self._watches.get(context.get("lakegui_target"))
        if watch is None:
            return
        if model.name == "CreateMultipartUpload" and parsed.get("UploadId"):
            if watch.on_upload_id:
                watch.on_upload_id(parsed["UploadId"])
        elif parsed.get("ETag"):
            watch.etag = str(parsed["ETag"]).strip('"')
            if model.name != "UploadPart":
                watch.version_id = parsed.get("VersionId", "")

    # transfers

    def _upload(self, job: Job, control: JobControl, progress: Progress, on_upload_id) -> Outcome:
        path, before, extra = self.upload_source(job)
        progress.reset(before.st_size)
        watch = _Watch(on_upload_id)
        multipart = before.st_size >= self.settings.multipart_threshold
        open_before = self.open_uploads(job) if multipart else set()
        with self._lock:
            self._watches[(job.bucket, job.key)] = watch
            self._uploading[str(path)] = self._uploading.get(str(path), 0) + 1
        try:
            future = self.manager.upload(str(path), job.bucket, job.key, extra_args=extra,
                                         subscribers=[_Subscriber(progress)])
            control.attach(future)
            # Hash on this otherwise idle thread while s3transfer's threads send the parts.
            expected = self.expected_etag(path, before.st_size)
            future.result()
        finally:
            if multipart:  # botocore's retries of a create whose answer was lost leave uploads open
                self.abort_new_uploads(job, open_before)
            with self._lock:
                self._watches.pop((job.bucket, job.key), None)
                left = self._uploading[str(path)] = self._uploading[str(path)] - 1
                if not left:
                    del self._uploading[str(path)]
            if not left:  # no other job reads this file now
                self._osutil.close_files(str(path))
        return self.check_uploaded(job, path, before, watch.etag, expected, watch.version_id)

    def _download(self, job: Job, control: JobControl, progress: Progress) -> Outcome:
        target, temp = self.download_paths(job)
        progress.reset(job.size)
        follower, checkpoint, done, ended = None, None, ranges.Ranges(), False
        try:
            # A small object's expectation comes with its GET's headers (the after-call hook).
            exp = self.download_expectation(job)
            done, state, note = self.resume_from(job, temp, exp, control)
            kept = done.done()
            progress.add(kept)  # kept bytes count as done at once
            got: dict = {}
            with self._lock:
                self._gets[(job.bucket, job.key)] = got
            follower = self.follow(job, temp, done.prefix, exp)
            with os.fdopen(os.open(temp, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)), "wb") as f:
                try:
                    if job.size >= self.settings.multipart_threshold:
                        checkpoint = ranges.Checkpoint(f.fileno(), done, state,
                                                       lambda record: control.save_resume(job, record))
                    self._fetch(job, control, progress, f, done, state, exp, checkpoint)
                    if checkpoint is not None:
                        checkpoint.close(keep=False)
                except BaseException as exc:
                    ended = True
                    self.end_partial(job, temp, exc, control, progress, checkpoint, done)  # while f is open
                    raise
            return self.finish_download(job, temp, target, follower, got, control=control, note=note, kept=kept)
        except BaseException as exc:
            if not ended:
                self.end_partial(job, temp, exc, control, progress, checkpoint, done)
            raise
        finally:
            with self._lock:
                self._gets.pop((job.bucket, job.key), None)
            if follower is not None:
                self.keep_digest(job, temp, follower)

    def _fetch(self, job: Job, control: JobControl, progress: Progress, f, done: ranges.Ranges, state: dict,
               exp, checkpoint) -> None:
        """The whole object through s3transfer, or, resuming, the ranges `done` lacks: s3transfer
        always fetches a whole object, so those come from ranges.fetch."""
        wake = checkpoint.wake if checkpoint is not None else (lambda: None)
        s = self.settings
        if done:
            def fetched(n: int) -> None:
                progress.add(n)
                wake()

            ranges.fetch(self.client, job.bucket, job.key, done.missing(job.size), f.fileno(), done,
                         etag=state["etag"], version=job.src_version, part_size=s.multipart_chunksize,
                         workers=s.max_concurrency, control=control, on_bytes=fetched, bandwidth=s.max_bandwidth)
            return
        if checkpoint is not None and not state["etag"]:
            state["etag"] = job.etag.strip('"').lower()  # verification off: the listed ETag (s3transfer If-Matches it)
        version = {"VersionId": job.src_version} if job.src_version else {}
        future = self.manager.download(job.bucket, job.key, _RangeFile(f, done, wake),
                                       extra_args={**version, **({} if exp else {"ChecksumMode": "ENABLED"})},
                                       subscribers=[_Subscriber(progress, job.size if job.size else None)])
        control.attach(future)
        future.result()

    def close(self) -> None:
        self.manager.shutdown(cancel=True, cancel_msg="lakegui is closing")
        events = self.client.meta.events
        for op in self._EVENTS:
            events.unregister(f"before-parameter-build.s3.{op}", unique_id=f"{self._uid}-b-{op}")
            events.unregister(f"after-call.s3.{op}", unique_id=f"{self._uid}-a-{op}")
