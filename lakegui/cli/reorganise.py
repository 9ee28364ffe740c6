"""`lakegui-cli cp`, `mv`, `rm`, `tag`, `restore` and `mb`: reorganising the lake headless.

All six run through the durable queue (a crash is finished by `queue resume`, the window's
queue shows them): cp and mv a job per object, rm a job per DeleteObjects batch of 1,000 keys
(several at once), tag, restore and mb one job each. --json prints one summary document: jobs,
done, failed, skipped, bytes, seconds, failures [{key, error}]; rm adds deleted and
delete_markers (of those, the ones that only added a delete marker: a versioned bucket; null when
the bucket's versioning could not be read), and keys in a dry run.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from ..core.units import counted
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_connection_options,
    common_options,
    connection_for,
    error_message,
    fail,
    fail_usage,
    failed_line,
    missing_bucket,
    open_cluster,
    open_store,
    print_failures,
    print_json,
    report,
    restore_signals,
    run_queue,
    stop_on_signals,
    storage_class,
)

CONFIRM_OVER = 1000  # rm asks (or wants --yes) above this many keys


def _summary(*, jobs: int, done: int, failures: list, skipped: int = 0, nbytes: int = 0, start: float,
             **more) -> dict:
    return {"jobs": jobs, "done": done, "failed": len(failures), "skipped": skipped, "bytes": nbytes,
            "seconds": round(time.monotonic() - start, 3),
            "failures": [{"key": k, "error": e} for k, e in failures], **more}


def _uri(text: str) -> tuple[str, str]:
    from ..core.listing import parse_s3_uri

    return parse_s3_uri(text)


def _policy(args):
    from ..core.transfers.jobs import OverwritePolicy

    if args.overwrite:
        return OverwritePolicy.OVERWRITE
    if args.skip_existing:
        return OverwritePolicy.SKIP
    return OverwritePolicy.ASK  # the same bytes are skipped, different ones fail with a hint


def _source_connection(args, bucket: str, target):
    """The connection the source is read through: the target's, unless --source-* name another."""
    if not (args.source_endpoint_url or args.source_profile or args.source_region):
        return target, None
    ns = argparse.Namespace(endpoint_url=args.source_endpoint_url or args.endpoint_url,
                            profile=args.source_profile or args.profile,
                            region=args.source_region or args.region)
    conn, problem = connection_for(ns, bucket)
    if conn is None:
        raise ValueError(problem)
    same = conn.profile.to_dict() == target.profile.to_dict()
    return conn, (None if same else conn.profile.to_dict())


