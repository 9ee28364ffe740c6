"""Undo a backfill on a versioned bucket, from what its jobs recorded: the version each upload
created (x-amz-version-id of its PUT or CompleteMultipartUpload) and the version it replaced.

- An object the backfill created gets a delete marker (undelete brings it back), or with
  `permanent` the version it wrote is deleted for good.
- An object it replaced gets the replaced version back by a server-side copy of that version
  over the key: nothing is lost, the backfill's version stays in the history. With `permanent`
  the backfill's version is deleted instead, so the one below it is the latest again (no copy:
  one batched DeleteObjects a 1,000 keys).
- An object whose latest version is no longer the one the backfill wrote (someone wrote or
  deleted it since) is left alone, and reported.

A rollback records on each job it undid what it left latest (the job's extra[ROLLED_BACK]), so a
second rollback knows its own delete markers and copies from someone else's change: those objects
are "already rolled back", and only a change made after the rollback is reported as one.

What is latest is learned from one version listing of the keys' common prefix, not a HEAD a key.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace

from .versions import NEVER, VersionLister, delete_in_batches, remove_versions, revert, versioning_state

ROLLED_BACK = "RolledBack"  # a job's extra: {at, permanent, action: removed|restored, left: latest version}


class RollbackImpossible(Exception):
    """The backfill cannot be rolled back (an unversioned bucket): the message says why."""


@dataclass
class RollbackPlan:
    bucket: str
    remove: list[tuple[str, str]] = field(default_factory=list)  # (key, version we wrote): created objects
    restore: list[tuple[str, str, str]] = field(default_factory=list)  # (key, ours, the version replaced)
    changed: list[dict] = field(default_factory=list)  # left alone: {key, version_id, latest_version}
    unknown: list[str] = field(default_factory=list)  # uploaded with no version id recorded
    errors: list[dict] = field(default_factory=list)  # {key, error}, filled by run_rollback
    already: list[str] = field(default_factory=list)  # undone by an earlier rollback, as it left them
    rolled_back_at: float = 0.0  # when the latest earlier rollback of these jobs ran (0: never)
    job_ids: dict[str, int] = field(default_factory=dict)  # {key: job id} of remove and restore

    def to_json(self) -> dict:
        return {"bucket": self.bucket, "removed": [k for k, _ in self.remove],
                "restored": [{"key": k, "version_id": prev} for k, _, prev in self.restore],
                "changed": self.changed, "unknown": self.unknown, "errors": self.errors,
                "already_rolled_back": self.already, "rolled_back_at": self.rolled_back_at or None}

    @property
    def to_do(self) -> bool:
        """Whether carrying it out would change anything."""
        return bool(self.remove or self.restore)


@dataclass(frozen=True)
class RollbackRecord:
    """What the rollbacks of one backfill did, from its jobs' records (`rollback_record`)."""

    removed: int
    restored: int
    at: float  # the latest one
    permanent: bool  # the latest one deleted versions for good

    @property
    def objects(self) -> int:
        return self.removed + self.restored

    def text(self) -> str:
        """"rolled back 2026-12-02 00:20: 9 objects (8 removed, 1 restored)", for a person."""
        how = ", permanently" if self.permanent else ""
        return (f"rolled back {when(self.at)}{how}: {self.objects:,} object{'s' * (self.objects != 1)} "
                f"({self.removed:,} removed, {self.restored:,} restored)")

    def to_json(self) -> dict:
        return {"at": self.at, "removed": self.removed, "restored": self.restored, "permanent": self.permanent}


