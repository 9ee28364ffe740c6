"""Sync = compare, then queue: which copies a comparison calls for, the jobs that make them, and
the deletes that follow once every copy succeeded.

Copies go through the durable queue like any transfer (a killed sync is continued by
`queue resume`); downloads replace local files only through the engines' temp-and-rename.
Deletes come last and only after all copies succeeded, so a failed run never leaves the
destination with less than it had.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..units import counted
from .compare import DIFFER, ONLY_LOCAL, ONLY_REMOTE, Comparison, Problem
from .records import Record, Stat

if TYPE_CHECKING:  # the queue's modules are imported only when there is something to queue
    from ..transfers.jobs import Job
    from ..transfers.store import NewJob

UPLOAD, DOWNLOAD, DELETE = "upload", "download", "delete"
DEFAULT_MAX_DELETE = 1000
DELETE_BATCH = 1000  # delete_objects takes at most 1,000 keys a request


@dataclass(frozen=True, slots=True)
class Action:
    action: str  # upload, download or delete
    path: str  # the local file
    key: str
    reason: str  # only-local, only-remote, or the differ reason (size, content, mtime)
    size: int = 0

    def to_json(self) -> dict:
        return {"action": self.action, "path": self.path, "key": self.key, "reason": self.reason}


@dataclass
class SyncPlan:
    direction: str  # UPLOAD (local folder to the prefix) or DOWNLOAD
    comparison: Comparison
    copies: list[Action] = field(default_factory=list)
    deletes: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # those that keep the two sides apart

    @property
    def actions(self) -> list[Action]:
        return self.copies + self.deletes

    @property
    def copy_bytes(self) -> int:
        return sum(a.size for a in self.copies)

    @property
    def replaced(self) -> list[Action]:
        """The copies whose target exists with other content: each replaces a file or an object."""
        return [a for a in self.copies if a.reason not in (ONLY_LOCAL, ONLY_REMOTE)]


class DeleteCapExceeded(Exception):
    """The plan would delete more than the cap allows; nothing was changed."""

    def __init__(self, count: int, cap: int, where: str):
        self.count, self.cap = count, cap
        super().__init__(f"the sync would delete {counted(count, where)}, more than --max-delete {cap:,}; "
                         f"nothing was changed. Raise the cap (--max-delete {count}) or accept any "
                         "count (--yes)")


def sides(src: str, dst: str) -> tuple[str, str, str, str]:
    """(direction, local folder, bucket, prefix) of a `sync SRC DST`: exactly one side is s3://."""
    from ..listing import parse_s3_uri

    if src.startswith("s3://") == dst.startswith("s3://"):
        raise ValueError("exactly one of the two sides must be an s3:// URI, the other a local folder")
    if dst.startswith("s3://"):
        bucket, prefix = parse_s3_uri(dst)
        return UPLOAD, src, bucket, prefix
    bucket, prefix = parse_s3_uri(src)
    return DOWNLOAD, dst, bucket, prefix


