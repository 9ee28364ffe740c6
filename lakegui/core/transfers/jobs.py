"""What a transfer job is: direction, source and target, state, progress and last error."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


FINISHED = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.SKIPPED})
# Only failed jobs are retried: a cancelled job stays as the user left it (issue 18.3).
RETRYABLE = frozenset({JobState.FAILED})
UNFINISHED = frozenset({JobState.QUEUED, JobState.RUNNING, JobState.PAUSED})
CLEARABLE = frozenset({JobState.DONE, JobState.SKIPPED, JobState.CANCELLED})  # what "Remove finished" removes

# The key in a job's resume the planner sets when it failed the job because its target exists
# with other content and no overwrite was chosen: retry-failed leaves it, the engine checks again.
CONFLICT = "conflict"
# The key in a job's resume a backfill sets when it held a file back because its Parquet schema
# differs from the lake's: retry-failed leaves it (a new backfill with drift allowed sends it).
SCHEMA_DRIFT = "schema_drift"


NOT_REPLACED = "was not replaced"  # what every conflict's error says (conflict_error)


def conflict_error(where: str, how: str = " with different content") -> str:
    """What a job whose target exists (with other content) and may not be replaced says, in no
    front end's words: each adds how it replaces or keeps the target with `advised`."""
    return f"{where} exists{how} and {NOT_REPLACED}"


def says_conflict(error: str) -> bool:
    """Whether a job's error is a conflict's (conflict_error; in a queue written before it, the
    CLI's flags)."""
    return NOT_REPLACED in error or ("(--overwrite)" in error and "(--skip-existing)" in error)


def advised(error: str, advice: str) -> str:
    """A conflict's `error` followed by a front end's `advice` (the CLI's flags, the window's
    choices); any other error as it is. An older queue's CLI wording gives way to the advice."""
    if not says_conflict(error):
        return error
    return f"{_CLI_WORDS.sub('', error)}: {advice}"


# A sync's upload: "ETAG TIME", the ETag its key had when compared ('' for none) and when (epoch s).
COMPARED = "Compared"
RECHECK_AFTER = 60.0  # seconds a sync's upload may wait before it asks its key again
CHANGED_SINCE_COMPARED = "changed in the lake since it was compared; left alone"


def said_once(uri: str, error: str) -> str:
    """An error that starts with `uri`, for a line that names the URI already: 'it exists …' (the
    line said 'failed s3://b/k: s3://b/k exists …')."""
    return "it" + error[len(uri):] if error.startswith(uri + " ") else error


_CLI_WORDS = re.compile(r"; (overwrite|keep) it \(--.*$")  # how conflicts ended before: in the CLI's flags
BACKFILL = "backfill"  # the kind of a backfill's batch: the dashboard, the notifier and `backfill status` read them


class Direction(str, enum.Enum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    COPY = "copy"  # S3 to S3: the source is src_bucket/src_key, the target bucket/key
    MOVE = "move"  # a copy, verified, then the source deleted
    # Requests rather than byte transfers (object_jobs.py): their job's extra says what to ask.
    DELETE = "delete"  # DeleteObjects of up to 1,000 keys (extra["Keys"]); key is their folder
    TAG = "tag"  # PutObjectTagging of bucket/key (extra["Tags"])
    RESTORE = "restore"  # RestoreObject of an archived bucket/key (extra["Days"], extra["Tier"])
    MAKE_BUCKET = "make-bucket"  # CreateBucket of `bucket` (extra["Region"])

    def __str__(self) -> str:
        return self.value


class OverwritePolicy(str, enum.Enum):
    """What to do when the target already exists. ASK is resolved by the GUI before jobs run;
    a job that still says ASK when its target exists fails rather than overwrite silently."""

    ASK = "ask"
    OVERWRITE = "overwrite"
    SKIP = "skip"
    SKIP_IF_SAME = "skip-if-same"

    def __str__(self) -> str:
        return self.value


def display_name(direction: str, key: str, local_path: str) -> str:
    """What a person calls a transfer: the object's name for a download (and a copy's target),
    the file's for an upload; what a delete or a new bucket says of itself (its local_path)."""
    if str(direction) in ("delete", "make-bucket"):
        return local_path
    if str(direction) != "upload":
        return key.rsplit("/", 1)[-1]
    return local_path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class Job:
    """One file transfer. Byte counts are Python ints: no 32-bit overflow at 2 GiB."""

    id: int
    batch_id: int
    direction: Direction
    bucket: str
    key: str
    local_path: str
    size: int = 0  # bytes to move: the local size for uploads, the listed size for downloads
    mtime: float = 0.0  # local mtime when queued (uploads), to notice a file changed under us
    etag: str = ""  # listed ETag (downloads) or the stored one after an upload
    state: JobState = JobState.QUEUED
    bytes_done: int = 0
    attempts: int = 0
    error: str = ""
    policy: OverwritePolicy = OverwritePolicy.ASK
    upload_id: str = ""  # of a multipart upload in flight, so a crash never leaves it orphaned
    metadata: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # StorageClass, ServerSideEncryption, ContentType
    owner: str = ""  # "host:pid" of the process running it
    src_bucket: str = ""  # copies and moves: the source object (its version when given)
    src_key: str = ""
    src_version: str = ""  # downloads too: the version to read ('' = the latest)
    # Uploads to a versioned bucket: the version the upload created, and the one it replaced
    # ('' = none, or not versioned), so a backfill can be rolled back (core/rollback.py).
    version_id: str = ""
    replaced_version: str = ""
    # What an interrupted run left to reuse (issue 19): an upload's part size and the file's
    # size and mtime; a download's ETag and the ranges of its temp file that are complete.
    resume: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_name(self.direction, self.key, self.local_path)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


# How a job's note says an object changed since an interrupted run and was fetched anew (the CLI
# prints such notes, not only logs them).
REFETCHED = "fetched again from the start"


@dataclass(frozen=True)
class Outcome:
    """How one run of a job ended."""

    state: JobState
    error: str = ""
    bytes_done: int = 0
    etag: str = ""
    permanent: bool = False
    attempts: int = 1
    version_id: str = ""  # x-amz-version-id of an upload's PUT or CompleteMultipartUpload
    kept: int = 0  # of bytes_done, what an earlier, interrupted run had already moved (a resume)
