"""Queue jobs that are requests rather than byte transfers: deletes, tags, restores and new
buckets (issue 20). They run through the durable queue like copies, so `rm --recursive`
killed half-way is finished by `queue resume`, and the window's queue shows them.

A delete job holds up to 1,000 keys (one DeleteObjects request): a job per key would cost a
queue row, a claim and a write each, and S3 takes 1,000 keys a request. Its `key` is the
folder its keys share (what the queue's view names it by), its `size` their bytes as listed.
Keys that come back in the response's Errors are recorded in the job's `resume` ({"left":
keys still to delete, "failures": [[key, error], ...]}), so a retry asks only for those and
the CLI reports each key's reason; a transient code there (SlowDown, InternalError) retries
with the engine's backoff, any other fails the job with every key's reason in its error.

A sync's or a Mirror's delete job also holds the ETag each key had when it was compared: a job
can wait in the queue for hours (a paused queue, a killed run finished by `queue resume`), and
an object written from elsewhere meanwhile must not be deleted by a plan that never saw it. So
such a job asks for its keys again just before it deletes, and leaves the changed ones alone.
"""

from __future__ import annotations

import json
import os.path
from typing import Iterable

from ..errors import TRANSIENT_CODES, classify
from .engine import EngineBase, JobControl, JobError, Progress
from .jobs import CONFLICT, SCHEMA_DRIFT, Direction, Job, JobState, Outcome, OverwritePolicy, says_conflict
from .store import NewJob

BATCH = 1000  # S3's limit per DeleteObjects request
KEYS, SIZES, ETAGS = "Keys", "Sizes", "ETags"  # a delete job's extra: JSON lists, in the same order
CHANGED_SINCE_PLANNED = "changed since the delete was planned; left alone"
HEADS_AT_MOST = 20  # keys asked for by a HEAD each; more are looked for in one listing
SHOWN_FAILURES = 5  # keys named in a delete job's error (all of them are in its resume)
_SAYS_DRIFT = "not sent: its schema differs"  # a held backfill job's error, before and after the mark


def _folder(keys: list[str]) -> str:
    common = os.path.commonprefix(keys)
    return keys[0] if len(keys) == 1 else common[:common.rfind("/") + 1]


def delete_jobs(bucket: str, keys: Iterable[str], sizes: dict[str, int] | None = None, *,
                batch: int = BATCH, etags: dict[str, str] | None = None) -> list[NewJob]:
    """Jobs deleting `keys` from `bucket`, `batch` keys (at most 1,000) a job. `sizes` gives each
    key's listed size (the bytes a job frees, shown as its size); `etags`, each key's ETag as
    planned: the job then deletes only the keys that still have it."""
    keys, sizes = list(keys), sizes or {}
    batch = max(1, min(batch, BATCH))
    jobs = []
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        chunk_sizes = [int(sizes.get(k, 0)) for k in chunk]
        what = chunk[0] if len(chunk) == 1 else f"{len(chunk):,} keys, {chunk[0]} … {chunk[-1]}"
        extra = {KEYS: json.dumps(chunk), SIZES: json.dumps(chunk_sizes)}
        if etags is not None:
            extra[ETAGS] = json.dumps([etags.get(k, "").strip('"') for k in chunk])
        jobs.append(NewJob(Direction.DELETE, bucket, _folder(chunk), what, size=sum(chunk_sizes),
                           policy=OverwritePolicy.OVERWRITE, extra=extra))
    return jobs


def tag_job(bucket: str, key: str, tags: dict[str, str]) -> NewJob:
    """A job replacing the object's tags with `tags` (PutObjectTagging)."""
    return NewJob(Direction.TAG, bucket, key, "", policy=OverwritePolicy.OVERWRITE,
                  extra={"Tags": json.dumps(tags, sort_keys=True)})


def restore_job(bucket: str, key: str, days: int, tier: str = "Standard", storage_class: str = "") -> NewJob:
    """A job asking S3 to restore an archived object for `days` days at `tier`. `storage_class`,
    when known (listed), lets the job refuse a tier the class has not (Deep Archive's Expedited)
    without asking S3."""
    extra = {"Days": str(days), "Tier": tier, **({"StorageClass": storage_class} if storage_class else {})}
    return NewJob(Direction.RESTORE, bucket, key, "", policy=OverwritePolicy.OVERWRITE, extra=extra)


def bucket_job(name: str, region: str = "") -> NewJob:
    """A job creating bucket `name` (its name already checked: buckets.bucket_name_problem)."""
    return NewJob(Direction.MAKE_BUCKET, name, "", f"s3://{name}", policy=OverwritePolicy.OVERWRITE,
                  extra={"Region": region} if region else {})


def delete_keys(job: Job) -> list[tuple[str, int]]:
    """A delete job's (key, listed size) pairs."""
    return list(zip(json.loads(job.extra.get(KEYS, "[]")), json.loads(job.extra.get(SIZES, "[]"))))


