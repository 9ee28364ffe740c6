"""Backfills: a folder of local files placed into the lake by a layout template, each with its
lineage metadata, and compared with what the bucket already holds before anything is sent.

What exists is learned from one paginated listing of the template's prefix, never a HEAD per
file. Same size is not enough to call a file unchanged: its ETag must match too, taken from
the queue's record of our own upload of that file (same size and mtime) when there is one,
else computed from the file.
"""

from __future__ import annotations

import os
import queue
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .layouts import LayoutTemplate, LocalPattern, place
from .listing import PrefixLister
from .transfers import etags
from .transfers.jobs import CONFLICT, SCHEMA_DRIFT, Direction, JobState, OverwritePolicy, conflict_error
from .transfers.localpaths import absolute
from .transfers.store import NewJob

NEW, SAME, DIFFERENT, INVALID = "new", "exists-same", "exists-different", "invalid"
# A Parquet file whose schema is not the lake's majority schema for the template; queued only
# when drift is allowed (then as what it would otherwise be: `was`).
SCHEMA_DIFFERS = "schema-differs"
# What a file held back for its schema says to do, in both front ends' words: a retry never sends it.
DRIFT_ADVICE = ("Retrying does not send it: a new backfill with schema drift allowed does "
                "(lakegui-cli backfill --allow-schema-drift; in the window, Send files whose schema differs)")
SCHEMA_SAMPLE = 64   # lake footers read for the majority schema, spread over the listing


class PlanCancelled(Exception):
    """Planning was stopped by its caller (the user moved on)."""


@dataclass(frozen=True)
class BackfillItem:
    local_path: str
    relative: str
    status: str
    key: str = ""
    size: int = 0
    mtime: float = 0.0
    metadata: dict = field(default_factory=dict)
    reason: str = ""
    was: str = ""        # for schema-differs: the status it would have had (new, exists-different)

    def to_json(self) -> dict:
        return {"local_path": self.local_path, "key": self.key, "status": self.status, "size": self.size,
                "metadata": self.metadata, "reason": self.reason}


@dataclass
class BackfillPlan:
    template: LayoutTemplate
    bucket: str
    prefix: str
    items: list[BackfillItem]
    listed: int = 0   # objects the listing found under the template's prefix

    def counts(self) -> dict[str, int]:
        out = {NEW: 0, SAME: 0, DIFFERENT: 0, INVALID: 0}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1  # schema-differs only when there are some
        return out

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.items if i.status != INVALID)


