"""`lakegui-cli upload`, `download` and `queue`: the GUI's engine and durable queue, headless."""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import time
from pathlib import Path

from .core import settings as settings_store
from .core.errors import classify
from .core.listing import parse_s3_uri
from .core.units import human_duration, human_size

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fail_usage(message: str) -> int:
    print(f"lakegui-cli: {message}", file=sys.stderr)
    return EXIT_USAGE


class TerminalProgress:
    """One status line on a terminal, redrawn at the runner's tick; silent when piped."""

    def __init__(self, total_files: int, total_bytes: int, stream=sys.stderr):
        self.total_files = total_files
        self.total_bytes = total_bytes
        self.stream = stream
        self.live = stream.isatty()
        self._samples: collections.deque = collections.deque(maxlen=20)

    def __call__(self, running, summary) -> None:
        moved = summary.bytes + sum(r.progress.sample() for r in running)
        now = time.monotonic()
        self._samples.append((now, moved))
        t0, b0 = self._samples[0]
        speed = (moved - b0) / (now - t0) if now > t0 else 0.0
        eta = (self.total_bytes - moved) / speed if speed > 0 else None
        finished = summary.done + summary.failed + summary.skipped + summary.cancelled
        line = (f"{finished:,}/{self.total_files:,} files · {human_size(moved)} of {human_size(self.total_bytes)}"
                f" · {human_size(speed)}/s" + (f" · ETA {human_duration(eta)}" if eta is not None else "")
                + (f" · {summary.failed} failed" if summary.failed else ""))
        if self.live:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def _open_store(args):
    from .core.transfers.store import JobStore, QueueError

    try:
        return JobStore(Path(args.queue) if args.queue else None), ""
    except QueueError as exc:
        return None, str(exc)