def delete_results(jobs: Iterable[Job]) -> tuple[list[str], list[tuple[str, str]], int]:
    """(keys deleted, [(key, why not)], bytes deleted) of finished delete jobs. Keys of a job
    that did not finish (cancelled, or still queued) count as failures with its state."""
    deleted: list[str] = []
    failures: list[tuple[str, str]] = []
    nbytes = 0
    for job in jobs:
        if job.direction is not Direction.DELETE:
            continue
        pairs = delete_keys(job)
        if job.state is JobState.DONE:
            deleted += [k for k, _ in pairs]
            nbytes += sum(s for _, s in pairs)
            continue
        known = {k: e for k, e in job.resume.get("failures", [])} if job.state is JobState.FAILED else {}
        left = set(job.resume.get("left", [k for k, _ in pairs])) if job.state is JobState.FAILED else None
        why = job.error or f"not deleted: the job is {job.state}"
        for k, size in pairs:
            if left is not None and k not in left:
                deleted.append(k)
                nbytes += size
            else:
                failures.append((k, known.get(k, why)))
    return deleted, failures, nbytes


# running them (EngineBase.run dispatches here)

# One-request jobs whose permanent failure is kept on the job: `queue retry-failed` leaves them
# (asking again gets the same answer until the user changes something, and the command that
# made them is one request to run again). A delete job keeps its own per-key record instead.
ONE_REQUEST = frozenset({Direction.TAG, Direction.RESTORE, Direction.MAKE_BUCKET})
PERMANENT = "permanent"  # the key in such a job's resume: True after a permanent failure


def permanent_failure(job: Job) -> bool:
    """Whether a failed job failed for a reason retrying cannot fix: a one-request job's NoSuchKey,
    AccessDenied, object that is not archived or bucket name taken (classified as uploads' and
    downloads' errors are, by errors.classify); an upload or download whose target exists with
    other content and may not be replaced (the planner's jobs.CONFLICT mark, or the message that
    says so: a queue written before the mark, an engine that found it). Retrying those would
    replace what the user was asked about: the upload or download is run again instead, with
    --overwrite or --skip-existing. So is a backfill's upload held back because its Parquet schema
    differs from the lake's (jobs.SCHEMA_DRIFT, or its message): a retry would put the drifted file
    in the lake; a new backfill with schema drift allowed sends it."""
    if job.state is not JobState.FAILED:
        return False
    if job.direction is Direction.UPLOAD and (job.resume.get(SCHEMA_DRIFT) or _SAYS_DRIFT in job.error):
        return True
    if job.direction in (Direction.UPLOAD, Direction.DOWNLOAD):
        return job.policy is OverwritePolicy.ASK and (bool(job.resume.get(CONFLICT)) or says_conflict(job.error))
    return job.direction in ONE_REQUEST and bool(job.resume.get(PERMANENT))


def run_request(engine: EngineBase, job: Job, control: JobControl, progress: Progress) -> Outcome:
    """Run one delete, tag, restore or make-bucket job once (the engine's loop retries)."""
    if job.direction is Direction.DELETE:
        return _delete(engine, job, control, progress)
    try:
        return _one_request(engine, job)
    except Exception as exc:
        if not control.stopped:
            permanent = exc.permanent if isinstance(exc, JobError) else classify(exc).permanent  # as engine.verdict
            if permanent != bool(job.resume.get(PERMANENT)):
                control.save_resume(job, {PERMANENT: True} if permanent else {})
        raise


def _one_request(engine: EngineBase, job: Job) -> Outcome:
    client = engine.client
    if job.direction is Direction.TAG:
        from ..tagging import put_tags

        put_tags(client, job.bucket, job.key, json.loads(job.extra.get("Tags", "{}")))
        return Outcome(JobState.DONE)
    if job.direction is Direction.RESTORE:
        from ..tagging import request_restore, tier_problem

        if problem := tier_problem(job.extra.get("StorageClass", ""), job.extra.get("Tier", "Standard")):
            raise JobError(problem, permanent=True)
        try:
            status = request_restore(client, job.bucket, job.key, int(job.extra.get("Days", 0)),
                                     job.extra.get("Tier", "Standard"))
        except ValueError as exc:
            raise JobError(str(exc), permanent=True) from exc
        except Exception as exc:
            if classify(exc).code == "InvalidObjectState":  # RestoreObject on a class that needs none
                raise JobError(f"{job.uri} is not archived (its storage class needs no restore)",
                               permanent=True) from exc
            raise
        return Outcome(JobState.DONE, f"restore {status}")  # a note, as a download's "checked by size only"
    if job.direction is Direction.MAKE_BUCKET:
        from ..tagging import create_bucket

        try:
            create_bucket(client, job.bucket, job.extra.get("Region", ""))
        except ValueError as exc:
            raise JobError(str(exc), permanent=True) from exc
        except Exception as exc:
            code = classify(exc).code
            if code == "BucketAlreadyOwnedByYou":  # outside us-east-1; there S3 answers 200
                raise JobError(f"s3://{job.bucket} already exists and is yours (BucketAlreadyOwnedByYou)",
                               permanent=True) from exc
            if code == "BucketAlreadyExists":
                raise JobError(f"the bucket name {job.bucket!r} is taken by another account (BucketAlreadyExists):"
                               " bucket names are shared by every account; choose another", permanent=True) from exc
            raise
        return Outcome(JobState.DONE)
    raise JobError(f"this version of lakegui cannot run a '{job.direction}' job", permanent=True)


