"""`lakegui-cli sync`: make a prefix match a local folder, or a folder match a prefix, decided by one
listing and by content (core/sync), the copies run through the durable queue and the deletes last."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_connection_options,
    add_queue_option,
    connection_for,
    error_message,
    fail,
    fail_usage,
    failed_line,
    open_store,
    print_failures,
    print_json,
    run_queue,
)


def add_parser(sub) -> None:
    p = add_command(sub, "sync", help="sync a local folder and an S3 prefix, by content, in either direction",
                    description="Copy what differs from SRC to DST (exactly one side s3://): files only at the "
                                "source and files whose content differs (size, then ETag; a record of our own "
                                "transfers spares hashing files unchanged since). --delete also removes what "
                                "exists only at DST, after every copy succeeded; more than --max-delete deletes "
                                "refuse the whole run before anything changes. Copies go through the durable "
                                "queue: a killed sync is continued by `queue resume`, and run again it deletes "
                                "what is left to delete.",
                    example="lakegui-cli sync ./ticks s3://us-equity-datalake/data/ticks/daily/ --delete --dry-run\n"
                            "lakegui-cli sync s3://us-equity-datalake/data/ticks/daily/AAPL/ ./aapl "
                            "--exclude '*.tmp'")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--delete", action="store_true", help="also delete what exists only at the destination")
    p.add_argument("--max-delete", type=int, default=1000, metavar="N",
                   help="refuse the run if it would delete more than N (default: 1,000)")
    p.add_argument("--yes", action="store_true", help="accept any number of deletes")
    p.add_argument("--dry-run", action="store_true", help="print each planned action and change nothing")
    add_compare_options(p)
    add_queue_option(p)
    add_connection_options(p)
    p.set_defaults(func=sync_command, concurrency=None)


def add_compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compare", choices=["content", "size", "mtime"], default="content",
                   help="content: size, then ETag (default); size: size only; mtime: size, then the newer "
                        "source side wins (as aws s3 sync)")
    p.add_argument("--exclude", dest="filters", action="append", default=[], metavar="GLOB",
                   type=lambda g: ("exclude", g), help="leave out paths matching GLOB, on both sides (repeatable)")
    p.add_argument("--include", dest="filters", action="append", default=[], metavar="GLOB",
                   type=lambda g: ("include", g), help="take back paths matching GLOB; the last matching "
                                                       "--exclude or --include decides")


def _summary(cmp, plan, *, uploaded=0, downloaded=0, deleted=0, failed=0, moved=0, seconds=0.0) -> dict:
    counts = cmp.counts()
    return {"compared": len(cmp.entries), "same": counts["same"], "differ": counts["differ"],
            "only_local": counts["only-local"], "only_remote": counts["only-remote"], "uploaded": uploaded,
            "downloaded": downloaded, "deleted": deleted, "failed": failed, "bytes": moved,
            "seconds": round(seconds, 3), "actions": [a.to_json() for a in plan.actions]}


def _print_plan(plan) -> None:
    for a in plan.actions:
        where = a.path if a.action == "download" or (a.action == "delete" and plan.direction == "download") \
            else f"s3://{plan.comparison.bucket}/{a.key}"
        source = f"{a.path} -> " if a.action == "upload" else (f"s3://{plan.comparison.bucket}/{a.key} -> "
                                                                if a.action == "download" else "")
        print(f"(dry run) {a.action}: {source}{where} ({a.reason})")


def _print_problems(plan) -> None:
    for p in plan.problems[:50]:
        print(f"lakegui-cli: not synced: {p.path}: {p.reason}", file=sys.stderr)
    if len(plan.problems) > 50:
        print(f"lakegui-cli: … and {len(plan.problems) - 50:,} more not synced", file=sys.stderr)


def sync_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    from ..core import settings as settings_store
    from ..core.sync import records
    from ..core.sync.compare import Filters, compare_with, records_of_same
    from ..core.sync.plan import (
        UPLOAD,
        DeleteCapExceeded,
        check_delete_cap,
        delete_jobs_for,
        delete_local,
        jobs_for,
        plan_sync,
        records_after,
        sides,
        source_is_empty,
    )
    from ..core.units import human_size

    _quick_exit()

    try:
        direction, local, bucket, prefix = sides(args.src, args.dst)
    except ValueError as exc:
        return fail_usage(str(exc))
    if args.max_delete < 0:
        return fail_usage("--max-delete must be 0 or more")
    local_dir = Path(local)
    if direction == UPLOAD and not local_dir.exists():
        return fail_usage(f"{local} does not exist (nothing was synced)")
    if direction == UPLOAD and not local_dir.is_dir():
        return fail_usage(f"{local} is not a folder")
    if local_dir.exists() and not local_dir.is_dir():
        return fail_usage(f"{local} exists and is not a folder")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    settings = settings_store.load().transfer
    given_queue = Path(args.queue) if args.queue else None  # the default is looked up while the listing runs
    try:
        cmp = compare_with(conn, direction, local_dir, bucket, prefix, mode=args.compare,
                           filters=Filters(args.filters), queue_path=given_queue,
                           chunksize=settings.multipart_chunksize, missing_ok=True,
                           on_work=None if args.dry_run else lambda: _ready_copies(conn, direction, args.delete))
    except ValueError as exc:
        return fail_usage(str(exc))
    except Exception as exc:
        return fail(error_message(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None))
    plan = plan_sync(cmp, direction, delete=args.delete)
    if source_is_empty(cmp, direction):
        refused = _empty_source(args, cmp, plan, direction)
        if refused:
            return fail_usage(refused)
    try:
        check_delete_cap(plan, args.max_delete, accept_any=args.yes)
    except DeleteCapExceeded as exc:
        if args.json:
            print_json(_summary(cmp, plan, seconds=time.monotonic() - started))
        return fail(str(exc))
    if args.dry_run:
        _print_problems(plan)
        if args.json:
            print_json(_summary(cmp, plan, failed=len(plan.problems), seconds=time.monotonic() - started))
        else:
            _print_plan(plan)
            print(f"(dry run) {len(plan.copies):,} to {direction} ({human_size(plan.copy_bytes)}), "
                  f"{len(plan.deletes):,} to delete, {len(cmp.of('same')):,} already the same; nothing changed")
        return EXIT_OK

    if not plan.actions and cmp.hashed == 0:
        return _report(args, cmp, plan, direction, seconds=time.monotonic() - started)  # nothing to do or record
    from ..core.transfers.store import default_queue_path

    queue_path = given_queue or default_queue_path()
    # What hashing just proved need not be hashed again, whatever happens next.
    records.save(queue_path, bucket, records_of_same(cmp))
    done = failed = moved = 0
    interrupted = False
    failures: list[tuple[str, str]] = []
    # The deletes' client is made while the copies run (botocore's models: 0.2 s), not after.
    from concurrent.futures import ThreadPoolExecutor

    maker = ThreadPoolExecutor(1, thread_name_prefix="sync-client")
    if plan.deletes and direction == UPLOAD:
        maker.submit(conn.client, "transfer")  # the one the queue's delete jobs use
    maker.shutdown(wait=False)
    if plan.copies:
        from ..core.transfers.jobs import JobState

        store, problem = open_store(args)
        if store is None:
            return fail(problem)
        try:
            batch, _ = store.add_batch(f"sync {args.src} → {args.dst}", "sync", conn.profile.to_dict(),
                                       jobs_for(plan))
            summary = run_queue(store, args, [batch], settings, connection=conn)
            interrupted = summary.interrupted
            finished = store.jobs(batch_id=batch, states=[JobState.DONE])
            records.save(queue_path, bucket, records_after(plan, finished))
            done, moved = len(finished), sum(j.size for j in finished)
            bad = store.jobs(batch_id=batch, states=[JobState.FAILED, JobState.CANCELLED])
            failures += [(j.uri if j.direction == "upload" else j.local_path, j.error) for j in bad]
            failed = len(bad)
        finally:
            store.close()
    deleted = 0
    if plan.deletes and not (failures or interrupted):
        if direction == UPLOAD:  # through the queue, as rm: `queue resume` finishes a killed run's deletes
            from ..core.sync.recheck import check_again
            from ..core.transfers.object_jobs import delete_results

            # The copies may have taken hours: an object written from elsewhere since the listing
            # is left alone (one listing, or a HEAD each when they are few), never deleted unseen.
            try:
                checked = check_again(conn, plan, deletes_only=True)
            except Exception as exc:
                return fail(f"the objects to delete could not be checked again, so none was deleted: "
                            f"{error_message(exc, bucket=bucket, key=prefix)}")
            gone = [a.key for a in checked.gone]
            bad_deletes = [(f"s3://{bucket}/{a.key}", why) for a, why in checked.left]
            if checked.plan.deletes:
                store, problem = open_store(args)
                if store is None:
                    return fail(problem)
                try:
                    batch, _ = store.add_batch(f"sync {args.src} → {args.dst}: deletes", "delete",
                                               conn.profile.to_dict(), delete_jobs_for(checked.plan))
                    interrupted = run_queue(store, args, [batch], settings, connection=conn).interrupted
                    made, bad, _ = delete_results(store.jobs(batch_id=batch))
                    gone, bad_deletes = gone + made, bad_deletes + bad
                finally:
                    store.close()
        else:
            gone, bad_deletes = delete_local(plan)
        gone_set = set(gone)
        records.forget(queue_path, bucket, [(a.key, a.path) for a in plan.deletes
                                            if (a.key if direction == UPLOAD else a.path) in gone_set])
        deleted = len(gone)
        failed += len(bad_deletes)
        failures += bad_deletes
    elif plan.deletes:
        print(f"lakegui-cli: {len(plan.deletes):,} deletes not made: not every copy succeeded", file=sys.stderr)
    return _report(args, cmp, plan, direction, done=done, deleted=deleted, failed=failed, moved=moved,
                   failures=failures, interrupted=interrupted, seconds=time.monotonic() - started)


def _empty_source(args, cmp, plan, direction: str) -> str:
    """With nothing at the source: the refusal when --delete would delete anything (a mistyped
    prefix or an empty folder must not wipe the destination; the cap does not protect a small one),
    else '' after a line on stderr saying the source is empty."""
    import shlex

    from ..core.units import counted

    what = f"{args.src} has no files" if direction == "upload" else \
        f"s3://{cmp.bucket}/{cmp.prefix} has no objects"
    if args.filters:
        what += " that --exclude/--include let through"
    if not plan.deletes:
        print(f"lakegui-cli: {what}: nothing to sync (is SRC mistyped?)", file=sys.stderr)
        return ""
    if direction == "upload":
        target = f"s3://{cmp.bucket}/{cmp.prefix}"
        doomed = counted(len(plan.deletes), "object")
        instead = f"to empty the prefix on purpose, run `lakegui-cli rm {shlex.quote(target)} --recursive`"
    else:
        target, doomed = str(cmp.root), counted(len(plan.deletes), "local file")
        instead = "to empty the folder on purpose, delete its files yourself"
    return (f"refused: {what}, so --delete would delete all {doomed} in {target}. Nothing was changed. "
            f"Check SRC (a typo, a folder not mounted?); {instead}")


def _ready_copies(conn, direction: str, delete: bool) -> None:
    """On the first page that shows something to copy, while the rest of the listing comes in:
    import the queue and the engine, and resolve the credentials (botocore's session), on a thread
    of their own (0.1-0.3 s that would otherwise wait for the comparison's end)."""
    import threading

    def ready() -> None:
        try:
            from ..core.transfers import backends, service, store  # noqa: F401 (imported for the copies)

            conn.credentials()
            if delete and direction == "upload":
                conn.client("transfer")  # the delete jobs' client
        except Exception:  # only a head start: the copies meet any problem themselves
            pass

    threading.Thread(target=ready, name="sync-ready").start()  # the copies follow: it ends long before them


def _report(args, cmp, plan, direction: str, *, done=0, deleted=0, failed=0, moved=0, failures=(),
            interrupted=False, seconds=0.0) -> int:
    """The run's summary (--json or a line), its failures and problems on stderr; the exit code."""
    from ..core.units import human_duration, human_size

    failed += len(plan.problems)
    up, down = (done, 0) if direction == "upload" else (0, done)
    if args.json:
        print_json(_summary(cmp, plan, uploaded=up, downloaded=down, deleted=deleted, failed=failed, moved=moved,
                            seconds=seconds))
    print_failures([failed_line(where, error) for where, error in failures], "lakegui-cli: ")  # --json or not
    _print_problems(plan)
    if not args.json:
        c = cmp.counts()
        print(f"{len(cmp.entries):,} compared: {c['same']:,} same, {c['differ']:,} differ, "
              f"{c['only-local']:,} only local, {c['only-remote']:,} only remote · {up + down:,} "
              f"{direction}ed, {deleted:,} deleted, {failed:,} failed · {human_size(moved)} in "
              f"{human_duration(seconds) or '0s'}")
    if interrupted:
        print("Interrupted: the unfinished copies are back in the queue; `lakegui-cli queue resume` continues "
              "them, and the same sync run again makes its deletes.", file=sys.stderr)
    return EXIT_FAILED if failed or interrupted else EXIT_OK


_exit_hooked = False


def _quick_exit() -> None:
    """At interpreter exit, skip the collector's last walk over a comparison's objects (tens of
    thousands, no cycles among them: reference counting frees them): gc.freeze from an atexit hook
    took about 15 ms off a no-change sync of 10,000 files. Registered once; harmless in a longer-lived
    process (tests), which it affects only at its own exit."""
    global _exit_hooked
    if not _exit_hooked:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _exit_hooked = True