def _copy(args: argparse.Namespace, move: bool) -> int:
    from ..core import settings as settings_store
    from ..core.transfers.copy import SERVER_COPIES, copy_jobs, mark_absent_targets, plan_copy

    start = time.monotonic()
    verb = "move" if move else "copy"
    try:
        src_bucket, src = _uri(args.source)
        dst_bucket, dst = _uri(args.dest)
    except ValueError as exc:
        return fail_usage(str(exc))
    if args.concurrency is not None and args.concurrency < 1:
        return fail_usage("--concurrency must be at least 1")
    conn, problem = connection_for(args, dst_bucket)
    if conn is None:
        return fail_usage(problem)
    try:
        src_conn, source_profile = _source_connection(args, src_bucket, conn)
    except ValueError as exc:
        return fail_usage(str(exc))
    if (code := open_cluster(args)) is not None:
        return code
    prefix = not src or src.endswith("/")  # listed through presigned pages: no botocore client needed
    folder = dst if not dst or dst.endswith("/") else dst + "/"
    # The target folder is listed (for the overwrite policy) while the source is.
    targets = _Listing(conn, dst_bucket, folder) if prefix and folder and (
        source_profile is not None or (src_bucket, src) != (dst_bucket, folder)) else None
    try:
        items = plan_copy(None if prefix else src_conn.client(), src_bucket, src, dst,
                          listing_client=src_conn.listing_client(),
                          raw=src_conn.profile.raw_listing,
                          verify=src_conn.profile.verify_tls)
    except Exception as exc:
        if not prefix and _folder_of(src_conn, src_bucket, src, exc):  # as rm says it of a prefix
            return fail_usage(f"s3://{src_bucket}/{src} is a prefix: end it with '/' (s3://{src_bucket}/{src}/) "
                              f"to {verb} every key under it")
        return fail(error_message(exc, bucket=src_bucket, key=src, endpoint=src_conn.profile.endpoint_url or None,
                                  connection=src_conn))
    finally:
        if targets is not None:
            targets.wait()  # no thread outlives the command, whatever it ends with
    in_place = source_profile is None and src_bucket == dst_bucket and any(it.src_key == it.key for it in items)
    if in_place and (move or not args.storage_class):  # a copy onto itself only changes the storage class
        return fail_usage(f"the source and the target are the same object: nothing to {verb}"
                          + ("" if move else " (give --storage-class to change its class in place)"))
    if not items:
        return fail(f"nothing to {verb}: {args.source} holds no objects")
    if targets is None and (source_profile is not None or dst_bucket != src_bucket) and \
            (missing := missing_bucket(conn, dst_bucket)):
        return fail(missing)  # a listing of the target said it for a prefix; SeaweedFS's CopyObject would retry 40 s
    if prefix and not in_place:
        try:
            items = mark_absent_targets(conn.listing_client(), dst_bucket, items, raw=conn.profile.raw_listing,
                                        verify=conn.profile.verify_tls,
                                        present=targets.result() if targets is not None else None)
        except Exception as exc:
            return fail(error_message(exc, bucket=dst_bucket, key=dst, endpoint=args.endpoint_url or None))
    if args.dry_run:
        total = sum(it.size for it in items)
        if args.json:
            print_json(_summary(jobs=len(items), done=0, failures=[], nbytes=total, start=start, dry_run=True,
                                keys=[{"source": f"s3://{src_bucket}/{it.src_key}",
                                       "target": f"s3://{dst_bucket}/{it.key}"} for it in items]))
        else:
            for it in items:
                print(f"{verb} s3://{src_bucket}/{it.src_key} -> s3://{dst_bucket}/{it.key}")
            print(f"{counted(len(items), 'object')} would be {'moved' if move else 'copied'}")
        return EXIT_OK
    jobs = copy_jobs(items, src_bucket, dst_bucket, move=move, policy=_policy(args),
                     storage_class=getattr(args, "storage_class", "") or "", source_profile=source_profile)
    settings = settings_store.load().transfer
    if args.concurrency is None and source_profile is None:  # server-side: requests in flight, not bytes
        args.concurrency = max(settings.concurrent_files, SERVER_COPIES)
    store, problem = open_store(args)
    if store is None:
        return fail(problem)
    try:
        name = args.name or f"{verb} {args.source} -> {args.dest}"
        batch, _ = store.add_batch(name, verb, conn.profile.to_dict(), jobs)
        summary = run_queue(store, args, [batch], settings, connection=conn)
        summary.skipped = store.counts(batch).get("skipped", (0, 0))[0]
        return report(store, args, summary, [batch], [], {"batch": batch, "queue": str(store.path),
                                                          "jobs": len(jobs)})
    finally:
        store.close()