def delete_objects(engine: EngineBase, bucket: str, keys: list[str]) -> list[tuple[str, str, str]]:
    """One DeleteObjects request (quiet: only failures come back): [(key, code, message)] of the
    keys not deleted. Through the engine's native client when it has one (no botocore client to
    build, nothing of the request in Python but its body), else botocore's."""
    send = getattr(engine, "send", None)
    if send is None:
        resp = engine.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys],
                                                                   "Quiet": True})
        return [(e.get("Key", ""), e.get("Code", ""), e.get("Message", "")) for e in resp.get("Errors", [])]
    import base64
    import hashlib
    from xml.etree import ElementTree
    from xml.sax.saxutils import escape

    body = ('<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Quiet>true</Quiet>" + "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
            + "</Delete>").encode()
    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()  # S3 requires it here
    _, _, data = send("POST", bucket, "", [("Content-MD5", md5), ("Content-Type", "application/xml")],
                      operation="DeleteObjects", query="delete", body=body)
    errors = []
    for element in ElementTree.fromstring(data).iter() if data.strip() else ():
        if element.tag.rpartition("}")[2] == "Error":
            fields = {child.tag.rpartition("}")[2]: child.text or "" for child in element}
            errors.append((fields.get("Key", ""), fields.get("Code", ""), fields.get("Message", "")))
    return errors


def etags_now(client, bucket: str, keys: list[str]) -> dict[str, str | None]:
    """{key: its ETag now, or None when it is gone}: a HEAD each for a few keys, else one listing
    from just before the first key to the last (a delete job's keys share a folder)."""
    from ..objects import head_if_there, head_refused

    if len(keys) <= HEADS_AT_MOST:
        try:
            heads = {key: head_if_there(client, bucket, key) for key in keys}
            return {k: str(h.get("ETag", "")).strip('"') if h is not None else None for k, h in heads.items()}
        except Exception as exc:  # a HEAD refused: the listing, which the comparison made, answers
            if not head_refused(exc):
                raise
    first, last = min(keys), max(keys)
    wanted, found = set(keys), {}
    kwargs = {"Bucket": bucket, "Prefix": _folder(keys)}
    if first[:-1]:
        kwargs["StartAfter"] = first[:-1]  # before `first`: a listing starts after this key
    for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
        for o in page.get("Contents", ()):
            if o["Key"] in wanted:
                found[o["Key"]] = str(o.get("ETag", "")).strip('"')
        contents = page.get("Contents") or ()
        if contents and contents[-1]["Key"] >= last:
            break
    return {k: found.get(k) for k in keys}


def _changed_since_planned(engine: EngineBase, job: Job, left: list[str]) -> set[str]:
    """The keys of `left` that no longer have the ETag the delete was planned on (gone ones are
    not: deleting them is what was planned)."""
    planned = dict(zip(json.loads(job.extra.get(KEYS, "[]")), json.loads(job.extra.get(ETAGS, "[]"))))
    now = etags_now(engine.client, job.bucket, left)
    return {k for k in left if now.get(k) is not None and planned.get(k) and now[k] != planned[k]}


def _delete(engine: EngineBase, job: Job, control: JobControl, progress: Progress) -> Outcome:
    pairs = delete_keys(job)
    sizes = dict(pairs)
    left = list(job.resume.get("left", [k for k, _ in pairs]))  # what an earlier attempt could not delete
    total = sum(sizes.values())
    progress.reset(total)
    progress.add(total - sum(sizes.get(k, 0) for k in left))
    if left:
        if control.stopped:
            raise JobError("stopped", permanent=False)
        changed = _changed_since_planned(engine, job, left) if ETAGS in job.extra else set()
        sent = [k for k in left if k not in changed]
        errors = delete_objects(engine, job.bucket, sent) if sent else []
        errors += [(k, "", CHANGED_SINCE_PLANNED) for k in sorted(changed)]
        failed = {k for k, _, _ in errors}  # a changed key stays left: a retry asks for it again
        progress.add(sum(sizes.get(k, 0) for k in left if k not in failed))
        if errors:
            failures = [[k, f"{code}: {message}".strip(": ") or "not deleted"] for k, code, message in errors]
            control.save_resume(job, {"left": [k for k in left if k in failed], "failures": failures})
            shown = "; ".join(f"{k}: {e}" for k, e in failures[:SHOWN_FAILURES])
            more = f"; and {len(failures) - SHOWN_FAILURES:,} more" if len(failures) > SHOWN_FAILURES else ""
            raise JobError(f"{len(failures):,} of {len(pairs):,} keys in s3://{job.bucket} were not deleted: "
                           f"{shown}{more}", permanent=not any(code in TRANSIENT_CODES for _, code, _ in errors))
    return Outcome(JobState.DONE, bytes_done=total)
