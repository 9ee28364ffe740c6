"""What every transfer backend shares: progress counters, stopping a job, the retry loop,
the checks before and after a transfer, and cleaning up after an interrupted run.

A job runs on the caller's thread (a QThreadPool worker, or the CLI's pool) and
blocks until it ends; the backend's own threads move the bytes. Progress arrives
as byte deltas and is only added to a plain counter here; whoever displays it
samples the counter at its own pace.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
import random
import stat
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..connection import Connection
from ..errors import classify
from ..objects import head_if_there
from ..settings import TransferSettings
from . import etags, parts, ranges, tuning, verify
from .jobs import (
    CHANGED_SINCE_COMPARED,
    COMPARED,
    CONFLICT,
    RECHECK_AFTER,
    REFETCHED,
    Direction,
    Job,
    JobState,
    Outcome,
    OverwritePolicy,
    conflict_error,
)
from .localpaths import file_in_the_way, folder_in_the_way, temp_path_for

log = logging.getLogger(__name__)

# Content types the lake holds that mimetypes does not know everywhere.
_TYPES = {".parquet": "application/vnd.apache.parquet", ".json": "application/json", ".csv": "text/csv",
          ".tsv": "text/tab-separated-values", ".txt": "text/plain", ".log": "text/plain"}
PENDING_UPLOAD = "pending:"  # upload_id of a multipart upload whose id the backend does not report


def content_type(path: Path | str) -> str:
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def relative_path_error(job: Job) -> str:
    """Why an upload or download cannot run with its local path as stored ('' when it can). The
    planners store absolute paths; a relative one comes from an older lakegui's queue, relative
    to a folder it did not record: resolved against this process's folder, its files could be
    read from, or written over, the wrong folder, so it is refused and the user reruns it."""
    if job.direction not in (Direction.UPLOAD, Direction.DOWNLOAD) or os.path.isabs(job.local_path):
        return ""
    return (f"{job.local_path} is relative to the folder its {job.direction} command ran in, which this older "
            f"queue entry did not record; it is not guessed: run the {job.direction} again from that folder")


class JobError(Exception):
    """A failure the engine itself detects, with its own verdict on retrying."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class BadBytes(JobError):
    """A download's temp file holds bytes that are not the object's (a failed verification, a
    size that changed): the next attempt must not resume from it."""

    def __init__(self, message: str):
        super().__init__(message, permanent=False)


class Skip(Exception):
    """The job needs no transfer (its target exists, as the policy allows)."""


class AlreadyDone(Exception):
    """An earlier run of this job finished its file but died before recording that."""


class Progress:
    """Bytes moved for one job. Written by the backend's threads, read by a display timer."""

    __slots__ = ("done", "total", "watch_file", "_lock")

    def __init__(self, total: int = 0):
        self.done = 0
        self.total = total
        self.watch_file: Path | None = None  # a download's temp file, when callbacks are sparse
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:  # parts of one file report from several threads at once
            self.done += n

    def reset(self, total: int, watch_file: Path | None = None) -> None:
        with self._lock:
            self.done, self.total, self.watch_file = 0, total, watch_file

    def sample(self) -> int:
        """Bytes done as a display should show them. The CRT reports a download's progress
        only at its start and end, so the size of the file it writes stands in meanwhile."""
        done, watched = self.done, self.watch_file
        if watched is not None and done < self.total:
            try:
                done = max(done, min(self.total, watched.stat().st_size))
            except OSError:
                pass
        return done


class JobControl:
    """Stops one running job from any thread: the in-flight transfer is cancelled and a
    backoff wait ends at once. `reason` becomes the job's state (cancelled, paused or queued)."""

    def __init__(self):
        self.event = threading.Event()
        self.reason: JobState | None = None
        self.on_resume: Callable[[dict], None] | None = None  # records job.resume durably (the queue)
        self._transfer = None
        self._lock = threading.Lock()

    def save_resume(self, job: Job, state: dict) -> None:
        """Keep what a later run of `job` can reuse (issue 19): on the job, and in the queue."""
        job.resume = state
        if self.on_resume is not None:
            self.on_resume(state)

    def stop(self, reason: JobState = JobState.CANCELLED) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            self.event.set()
            transfer = self._transfer
        if transfer is not None:
            transfer.cancel()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()

    def attach(self, transfer) -> None:
        """The in-flight transfer (anything with cancel()); cancelled at once if already stopped."""
        with self._lock:
            self._transfer = transfer
            stopped = self.event.is_set()
        if stopped:
            transfer.cancel()

    def detach(self) -> None:
        """Let go of the last transfer once the job's run is over. A native request's callbacks
        are held in C and lead back here (a download's checkpoint records through this control),
        a loop the collector cannot see: kept, it would keep the request and its whole native
        client alive after the engine is closed."""
        with self._lock:
            self._transfer = None