def walk_files(root: Path):
    """(path, relative posix path, size, mtime) of regular files under root, sorted, and
    (path, reason) of what cannot be read. Symlinked folders are not followed, so loops cannot
    trap the walk. Plain strings and scandir: pathlib cost seconds at 75,000 files."""
    files, errors = [], []
    stack = [(str(root), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            errors.append((folder, exc.strerror or str(exc)))
            continue
        subfolders = []
        for entry in entries:
            relative = f"{rel}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append((entry.path, relative + "/"))
                    continue
                st = entry.stat()
            except OSError as exc:
                errors.append((entry.path, exc.strerror or str(exc)))
                continue
            if not stat.S_ISREG(st.st_mode):
                errors.append((entry.path, "is not a regular file"))
                continue
            files.append((entry.path, relative, st.st_size, st.st_mtime))
        stack.extend(reversed(subfolders))
    files.sort(key=lambda f: f[1])
    return files, errors


def plan_backfill(client, bucket: str, root: Path | str, template: LayoutTemplate, *, pattern: str | None = None,
                  prefix: str = "", source: str = "lakegui", chunksize: int = 10 << 20,
                  known: dict[str, tuple[int, float, str]] | None = None,
                  listing: dict | None = None, cancel: threading.Event | None = None,
                  check_schema: bool = True) -> BackfillPlan:
    """Every file under `root`, placed by `template` (its fields read through `pattern`, the
    template's local pattern by default) and compared with the bucket. `known` maps keys to
    (size, mtime, etag) of uploads the queue finished, to spare hashing unchanged files; `listing`
    holds PrefixLister options (raw, verify). Setting `cancel` stops the walk's comparisons and
    the listing and raises PlanCancelled.

    The listing runs in a thread while the folder is walked and each listed page is compared as
    it arrives, so planning takes about as long as the listing itself."""
    root = absolute(root)  # the queued jobs' paths outlive this folder
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder")
    local = LocalPattern(pattern or template.local_pattern)
    missing = set(template.field_names) - set(local.fields)
    if missing:
        raise ValueError(f"the pattern {local.pattern!r} gives no {', '.join(sorted(missing))}, "
                         f"which the layout {template.name!r} needs")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    pages: queue.Queue = queue.Queue()
    stop = cancel or threading.Event()
    with ThreadPoolExecutor(1, thread_name_prefix="backfill-listing") as pool:
        listed = pool.submit(_list_into, pages, stop, client, bucket, prefix + template.static_prefix, listing or {})
        try:
            items, placed = _place_all(root, template, local, prefix)
            statuses, count, lake_parquet = {}, 0, []
            known = known or {}
            while (page := pages.get()) is not None:
                if stop.is_set():
                    break
                for key, size, etag in page:
                    count += 1
                    if key.endswith(".parquet"):
                        lake_parquet.append((key, size, etag))
                    if key in placed:
                        path, _, fsize, mtime, _ = placed[key]
                        statuses[key] = _compare(path, fsize, mtime, (size, etag), known.get(key), chunksize)
        finally:
            cancelled = stop.is_set()
            stop.set()
        listed.result()  # the listing's error, if it failed
    if cancelled:
        raise PlanCancelled()
    drift = _schema_check(client, bucket, lake_parquet, placed, statuses, listing or {}) if check_schema else {}
    for key, (path, relative, size, mtime, fields) in placed.items():
        status, reason = statuses.get(key, (NEW, ""))
        was = ""
        if key in drift:
            was, status = status, SCHEMA_DIFFERS
            reason = drift[key] + (f" (and the object exists: {reason})" if was == DIFFERENT else "")
        items.append(BackfillItem(path, relative, status, key, size, mtime, template.metadata(source, **fields),
                                  reason, was))
    items.sort(key=lambda i: i.relative)
    return BackfillPlan(template, bucket, prefix, items, count)


def restrict(plan: BackfillPlan, cells: list[dict[str, str]]) -> BackfillPlan:
    """The plan's valid files whose fields match one of `cells` (e.g. the coverage view's
    missing {symbol, year} cells); files that cannot be placed say nothing about a cell."""
    wanted = [{k: str(v) for k, v in c.items()} for c in cells]
    items = [i for i in plan.items if i.status != INVALID
             and any(all(i.metadata.get(k) == v for k, v in c.items()) for c in wanted)]
    return BackfillPlan(plan.template, plan.bucket, plan.prefix, items, plan.listed)


def _list_into(pages: queue.Queue, stop: threading.Event, client, bucket: str, prefix: str, listing: dict) -> None:
    try:
        for page in PrefixLister(client, bucket, prefix, recursive=True, **listing):
            if stop.is_set():
                return
            pages.put([(o.key, o.size, o.etag) for o in page.objects])
    finally:
        pages.put(None)


def _place_all(root: Path, template: LayoutTemplate, local: LocalPattern, prefix: str):
    """Invalid items, and {key: (path, relative, size, mtime, fields)} of the files that place."""
    files, errors = walk_files(root)
    items = [BackfillItem(path, path, INVALID, reason=reason) for path, reason in errors]
    placed: dict[str, tuple] = {}
    for path, relative, size, mtime in files:
        p = place(template, local, relative, prefix)
        if p.error:
            items.append(BackfillItem(path, relative, INVALID, size=size, reason=p.error))
        elif p.key in placed:
            items.append(BackfillItem(path, relative, INVALID, p.key, size,
                                      reason=f"maps to the same key as {placed[p.key][1]}"))
        elif len(p.key.encode("utf-8")) > 1024:
            items.append(BackfillItem(path, relative, INVALID, size=size,
                                      reason="its key would be longer than S3's 1,024 bytes"))
        else:
            placed[p.key] = (path, relative, size, mtime, p.fields)
    return items, placed


def _compare(path: str, size: int, mtime: float, listed: tuple[int, str], record, chunksize: int):
    listed_size, listed_etag = listed
    if listed_size != size:
        return DIFFERENT, f"the object has {listed_size:,} bytes, the file {size:,}"
    if record is not None and record[0] == size and record[1] == mtime and record[2] == listed_etag:
        return SAME, "uploaded from this file before"
    same = etags.same_content(path, size, listed_etag, chunksize)
    if same:
        return SAME, "same size and ETag"
    if same is None:
        return DIFFERENT, "same size; the server's ETag cannot be compared with the file"
    return DIFFERENT, "same size, different content (ETag)"


def _local_schema(path: str):
    """The Arrow schema of a local Parquet file, or None when it is not one."""
    import pyarrow.parquet as pq

    try:
        with open(path, "rb") as f:
            f.seek(-4, os.SEEK_END)
            if f.read(4) != b"PAR1":
                return None
        return pq.read_schema(path)
    except Exception:  # noqa: BLE001  not Parquet after all, or unreadable: the upload says so
        return None


def _schema_check(client, bucket: str, lake_parquet: list, placed: dict, statuses: dict,
                  listing: dict) -> dict[str, str]:
    """{key: how its local file's schema differs from the lake's majority} for the Parquet files
    that would be uploaded. The majority comes from the footers of up to SCHEMA_SAMPLE listed
    files, spread over the listing; nothing is read when no local file is Parquet."""
    if not lake_parquet:
        return {}
    # Local footers first (no GET): the lake is read only when some file to send is Parquet.
    local = {k: _local_schema(v[0]) for k, v in placed.items()
             if v[0].endswith(".parquet") and statuses.get(k, (NEW,))[0] != SAME}
    local = {k: v for k, v in local.items() if v is not None}
    if not local:
        return {}
    from .lake.schema import differences, scan_schemas, signature
    from .lake.select import LakeFile

    step = max(1, len(lake_parquet) // SCHEMA_SAMPLE)
    sample = [LakeFile(k, size, etag, {}) for k, size, etag in lake_parquet[::step][:SCHEMA_SAMPLE]]
    report = scan_schemas(client, bucket, sample, raw=listing.get("raw", False), verify=listing.get("verify", True))
    majority = report.majority
    if majority is None:
        return {}
    out = {}
    for key, schema in local.items():
        diffs = differences(majority.columns, signature(schema))
        if diffs:
            out[key] = (f"its schema differs from the lake's ({majority.count} of {report.files} files read): "
                        + "; ".join(diffs))
    return out


def files_sent(plan: BackfillPlan, *, overwrite: bool = False, allow_schema_drift: bool = False) -> int:
    """How many of the plan's files backfill_jobs would really upload with these choices: new
    ones, different ones when replacing, and drifted ones (as what they otherwise are) when allowed."""
    n = 0
    for item in plan.items:
        status = item.status
        if status == SCHEMA_DIFFERS:
            if not allow_schema_drift:
                continue
            status = item.was or NEW
        n += status == NEW or (status == DIFFERENT and overwrite)
    return n


def backfill_jobs(plan: BackfillPlan, *, skip_existing: bool = False, overwrite: bool = False,
                  allow_schema_drift: bool = False, record_held: bool = True) -> list[NewJob]:
    """Jobs for the valid files: new ones queued; identical ones recorded as skipped; different
    ones skipped (skip_existing), replaced (overwrite) or failed with a message saying how to
    choose; files whose schema differs from the lake's fail unless `allow_schema_drift`, then go
    as what they otherwise are. A file held back so is marked (jobs.SCHEMA_DRIFT): retrying it
    cannot send it, only a new backfill with drift allowed; without `record_held` (the window,
    which shows them before anything is queued) they are left out as invalid ones are. Invalid
    files are never enqueued."""
    jobs = []
    for item in plan.items:
        if item.status == INVALID:
            continue
        state, error, policy, resume = JobState.QUEUED, "", OverwritePolicy.ASK, None
        where = f"s3://{plan.bucket}/{item.key}"
        status = item.status
        if status == SCHEMA_DIFFERS:
            if not allow_schema_drift:
                if not record_held:
                    continue
                jobs.append(NewJob(Direction.UPLOAD, plan.bucket, item.key, item.local_path, size=item.size,
                                   mtime=item.mtime, metadata=item.metadata, state=JobState.FAILED,
                                   error=f"{where} was not sent: {item.reason}. {DRIFT_ADVICE}",
                                   resume={SCHEMA_DRIFT: True}))
                continue
            status = item.was or NEW
        if status == SAME:
            state, error = JobState.SKIPPED, f"{where} exists with the same content"
        elif status == DIFFERENT:
            if skip_existing:
                state, error = JobState.SKIPPED, f"{where} exists ({item.reason}); kept"
            elif overwrite:
                policy = OverwritePolicy.OVERWRITE
            else:
                state, error = JobState.FAILED, conflict_error(where, f" ({item.reason})")
                resume = {CONFLICT: True}
        jobs.append(NewJob(Direction.UPLOAD, plan.bucket, item.key, item.local_path, size=item.size,
                           mtime=item.mtime, policy=policy, metadata=item.metadata, state=state, error=error,
                           resume=resume))
    return jobs


def progress_text(p) -> str:
    """How a backfill (a progress.BatchProgress) is doing, in the words `backfill status` and the
    dashboard share: skipped files are already in the lake, so they count as done, in files and bytes."""
    from .units import human_size

    waiting = p.unfinished
    paused = p.jobs("paused")
    cancelled = p.jobs("cancelled")
    return (f"{p.done + p.skipped:,} of {p.files:,} files done ({p.done:,} uploaded, {p.skipped:,} already there), "
            f"{p.failed:,} failed, {waiting:,} to go" + (f" ({paused:,} paused)" if paused else "")
            + (f", {cancelled:,} cancelled" if cancelled else "")
            + f" · {human_size(p.bytes_done)} of {human_size(p.bytes_total)}")


# version_id: the version an upload created; replaced_version: the one it replaced (versioned buckets).
MANIFEST_FIELDS = ("key", "size", "etag", "state", "attempts", "error", "local_path", "version_id",
                   "replaced_version")


def manifest_rows(queue, batch_id: int) -> list[dict]:
    """One row per job of a backfill (`queue`: a QueueService): what was (or was not) put where,
    for the record. A backfill's progress is progress.BatchProgress, from QueueService.batch_progress."""
    return [{"key": j.key, "size": j.size, "etag": j.etag, "state": str(j.state), "attempts": j.attempts,
             "error": j.error, "local_path": j.local_path, "version_id": j.version_id,
             "replaced_version": j.replaced_version, "metadata": dict(j.metadata)}
            for j in queue.jobs(batch_id=batch_id)]


def write_manifest(rows: list[dict], path: Path | str) -> None:
    """CSV (metadata as key=value pairs) or JSON, by the file's suffix; written to a temp file first,
    so an existing manifest is never left half-written."""
    import csv
    import json

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".json"):
        raise ValueError(f"{path.name}: a manifest is written as .csv or .json")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        if path.suffix.lower() == ".json":
            json.dump(rows, f, indent=1)
        else:
            w = csv.writer(f)
            w.writerow(MANIFEST_FIELDS + ("metadata",))
            for r in rows:
                w.writerow([r.get(k, "") for k in MANIFEST_FIELDS] + [";".join(f"{k}={v}" for k, v in r["metadata"].items())])
    tmp.replace(path)
