"""Planning transfers: which files go where, which targets exist, and what the policy makes of them.

Existing objects are found by listing the target prefix once, never by one HEAD
per file; existing local files by a stat. Unsafe or unreadable items are
reported with a reason and never enqueued.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..listing import ObjectEntry, PrefixLister
from . import etags
from .jobs import CONFLICT, Direction, JobState, OverwritePolicy, conflict_error
from .localpaths import Skipped, UnsafeKey, absolute, collect_uploads, download_target, folder_in_the_way
from .store import NewJob


@dataclass(frozen=True)
class Planned:
    direction: Direction
    bucket: str
    key: str
    local_path: str
    size: int
    mtime: float = 0.0
    etag: str = ""  # the object's, for downloads
    existing: tuple[int, str] | None = None  # the target's (size, etag) if it exists; etag '' for local files
    problem: str = ""  # why it cannot be done whatever the policy (a folder holds its name): queued failed


@dataclass
class Plan:
    items: list[Planned]
    skipped: list[Skipped]

    @property
    def conflicts(self) -> list[Planned]:
        return [p for p in self.items if p.existing is not None]

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.items)


def existing_objects(client, bucket: str, prefix: str, **listing) -> dict[str, tuple[int, str]]:
    """{key: (size, etag)} of every object under `prefix`, from one paginated listing.
    `listing` passes PrefixLister's raw/verify options (the fast path for explicit endpoints)."""
    return {o.key: (o.size, o.etag) for page in PrefixLister(client, bucket, prefix, recursive=True, **listing)
            for o in page.objects}


def _common_prefix(keys: list[str]) -> str:
    common = os.path.commonprefix(keys) if keys else ""
    return common[: common.rfind("/") + 1]


def plan_upload(client, bucket: str, prefix: str, sources: Iterable[Path | str], *,
                keep_folder_name: bool = False, check_existing: bool = True, **listing) -> Plan:
    """Files of `sources` to keys under `prefix`, each with the object it would replace.
    Local paths are made absolute here: the durable queue keeps them past this folder."""
    files, skipped = collect_uploads([absolute(s) for s in sources], prefix, keep_folder_name=keep_folder_name)
    seen: dict[str, str] = {}
    unique = []
    for f in files:
        if f.key in seen:  # two sources mapping to one key would overwrite each other
            skipped.append(Skipped(str(f.path), f"maps to the same key as {seen[f.key]}: s3://{bucket}/{f.key}"))
            continue
        if len(f.key.encode("utf-8")) > 1024:
            skipped.append(Skipped(str(f.path), "its key would be longer than S3's 1,024 bytes"))
            continue
        seen[f.key] = str(f.path)
        unique.append(f)
    existing = existing_objects(client, bucket, _common_prefix([f.key for f in unique]), **listing) \
        if unique and check_existing else {}
    items = [Planned(Direction.UPLOAD, bucket, f.key, str(f.path), f.size, f.mtime, existing=existing.get(f.key))
             for f in unique]
    return Plan(items, skipped)


def plan_download(client, bucket: str, dest: Path | str, *, objects: Iterable[ObjectEntry] = (),
                  prefixes: Iterable[str] = (), base: str = "", **listing) -> Plan:
    """Objects and whole prefixes to files under `dest`, with paths relative to `base`.
    `listing` passes PrefixLister's raw/verify options, as for existing_objects. `dest` is made
    absolute: the durable queue keeps the paths past this folder."""
    dest = absolute(dest)
    entries = list(objects)
    for prefix in prefixes:
        entries += [o for page in PrefixLister(client, bucket, prefix, recursive=True, **listing)
                    for o in page.objects]
    items, skipped, seen = [], [], set()
    for o in entries:
        if o.key.endswith("/") and o.size == 0:
            continue  # a folder marker: its folder appears through its children
        try:
            target = download_target(dest, o.key, base)
        except UnsafeKey as exc:
            skipped.append(Skipped(o.key, str(exc)))
            continue
        if str(target) in seen:
            continue
        seen.add(str(target))
        existing, problem = None, ""
        try:
            st = target.stat()
        except OSError:
            pass
        else:  # a folder is not a file that differs: --overwrite could not replace it
            if stat.S_ISDIR(st.st_mode):
                problem = folder_in_the_way(target)
            else:
                existing = (st.st_size, "")
        items.append(Planned(Direction.DOWNLOAD, bucket, o.key, str(target), o.size, etag=o.etag,
                             existing=existing, problem=problem))
    return Plan(items, skipped)


def plan_download_uri(client, bucket: str, source: str, dest: Path | str, **listing) -> Plan:
    """`lakegui-cli download s3://BUCKET/SOURCE DEST`: SOURCE is one key (saved as DEST/NAME)
    or a prefix (saved under DEST with paths relative to it), as with `aws s3 cp`."""
    if source and not source.endswith("/"):
        lister = PrefixLister(client, bucket, source, recursive=True, **listing)
        first = lister.next_page()
        exact = [o for o in (first.objects if first else []) if o.key == source]
        if exact:
            base = source[: source.rfind("/") + 1]
            return plan_download(client, bucket, dest, objects=exact, base=base, **listing)
        source += "/"
    return plan_download(client, bucket, dest, prefixes=[source], base=source, **listing)


def same_target(item: Planned, chunksize: int) -> bool:
    """Whether the existing target already holds this item's content (size and ETag)."""
    if item.existing is None:
        return False
    if item.direction is Direction.UPLOAD:
        size, etag = item.existing
        return bool(etags.same_content(item.local_path, size, etag, chunksize))
    return bool(etags.same_content(item.local_path, item.size, item.etag, chunksize))


def to_jobs(plan: Plan, policy: OverwritePolicy, *, chunksize: int, metadata: dict | None = None,
            extra: dict | None = None) -> list[NewJob]:
    """Jobs for a plan under an overwrite policy. Existing targets are never replaced silently:
    with ASK, an identical target is skipped and a different one fails with a message, marked
    (jobs.CONFLICT) so that retry-failed leaves it and the engine checks the target if it runs."""
    jobs = []
    for p in plan.items:
        state, error, job_policy, resume = JobState.QUEUED, "", policy, None
        if p.problem:
            state, error = JobState.FAILED, p.problem
        elif p.existing is not None and policy is not OverwritePolicy.OVERWRITE:
            where = p.local_path if p.direction is Direction.DOWNLOAD else f"s3://{p.bucket}/{p.key}"
            if policy is OverwritePolicy.SKIP:
                state, error = JobState.SKIPPED, f"{where} exists"
            elif same_target(p, chunksize):
                state, error = JobState.SKIPPED, f"{where} exists with the same content"
            elif policy is OverwritePolicy.ASK:
                state, error = JobState.FAILED, conflict_error(where)
                resume = {CONFLICT: True}
            else:  # skip-if-same, and it differs: replace it
                job_policy = OverwritePolicy.OVERWRITE
        jobs.append(NewJob(p.direction, p.bucket, p.key, p.local_path, size=p.size, mtime=p.mtime, etag=p.etag,
                           policy=job_policy, metadata=metadata if p.direction is Direction.UPLOAD else None,
                           extra=extra if p.direction is Direction.UPLOAD else None, state=state, error=error,
                           resume=resume))
    return jobs
