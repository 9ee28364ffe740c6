"""`lakegui-cli upload`, `download` and `queue`: the GUI's engine and durable queue, headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core import settings as settings_store
from ..core.errors import classify
from ..core.listing import parse_s3_uri
from ..core.units import human_size

from .common import (EXIT_FAILED, EXIT_OK, common_options, connection_for, fail_usage, open_store, report,
                     run_queue)


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
    from ..core.transfers.planner import plan_download_uri, plan_upload, to_jobs

    uri = args.dest if direction == "upload" else args.source
    try:
        bucket, prefix = parse_s3_uri(uri)
        metadata = _metadata(getattr(args, "metadata", []) or [])
    except ValueError as exc:
        return fail_usage(str(exc))
    if args.concurrency is not None and args.concurrency < 1:
        return fail_usage("--concurrency must be at least 1")
    if direction == "download":
        dest = Path(args.local_dir)
        if dest.exists() and not dest.is_dir():
            return fail_usage(f"{dest} exists and is not a folder")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    settings = settings_store.load().transfer
    store, problem = open_store(args)
    if store is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        client = conn.client()
        if direction == "upload":
            plan = plan_upload(client, bucket, prefix, [Path(p) for p in args.local])
        else:
            plan = plan_download_uri(client, bucket, prefix, dest)
    except Exception as exc:
        info = classify(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None)
        print(f"lakegui-cli: {info.message}", file=sys.stderr)
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
    batch = store.create_batch(name, direction, conn.profile.to_dict())
    store.add_jobs(batch, jobs)
    summary = run_queue(store, args, [batch], settings, connection=conn)
    summary.skipped = store.counts(batch).get("skipped", (0, 0))[0]
    try:
        return report(store, args, summary, [batch], plan.skipped,
                       {"batch": batch, "queue": str(store.path), "jobs": len(jobs)})
    finally:
        store.close()


def upload(args: argparse.Namespace) -> int:
    return _transfer(args, "upload")


def download(args: argparse.Namespace) -> int:
    return _transfer(args, "download")


def queue(args: argparse.Namespace) -> int:
    from ..core.transfers.jobs import JobState

    store, problem = open_store(args)
    if store is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.action == "status":
            recovered = store.recover_orphans()
            counts = store.counts()
            if args.json:
                print(json.dumps({"queue": str(store.path),
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
                    print(f"  ({len(recovered)} jobs of a process that ended were put back in the queue)")
            return EXIT_OK
        if args.action == "retry-failed":
            n = len(store.retry_failed())
            print(json.dumps({"requeued": n}) if args.json else f"{n:,} failed or cancelled jobs queued again")
            return EXIT_OK
        if args.action == "clear":
            states = [JobState.DONE, JobState.SKIPPED, JobState.CANCELLED] if args.finished else \
                [s for s in JobState if s is not JobState.RUNNING]
            n = store.remove(states=states)
            print(json.dumps({"removed": n}) if args.json else f"{n:,} jobs removed")
            return EXIT_OK
        # resume
        store.recover_orphans()
        store.set_state(None, JobState.QUEUED, from_states=[JobState.PAUSED])
        if not store.counts().get(str(JobState.QUEUED)):
            print(json.dumps({"done": 0, "failed": 0, "skipped": 0, "bytes": 0}) if args.json
                  else "Nothing to resume: no queued or paused jobs.")
            return EXIT_OK
        settings = settings_store.load().transfer
        summary = run_queue(store, args, None, settings)
        return report(store, args, summary, None, [], {"queue": str(store.path)})
    finally:
        store.close()


def add_parser(sub) -> None:
    up = sub.add_parser("upload", help="upload files and folders under an S3 prefix",
                        description="Upload files and folders. Existing objects with the same content are "
                                    "skipped; different ones fail unless --overwrite or --skip-existing.")
    up.add_argument("local", nargs="+", metavar="LOCAL")
    up.add_argument("dest", metavar="s3://BUCKET/PREFIX/")
    up.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE",
                    help="user metadata for every object (repeatable)")
    up.add_argument("--storage-class", default="", help="e.g. STANDARD_IA")
    up.add_argument("--sse", default="", help="server-side encryption, e.g. AES256 or aws:kms")
    common_options(up)
    up.set_defaults(func=upload)

    down = sub.add_parser("download", help="download a key or a prefix into a local folder",
                          description="Download a key (to LOCALDIR/NAME) or a prefix (paths relative to it). "
                                      "Existing files with the same content are skipped; different ones fail "
                                      "unless --overwrite or --skip-existing.")
    down.add_argument("source", metavar="s3://BUCKET/PREFIX")
    down.add_argument("local_dir", metavar="LOCALDIR")
    common_options(down)
    down.set_defaults(func=download)

    q = sub.add_parser("queue", help="show or manage the durable transfer queue")
    q.add_argument("action", choices=["status", "resume", "retry-failed", "clear"])
    q.add_argument("--queue", metavar="PATH", help="the queue database (default: the GUI's)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.add_argument("--concurrency", type=int, help="files in flight at once when resuming")
    q.add_argument("--finished", action="store_true", help="with clear: remove only done, skipped, cancelled")
    q.set_defaults(func=queue)