def _metadata(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        k, sep, v = pair.partition("=")
        if not sep or not k.strip():
            raise ValueError(f"--metadata wants KEY=VALUE, not '{pair}'")
        out[k.strip().lower()] = v
    return out


def _policy(args):
    from .core.transfers.jobs import OverwritePolicy

    if args.overwrite:
        return OverwritePolicy.OVERWRITE
    if args.skip_existing:
        return OverwritePolicy.SKIP
    # Never replace silently: identical targets are skipped, different ones fail with a hint.
    return OverwritePolicy.ASK


def _run_queue(store, args, batch_ids, settings, *, connection=None):
    """Run queued jobs (of `batch_ids`, or all) with a terminal display; Ctrl+C hands them back."""
    from .core.transfers.jobs import JobState
    from .core.transfers.runner import EnginePool, QueueRunner

    queued = [store.counts(b).get(str(JobState.QUEUED), (0, 0)) for b in (batch_ids or [None])]
    display = TerminalProgress(sum(n for n, _ in queued), sum(b for _, b in queued))
    engines = EnginePool(store, settings, known=[connection] if connection else [])
    runner = QueueRunner(store, engines, concurrency=args.concurrency or settings.concurrent_files,
                         on_tick=display)
    previous = signal.signal(signal.SIGINT, lambda *_: runner.stop())
    try:
        summary = runner.run(batch_ids)
    finally:
        signal.signal(signal.SIGINT, previous)
        display.close()
        engines.close()
    return summary


def _report(store, args, summary, batch_ids, invalid, extra: dict) -> int:
    from .core.transfers.jobs import JobState

    failures = [j for b in (batch_ids or [None]) for j in store.jobs(states=[JobState.FAILED], batch_id=b)]
    if args.json:
        doc = dict(extra, done=summary.done, failed=len(failures), skipped=summary.skipped,
                   cancelled=summary.cancelled, bytes=summary.bytes, seconds=round(summary.seconds, 3),
                   interrupted=summary.interrupted,
                   invalid=[{"path": s.path, "reason": s.reason} for s in invalid],
                   failures=[{"key": j.key, "local_path": j.local_path, "error": j.error} for j in failures])
        print(json.dumps(doc))
    else:
        for s in invalid:
            print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
        for j in failures[:50]:
            print(f"failed {j.uri}: {j.error}", file=sys.stderr)
        if len(failures) > 50:
            print(f"… and {len(failures) - 50:,} more failures", file=sys.stderr)
        rate = summary.bytes / summary.seconds if summary.seconds else 0
        print(f"{summary.done:,} done, {len(failures):,} failed, {summary.skipped:,} skipped"
              f" · {human_size(summary.bytes)} in {human_duration(summary.seconds) or '0s'}"
              f" ({human_size(rate)}/s)")
        if summary.interrupted:
            print("Interrupted: the unfinished jobs are back in the queue; "
                  "`lakegui-cli queue resume` continues them.", file=sys.stderr)
    return EXIT_FAILED if failures or invalid or summary.interrupted else EXIT_OK


def _transfer(args: argparse.Namespace, direction: str) -> int:
    from .cli import connection_for
    from .core.transfers.planner import plan_download_uri, plan_upload, to_jobs

    uri = args.dest if direction == "upload" else args.source
    try:
        bucket, prefix = parse_s3_uri(uri)
        metadata = _metadata(getattr(args, "metadata", []) or [])
    except ValueError as exc:
        return _fail_usage(str(exc))
    if args.concurrency is not None and args.concurrency < 1:
        return _fail_usage("--concurrency must be at least 1")
    if direction == "download":
        dest = Path(args.local_dir)
        if dest.exists() and not dest.is_dir():
            return _fail_usage(f"{dest} exists and is not a folder")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return _fail_usage(problem)
    settings = settings_store.load().transfer
    store, problem = _open_store(args)
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
    summary = _run_queue(store, args, [batch], settings, connection=conn)
    summary.skipped = store.counts(batch).get("skipped", (0, 0))[0]
    try:
        return _report(store, args, summary, [batch], plan.skipped,
                       {"batch": batch, "queue": str(store.path), "jobs": len(jobs)})
    finally:
        store.close()


def upload(args: argparse.Namespace) -> int:
    return _transfer(args, "upload")


def download(args: argparse.Namespace) -> int:
    return _transfer(args, "download")


def queue(args: argparse.Namespace) -> int:
    from .core.transfers.jobs import JobState

    store, problem = _open_store(args)
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
        summary = _run_queue(store, args, None, settings)
        return _report(store, args, summary, None, [], {"queue": str(store.path)})
    finally:
        store.close()


def common_options(p: argparse.ArgumentParser, add_connection_options) -> None:
    """The options every queued transfer command takes."""
    add_connection_options(p)
    p.add_argument("--queue", metavar="PATH", help="the queue database (default: the GUI's)")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--concurrency", type=int, help="files in flight at once (default: from settings)")
    p.add_argument("--name", default="", help="a name for this batch in the queue")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--skip-existing", action="store_true", help="keep targets that already exist")
    which.add_argument("--overwrite", action="store_true", help="replace targets that already exist")


def add_parsers(sub, add_connection_options) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        common_options(p, add_connection_options)

    up = sub.add_parser("upload", help="upload files and folders under an S3 prefix",
                        description="Upload files and folders. Existing objects with the same content are "
                                    "skipped; different ones fail unless --overwrite or --skip-existing.")
    up.add_argument("local", nargs="+", metavar="LOCAL")
    up.add_argument("dest", metavar="s3://BUCKET/PREFIX/")
    up.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE",
                    help="user metadata for every object (repeatable)")
    up.add_argument("--storage-class", default="", help="e.g. STANDARD_IA")
    up.add_argument("--sse", default="", help="server-side encryption, e.g. AES256 or aws:kms")
    common(up)
    up.set_defaults(func=upload)

    down = sub.add_parser("download", help="download a key or a prefix into a local folder",
                          description="Download a key (to LOCALDIR/NAME) or a prefix (paths relative to it). "
                                      "Existing files with the same content are skipped; different ones fail "
                                      "unless --overwrite or --skip-existing.")
    down.add_argument("source", metavar="s3://BUCKET/PREFIX")
    down.add_argument("local_dir", metavar="LOCALDIR")
    common(down)
    down.set_defaults(func=download)

    q = sub.add_parser("queue", help="show or manage the durable transfer queue")
    q.add_argument("action", choices=["status", "resume", "retry-failed", "clear"])
    q.add_argument("--queue", metavar="PATH", help="the queue database (default: the GUI's)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.add_argument("--concurrency", type=int, help="files in flight at once when resuming")
    q.add_argument("--finished", action="store_true", help="with clear: remove only done, skipped, cancelled")
    q.set_defaults(func=queue)
