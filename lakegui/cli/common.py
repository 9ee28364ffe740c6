"""What every `lakegui-cli` command shares: exit codes, the connection options, usage errors,
the durable queue's opening, running and reporting, and the terminal progress line."""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import time
from pathlib import Path

from ..core import paths
from ..core.units import human_duration, human_size

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def fail_usage(message: str) -> int:
    print(f"lakegui-cli: {message}", file=sys.stderr)
    return EXIT_USAGE


def connection_for(args: argparse.Namespace, bucket: str):
    """A Connection from the common options, or (None, problem) when they are invalid."""
    from ..core import settings as settings_store
    from ..core.connection import Connection, ConnectionProfile

    profile = ConnectionProfile.from_options(endpoint_url=args.endpoint_url, region=args.region,
                                             aws_profile=args.profile, bucket=bucket)
    problems = profile.problems()
    if problems:
        return None, " ".join(problems)
    s = settings_store.load().transfer
    return Connection(profile, concurrency=s.max_concurrency, read_timeout=s.read_timeout), ""


def add_connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint-url", default="", help="S3 endpoint; empty for AWS")
    p.add_argument("--profile", default="", help="AWS profile from your shared config")
    p.add_argument("--region", default="us-east-1")


def common_options(p: argparse.ArgumentParser) -> None:
    """The options every queued transfer command takes."""
    add_connection_options(p)
    p.add_argument("--queue", metavar="PATH", help="the queue database (default: the GUI's)")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--concurrency", type=int, help="files in flight at once (default: from settings)")
    p.add_argument("--name", default="", help="a name for this batch in the queue")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--skip-existing", action="store_true", help="keep targets that already exist")
    which.add_argument("--overwrite", action="store_true", help="replace targets that already exist")


def template_named(args):
    from ..core.layouts import load_layouts

    layouts, problems = load_layouts(paths.config_dir())
    for problem in problems:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
    if not args.template:
        raise ValueError(f"--template is required: one of {', '.join(sorted(layouts))}")
    if args.template not in layouts:
        raise ValueError(f"no layout named {args.template!r}: choose one of {', '.join(sorted(layouts))}")
    return layouts[args.template]


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


def open_store(args):
    from ..core.transfers.store import JobStore, QueueError

    try:
        return JobStore(Path(args.queue) if args.queue else None), ""
    except QueueError as exc:
        return None, str(exc)


def run_queue(store, args, batch_ids, settings, *, connection=None):
    """Run queued jobs (of `batch_ids`, or all) with a terminal display; Ctrl+C hands them back."""
    from ..core.transfers.jobs import JobState
    from ..core.transfers.runner import EnginePool, QueueRunner

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


def report(store, args, summary, batch_ids, invalid, extra: dict) -> int:
    from ..core.transfers.jobs import JobState

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
