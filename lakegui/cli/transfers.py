"""`lakegui-cli upload`, `download` and `queue`: the GUI's engine and durable queue, headless."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from ..core.units import counted
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EngineImports,
    add_cluster_options,
    add_command,
    add_connection_options,
    add_queue_option,
    cluster_ready,
    common_options,
    connection_for,
    connection_override,
    deleted_message,
    error_message,
    fail_usage,
    failed_line,
    open_cluster,
    open_store,
    quick_exit,
    report,
    run_queue,
    storage_class,
)


def _metadata(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        k, sep, v = pair.partition("=")
        if not sep or not k.strip():
            raise ValueError(f"--metadata wants KEY=VALUE, not '{pair}'")
        out[k.strip().lower()] = v
    return out


def _policy(args):
    from ..core.transfers.jobs import OverwritePolicy

    if args.overwrite:
        return OverwritePolicy.OVERWRITE
    if args.skip_existing:
        return OverwritePolicy.SKIP
    # Never replace silently: identical targets are skipped, different ones fail with a hint.
    return OverwritePolicy.ASK


def _transfer(args: argparse.Namespace, direction: str) -> int:
    from ..core.listing import parse_s3_uri

    quick_exit()
    uri = args.dest if direction == "upload" else args.source
    try:
        bucket, prefix = parse_s3_uri(uri)
        metadata = _metadata(getattr(args, "metadata", []) or [])
    except ValueError as exc:
        return fail_usage(str(exc))
    if args.concurrency is not None and args.concurrency < 1:
        return fail_usage("--concurrency must be at least 1")
    if direction == "upload":
        # A LOCAL that names nothing is a mistyped argument, not a file to skip: say so, send nothing.
        missing = [p for p in args.local if not Path(p).exists()]
        if missing:
            what = f"{missing[0]} does not exist" if len(missing) == 1 else \
                f"{len(missing)} of the paths given do not exist: {', '.join(missing)}"
            return fail_usage(f"{what} (nothing was uploaded)")
    if direction == "download":
        dest = Path(args.local_dir)
        if dest.exists() and not dest.is_dir():
            return fail_usage(f"{dest} exists and is not a folder")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    imports = EngineImports()
    try:
        return _queue_transfer(args, direction, conn, uri, bucket, prefix, metadata,
                               dest if direction == "download" else None)
    finally:
        imports.join()


def _queue_transfer(args, direction: str, conn, uri: str, bucket: str, prefix: str, metadata: dict,
                    dest: Path | None) -> int:
    from ..core import settings as settings_store
    from ..core.transfers.planner import plan_download_uri, plan_upload, to_jobs

    if (code := open_cluster(args, conn.profile.to_dict())) is not None:
        return code
    settings = settings_store.load().transfer
    store, problem = open_store(args)
    if store is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_FAILED
    if getattr(args, "version_id", ""):
        return _download_version(args, conn, store, settings, bucket, prefix, dest)
    try:
        # Listed through presigned GETs where it can: no S3 client before the first byte moves.
        listing = {"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls}
        if direction == "upload":
            plan = plan_upload(conn.listing_client(), bucket, prefix, [Path(p) for p in args.local], **listing)
        else:
            plan = plan_download_uri(conn.listing_client(), bucket, prefix, dest, **listing)
    except Exception as exc:
        print(f"lakegui-cli: {error_message(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None)}",
              file=sys.stderr)
        store.close()
        return EXIT_FAILED
    if not plan.items and not plan.skipped and direction == "download" and prefix and not prefix.endswith("/"):
        # Neither a key nor a prefix: said as every other command says a key that is not there,
        # or, when a delete marker is its latest version, how to get it back.
        deleted = deleted_message(conn, bucket, prefix)
        said = f"{deleted}; `lakegui-cli download {shlex.quote(uri)} {shlex.quote(str(dest))} --version-id V` " \
            "fetches one of them" if deleted else f"{uri} was not found: it may have been deleted or renamed."
        print(f"lakegui-cli: {said}", file=sys.stderr)
        store.close()
        return EXIT_FAILED
    if not plan.items and not plan.skipped:
        print(f"lakegui-cli: nothing to {direction}: {uri if direction == 'download' else ' '.join(args.local)} "
              "holds no files", file=sys.stderr)
        store.close()
        return EXIT_FAILED
    extra = {k: v for k, v in (("StorageClass", getattr(args, "storage_class", "")),
                               ("ServerSideEncryption", getattr(args, "sse", ""))) if v}
    jobs = to_jobs(plan, _policy(args), chunksize=settings.multipart_chunksize, metadata=metadata, extra=extra)
    name = args.name or f"{direction} {uri if direction == 'download' else args.dest}"
    if (code := cluster_ready(args)) is not None:
        store.close()
        return code
    batch, _ = store.add_batch(name, direction, conn.profile.to_dict(), jobs)
    summary = run_queue(store, args, [batch], settings, connection=conn)
    summary.skipped = store.counts(batch).get("skipped", (0, 0))[0]
    try:
        return report(store, args, summary, [batch], plan.skipped,
                       {"batch": batch, "queue": str(store.path), "jobs": len(jobs)})
    finally:
        store.close()


def _download_version(args, conn, store, settings, bucket: str, key: str, dest: Path) -> int:
    """`download s3://B/KEY DIR --version-id V`: that version of one key (core/versions.py)."""
    from ..core.versions import plan_version_download

    try:
        if not key or key.endswith("/"):
            return fail_usage("--version-id downloads one key, not a prefix")
        jobs, skipped = plan_version_download(conn.client(), bucket, key, args.version_id, dest,
                                              chunksize=settings.multipart_chunksize, policy=_policy(args))
        batch, _ = store.add_batch(args.name or f"download {args.source} (version {args.version_id})", "download",
                                   conn.profile.to_dict(), jobs)
        summary = run_queue(store, args, [batch], settings, connection=conn)
        summary.skipped = store.counts(batch).get("skipped", (0, 0))[0]
        return report(store, args, summary, [batch], skipped,
                      {"batch": batch, "queue": str(store.path), "jobs": len(jobs), "version_id": args.version_id})
    except Exception as exc:
        why = error_message(exc, bucket=bucket, key=key, endpoint=args.endpoint_url or None, connection=conn,
                            version_id=args.version_id)
        print(f"lakegui-cli: {why}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        store.close()


def upload(args: argparse.Namespace) -> int:
    return _transfer(args, "upload")


def download(args: argparse.Namespace) -> int:
    return _transfer(args, "download")


def queue(args: argparse.Namespace) -> int:
    from ..core import settings as settings_store
    from ..core.transfers.jobs import JobState
    from ..core.units import human_size

    quick_exit()
    if args.action == "resume" and ((code := open_cluster(args)) is not None or (code := cluster_ready(args))
                                    is not None):
        return code
    store, problem = open_store(args)
    if store is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.action == "status":
            recovered = store.recover_orphans()
            counts = store.counts()
            if args.json:
                print(json.dumps({"queue": str(store.path), "held": store.held,
                                  "states": {s: {"jobs": n, "bytes": b} for s, (n, b) in sorted(counts.items())},
                                  "batches": [{"id": b.id, "name": b.name, "kind": b.kind,
                                               "states": {s: n for s, (n, _) in store.counts(b.id).items()}}
                                              for b in store.batches()]}))
            else:
                print(f"queue {store.path}")
                if not counts:
                    print("  empty")
                for state in JobState:
                    if str(state) in counts:
                        n, b = counts[str(state)]
                        print(f"  {str(state):<10} {n:>8,} jobs  {human_size(b):>10}")
                if recovered:
                    print(f"  ({counted(len(recovered), 'job')} of a process that ended "
                          f"{'was' if len(recovered) == 1 else 'were'} put back in the queue)")
                if store.held:
                    print("  held: paused as a whole; `lakegui-cli queue resume` runs it again")
            return EXIT_OK
        if args.action == "pause":
            running = len(store.jobs(states=[JobState.RUNNING]))  # in other processes, which follow the hold
            paused = store.pause()
            if args.json:
                print(json.dumps({"paused": len(paused), "pausing": running, "held": True}))
            else:
                also = f", {counted(running, 'running job')} pausing in the process running it" if running else ""
                print(f"{counted(len(paused), 'queued job')} paused{also}; the queue is held: jobs running in other "
                      "processes pause too, and jobs added later wait, until `lakegui-cli queue resume`")
            return EXIT_OK
        if args.action == "retry-failed":
            ids, left = _retry_failed(store)
            override = connection_override(args)
            if not override or not ids:
                if args.json:
                    print(json.dumps({"requeued": len(ids), "left": left}))
                else:
                    print(f"{counted(len(ids), 'failed job')} queued again")
                    _say_left(left)
                return EXIT_OK
            _say_left([] if args.json else left)
            # A connection named here is one to retry them over now (an endpoint that moved, say).
            wanted = set(ids)
            batches = sorted({j.batch_id for j in store.jobs(states=[JobState.QUEUED]) if j.id in wanted})
            summary = run_queue(store, args, batches, settings_store.load().transfer, override=override)
            # The jobs left were named above: this run's report is of the jobs it ran.
            return report(_RunOnly(store, {j["id"] for j in left}), args, summary, batches, [],
                          {"queue": str(store.path), "requeued": len(ids), "left": left})
        if args.action == "clear":
            # --finished keeps backfills' records (hidden), for their manifests, as the window does.
            n = store.remove_finished() if args.finished else store.clear()
            print(json.dumps({"removed": n}) if args.json else f"{counted(n, 'job')} removed")
            return EXIT_OK
        # resume
        store.recover_orphans()
        store.resume()
        if not store.counts().get(str(JobState.QUEUED)):
            print(json.dumps({"done": 0, "failed": 0, "skipped": 0, "bytes": 0}) if args.json
                  else "Nothing to resume: no queued or paused jobs.")
            return EXIT_OK
        _say_relative(store)
        settings = settings_store.load().transfer
        # Jobs that had failed before (retry-failed left them, say) do not run now: the report is
        # of the jobs this run handled, and its exit code theirs; the others are mentioned once.
        earlier = {j.id for j in store.jobs(states=[JobState.FAILED])}
        summary = run_queue(store, args, None, settings, override=connection_override(args))
        code = report(_RunOnly(store, earlier), args, summary, None, [],
                      {"queue": str(store.path), "failed_earlier": len(earlier)})
        if earlier and not args.json:
            print(f"{len(earlier):,} failed earlier (queue status)", file=sys.stderr)
        return code
    finally:
        store.close()


class _RunOnly:
    """The queue as `report` reads it, without the failed jobs of `earlier`: they did not run."""

    def __init__(self, store, earlier: set[int]):
        self._store, self._earlier = store, earlier

    def jobs(self, **query):
        return [j for j in self._store.jobs(**query) if j.id not in self._earlier]


def _retry_failed(store) -> tuple[list[int], list[dict]]:
    """Queue failed jobs again, but not those retrying cannot fix (QueueService.retry_failed): a
    tag, restore or mb job that failed for good, an upload or download whose target exists with
    other content: (ids queued again, [{"id", "kind", "key", "error"}] of those left)."""
    requeued, kept = store.retry_failed()
    return requeued, [{"id": j.id, "kind": str(j.direction), "key": j.uri, "error": j.error} for j in kept]


def _say_relative(store) -> None:
    """Say, before they run, that queued rows of an older lakegui hold relative local paths: the
    engine fails them (relative to a folder that was not recorded, they are never resolved
    against this one, where they could read or overwrite the wrong files)."""
    from ..core.transfers.jobs import JobState

    relative = [j for j in store.jobs(states=[JobState.QUEUED])
                if str(j.direction) in ("upload", "download") and not os.path.isabs(j.local_path)]
    if relative:
        print(f"lakegui-cli: an older lakegui queued {counted(len(relative), 'transfer')} with local paths "
              f"relative to the folder its command ran in (e.g. {relative[0].local_path}), a folder it did not "
              f"record; they are not resolved against this folder ({os.getcwd()}) but fail: run the upload or "
              "download again from that folder.", file=sys.stderr)


def _say_left(left: list[dict]) -> None:
    if not left:
        return
    print(f"lakegui-cli: {counted(len(left), 'failed job')} left as they are: retrying cannot help until the "
          "cause is fixed, then run its command again:", file=sys.stderr)
    for j in left[:50]:
        print(f"  {failed_line(j['key'], j['error'], j['kind'])}", file=sys.stderr)
    if len(left) > 50:
        print(f"  … and {len(left) - 50:,} more", file=sys.stderr)
    from ..core.transfers.jobs import says_conflict

    for kind in ("upload", "download"):  # retrying them would replace what the user was asked about
        if any(j["kind"] == kind and says_conflict(j["error"]) for j in left):  # not a backfill's held file
            print(f"  to replace or keep those targets, run the {kind} again with --overwrite or --skip-existing",
                  file=sys.stderr)


def add_parser(sub) -> None:
    up = add_command(sub, "upload", help="upload files and folders under an S3 prefix",
                     description="Upload files and folders. Existing objects with the same content are "
                                 "skipped; different ones fail unless --overwrite or --skip-existing.\n\n"
                                 "Exit 0 all done; 1 some failed or were left out (unreadable, say); 2 usage "
                                 "error, also a LOCAL that does not exist (nothing is sent then).",
                     example="lakegui-cli upload ./ticks s3://us-equity-datalake/data/ticks/daily/ "
                             "--endpoint-url http://127.0.0.1:9000")
    up.add_argument("local", nargs="+", metavar="LOCAL")
    up.add_argument("dest", metavar="s3://BUCKET/PREFIX/")
    up.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE",
                    help="user metadata for every object (repeatable)")
    up.add_argument("--storage-class", default="", type=storage_class, metavar="CLASS",
                    help="an S3 storage class, e.g. STANDARD_IA (any case)")
    up.add_argument("--sse", default="", help="server-side encryption, e.g. AES256 or aws:kms")
    common_options(up)
    up.set_defaults(func=upload)

    down = add_command(sub, "download", help="download a key or a prefix into a local folder",
                       description="Download a key (to LOCALDIR/NAME) or a prefix (paths relative to it). "
                                   "Existing files with the same content are skipped; different ones fail "
                                   "unless --overwrite or --skip-existing.",
                       example="lakegui-cli download s3://us-equity-datalake/data/ticks/daily/AAPL/ ./aapl "
                               "--profile analytics")
    down.add_argument("source", metavar="s3://BUCKET/PREFIX")
    down.add_argument("local_dir", metavar="LOCALDIR")
    down.add_argument("--version-id", default="", metavar="V", help="download this version of the key")
    common_options(down)
    down.set_defaults(func=download)

    q = add_command(sub, "queue", help="show or manage the durable transfer queue",
                    description="status: the queue's jobs by state. pause: hold the whole queue, as the window's "
                                "Pause does: queued jobs pause, jobs running in other processes (the window, "
                                "another lakegui-cli) pause too, and jobs added later wait, until resume. "
                                "resume: run queued and paused jobs (which ends a hold). "
                                "retry-failed: queue failed jobs again (not a tag, restore or mb job that failed "
                                "for a reason retrying cannot fix, such as NoSuchKey, AccessDenied or an object "
                                "that is not archived, nor an upload or download whose target exists with other "
                                "content: those are named and left; run the upload or download again with "
                                "--overwrite or --skip-existing). resume reports the jobs it ran (its exit code "
                                "is theirs; jobs that failed earlier are counted once). clear: remove jobs that "
                                "are not running "
                                "(--finished: only done, skipped and cancelled ones).\n\n"
                                "resume and retry-failed use the connection recorded with each batch; "
                                "--endpoint-url, --profile and --region given here win over it (an endpoint "
                                "that moved can be named).",
                    example="lakegui-cli queue status --json\n"
                            "lakegui-cli queue resume --endpoint-url http://127.0.0.1:9100")
    q.add_argument("action", choices=["status", "pause", "resume", "retry-failed", "clear"])
    add_connection_options(q)
    add_queue_option(q)
    q.add_argument("--concurrency", type=int, help="files in flight at once when resuming")
    q.add_argument("--finished", action="store_true", help="with clear: remove only done, skipped, cancelled")
    add_cluster_options(q)
    q.set_defaults(func=queue)