class _Listing:
    """Every key under a prefix, listed on a thread of its own; `result` waits for it (and raises
    what the listing raised)."""

    def __init__(self, conn, bucket: str, prefix: str):
        import threading

        from ..core.transfers.copy import present_keys

        self._keys: set[str] = set()
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._keys = present_keys(conn.listing_client(), bucket, prefix, raw=conn.profile.raw_listing,
                                          verify=conn.profile.verify_tls)
            except Exception as exc:  # noqa: BLE001  raised by result(), on the caller's thread
                self._error = exc

        self._thread = threading.Thread(target=run, name="lakegui-target-listing", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> set[str]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._keys


def _folder_of(conn, bucket: str, key: str, exc: BaseException) -> str:
    """How many objects a key that was not found holds as a prefix (s3://B/tmp of tmp/...), as
    '3 objects' or 'more than 1,000 objects'; '' when none: one listing page, made only once the
    HEAD has failed."""
    from ..core.errors import NOT_FOUND_CODES, classify
    from ..core.listing import PrefixLister

    if classify(exc).code not in NOT_FOUND_CODES:
        return ""
    try:
        page = PrefixLister(conn.listing_client(), bucket, key + "/", recursive=True, page_size=1000,
                            raw=conn.profile.raw_listing, verify=conn.profile.verify_tls).next_page()
    except Exception:  # noqa: BLE001  the HEAD's own error is the one to report then
        return ""
    if not page or not page.objects:
        return ""
    return counted(len(page.objects), "object") if page.is_last else f"more than {len(page.objects):,} objects"


def cp(args: argparse.Namespace) -> int:
    return _copy(args, move=False)


def mv(args: argparse.Namespace) -> int:
    return _copy(args, move=True)


def rm(args: argparse.Namespace) -> int:
    from ..core.listing import PrefixLister

    start = time.monotonic()
    try:
        bucket, target = _uri(args.target)
    except ValueError as exc:
        return fail_usage(str(exc))
    if args.recursive and target and not target.endswith("/"):
        return fail_usage(f"with --recursive the target is a prefix ending in '/': s3://{bucket}/{target}/ "
                          "(a bare name would also match its siblings' names)")
    if not args.recursive and (not target or target.endswith("/")):
        return fail_usage(f"s3://{bucket}/{target} is a prefix: add --recursive to delete every key under it")
    if args.threads < 1:
        return fail_usage("--threads must be at least 1")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    sizes: dict[str, int] = {}
    lister = None
    try:
        if args.recursive:  # presigned pages: no botocore client until something is deleted
            lister = PrefixLister(conn.listing_client(), bucket, target, recursive=True,
                                  raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
            first = lister.next_page()
            sizes = {o.key: o.size for o in first.objects} if first is not None else {}
            if args.dry_run or not args.yes:  # the count (and the question) come before any delete
                sizes.update((o.key, o.size) for page in lister for o in page.objects)
        else:
            sizes = {target: int(conn.client().head_object(Bucket=bucket, Key=target).get("ContentLength", 0))}
    except Exception as exc:
        if not args.recursive and (folder := _folder_of(conn, bucket, target, exc)):
            return fail_usage(f"s3://{bucket}/{target} is not an object but a folder of {folder}: "
                              f"`lakegui-cli rm {shlex.quote(f's3://{bucket}/{target}/')} --recursive` deletes them")
        return fail(error_message(exc, bucket=bucket, key=target, endpoint=args.endpoint_url or None,
                                  connection=conn))
    where = f"s3://{bucket}/{target}"
    if lister is not None and not lister.done:  # --yes, and more pages to come
        return _rm_while_listing(args, conn, bucket, target, lister, sizes, start)
    keys = list(sizes)
    total = sum(sizes.values())
    if args.dry_run:
        if args.json:
            print_json(_summary(jobs=len(keys), done=0, failures=[], nbytes=total, start=start, deleted=0,
                                keys=keys, dry_run=True))
        else:
            for k in keys:
                print(f"delete s3://{bucket}/{k}")
            print(f"{counted(len(keys), 'key')} would be deleted from {where}")
        return EXIT_OK
    print(f"{counted(len(keys), 'key')} to delete from {where}", file=sys.stderr if args.json else sys.stdout, flush=True)
    if len(keys) > CONFIRM_OVER and not args.yes:
        if not sys.stdin.isatty():
            return fail_usage(f"deleting {len(keys):,} keys (more than {CONFIRM_OVER:,}) needs --yes "
                              "when stdin is not a terminal")
        answer = input(f"Delete {len(keys):,} keys from {where}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing deleted.", file=sys.stderr)
            return EXIT_FAILED
    from ..core.transfers.object_jobs import delete_jobs

    args.concurrency = args.threads  # DeleteObjects requests at once: one job each
    ran = _run_jobs(args, conn, f"delete {where}", "delete", delete_jobs(bucket, keys, sizes))
    if isinstance(ran, int):
        return ran
    batch, queue_path, jobs, summary = ran
    return _rm_report(args, conn, bucket, len(keys), jobs, batch, queue_path, summary.interrupted, start)


def _rm_report(args, conn, bucket: str, count: int, jobs: list, batch: int, queue_path: str, interrupted: bool,
               start: float, listing_failed: str = "") -> int:
    """The end of rm: its summary (--json) or each failure and the counts; the exit code."""
    from ..core.transfers.object_jobs import delete_results
    from ..core.versions import NEVER, delete_markers_added, deleted_words

    deleted, failures, nbytes = delete_results(jobs)
    if listing_failed:  # the keys after the failed page were never listed, so never deleted
        failures.append((args.target, f"the listing stopped: {listing_failed}"))
    state = _versioning(conn, bucket) if deleted else NEVER  # whether the deletes only added markers
    doc = _summary(jobs=count, done=len(deleted), failures=failures, nbytes=nbytes, start=start,
                   deleted=len(deleted), delete_markers=delete_markers_added(state, len(deleted)), batch=batch,
                   queue=queue_path, interrupted=interrupted)
    if args.json:
        print_json(doc)
    else:
        print_failures([failed_line(f"s3://{bucket}/{k}", e) for k, e in failures])
        undelete = f"`lakegui-cli undelete {shlex.quote(args.target)}{' --recursive' if args.recursive else ''}`"
        print(f"{deleted_words(len(deleted), state, undelete)}, {len(failures):,} failed")
    if interrupted:
        print("Interrupted: the deletes not made are back in the queue; `lakegui-cli queue resume` "
              "continues them.", file=sys.stderr)
    return EXIT_FAILED if failures or interrupted else EXIT_OK


def _rm_while_listing(args, conn, bucket: str, target: str, lister, sizes: dict[str, int], start: float) -> int:
    """rm --yes of a prefix of several pages: each page's DeleteObjects job is queued as soon as
    it is listed, so the deletes run while the next pages are listed (10,000 keys were 10 pages
    listed one after another before the first delete). One batch, as without --yes; the count
    is printed once the listing ends. A listing that fails half-way leaves the keys after it."""
    import signal
    import threading

    from ..core import settings as settings_store
    from ..core.transfers.jobs import JobState
    from ..core.transfers.object_jobs import delete_jobs

    where = f"s3://{bucket}/{target}"
    store, problem = open_store(args)
    if store is None:
        return fail(problem)
    args.concurrency = args.threads  # DeleteObjects requests at once: one job each
    added, listed, stop = threading.Event(), threading.Event(), threading.Event()
    failed: list[str] = []

    def list_the_rest(batch: int) -> None:
        try:
            for page in lister:
                if stop.is_set():
                    return
                more = {o.key: o.size for o in page.objects}
                if more:
                    store.add_jobs(batch, delete_jobs(bucket, list(more), more))
                    sizes.update(more)
                    added.set()
        except Exception as exc:  # noqa: BLE001  reported at rm's end, with what was deleted
            failed.append(error_message(exc, bucket=bucket, key=target, endpoint=args.endpoint_url or None,
                                        connection=conn))
        finally:
            listed.set()
            added.set()
        print(f"{counted(len(sizes), 'key')} to delete from {where}", file=sys.stderr if args.json else sys.stdout,
              flush=True)

    interrupted = True  # until a run says otherwise
    try:
        batch, _ = store.add_batch(f"delete {where}", "delete", conn.profile.to_dict(),
                                   delete_jobs(bucket, list(sizes), sizes))
        settings = settings_store.load().transfer
        listing = threading.Thread(target=list_the_rest, args=(batch,), name="lakegui-rm-listing", daemon=True)
        listing.start()
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            interrupted = run_queue(store, args, [batch], settings, connection=conn).interrupted
            # A run ends when it finds nothing queued: the listing may not have caught up. Later
            # runs keep the first one's engine (run_queue would build another with the settings).
            stop_on_signals(store.stop)
            while not interrupted and not (listed.is_set() and
                                           not store.counts(batch).get(str(JobState.QUEUED), (0, 0))[0]):
                added.wait(1.0)  # (a bound, not a poll: a page's add sets it)
                added.clear()  # what was added before this is in the store for the run's first claim
                interrupted = store.run([batch]).interrupted
        except KeyboardInterrupt:
            interrupted = True
        finally:
            restore_signals(previous)
            stop.set()
            listing.join()
        jobs = store.jobs(batch_id=batch)
        queue_path = str(store.path)
    finally:
        store.close()
    return _rm_report(args, conn, bucket, len(sizes), jobs, batch, queue_path, interrupted, start,
                      failed[0] if failed else "")


def _versioning(conn, bucket: str) -> str:
    """The bucket's versioning state; '' when it cannot be read (not allowed, say)."""
    from ..core.versions import versioning_state

    try:
        return versioning_state(conn.client(), bucket)
    except Exception:  # noqa: BLE001  the deletes are made: say what is known
        return ""


def _run_jobs(args, conn, name: str, kind: str, jobs: list):
    """Run `jobs` as one batch through the durable queue (--queue, or the GUI's): (batch id,
    queue path, the batch's jobs as they ended, run summary), or an exit code."""
    from ..core import settings as settings_store

    store, problem = open_store(args)
    if store is None:
        return fail(problem)
    try:
        batch, _ = store.add_batch(name, kind, conn.profile.to_dict(), jobs)
        if not hasattr(args, "concurrency"):
            args.concurrency = None  # run_queue reads it: None lets the settings decide
        summary = run_queue(store, args, [batch], settings_store.load().transfer, connection=conn)
        return batch, str(store.path), store.jobs(batch_id=batch), summary
    finally:
        store.close()


def _run_one(args, conn, start: float, name: str, kind: str, job, what: str, line: str, **extra) -> int:
    """Run a one-request job (tag, restore, mb) through the queue and end as such a command does."""
    ran = _run_jobs(args, conn, name, kind, [job])
    if isinstance(ran, int):
        return ran
    batch, queue_path, jobs, summary = ran
    ended = jobs[0] if jobs else None
    if ended is None or str(ended.state) != "done":
        why = (ended.error if ended is not None and ended.error else
               "interrupted: the job is back in the queue; `lakegui-cli queue resume` runs it")
        return _one_request_failed(args, start, what, why)
    return _one_request_done(args, start, line, batch=batch, queue=queue_path, **extra)


def _one_key(args):
    bucket, key = _uri(args.target)
    if not key or key.endswith("/"):
        raise ValueError(f"{args.target} names no object (a key, not a prefix)")
    return bucket, key


def tag(args: argparse.Namespace) -> int:
    from ..core.tagging import get_tags, parse_tags

    start = time.monotonic()
    try:
        bucket, key = _one_key(args)
        tags = parse_tags(args.tags)
    except ValueError as exc:
        return fail_usage(str(exc))
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    if not tags or args.dry_run:  # show what is there (and, in a dry run, what would be)
        try:
            current = get_tags(conn.client(), bucket, key)
        except Exception as exc:
            return _one_request_failed(args, start, key, error_message(exc, bucket=bucket, key=key,
                                                                       endpoint=args.endpoint_url or None))
        if args.json:
            print_json(_summary(jobs=int(bool(tags)), done=0, failures=[], start=start, tags=current,
                                **({"dry_run": True, "new_tags": tags} if tags else {})))
        else:
            for k, v in current.items():
                print(f"{k}={v}")
            if tags:
                print(f"would set {counted(len(tags), 'tag')} on s3://{bucket}/{key}: "
                      + " ".join(f"{k}={v}" for k, v in tags.items()))
        return EXIT_OK
    from ..core.transfers.object_jobs import tag_job

    uri = f"s3://{bucket}/{key}"
    return _run_one(args, conn, start, f"tag {uri}", "tag", tag_job(bucket, key, tags), key,
                    f"{uri}: {counted(len(tags), 'tag')} set", tags=tags)


def restore(args: argparse.Namespace) -> int:
    from ..core.tagging import TIERS, restore_state, tier_problem

    start = time.monotonic()
    try:
        bucket, key = _uri(args.target)
    except ValueError as exc:
        return fail_usage(str(exc))
    prefix = not key or key.endswith("/")
    if args.recursive and not prefix:
        return fail_usage(f"with --recursive the target is a prefix ending in '/': s3://{bucket}/{key}/ "
                          "(a bare name would also match its siblings' names)")
    if prefix and not args.recursive:  # as rm and undelete say it
        return fail_usage(f"s3://{bucket}/{key} is a prefix: add --recursive to restore every archived "
                          "object under it")
    if not 1 <= args.days <= 36500:
        return fail_usage(f"--days must be 1 to 36,500, not {args.days}")
    if args.tier not in TIERS:
        return fail_usage(f"--tier is one of {', '.join(TIERS)}")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    if prefix:
        return _restore_prefix(args, conn, bucket, key, start)
    uri = f"s3://{bucket}/{key}"
    try:
        cls, state = restore_state(conn.client(), bucket, key)
    except Exception as exc:
        return _one_request_failed(args, start, key,
                                   error_message(exc, bucket=bucket, key=key, endpoint=args.endpoint_url or None))
    if problem := tier_problem(cls, args.tier):  # S3 would refuse it: said before anything is queued
        return fail_usage(f"{uri}: {problem}")
    if args.dry_run:
        doc = _summary(jobs=1, done=0, failures=[], start=start, dry_run=True, storage_class=cls,
                       restore=state.describe())
        print_json(doc) if args.json else print(
            f"would request a {args.tier} restore of {uri} ({cls}, {state.describe()}) for {counted(args.days, 'day')}")
        return EXIT_OK
    from ..core.transfers.object_jobs import restore_job

    ran = _run_jobs(args, conn, f"restore {uri}", "restore", [restore_job(bucket, key, args.days, args.tier, cls)])
    if isinstance(ran, int):
        return ran
    batch, queue_path, jobs, _ = ran
    ended = jobs[0]
    if str(ended.state) != "done":
        return _one_request_failed(args, start, key, ended.error or f"the restore request is {ended.state}: "
                                   "`lakegui-cli queue resume` sends it")
    status = ended.error.removeprefix("restore ") or "started"
    line = f"{uri}: restore {status} ({args.tier}, {counted(args.days, 'day')})"
    expiry = None
    if "already" in status:  # readable now: say until when, as the days were just updated
        try:
            expiry = restore_state(conn.client(), bucket, key)[1].expiry
        except Exception:  # noqa: BLE001  the restore is made; only its new date is not known
            expiry = None
        until = f" until {expiry:%Y-%m-%d %H:%M} UTC" if expiry else ""
        line = f"{uri}: already restored{until} (days updated: {counted(args.days, 'day')} from now)"
    return _one_request_done(args, start, line, status=status, storage_class=cls, batch=batch, queue=queue_path,
                             **({"expiry": expiry.isoformat()} if expiry else {}))


def _restore_prefix(args, conn, bucket: str, prefix: str, start: float) -> int:
    """restore --recursive: a restore job for each Glacier / Deep Archive object under `prefix`
    (one batch of the window's kind); the others are left. A tier the class refuses (Deep
    Archive's Expedited) is refused up front when it is every object's, else those keys fail."""
    from ..core.listing import PrefixLister
    from ..core.tagging import ARCHIVED, DEEP_ARCHIVE_TIERS, tier_problem

    where = f"s3://{bucket}/{prefix}"
    try:
        lister = PrefixLister(conn.listing_client(), bucket, prefix, recursive=True,
                              raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
        listed = [o for page in lister for o in page.objects]
    except Exception as exc:
        return fail(error_message(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None,
                                  connection=conn))
    archived = [o for o in listed if o.storage_class in ARCHIVED]
    others = len(listed) - len(archived)
    if not archived:
        return _one_request_failed(args, start, prefix, f"nothing to restore: no Glacier or Deep Archive object "
                                   f"under {where} ({counted(others, 'object')}, none archived)")
    if all(tier_problem(o.storage_class, args.tier) for o in archived):
        return fail_usage(f"{where}: every archived object under it ({len(archived):,}) is in Deep Archive, which "
                          f"has no {args.tier} tier: use --tier {' or --tier '.join(DEEP_ARCHIVE_TIERS)}")
    note = f" ({counted(others, 'other object')} not archived, left as they are)" if others else ""
    if args.dry_run:
        if args.json:
            print_json(_summary(jobs=len(archived), done=0, failures=[], start=start, dry_run=True,
                                keys=[o.key for o in archived], not_archived=others))
        else:
            for o in archived:
                refused = tier_problem(o.storage_class, args.tier)
                print(f"restore s3://{bucket}/{o.key} ({o.storage_class})" + (f": refused, {refused}" if refused else ""))
            print(f"{counted(len(archived), 'archived object')} would be restored from {where}{note}")
        return EXIT_OK
    print(f"{counted(len(archived), 'archived object')} to restore under {where}{note}",
          file=sys.stderr if args.json else sys.stdout, flush=True)
    from ..core.transfers.object_jobs import restore_job

    jobs = [restore_job(bucket, o.key, args.days, args.tier, o.storage_class) for o in archived]
    ran = _run_jobs(args, conn, f"Restore {counted(len(jobs), 'object')} in {where} ({args.tier}, {args.days} d)",
                    "restore", jobs)
    if isinstance(ran, int):
        return ran
    batch, queue_path, ended, summary = ran
    done = [j for j in ended if str(j.state) == "done"]
    again = sum(1 for j in done if "already" in j.error)
    failures = [(j.key, j.error or f"the restore request is {j.state}: `lakegui-cli queue resume` sends it")
                for j in ended if str(j.state) != "done"]
    doc = _summary(jobs=len(jobs), done=len(done), failures=failures, start=start, started=len(done) - again,
                   already_restored=again, not_archived=others, batch=batch, queue=queue_path,
                   interrupted=summary.interrupted)
    if args.json:
        print_json(doc)
    else:
        print_failures([failed_line(f"s3://{bucket}/{k}", e) for k, e in failures])
        parts = [f"{counted(n, 'object')} {what}" for n, what in
                 ((len(done) - again, "started"), (again, "already restored (days updated)"),
                  (len(failures), "failed")) if n]
        print(f"Restore ({args.tier}, {counted(args.days, 'day')}) under {where}: " + ", ".join(parts))
    return EXIT_FAILED if failures or summary.interrupted else EXIT_OK


def mb(args: argparse.Namespace) -> int:
    from ..core.buckets import bucket_name_problem

    start = time.monotonic()
    try:
        bucket, rest = _uri(args.target)
    except ValueError as exc:
        return fail_usage(str(exc))
    if rest.strip("/"):
        return fail_usage(f"{args.target}: mb takes a bucket, s3://BUCKET, not a key")
    problem = bucket_name_problem(bucket)
    if problem:
        return fail_usage(problem)
    if args.dry_run:
        doc = _summary(jobs=1, done=0, failures=[], start=start, dry_run=True, bucket=bucket)
        print_json(doc) if args.json else print(f"would create bucket {bucket}")
        return EXIT_OK
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    from ..core.buckets import bucket_exists
    from ..core.transfers.object_jobs import bucket_job

    # Asked first: S3 in us-east-1 (and moto) answers a second CreateBucket of one's own bucket
    # with 200, which would print make_bucket as if it had been created. Another account's
    # (HEAD 403, as for credentials that may not look) is left to CreateBucket to name.
    try:
        owner = bucket_exists(conn.client(), bucket)
    except Exception as exc:
        return _one_request_failed(args, start, bucket,
                                   error_message(exc, bucket=bucket, endpoint=args.endpoint_url or None))
    if owner == "yours":
        return _one_request_failed(args, start, bucket, f"make_bucket failed: s3://{bucket} already exists and is "
                                   "yours (BucketAlreadyOwnedByYou); nothing was changed")

    return _run_one(args, conn, start, f"make bucket {bucket}", "make-bucket", bucket_job(bucket, args.region or ""),
                    bucket, f"make_bucket: {bucket}", bucket=bucket)


def _one_request_failed(args, start: float, what: str, message: str) -> int:
    """The end of a one-request command (tag, restore, mb) that failed: the summary or one line."""
    if args.json:
        print_json(_summary(jobs=1, done=0, failures=[(what, message)], start=start))
        return EXIT_FAILED
    return fail(message)


def _one_request_done(args, start: float, line: str, **extra) -> int:
    """The end of a one-request command that succeeded: the summary with `extra`, or `line`."""
    if args.json:
        print_json(_summary(jobs=1, done=1, failures=[], start=start, **extra))
    else:
        print(line)
    return EXIT_OK


def _single_options(p: argparse.ArgumentParser) -> None:
    add_connection_options(p)
    p.add_argument("--queue", metavar="PATH",
                   help="the queue database it runs through (default: the GUI's); `queue resume` finishes "
                        "what a killed run left")
    p.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")


def add_parser(sub) -> None:
    for name, func, verb in (("cp", cp, "copy"), ("mv", mv, "move")):
        p = add_command(sub, name, help=f"{verb} an object or a prefix, server-side, through the queue",
                        description=f"{verb.capitalize()} s3://B/KEY to s3://B2/KEY2, or every key under "
                                    "s3://B/PREFIX/ (a trailing '/' means a prefix) to the same relative key "
                                    "under the target, like `aws s3 cp --recursive`. Server-side on one "
                                    "connection (multipart copy above the multipart threshold); streamed "
                                    "through this machine when --source-endpoint-url names another. Metadata, "
                                    "tags and storage class are kept; every copy is verified"
                                    + (", then the source is deleted." if name == "mv" else "."),
                        example=f"lakegui-cli {name} s3://lake/data/AAPL/ s3://lake/archive/AAPL/ "
                                "--endpoint-url http://127.0.0.1:9000")
        p.add_argument("source", metavar="s3://BUCKET/KEY_OR_PREFIX/")
        p.add_argument("dest", metavar="s3://BUCKET2/KEY_OR_PREFIX/")
        common_options(p)
        p.add_argument("--dry-run", action="store_true", help="list what would be copied, queue nothing")
        p.add_argument("--storage-class", default="", type=storage_class, metavar="CLASS",
                       help="write the targets in this S3 storage class, any case (default: the source's)")
        g = p.add_argument_group("source connection (default: the target's)")
        g.add_argument("--source-endpoint-url", default="", metavar="URL")
        g.add_argument("--source-profile", default="")
        g.add_argument("--source-region", default=None)
        p.set_defaults(func=func)

    r = add_command(sub, "rm", help="delete a key, or every key under a prefix with --recursive",
                    description="Delete s3://B/KEY, or with --recursive every key under s3://B/PREFIX/ "
                                "(data/2024/ never touches data/2024-old/). The count is printed first; "
                                f"more than {CONFIRM_OVER:,} keys need --yes when stdin is not a terminal. "
                                "DeleteObjects in batches of 1,000, several at once, each a job of the durable "
                                "queue (`queue resume` finishes a killed run); every key that could not be "
                                "deleted is reported with the reason.",
                    example="lakegui-cli rm s3://lake/tmp/2024/ --recursive --dry-run")
    r.add_argument("target", metavar="s3://BUCKET/KEY_OR_PREFIX/")
    r.add_argument("--recursive", action="store_true", help="every key under the prefix")
    r.add_argument("--yes", action="store_true", help=f"do not ask before deleting more than {CONFIRM_OVER:,} keys")
    r.add_argument("--threads", type=int, default=16, help="DeleteObjects requests (of 1,000 keys) at once (default 16)")
    _single_options(r)
    r.set_defaults(func=rm)

    t = add_command(sub, "tag", help="set an object's tags (no KEY=VALUE: show them)",
                    description="Replace the tags of s3://B/KEY with the KEY=VALUE pairs given "
                                "(PutObjectTagging); with none, print the current tags.",
                    example="lakegui-cli tag s3://lake/data/AAPL/2024.parquet vendor=acme checked=yes")
    t.add_argument("target", metavar="s3://BUCKET/KEY")
    t.add_argument("tags", nargs="*", metavar="KEY=VALUE")
    _single_options(t)
    t.set_defaults(func=tag)

    rs = add_command(sub, "restore", help="restore an archived (Glacier, Deep Archive) object, or every one under "
                                          "a prefix with --recursive, for N days",
                     example="lakegui-cli restore s3://lake/archive/2015.parquet --days 7 --tier Bulk")
    rs.add_argument("target", metavar="s3://BUCKET/KEY_OR_PREFIX/")
    rs.add_argument("--days", type=int, required=True, help="how long the restored copy stays readable")
    rs.add_argument("--tier", default="Standard",
                    help="Standard, Bulk or Expedited (default Standard; Deep Archive takes Standard or Bulk)")
    rs.add_argument("--recursive", action="store_true",
                    help="every Glacier and Deep Archive object under the prefix (the others are left)")
    _single_options(rs)
    rs.set_defaults(func=restore)

    m = add_command(sub, "mb", help="create a bucket (name checked against S3's rules)",
                    example="lakegui-cli mb s3://lake-staging --region eu-west-1")
    m.add_argument("target", metavar="s3://BUCKET")
    _single_options(m)
    m.set_defaults(func=mb)