class EngineBase:
    """The retry loop and the checks around a transfer; backends implement _upload/_download."""

    name = "base"

    def __init__(self, connection: Connection, settings: TransferSettings | None = None, *,
                 max_attempts: int | None = None, backoff: float = 0.5, backoff_cap: float = 20.0,
                 verify: bool = True):
        self.connection = connection
        self.settings = settings or TransferSettings()
        self.max_attempts = max_attempts or self.settings.attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.verify = verify
        self._kept_digests: dict[int, tuple] = {}  # job id -> (inode, offset, Digest) of a paused download
        self._part_crc = parts.CHECKSUM  # '' once this endpoint refused checksum uploads (parts.py)
        self._failed_creates: set[int] = set()  # jobs whose last CreateMultipartUpload failed

    @property
    def client(self):
        """The botocore client, built on first use (its model costs 0.1-0.2 s): the native
        engine moves bytes without one and needs it only for checks and clean-ups."""
        return self.connection.client("transfer")

    def run(self, job: Job, control: JobControl, progress: Progress,
            on_upload_id: Callable[[str], None] | None = None,
            on_resume: Callable[[dict], None] | None = None) -> Outcome:
        """Run one job to its end, retrying transient errors with backoff and jitter."""
        try:
            return self._run(job, control, progress, on_upload_id, on_resume)
        finally:
            control.detach()

    def _run(self, job: Job, control: JobControl, progress: Progress, on_upload_id, on_resume) -> Outcome:
        attempt = 0
        control.on_resume = on_resume
        if control.stopped:  # stopped before it started
            if not parts.keeps_parts(control.reason):
                self.drop_upload(job, control, on_upload_id)
            return Outcome(control.reason or JobState.CANCELLED, attempts=0)
        if (unanchored := relative_path_error(job)):  # an older queue's row: its folder is not known
            return Outcome(JobState.FAILED, unanchored, attempts=0, permanent=True)
        if job.upload_id or job.direction is Direction.DOWNLOAD:
            self.cleanup(job)  # what an earlier, interrupted run left behind
        checked = False
        while True:
            attempt += 1
            try:
                if job.direction is Direction.UPLOAD:
                    if not checked:
                        self.check_upload_target(job)
                        checked = True
                    outcome = (self.upload_parts if self.in_parts(job) else self._upload)(
                        job, control, progress, on_upload_id)
                elif job.direction is Direction.DOWNLOAD:
                    outcome = self._download(job, control, progress)
                elif job.direction in (Direction.COPY, Direction.MOVE):  # S3 to S3 (copy.py), every backend
                    from .copy import run_copy

                    outcome = run_copy(self, job, control, progress, on_upload_id)
                else:  # delete, tag, restore, make-bucket: requests, no bytes (object_jobs.py)
                    from .object_jobs import run_request

                    outcome = run_request(self, job, control, progress)
                return replace(outcome, attempts=attempt)
            except Skip as skip:
                return Outcome(JobState.SKIPPED, str(skip), attempts=attempt)
            except AlreadyDone:
                return Outcome(JobState.DONE, bytes_done=job.size, attempts=attempt)
            except Exception as exc:
                if control.stopped:
                    return Outcome(control.reason or JobState.CANCELLED, attempts=attempt)
                permanent, message = self.verdict(exc, job)
                if permanent or attempt >= self.max_attempts:
                    if not permanent:  # no "fetching it again" once it is not fetched again
                        message = f"{message.removesuffix('; fetching it again')} (gave up after {attempt} attempts)"
                    if permanent:  # nothing will continue its parts
                        self.drop_upload(job, control, on_upload_id)
                    code, request_id = self.facts(exc, job)
                    log.warning("job %s failed: %s %s: %s [code %s, request id %s, %d attempts]", job.id,
                                job.direction, job.uri, message, code, request_id or "-", attempt)
                    return Outcome(JobState.FAILED, message, attempts=attempt, permanent=permanent)
                delay = random.uniform(0, min(self.backoff_cap, self.backoff * 2 ** (attempt - 1)))
                log.info("retrying %s in %.1f s: %s", job.uri, delay, message)
                if control.event.wait(delay):
                    return Outcome(control.reason or JobState.CANCELLED, attempts=attempt)

    def facts(self, exc: BaseException, job: Job) -> tuple[str, str]:
        """(error code, request id) of a failure, for the log."""
        if isinstance(exc, JobError):
            return type(exc).__name__, ""
        info = classify(exc, bucket=job.bucket, key=job.key)
        return info.code, info.request_id

    def verdict(self, exc: BaseException, job: Job) -> tuple[bool, str]:
        """(permanent, message) for a failed attempt."""
        if isinstance(exc, JobError):
            return exc.permanent, str(exc)
        info = classify(exc, bucket=job.bucket, key=job.key, endpoint=self.connection.profile.endpoint_url or None)
        if info.code in ("PreconditionFailed", "412") and job.direction is Direction.DOWNLOAD:
            # If-Match on the ETag the download began with: the object was replaced meanwhile
            return False, f"{job.uri} was replaced while it was being downloaded; fetching it again from the start"
        return info.permanent, info.message

    # checks shared by the backends

    def check_upload_target(self, job: Job) -> None:
        """With the ASK policy, never replace an object that differs: for a job the planner failed
        as a conflict (jobs.CONFLICT) and then queued again, and for a rerun (a crash, a resume),
        ask what the key holds now. A first run of any other job relies on the plan's one listing
        (a HEAD per file would cost a request each on the CLI's default path). A sync's upload that
        waited (jobs.COMPARED) replaces only what it was compared with."""
        if COMPARED in job.extra:
            self._check_still_as_compared(job)
            return
        if job.policy is not OverwritePolicy.ASK:
            return
        conflict = bool(job.resume.get(CONFLICT))
        if not conflict and (job.attempts <= 1 or job.upload_id):
            return
        path, _, _ = self.upload_source(job)  # a file that went fails as it would below
        head = head_if_there(self.client, job.bucket, job.key)
        if head is None:
            return  # nothing there to replace
        size, etag = int(head.get("ContentLength", 0)), str(head.get("ETag", ""))
        if etags.same_content(path, size, etag, self.settings.multipart_chunksize):
            if conflict:
                raise Skip(f"{job.uri} exists with the same content")
            raise AlreadyDone()  # an earlier run sent it, then could not record that
        raise JobError(conflict_error(job.uri), permanent=True)

    def _check_still_as_compared(self, job: Job) -> None:
        """A sync's or Mirror's upload replaces what the comparison saw at its key (an ETag, or
        nothing): once it has waited (a paused queue, `queue resume` after a kill), an object written
        there since is left alone, as a delete job leaves one. A job run at once relies on the
        recheck made when it was queued: a HEAD per file would cost each sync a request a file."""
        etag, _, at = job.extra[COMPARED].partition(" ")
        if job.attempts <= 1 and time.time() - float(at or 0) < RECHECK_AFTER:
            return
        head = head_if_there(self.client, job.bucket, job.key)
        now = str(head.get("ETag", "")).strip('"') if head is not None else ""
        if now == etag:
            return
        path, _, _ = self.upload_source(job)
        if head is not None and etags.same_content(path, int(head.get("ContentLength", 0)), now,
                                                    self.settings.multipart_chunksize):
            raise AlreadyDone()  # an earlier run sent it (killed before it could record that)
        raise JobError(f"{job.uri} {CHANGED_SINCE_COMPARED}", permanent=True)

    def upload_source(self, job: Job) -> tuple[Path, os.stat_result, dict]:
        """The local file as it is now, and the request's extra arguments (s3transfer's names)."""
        path = Path(job.local_path)
        try:
            before = path.stat()
        except FileNotFoundError:
            raise JobError(f"Local file not found: {path} (moved or deleted since it was queued)",
                           permanent=True) from None
        if not stat.S_ISREG(before.st_mode):
            raise JobError(f"{path} is not a regular file", permanent=True)
        # An unreadable file fails below with PermissionError, classified as permanent.
        extra = {"ContentType": job.extra.get("ContentType") or content_type(path)}
        for name in ("StorageClass", "ServerSideEncryption", "SSEKMSKeyId"):
            if job.extra.get(name):
                extra[name] = job.extra[name]
        if job.metadata:
            extra["Metadata"] = dict(job.metadata)
        return path, before, extra

    def expected_etag(self, path: Path, size: int) -> str:
        s = self.settings
        return etags.upload_etag(path, size, s.multipart_threshold, s.multipart_chunksize) if self.verify else ""

    def check_uploaded(self, job: Job, path: Path, before: os.stat_result, etag: str, expected: str,
                       version_id: str = "") -> Outcome:
        """Fail the attempt if the file changed while it was sent, or the server stored other bytes."""
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise JobError(f"{path} changed while it was being uploaded; sending it again", permanent=False)
        if not etag:  # every S3 server names what it stored; a bare 200 is something else answering
            where = self.connection.profile.endpoint_url or "the endpoint"
            raise JobError(f"{where} accepted {job.uri} without an ETag: it did not answer like an S3 server, "
                           "so the upload cannot be trusted. Check the endpoint URL.", permanent=True)
        if self.verify and etag and etags.comparable(etag) and etag != expected and not \
                etags.same_content(path, before.st_size, etag, self.settings.multipart_chunksize):
            raise JobError(f"Verification failed for {job.uri}: the server stored ETag {etag}, "
                           f"the local file gives {expected}; sending it again", permanent=False)
        return Outcome(JobState.DONE, bytes_done=before.st_size, etag=etag, version_id=version_id)

    def download_paths(self, job: Job) -> tuple[Path, Path]:
        """The final path and the temp path beside it, once the overwrite policy had its say."""
        target = Path(job.local_path)
        if target.exists() or target.is_symlink():
            if target.is_dir():
                raise JobError(folder_in_the_way(target), permanent=True)
            if job.attempts > 1 and not target.is_symlink() and target.is_file() and \
                    etags.same_content(target, job.size, job.etag, self.settings.multipart_chunksize):
                raise AlreadyDone()  # a killed run renamed it into place, then could not record it
            if job.policy is OverwritePolicy.SKIP:
                raise Skip(f"{target} exists")
            if job.policy is OverwritePolicy.SKIP_IF_SAME:
                if etags.same_content(target, job.size, job.etag, self.settings.multipart_chunksize):
                    raise Skip(f"{target} exists with the same content")
            elif job.policy is OverwritePolicy.ASK:
                raise JobError(conflict_error(str(target), ""), permanent=True)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = file_in_the_way(target) or f"Cannot create folder {target.parent}: {exc.strerror or exc}"
            raise JobError(why, permanent=True) from exc
        temp = temp_path_for(target, job.id)
        if ranges.reusable_temp(temp, job.resume):
            return target, temp  # an interrupted run's bytes; resume_from checks they are still the object's
        # A fresh regular file of our own: whatever sat under the temp name (a crashed run's
        # leftover, or a symlink planted to redirect the write) is removed, never followed.
        temp.unlink(missing_ok=True)
        # 0o666: the umask decides who may read it, as for any file the user makes (0o600 hid downloads
        # from the user's group whatever the umask said).
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666))
        return target, temp

    def resume_from(self, job: Job, temp: Path, exp: verify.Expected | None,
                    control: JobControl) -> tuple[ranges.Ranges, dict, str]:
        """What this attempt keeps of an interrupted one's temp file: its complete ranges if the
        object is still the one they came from (same ETag and size), else nothing (the temp is
        emptied and the job says why). Also the record to go on adding to, and the job's note."""
        state = job.resume if isinstance(job.resume, dict) else {}
        note = str(state.get("restarted", ""))
        kept = ranges.Ranges(ranges.kept_spans(state))
        etag = exp.etag if exp is not None else ""
        version = job.src_version
        big = job.size >= self.settings.multipart_threshold
        if kept and big and not etag:  # verification is off: ask what the object is now
            head = self.client.head_object(Bucket=job.bucket, Key=job.key,
                                           **({"VersionId": version} if version else {}))
            etag = str(head.get("ETag", "")).strip('"').lower()
        if kept and not (big and etag and state.get("etag") == etag and state.get("size") == job.size):
            note = f"{job.uri} changed since its download was interrupted; {REFETCHED}"
            log.info("%s", note)
            kept = ranges.Ranges()
            os.truncate(temp, 0)
            control.save_resume(job, {"restarted": note})
        elif kept:
            log.info("resuming %s: %d of %d bytes kept", job.uri, kept.done(), job.size)
        return kept, {"etag": etag, "version_id": version, "size": job.size,
                      **({"restarted": note} if note else {})}, note

    def keeps_partial(self, exc: BaseException, job: Job, control: JobControl) -> bool:
        """Whether a stopped or failed attempt's temp file is worth resuming from: after a pause, a
        kill or a lost connection yes; after a cancel, wrong bytes, a replaced object or a
        permanent error (a full disk, a denied read) no."""
        if control.stopped:
            return control.reason is not JobState.CANCELLED
        if isinstance(exc, BadBytes):
            return False
        if not isinstance(exc, Exception):  # KeyboardInterrupt and the like: stopped from outside
            return True
        if self.facts(exc, job)[0] in ("PreconditionFailed", "412"):
            return False
        return not self.verdict(exc, job)[0]

    def end_partial(self, job: Job, temp: Path, exc: BaseException, control: JobControl, progress: Progress,
                    checkpoint: ranges.Checkpoint | None, kept: ranges.Ranges) -> None:
        """After an attempt that did not finish: keep the temp file and record its ranges for the
        next run, or remove both. Either way progress then says what is in place (the queue's
        rows and header count it as done)."""
        keep = checkpoint is not None and self.keeps_partial(exc, job, control)
        if checkpoint is not None:
            checkpoint.close(keep)
        progress.reset(progress.total)
        if keep:
            progress.add(kept.done())
            return
        Path(temp).unlink(missing_ok=True)  # never leave a partial file, under any name
        if job.resume:
            replaced = isinstance(exc, Exception) and not isinstance(exc, JobError) and \
                self.facts(exc, job)[0] in ("PreconditionFailed", "412")
            control.save_resume(job, {"restarted": f"{job.uri} was replaced while it was being downloaded; "
                                                   f"{REFETCHED}"} if replaced else {})

    def download_expectation(self, job: Job) -> verify.Expected | None:
        """What a download's bytes must hash to, asked before it starts for an object of
        multipart size (one HEAD, or two for a multipart ETag; small next to its bytes). None for
        a small one: its GET's own headers say it, so small files cost no extra request."""
        if not self.verify:
            return verify.SIZE
        if job.size and job.size < self.settings.multipart_threshold:
            return None
        return verify.expected_for(self.client, job.bucket, job.key, job.src_version)

    def follow(self, job: Job, temp: Path, available, exp: verify.Expected | None) -> verify.Follower:
        """A thread hashing the temp file as it is written (see verify.py). After a pause in this
        process it goes on from where the last run's hash stopped (see keep_digest)."""
        kept = self._kept_digests.pop(job.id, None)
        if kept is not None and exp is not None:
            inode, offset, digest = kept
            try:
                same = os.stat(temp).st_ino == inode
            except OSError:
                same = False
            if same and digest.exp == exp and offset <= available():
                return verify.Follower(temp, available, start=offset, digest=digest)
        follower = verify.Follower(temp, available)
        if exp is not None:
            follower.expect(exp)
        return follower

    def keep_digest(self, job: Job, temp: Path, follower: verify.Follower) -> None:
        """Stops the follower at a run's end. When the run kept its temp file: keep what it hashed,
        caught up to what is on disk, in memory, for the next run of the job in this process.
        Resuming a paused 1 GiB download would otherwise hash its kept half again (MD5: about
        1.5 s here)."""
        follower.stop(catch_up=bool(ranges.kept_bytes(job.resume)))
        offset, digest = follower.progress()
        if digest is None or not offset or not ranges.kept_bytes(job.resume):
            return
        try:
            inode = os.stat(temp).st_ino
        except OSError:
            return
        if len(self._kept_digests) >= 64:  # paused jobs never resumed here: forget the oldest
            self._kept_digests.pop(next(iter(self._kept_digests)))
        self._kept_digests[job.id] = (inode, offset, digest)

    def finish_download(self, job: Job, temp: Path, target: Path,
                        follower: verify.Follower | None = None, headers: dict | None = None, *,
                        control: JobControl | None = None, note: str = "", kept: int = 0) -> Outcome:
        """Check the temp file's bytes and put it in place; `kept` of them an earlier run fetched."""
        got = temp.stat().st_size
        if job.size and got != job.size:
            listed, job.size = job.size, 0  # changed since listed: ask the server next time
            raise BadBytes(f"{job.uri} changed while it was being downloaded ({got:,} bytes, "
                           f"listed as {listed:,}); fetching it again")
        checked = ""
        if follower is not None:
            if follower.expected is None:  # a small object: its GET's headers, else ask
                exp = verify.from_headers(headers or {}) if headers else None
                follower.expect(exp or verify.expected_for(self.client, job.bucket, job.key, job.src_version))
            value, exp = follower.result(got), follower.expected
            if exp.kind == "size":
                checked = verify.SIZE_ONLY
            elif value.lower() != exp.value.lower():
                raise BadBytes(f"Verification failed for {job.uri}: the bytes received give {exp.describe()} "
                               f"{value}, the server states {exp.value}; fetching it again")
        os.replace(temp, target)
        if job.resume and control is not None:
            control.save_resume(job, {})  # nothing left to resume
        return Outcome(JobState.DONE, "; ".join(n for n in (note, checked) if n), bytes_done=got, kept=kept)

    # multipart uploads that a later run can continue (parts.py says why they are sent there)

    def in_parts(self, job: Job) -> bool:
        """Whether this upload goes through parts.py: every multipart-sized one, unless a
        bandwidth limit is set (only s3transfer applies one). One stat of the file."""
        if self.settings.max_bandwidth:
            return False
        try:
            return os.stat(job.local_path).st_size >= self.settings.multipart_threshold
        except OSError:
            return False  # the backend's own checks say what is wrong with the file

    def upload_plan(self, size: int) -> tuning.Plan:
        """Part size and parts in flight for an upload of `size` bytes: tuning.py's table
        (measured per file size), or what the user set."""
        return tuning.plan(size, tuning.UPLOAD, self.settings)

    def drop_upload(self, job: Job, control: JobControl, on_upload_id=None) -> None:
        """Abort the job's resumable upload (a cancel, a permanent failure, a changed file) and
        forget it, in the queue too. Best effort: the queue's record is cleared regardless."""
        if not (job.direction is Direction.UPLOAD and parts.resumable(job)):
            return
        try:
            parts.abort(self.client, job)
        except Exception as exc:
            log.warning("could not abort the upload of %s: %s", job.uri, exc)
        self.forget_upload(job, control, on_upload_id)

    @staticmethod
    def forget_upload(job: Job, control: JobControl, on_upload_id=None) -> None:
        job.upload_id = ""
        if on_upload_id:
            on_upload_id("")
        if job.resume:
            control.save_resume(job, {})

    def discard_upload(self, job: Job) -> None:
        """Abort whatever multipart upload a job holds that will not run again (cancelled, or
        removed from the queue), resumable or an orphan's marker."""
        if parts.resumable(job):
            parts.abort(self.client, job)
            job.upload_id = ""
        elif job.upload_id and job.direction is not Direction.DOWNLOAD:
            self.cleanup(job)

    def upload_parts(self, job: Job, control: JobControl, progress: Progress, on_upload_id) -> Outcome:
        """A multipart upload sent by parts.py: continued from the parts the server has when an
        earlier run recorded one, else created, recorded, then sent."""
        path, before, extra = self.upload_source(job)
        progress.reset(before.st_size)
        note, upload = "", None
        if parts.resumable(job):
            if parts.changed_since(job, before):
                note = f"{path.name} changed since its upload was interrupted, so the upload started again"
                log.info("%s: %s", job.uri, note)
                self.drop_upload(job, control, on_upload_id)
            else:
                # What the last run recorded as sent shows as done at once (the queue's header must
                # not fall back while the server is asked); the server's answer then corrects it.
                shown = ranges.kept_bytes(job.resume)
                progress.add(shown)
                part_size, plan = int(job.resume["part_size"]), self.upload_plan(before.st_size)
                workers = plan.connections if part_size <= plan.part_size else \
                    min(plan.connections, max(1, tuning.MEMORY_BUDGET // part_size))  # an older run's bigger parts
                upload = parts.PartsUpload(self.client, job, path, before.st_size, part_size, workers,
                                           progress.add, algorithm=job.resume.get("checksum", ""))
                try:
                    kept = upload.keep_matching(upload.server_parts())
                except parts.UploadVanished:
                    note = ("the interrupted upload was gone from the server (aborted by hand or by a "
                            "lifecycle rule), so the upload started again")
                    log.info("%s: %s", job.uri, note)
                    self.forget_upload(job, control, on_upload_id)
                    progress.reset(before.st_size)
                    upload = None
                else:
                    progress.add(kept - shown)
                    log.info("%s: resuming with %d of %d parts (%d bytes) already on the server",
                             job.uri, len(upload.digests), upload.count, kept)
        if upload is None:
            plan = self.upload_plan(before.st_size)
            part_size, workers = plan.part_size, plan.connections
            algorithm = self._part_crc
            try:
                resp = self.client.create_multipart_upload(Bucket=job.bucket, Key=job.key, **extra,
                                                           **parts.create_args(algorithm))
            except Exception as exc:
                if not (algorithm and parts.refused(exc)):
                    self._failed_creates.add(job.id)  # the server may have made one: see abort_lost_creates
                    raise
                resp = self.client.create_multipart_upload(Bucket=job.bucket, Key=job.key, **extra)
                self._part_crc = ""  # it refused the checksum arguments: not a failed attempt
                log.info("%s refuses full-object checksums (%s); uploading without them",
                         self.connection.describe(), exc)
            algorithm = parts.created_with(resp, algorithm)
            job.upload_id = resp["UploadId"]
            if resp.get("ResponseMetadata", {}).get("RetryAttempts") or job.id in self._failed_creates:
                self.abort_lost_creates(job, job.upload_id, window=600 if job.id in self._failed_creates else 60)
            self._failed_creates.discard(job.id)
            # Recorded before any part is sent, so a kill at any later moment can be continued.
            if on_upload_id:
                on_upload_id(job.upload_id)
            control.save_resume(job, parts.resume_state(self.name, part_size, before, algorithm))
            upload = parts.PartsUpload(self.client, job, path, before.st_size, part_size, workers,
                                       progress.add, algorithm=algorithm)
        state = {k: v for k, v in job.resume.items() if k != "ranges"}
        upload.on_record = lambda spans: control.save_resume(job, {**state, "ranges": spans})
        control.attach(upload)
        try:
            upload.send_missing()
            if control.stopped or not upload.finished:
                raise JobError("The upload was stopped", permanent=False)
            now = path.stat()
            if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                self.drop_upload(job, control, on_upload_id)
                raise JobError(f"{path} changed while it was being uploaded; sending it again", permanent=False)
            resp = upload.complete()
        except Exception as exc:
            if control.stopped and not parts.keeps_parts(control.reason):
                self.drop_upload(job, control, on_upload_id)  # a cancel aborts what was sent
            elif upload.algorithm and not control.stopped and parts.refused_part_checksums(exc):
                # Created with the checksum, yet its parts' checksums refused: start again without.
                self._part_crc = ""
                log.info("%s refuses part checksums (%s); uploading without them", self.connection.describe(), exc)
                self.drop_upload(job, control, on_upload_id)
                return self.upload_parts(job, control, progress, on_upload_id)
            elif not isinstance(exc, JobError) and parts.is_no_such_upload(exc, job):
                self.forget_upload(job, control, on_upload_id)
                raise JobError(f"The upload of {job.uri} was aborted on the server while it ran; "
                               "sending it again", permanent=False) from exc
            raise
        self.forget_upload(job, control, on_upload_id)  # completed: nothing is left to continue
        etag, expected = str(resp.get("ETag", "")).strip('"'), upload.expected_etag()
        if upload.algorithm and self.verify:
            ours, stored = upload.full_checksum(), upload.stored_checksum(resp, resp.get("VersionId", ""))
            if stored and stored != ours:
                raise JobError(f"Verification failed for {job.uri}: the server stored {upload.algorithm} {stored}, "
                               f"the local file gives {ours}; sending it again", permanent=False)
            if stored:
                expected = etag  # the server's CRC of what it stored is the local file's
        outcome = self.check_uploaded(job, path, before, etag, expected, resp.get("VersionId", ""))
        return replace(outcome, error=note) if note else outcome

    def cleanup(self, job: Job) -> None:
        """Undo what an interrupted run left: an open multipart upload, a temp file. An upload
        parts.py can continue is kept; the next run sends only the parts it lacks."""
        if job.direction is Direction.UPLOAD and parts.resumable(job):
            pass
        else:
            if job.upload_id.startswith(PENDING_UPLOAD):
                self._abort_uploads_since(job, float(job.upload_id[len(PENDING_UPLOAD):] or 0))
            elif job.upload_id:
                try:
                    self.client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=job.upload_id)
                except Exception as exc:  # already completed or aborted is fine
                    info = classify(exc, bucket=job.bucket, key=job.key)
                    if info.code not in ("NoSuchUpload", "404", "NotFound"):
                        raise
            job.upload_id = ""
        if job.direction is Direction.DOWNLOAD and job.local_path:
            temp = temp_path_for(job.local_path, job.id)
            if not ranges.reusable_temp(temp, job.resume):  # else kept: the download resumes from it
                with contextlib.suppress(NotADirectoryError):  # a file where its folder must go: no
                    temp.unlink(missing_ok=True)  # temp there; the attempt says what is in the way

    def open_uploads(self, job: Job) -> set[str]:
        """Ids of this exact key's multipart uploads in progress."""
        resp = self.client.list_multipart_uploads(Bucket=job.bucket, Prefix=job.key)
        return {u["UploadId"] for u in resp.get("Uploads", []) if u.get("Key") == job.key}

    def abort_new_uploads(self, job: Job, before: set[str]) -> None:
        """Abort this key's uploads that were not open before our attempt (best effort). Called
        after success too: a CreateMultipartUpload whose answer was lost (reset, timeout) is sent
        again by the SDK, and the first upload stays open where nobody knows of it."""
        try:
            for upload_id in self.open_uploads(job) - before:
                self.client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=upload_id)
        except Exception as exc:  # the crash marker still lets a later run clean up
            log.warning("could not abort the uploads of %s: %s", job.uri, exc)

    def abort_lost_creates(self, job: Job, ours: str, window: float) -> None:
        """After a CreateMultipartUpload that was sent more than once (its answer was lost and the
        SDK, or an earlier attempt, sent it again): abort this key's other uploads that the server
        began up to `window` seconds before ours, which only those lost creates can have made.
        Timed by the server's own clock (ours is among them), so a skewed local clock does not
        matter; an upload begun earlier (a paused job's, to be continued) is left alone. Best
        effort: a later run's clean-up and the crash marker still cover what this misses."""
        try:
            uploads = [u for u in self.client.list_multipart_uploads(Bucket=job.bucket, Prefix=job.key)
                       .get("Uploads", []) if u.get("Key") == job.key]
            mine = next((u.get("Initiated") for u in uploads if u["UploadId"] == ours), None)
            if mine is None:  # not listed (yet): nothing to time the others by, so none is touched
                return
            for u in uploads:
                began = u.get("Initiated")
                if u["UploadId"] != ours and began is not None and \
                        mine.timestamp() - window <= began.timestamp() <= mine.timestamp() + 1:
                    self.client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=u["UploadId"])
                    log.info("aborted upload %s of %s, made by a create whose answer was lost", u["UploadId"], job.uri)
        except Exception as exc:
            log.warning("could not look for lost uploads of %s: %s", job.uri, exc)

    def _abort_uploads_since(self, job: Job, started: float) -> None:
        """For a backend that cannot report upload ids: abort this exact key's uploads begun
        since the job's recorded start (a minute's grace for clock skew)."""
        resp = self.client.list_multipart_uploads(Bucket=job.bucket, Prefix=job.key)
        for u in resp.get("Uploads", []):
            initiated = u.get("Initiated")
            if u.get("Key") == job.key and (initiated is None or initiated.timestamp() >= started - 60):
                try:
                    self.client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=u["UploadId"])
                except Exception as exc:
                    log.warning("could not abort upload %s of %s: %s", u["UploadId"], job.uri, exc)

    def _upload(self, job: Job, control: JobControl, progress: Progress, on_upload_id) -> Outcome:
        raise NotImplementedError

    def _download(self, job: Job, control: JobControl, progress: Progress) -> Outcome:
        raise NotImplementedError

    def close(self) -> None:
        """Release the backend's threads and connections."""
