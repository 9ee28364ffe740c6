"""Before a plan runs: both sides looked at again, and every action on something that is no longer
as it was compared left alone.

A comparison is a picture of one moment; a plan may run long after it (the window's Mirror is
pressed minutes later, a CLI sync's deletes follow hours of copies). An object written from
elsewhere since then must not be deleted or replaced by a plan that never saw it: on a bucket
without versions that write would be lost for good. So the objects a plan would delete or replace
(and the keys it would create) are asked for again, by one fresh listing of the prefix, or by a
HEAD each when they are fewer than the listing's pages; a download's local target is looked at
with a stat. What differs from the comparison (ETag, size, now absent, now present) is taken out
of the plan and named; a delete whose object is already gone is simply done.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from ..transfers.jobs import CHANGED_SINCE_COMPARED
from .compare import RemoteObject, list_prefix
from .plan import DOWNLOAD, UPLOAD, Action, SyncPlan, compared_stat
from .records import Stat

CHANGED_REMOTE = CHANGED_SINCE_COMPARED  # one phrase with the engine's check of an upload that waited
WRITTEN_REMOTE = "written to the lake since it was compared; left alone"
GONE_REMOTE = "deleted from the lake since it was compared; left alone"
CHANGED_LOCAL = "changed in the folder since it was compared; left alone"
WRITTEN_LOCAL = "written to the folder since it was compared; left alone"
GONE_LOCAL = "deleted from the folder since it was compared; left alone"
KEYS_PER_PAGE = 1000


class Checked(NamedTuple):
    plan: SyncPlan  # what is still as it was compared: safe to run
    left: list[tuple[Action, str]]  # each action left alone, and why
    gone: list[Action]  # deletes whose target is already gone (what the plan wanted)


def _same(a: RemoteObject | None, b: RemoteObject | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.size == b.size and a.etag.strip('"') == b.etag.strip('"')


def remote_actions(plan: SyncPlan, *, deletes_only: bool = False) -> list[Action]:
    """The plan's actions that write or delete an object: an upload sync's copies and deletes."""
    if plan.direction != UPLOAD:
        return []
    return list(plan.deletes) if deletes_only else plan.actions


def head_objects(client, bucket: str, keys: list[str]) -> dict[str, RemoteObject | None]:
    """{key: what a HEAD says of it now (None: absent, a delete marker included)}."""
    from ..objects import head_if_there

    out: dict[str, RemoteObject | None] = {}
    for key in keys:
        r = head_if_there(client, bucket, key)
        modified = r.get("LastModified") if r is not None else None
        out[key] = None if r is None else RemoteObject(
            key, int(r.get("ContentLength", 0)), str(r.get("ETag", "")).strip('"'),
            modified.timestamp() if modified is not None else 0.0)
    return out


def objects_now(client, bucket: str, prefix: str, keys: list[str], *, listed: int = 0, lister=None,
                raw: bool = False, verify: bool = True) -> dict[str, RemoteObject | None]:
    """{key: the object there now, or None} for `keys` under `prefix`: a HEAD each when they are
    fewer than the pages a listing of `listed` objects takes, else one listing. `client` may be a
    callable that makes the client (then made only for HEADs)."""
    if not keys:
        return {}
    pages = max(1, -(-listed // KEYS_PER_PAGE))
    if len(keys) <= pages:
        s3 = client() if callable(client) and not hasattr(client, "head_object") else client
        try:
            return head_objects(s3, bucket, keys)
        except Exception as exc:  # a HEAD refused: the listing, which the comparison made, answers
            from ..objects import head_refused

            if not head_refused(exc):
                raise
    remote, _ = list_prefix(lister or client, bucket, prefix, raw=raw, verify=verify)
    by_key = {o.key: o for o in remote.values()}
    return {k: by_key.get(k) for k in keys}


def still_as_compared(plan: SyncPlan, now: dict[str, RemoteObject | None], *, deletes_only: bool = False,
                      stat: Callable[[str], Stat | None] | None = None) -> Checked:
    """The plan without the actions whose target is no longer as compared. `now`: objects_now()
    of remote_actions(plan); `stat` (default: os.stat) looks at a download's local target."""
    cmp = plan.comparison
    stat = stat or _stat
    left: list[tuple[Action, str]] = []
    gone: list[Action] = []
    keep_copies: list[Action] = []
    keep_deletes: list[Action] = []
    for a in plan.copies:
        why = ""
        if deletes_only:
            pass
        elif a.action == UPLOAD:
            e = cmp.entry(a.key[len(cmp.prefix):])
            was = e.remote if e is not None else None
            is_now = now.get(a.key)
            if not _same(was, is_now):
                why = WRITTEN_REMOTE if was is None else (GONE_REMOTE if is_now is None else CHANGED_REMOTE)
        elif a.action == DOWNLOAD:
            was_stat, is_stat = compared_stat(cmp, a), stat(a.path)
            if was_stat != is_stat:
                why = WRITTEN_LOCAL if was_stat is None else (GONE_LOCAL if is_stat is None else CHANGED_LOCAL)
        if why:
            left.append((a, why))
        else:
            keep_copies.append(a)
    for a in plan.deletes:
        if plan.direction != UPLOAD:  # a local file: delete_local looks at it as it deletes it
            keep_deletes.append(a)
            continue
        e = cmp.entry(a.key[len(cmp.prefix):])
        was, is_now = (e.remote if e is not None else None), now.get(a.key)
        if is_now is None:
            gone.append(a)
        elif not _same(was, is_now):
            left.append((a, CHANGED_REMOTE))
        else:
            keep_deletes.append(a)
    return Checked(replace(plan, copies=keep_copies, deletes=keep_deletes), left, gone)


def _stat(path: str) -> Stat | None:
    try:
        return Stat.of(os.stat(path))
    except OSError:
        return None


def check_again(connection, plan: SyncPlan, *, deletes_only: bool = False) -> Checked:
    """still_as_compared() over a Connection: the objects the plan touches asked for again (the
    listing's fast path where the profile allows it), its downloads' targets looked at."""
    keys = [a.key for a in remote_actions(plan, deletes_only=deletes_only)]
    cmp = plan.comparison
    now = objects_now(connection.client, cmp.bucket, cmp.prefix, keys, listed=cmp.listed,
                      lister=connection.listing_client, raw=connection.profile.raw_listing,
                      verify=connection.profile.verify_tls) if keys else {}
    return still_as_compared(plan, now, deletes_only=deletes_only)


def describe_left(left: list[tuple[Action, str]], bucket: str, shown: int = 5) -> str:
    """'N left alone …: a, b, … and M more', naming the first `shown` (S3 URIs or local paths)."""
    if not left:
        return ""
    names = [f"s3://{bucket}/{a.key}" if a.action != DOWNLOAD else a.path for a, _ in left[:shown]]
    more = f" and {len(left) - shown:,} more" if len(left) > shown else ""
    where = "the folder" if left[0][0].action == DOWNLOAD else "the lake"  # one plan: one side is written
    return (f"{len(left):,} left alone, changed in {where} since the comparison (only what is still as it "
            f"was compared is replaced or deleted): {', '.join(names)}{more}")