def plan_sync(cmp: Comparison, direction: str, *, delete: bool = False) -> SyncPlan:
    """The copies (and with `delete`, the deletes) that make the destination match the source."""
    if direction not in (UPLOAD, DOWNLOAD):
        raise ValueError(f"direction is {UPLOAD} or {DOWNLOAD}")
    plan = SyncPlan(direction, cmp)
    missing, extra = (ONLY_LOCAL, ONLY_REMOTE) if direction == UPLOAD else (ONLY_REMOTE, ONLY_LOCAL)
    source_side = "local" if direction == UPLOAD else "remote"
    unseen = _unseen_at_source(cmp, source_side) if delete else []
    held: list[Problem] = []
    for e in cmp.entries:
        if e.status == extra and delete and (why := _under(e.relative, unseen)):
            # The source could not show what it has there: its absence proves nothing.
            held.append(Problem(cmp.key_of(e.relative) if direction == UPLOAD else e.local.path,
                                f"not deleted: {why}", "remote" if direction == UPLOAD else "local"))
            continue
        if e.status == missing or e.status == DIFFER:
            reason = e.status if e.status == missing else e.reason
            if direction == UPLOAD:
                plan.copies.append(Action(UPLOAD, e.local.path, cmp.key_of(e.relative), reason, e.local.stat.size))
            else:
                path = e.local.path if e.local else os.path.join(str(cmp.root), *e.relative.split("/"))
                plan.copies.append(Action(DOWNLOAD, path, e.remote.key, reason, e.remote.size))
        elif e.status == extra and delete:
            path = e.local.path if e.local else ""
            plan.deletes.append(Action(DELETE, path, cmp.key_of(e.relative), e.status,
                                       (e.local.stat.size if e.local else e.remote.size)))
    # A file that cannot be read fails an upload; a key that cannot be a path fails a download, and
    # an upload with --delete (it is left, not deleted, so the two sides still differ).
    plan.problems = [p for p in cmp.problems if p.side == source_side or delete] + held
    return plan


def _unseen_at_source(cmp: Comparison, side: str) -> list[tuple[str, str]]:
    """(relative path, reason) of what the source side could not show: a folder that could not be
    read, or a symbolic link to a folder (not followed). A delete under one would remove what the
    source may well have (a sync --delete deleted a subfolder's objects when it was unreadable)."""
    out = []
    for p in cmp.problems:
        if p.side != side:
            continue
        if side == "local":
            relative = os.path.relpath(p.path, cmp.root).replace(os.sep, "/")
            if relative.startswith(".."):
                continue
        else:
            relative = p.path[len(cmp.prefix):] if p.path.startswith(cmp.prefix) else p.path
        out.append((relative.rstrip("/"), f"{p.path} {p.reason}" if side == "remote" else f"{p.path}: {p.reason}"))
    return out


def _under(relative: str, unseen: list[tuple[str, str]]) -> str:
    """Why `relative` is not to be deleted ('' when nothing unseen holds it)."""
    for path, why in unseen:
        if path in (".", "") or relative == path or relative.startswith(path + "/"):
            return why
    return ""


def source_is_empty(cmp: Comparison, direction: str) -> bool:
    """Whether the sync's source side holds nothing the comparison saw (no file, or no object, that
    the filters let through): mirroring it would delete the whole destination, which is far more
    often a mistyped or unmounted source than a wish (that is `rm --recursive`'s job)."""
    side = "local" if direction == UPLOAD else "remote"
    return not any(getattr(e, side) is not None for e in cmp.entries)


def check_delete_cap(plan: SyncPlan, max_delete: int = DEFAULT_MAX_DELETE, *, accept_any: bool = False) -> None:
    """Raise DeleteCapExceeded when the plan deletes more than `max_delete` (unless `accept_any`)."""
    n = len(plan.deletes)
    if n > max_delete and not accept_any:
        where = "object" if plan.direction == UPLOAD else "local file"
        raise DeleteCapExceeded(n, max_delete, where)


def jobs_for(plan: SyncPlan) -> list[NewJob]:
    """Queue jobs for the plan's copies. They replace what differs (the comparison decided), so the
    policy is overwrite; a download's listed ETag travels with it for the engine's checks, and an
    upload's compared ETag with it, so one that waits replaces only what was compared."""
    import time

    from ..transfers.jobs import COMPARED, Direction, OverwritePolicy
    from ..transfers.store import NewJob

    cmp = plan.comparison
    jobs = []
    etag_of = _listed_etags(cmp)
    queued = time.time()
    for a in plan.copies:
        if a.action == UPLOAD:
            st = compared_stat(cmp, a)
            # What the key held when compared: an upload that waits replaces only that (engine.py).
            compared = f"{etag_of.get(a.key, '')} {queued:.3f}"  # listed ETags have no quotes
            jobs.append(NewJob(Direction.UPLOAD, cmp.bucket, a.key, a.path, size=a.size,
                               mtime=st.mtime_ns / 1e9 if st else 0.0, policy=OverwritePolicy.OVERWRITE,
                               extra={COMPARED: compared}))
        else:
            jobs.append(NewJob(Direction.DOWNLOAD, cmp.bucket, a.key, a.path, size=a.size, etag=etag_of.get(a.key, ""),
                               policy=OverwritePolicy.OVERWRITE))
    return jobs