def when(at: float) -> str:
    """A rollback's (or a backfill's) local date and time, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def rollback_record(queue, batch_id: int) -> RollbackRecord | None:
    """What rolling back this batch did so far (`queue`: a QueueService), or None if it never was."""
    marks = [m for m in queue.extra_values(batch_id, ROLLED_BACK) if isinstance(m, dict)]
    if not marks:
        return None
    last = max(marks, key=lambda m: m.get("at", 0))
    removed = sum(m.get("action") == "removed" for m in marks)
    return RollbackRecord(removed, len(marks) - removed, float(last.get("at", 0)), bool(last.get("permanent")))


def _common_prefix(keys: list[str]) -> str:
    prefix = os.path.commonprefix(keys) if keys else ""
    return prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""


def latest_versions(client, bucket: str, keys: list[str], **listing) -> dict[str, tuple[str, bool]]:
    """{key: (latest version id, is a delete marker)} of `keys`, from one version listing."""
    wanted, out = set(keys), {}
    for page in VersionLister(client, bucket, _common_prefix(keys), recursive=True, **listing):
        for v in page.versions:
            if v.latest and v.key in wanted:
                out[v.key] = (v.version_id, v.delete_marker)
    return out


def note_replaced(client, bucket: str, jobs: list, **listing) -> list:
    """Jobs (store.NewJob) with `replaced_version` set for the keys that exist now, on a versioned
    bucket, before the backfill runs (one version listing); unchanged on an unversioned one."""
    if not jobs or versioning_state(client, bucket) == NEVER:
        return jobs
    latest = latest_versions(client, bucket, [j.key for j in jobs], **listing)
    return [replace(j, replaced_version=latest[j.key][0]) if j.key in latest and not latest[j.key][1] else j
            for j in jobs]


def plan_rollback(client, bucket: str, jobs: list, **listing) -> RollbackPlan:
    """What undoing these finished upload jobs (transfers.jobs.Job) would do; nothing is changed."""
    from .transfers.jobs import Direction, JobState

    state = versioning_state(client, bucket)
    if state == NEVER:
        raise RollbackImpossible(
            f"s3://{bucket} does not keep versions, so the objects this backfill replaced are gone and what "
            "it wrote cannot be told from what others wrote since: nothing can be rolled back. Turn on "
            "versioning before the next backfill with --overwrite.")
    done = [j for j in jobs if j.direction is Direction.UPLOAD and j.state is JobState.DONE]
    plan = RollbackPlan(bucket)
    ours = [j for j in done if j.version_id]
    plan.unknown = [j.key for j in done if not j.version_id]
    latest = latest_versions(client, bucket, [j.key for j in ours], **listing)
    for j in ours:
        now, marker = latest.get(j.key, ("", False))
        mark = (j.extra or {}).get(ROLLED_BACK)
        if isinstance(mark, dict):  # undone before: never again; changed since only if not as it was left
            at = float(mark.get("at", 0))
            plan.rolled_back_at = max(plan.rolled_back_at, at)
            if now == mark.get("left", ""):
                plan.already.append(j.key)
            else:
                plan.changed.append({"key": j.key, "version_id": j.version_id, "rolled_back_at": at,
                                     "latest_version": "" if not now else
                                     ("delete marker " + now if marker else now)})
            continue
        plan.job_ids[j.key] = j.id
        if now != j.version_id:
            plan.changed.append({"key": j.key, "version_id": j.version_id,
                                 "latest_version": "" if not now else ("delete marker " + now if marker else now)})
        elif j.replaced_version:
            plan.restore.append((j.key, j.version_id, j.replaced_version))
        else:
            plan.remove.append((j.key, j.version_id))
    return plan


def run_rollback(client, plan: RollbackPlan, *, permanent: bool = False) -> RollbackPlan:
    """Carry out a plan (see the module's docstring); per-key failures go to plan.errors."""
    bucket = plan.bucket
    if permanent:
        pairs = [(k, v) for k, v in plan.remove] + [(k, ours) for k, ours, _ in plan.restore]
        _, errors = remove_versions(client, bucket, pairs)
    else:
        # delete markers: DeleteObjects without version ids
        _, errors = delete_in_batches(client, bucket, [{"Key": k} for k, _ in plan.remove], quiet=True)

        def put_back(entry):
            key, _ours, previous = entry
            try:
                revert(client, bucket, key, previous)  # CopyObject, or a multipart copy beyond 5 GB
            except Exception as exc:  # noqa: BLE001  reported per key; the others go on
                return key, str(exc)
            return None

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:  # one small request each: in parallel, as transfers are
            errors += [failed for failed in pool.map(put_back, plan.restore) if failed]
    plan.errors = [{"key": k, "error": e} for k, e in errors]
    return plan


def record_rollback(client, queue, plan: RollbackPlan, *, permanent: bool, **listing) -> None:
    """Note on each job a carried-out plan undid what it left latest (one version listing), so a
    later rollback or `backfill status` knows (`queue`: a QueueService)."""
    failed = {e["key"] for e in plan.errors}
    undone = [(k, "removed") for k, _ in plan.remove] + [(k, "restored") for k, _, _ in plan.restore]
    undone = [(k, action) for k, action in undone if k not in failed and k in plan.job_ids]
    if not undone:
        return
    latest = latest_versions(client, plan.bucket, [k for k, _ in undone], **listing)
    at = time.time()
    queue.note_extra({plan.job_ids[k]: {ROLLED_BACK: {"at": at, "permanent": permanent, "action": action,
                                                      "left": latest.get(k, ("", False))[0]}}
                      for k, action in undone})