def _listed_etags(cmp: Comparison) -> dict[str, str]:
    """{key: ETag} of every object the comparison listed."""
    return {e.remote.key: e.remote.etag for e in cmp.entries if e.remote is not None}


def compared_stat(cmp: Comparison, action: Action) -> Stat | None:
    """The stat the comparison saw of the action's local file (None if there was none)."""
    e = cmp.entry(action.key[len(cmp.prefix):])
    return e.local.stat if e is not None and e.local is not None else None


def records_after(plan: SyncPlan, done: list[Job]) -> list[Record]:
    """Records of the files the plan's finished jobs left equal to their objects. An upload counts
    only if the file still has the stat it was compared with (else it may have changed after it
    was sent); a download, with the stat its rename left."""
    from ..transfers.jobs import Direction, JobState

    cmp = plan.comparison
    out = []
    for job in done:
        if job.state is not JobState.DONE or not job.etag:
            continue
        try:
            now = Stat.of(os.stat(job.local_path))
        except OSError:
            continue
        if job.direction is Direction.UPLOAD:
            before = compared_stat(cmp, Action(UPLOAD, job.local_path, job.key, ""))
            if before != now:
                continue
        elif now.size != job.size:
            continue
        out.append(Record(job.key, job.local_path, now, job.etag))
    return out


def delete_jobs_for(plan: SyncPlan) -> list[NewJob]:
    """Queue jobs for an upload sync's deletes (DeleteObjects, 1,000 keys a job), so a sync killed
    while deleting is finished by `queue resume`. Queue them only once every copy succeeded.
    Only upload syncs delete objects (a download sync deletes local files, not through jobs)."""
    from ..transfers.object_jobs import delete_jobs

    # With the ETags compared, each job deletes only what is still as compared when it runs.
    return delete_jobs(plan.comparison.bucket, [a.key for a in plan.deletes], {a.key: a.size for a in plan.deletes},
                       etags=_listed_etags(plan.comparison))


def delete_remote(client, bucket: str, keys: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Delete keys with delete_objects, 1,000 a request: (deleted, [(key, error)])."""
    deleted, failed = [], []
    for i in range(0, len(keys), DELETE_BATCH):
        batch = keys[i:i + DELETE_BATCH]
        try:
            resp = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch],
                                                                "Quiet": True})
        except Exception as exc:
            failed += [(k, f"{type(exc).__name__}: {exc}") for k in batch]
            continue
        errors = {e.get("Key", ""): f"{e.get('Code', '')}: {e.get('Message', '')}" for e in resp.get("Errors", [])}
        failed += list(errors.items())
        deleted += [k for k in batch if k not in errors]
    return deleted, failed


def delete_local(plan: SyncPlan) -> tuple[list[str], list[tuple[str, str]]]:
    """Remove the plan's local deletes, each only if it still has the stat it was compared with
    (a file written since is kept and reported): (deleted, [(path, error)])."""
    deleted, failed = [], []
    for a in plan.deletes:
        before = compared_stat(plan.comparison, a)
        try:
            if before is not None and Stat.of(os.stat(a.path)) != before:
                failed.append((a.path, "changed since it was compared; kept"))
                continue
            os.unlink(a.path)
            deleted.append(a.path)
        except FileNotFoundError:
            deleted.append(a.path)  # already gone: what the sync wanted
        except OSError as exc:
            failed.append((a.path, exc.strerror or str(exc)))
    return deleted, failed
