"""What every `lakegui-cli` command shares: exit codes, the connection options, usage errors,
JSON output, the durable queue's opening, running and reporting, and the terminal progress line.

It imports only the standard library and light core modules at start: `lakegui-cli --version`
and a usage error must not pay for boto3, botocore or pyarrow (half a second)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..core.units import counted, human_duration, human_size

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_REGION = "us-east-1"


def fail_usage(message: str) -> int:
    print(f"lakegui-cli: {message}", file=sys.stderr)
    return EXIT_USAGE


def fail(message: str) -> int:
    """One line saying what failed and why (never a traceback); exit 1."""
    print(f"lakegui-cli: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_FAILED



SHOWN_FAILURES = 50  # failures named one by one on stderr; the rest are counted


def print_failures(lines: list[str], prefix: str = "") -> None:
    """The first SHOWN_FAILURES failure lines on stderr, then how many more there were."""
    for line in lines[:SHOWN_FAILURES]:
        print(f"{prefix}{line}", file=sys.stderr)
    if len(lines) > SHOWN_FAILURES:
        print(f"{prefix}… and {counted(len(lines) - SHOWN_FAILURES, 'more failure')}", file=sys.stderr)

def print_json(doc, *, pretty: bool = False) -> None:
    print(json.dumps(doc, indent=2 if pretty else None, ensure_ascii=False))


def error_message(exc: BaseException, *, connection=None, **where) -> str:
    """What an S3 error means for the user (classify's message), as one line. With `connection`,
    a key's 404 (a HEAD's answer has no code: the bucket may be what is missing) is checked with a
    HEAD of the bucket, and a missing bucket is said as a listing's NoSuchBucket says it; a key
    whose latest version is a delete marker is said to be deleted, with how to bring it back."""
    from ..core.errors import NOT_FOUND_CODES, classify  # botocore: imported when a command fails

    if isinstance(exc, BrokenPipeError):  # the reader closed stdout (`| head`): no S3 error; main ends quietly
        raise exc
    info = classify(exc, **where)
    if connection is not None and where.get("bucket") and info.code in NOT_FOUND_CODES \
            and (missing := missing_bucket(connection, where["bucket"])):
        return missing
    if connection is not None and where.get("key") and not where.get("version_id") and info.code in NOT_FOUND_CODES:
        return deleted_message(connection, where["bucket"], where["key"]) or info.message
    return info.message


def deleted_message(connection, bucket: str, key: str) -> str:
    """versions.deleted_key_message of a key that was not found; '' when it cannot be told."""
    from ..core.versions import deleted_key_message

    try:
        return deleted_key_message(connection.client(), bucket, key, raw=connection.profile.raw_listing,
                                   verify=connection.profile.verify_tls)
    except Exception:  # noqa: BLE001  versions not listable (not allowed, say): the 404's own message
        return ""


def missing_bucket(connection, bucket: str) -> str:
    """What to say when the endpoint has no `bucket` (buckets.bucket_exists: a HEAD of it), as a
    listing's NoSuchBucket says it; '' when it exists, is another account's, or cannot be asked."""
    from ..core.buckets import bucket_exists
    from ..core.errors import no_bucket_message

    try:
        return "" if bucket_exists(connection.client(), bucket) else no_bucket_message(bucket)
    except Exception:  # noqa: BLE001  not a missing bucket: the request's own error says what is wrong
        return ""


class _Watched:
    """A stream that passes every write on, noting that it was written to and (`lines`) keeping
    its last complete lines."""

    def __init__(self, stream, *, lines: bool = False):
        self.stream, self.wrote, self.lines, self._partial = stream, False, [] if lines else None, ""

    def write(self, text: str) -> int:
        self.wrote = self.wrote or bool(text)
        if self.lines is not None:
            *done, self._partial = (self._partial + text).split("\n")
            self.lines += [line for line in done if line.strip()]
            del self.lines[:-20]
        return self.stream.write(text)

    def __getattr__(self, name):  # flush, isatty, fileno, encoding: the stream's own
        return getattr(self.stream, name)


def run_json(func, args) -> int:
    """Run a command given --json so that it prints one JSON document even when it fails: a
    failure that printed none (its reason went to stderr, as 'lakegui-cli: …') prints
    {"error": that reason}; the exit code is the command's. A script piping into jq gets input."""
    out, err = _Watched(sys.stdout), _Watched(sys.stderr, lines=True)
    sys.stdout, sys.stderr = out, err
    try:
        code = func(args)
    finally:
        sys.stdout, sys.stderr = out.stream, err.stream
    if code and not out.wrote:
        said = [line.removeprefix("lakegui-cli: ") for line in err.lines if line.startswith("lakegui-cli: ")]
        print_json({"error": " ".join(said or err.lines[-1:]) or f"failed (exit code {code})"})
    return code


def add_command(sub, name: str, *, help: str, example: str, description: str = "",
                **kwargs) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with an example."""
    return sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                          epilog="example:\n  " + "\n  ".join(example.splitlines()),
                          formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def connection_for(args: argparse.Namespace, bucket: str):
    """A Connection from the common options, or (None, problem) when they are invalid."""
    from ..core import settings as settings_store
    from ..core.connection import Connection, ConnectionProfile

    profile = ConnectionProfile.from_options(endpoint_url=args.endpoint_url, region=args.region or DEFAULT_REGION,
                                             aws_profile=args.profile, bucket=bucket)
    problems = profile.problems()
    if problems:
        return None, " ".join(problems)
    s = settings_store.load().transfer
    return Connection(profile, concurrency=s.max_concurrency, read_timeout=s.read_timeout), ""


def connection_override(args: argparse.Namespace) -> dict:
    """The connection options given on the command line, as profile fields (for jobs that
    recorded their own connection: what is given wins, the rest stays as recorded)."""
    given = {"endpoint_url": args.endpoint_url, "aws_profile": args.profile, "region": args.region}
    out = {k: v for k, v in given.items() if v}
    if args.endpoint_url:
        out["addressing_style"] = "path"  # as from_options does for a named endpoint
    return out


def add_connection_options(p: argparse.ArgumentParser, *, json_option: bool = True) -> None:
    """--endpoint-url, --profile, --region (and --json): every command that talks to S3 takes them."""
    g = p.add_argument_group("connection")
    g.add_argument("--endpoint-url", default="", metavar="URL",
                   help="S3 endpoint (default: AWS_ENDPOINT_URL or the AWS profile's endpoint_url when set, "
                        "else AWS)")
    g.add_argument("--profile", default="", help="AWS profile from your shared config")
    g.add_argument("--region", default=None, help=f"region (default: {DEFAULT_REGION})")
    if json_option:
        p.add_argument("--json", action="store_true", help="print one JSON document")


def add_queue_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queue", metavar="PATH", help="the queue database (default: the GUI's)")


def _s3_storage_classes() -> list[str]:
    """The StorageClass enum of botocore's S3 model, read from its data file (gzip + JSON, about
    30 ms) without importing botocore (0.2 s): asked only when --storage-class is given."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("botocore")
    data = Path(spec.submodule_search_locations[0]) / "data" / "s3"
    newest = max(data.iterdir())  # API versions are dates: the newest sorts last
    model = newest / "service-2.json"
    text = gzip.decompress(model.with_suffix(".json.gz").read_bytes()) if not model.exists() else model.read_bytes()
    return json.loads(text)["shapes"]["StorageClass"]["enum"]


def storage_class(text: str) -> str:
    """argparse type of --storage-class: one of S3's storage classes, any case, said in capitals;
    another is a usage error naming them (S3 refuses it per job, SeaweedFS would store it)."""
    if not text:
        return ""  # the default: the source's class (cp, mv) or the server's (upload)
    try:
        classes = _s3_storage_classes()
    except (OSError, ValueError, KeyError, AttributeError):  # botocore's data laid out otherwise: S3 decides
        return text.upper()
    if text.upper() not in classes:
        raise argparse.ArgumentTypeError(f"{text!r} is not an S3 storage class: use one of {', '.join(classes)}")
    return text.upper()


def failed_line(uri: str, error: str, verb: str = "failed") -> str:
    """'failed URI: ERROR' without the URI said twice when the error starts with it."""
    from ..core.transfers.jobs import said_once

    return f"{verb} {uri}: {said_once(uri, error)}"


def common_options(p: argparse.ArgumentParser) -> None:
    """The options every queued transfer command takes."""
    add_connection_options(p)
    add_queue_option(p)
    p.add_argument("--concurrency", type=int, help="files in flight at once (default: from settings)")
    p.add_argument("--name", default="", help="a name for this batch in the queue")
    add_cluster_options(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--skip-existing", action="store_true", help="keep targets that already exist")
    which.add_argument("--overwrite", action="store_true", help="replace targets that already exist")


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """--cluster and --path-map: run the jobs on a Dask cluster (docs/SCALING.md)."""
    g = p.add_argument_group("cluster")
    g.add_argument("--cluster", default="", metavar="ADDRESS",
                   help="run the jobs on a Dask cluster: its scheduler, e.g. tcp://host:8786 "
                        "(needs pip install 'lakegui[cluster]')")
    g.add_argument("--path-map", action="append", default=[], metavar="LOCAL=REMOTE",
                   help="with --cluster: workers find files under LOCAL at REMOTE (repeatable)")
    g.add_argument("--chunk-files", type=int, default=0, metavar="N",
                   help="with --cluster: files per task at most (default 250, fewer for short queues)")


def open_cluster(args: argparse.Namespace, profile: dict | None = None) -> int | None:
    """With --cluster: start connecting to the scheduler (on a thread, while the caller plans);
    `cluster_ready` waits for it. None when there is nothing to do or it began; else the exit
    code (2 without the extra). `profile` lets the workers build the engine meanwhile."""
    if not getattr(args, "cluster", ""):
        if getattr(args, "path_map", None):
            return fail_usage("--path-map needs --cluster")
        return None
    from ..core.transfers.cluster import PathMap, PendingConnection, missing_reason

    missing = missing_reason()
    if missing:
        return fail_usage(missing)
    try:
        args.path_map_parsed = PathMap.parse(args.path_map)
    except ValueError as exc:
        return fail_usage(str(exc))
    if args.chunk_files < 0:
        return fail_usage("--chunk-files must be at least 1")
    settings = None
    if profile is not None:
        from dataclasses import asdict, replace

        from ..core import settings as settings_store

        s = settings_store.load().transfer
        settings = asdict(replace(s, concurrent_files=args.concurrency or s.concurrent_files))  # as run_queue sets it
    args.cluster_pending = PendingConnection(args.cluster, profile=profile, settings=settings)
    return None


def cluster_ready(args: argparse.Namespace) -> int | None:
    """Wait for the connection `open_cluster` began: None when the cluster can take the jobs (or
    there is none), else exit 1 with why (unreachable, no workers, another lakegui version)."""
    pending = getattr(args, "cluster_pending", None)
    if pending is None:
        return None
    from ..core.transfers.cluster import ClusterError

    try:
        args.cluster_client = pending.result()
    except ClusterError as exc:
        return fail(str(exc))
    return None


def command_word(argv: list[str]) -> str:
    """The command named on the line: the root parser takes no option with a value, so it is the
    first word not starting with '-' ("" when there is none)."""
    return next((a for a in argv if not a.startswith("-")), "")


def unknown_command(parser: argparse.ArgumentParser, argv: list[str]) -> int | None:
    """Usage error for a command name the CLI lacks, with the nearest one; None when it has it."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    word = command_word(argv)
    if not word or word in sub.choices:
        return None
    import difflib  # only for a typo (1.6 ms of every start-up otherwise)

    names = [n for n in sub.choices if not n.startswith("_")]  # __complete is the shell's, not a person's
    near = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: unknown command {word!r}" + (f" (did you mean {near[0]}?)" if near else "")
          + f"; the commands are: {', '.join(names)}", file=sys.stderr)
    return EXIT_USAGE


def unknown_arguments(parser: argparse.ArgumentParser, extra: list[str]) -> int:
    """Usage error for arguments `parser` does not take, with the nearest option for each typo."""
    import difflib

    options = sorted(o for o in parser._option_string_actions if o.startswith("--"))
    hints = []
    for arg in extra:
        if arg.startswith("-"):
            near = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1, cutoff=0.6)
            if near:
                hints.append(f"did you mean {near[0]}?")
    parser.print_usage(sys.stderr)
    hint = f" ({'; '.join(hints)})" if hints else ""
    print(f"{parser.prog}: error: unrecognized arguments: {' '.join(extra)}{hint}", file=sys.stderr)
    return EXIT_USAGE


def add_selection_options(p: argparse.ArgumentParser) -> None:
    """A layout and which of its files: `query` and `schema` select the same way."""
    p.add_argument("--template", default="", help="layout: daily-ticks, minute-ticks, ... or one of yours")
    p.add_argument("--where", action="append", default=[], metavar="FIELD=V1,V2|FIELD=A..B",
                   help="keep files whose field has one of these values, or lies in A..B (repeatable)")


PARQUET_SUFFIXES = ("parquet", "parq", "pq")
_KINDS = {"json": "JSON", "jsonl": "JSON Lines", "ndjson": "JSON Lines", "csv": "CSV", "tsv": "TSV", "txt": "text"}


def not_parquet(template) -> str:
    """Why `schema` and `query` cannot read this layout ('' when they can): its key pattern
    ends in another file type (fundamentals' .json), decided before any file is read, instead of
    one 'not a Parquet file' per file. A pattern whose extension is a field is given the benefit."""
    name = template.key_template.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not ext or "{" in ext or "}" in ext or ext in PARQUET_SUFFIXES:
        return ""
    from ..core import paths
    from ..core.layouts import load_layouts

    layouts, _ = load_layouts(paths.config_dir())  # problems were printed by template_named
    parquet = sorted(n for n, t in layouts.items()
                     if t.key_template.lower().endswith(tuple("." + x for x in PARQUET_SUFFIXES)))
    kind = _KINDS.get(ext, f".{ext}")
    return (f"template {template.name!r} holds {kind} files, not Parquet: schema/query read Parquet layouts"
            + (f" ({', '.join(parquet)})" if parquet else ""))


def template_named(args):
    from ..core import paths
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
    """One status line on a terminal, redrawn at the service's tick; silent when piped.
    Speed and ETA come from core (core/transfers/progress.py), as in the window."""

    def __init__(self, total_files: int, total_bytes: int, stream=sys.stderr):
        from ..core.transfers.progress import RateMeter

        self.total_files = total_files
        self.total_bytes = total_bytes
        self.stream = stream
        self.live = stream.isatty()
        self._meter = RateMeter(window=10.0, min_span=0.0, maxlen=20)
        self.line = ""

    def __call__(self, running, summary) -> None:
        from ..core.transfers.progress import eta as eta_of

        moved = summary.bytes + sum(r.progress.sample() for r in running)
        speed = self._meter.add(time.monotonic(), moved)
        eta = eta_of(self.total_bytes - moved, speed)
        finished = summary.done + summary.failed + summary.skipped + summary.cancelled
        line = (f"{finished:,}/{self.total_files:,} files · {human_size(moved)} of {human_size(self.total_bytes)}"
                f" · {human_size(speed)}/s" + (f" · ETA {human_duration(eta)}" if eta is not None else "")
                + (f" · {summary.failed} failed" if summary.failed else ""))
        self.line = line
        if self.live:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


class EngineImports:
    """The transfer engines' modules (awscrt's native library, botocore's exceptions, the engine)
    imported on a thread while the command lists and queues: the first job's thread would
    otherwise wait for them (0.1-0.3 s, most of the time from a command's start to its first
    request). An import that fails here fails again, and is reported, where the job needs it."""

    def __init__(self):
        import threading

        self._thread = threading.Thread(target=self._run, name="lakegui-imports", daemon=True)
        self._thread.start()

    @staticmethod
    def _run() -> None:
        try:
            from ..core.transfers import backends, crt_engine  # noqa: F401
        except Exception:  # said where the job imports it
            pass

    def join(self) -> None:
        self._thread.join()


_exit_quick = False


def quick_exit() -> None:
    """At interpreter exit, skip the collector's last walks over every object the run loaded
    (botocore's models, the modules): gc.freeze from an atexit hook. Reference counting still
    frees them; what is skipped is the search for cycles, which took 0.2-0.5 s after a 64 MiB
    download had ended (bench/cli_timeline.py). Registered once; harmless in a longer-lived
    process (tests), which it affects only at its own exit."""
    global _exit_quick
    if not _exit_quick:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _exit_quick = True


def open_store(args):
    """The queue service on the queue database (--queue, or the GUI's), or (None, why not).
    Every CLI command reads and changes the queue through it, never the store itself."""
    from ..core.transfers.service import QueueError, QueueService

    try:
        return QueueService(Path(args.queue) if args.queue else None), ""
    except QueueError as exc:
        return None, str(exc)


def run_queue(store, args, batch_ids, settings, *, connection=None, override: dict | None = None):
    """Run queued jobs (of `batch_ids`, or all) with a terminal display; Ctrl+C or SIGTERM hands them back.
    `override`: connection fields that win over those recorded with the jobs' batches."""
    from dataclasses import replace

    from ..core.transfers.jobs import JobState

    queued = [store.counts(b).get(str(JobState.QUEUED), (0, 0)) for b in (batch_ids or [None])]
    display = TerminalProgress(sum(n for n, _ in queued), sum(b for _, b in queued))
    store.apply_settings(replace(settings, concurrent_files=args.concurrency or settings.concurrent_files))
    if connection is not None:
        store.add_connection(connection)
    store.set_override(override)
    if store.held:  # paused as a whole (the window's Pause, queue pause): nothing may start
        from ..core.transfers.service import RunSummary

        print("lakegui-cli: the queue is paused as a whole (the window's Pause or `lakegui-cli queue pause`): "
              "these jobs wait in it; `lakegui-cli queue resume` runs them", file=sys.stderr)
        return RunSummary(interrupted=True)
    cluster = None
    if getattr(args, "cluster_pending", None) is not None and getattr(args, "cluster_client", None) is None \
            and cluster_ready(args) is not None:  # a caller that did not wait for it: the reason is printed
        from ..core.transfers.service import RunSummary

        return RunSummary(interrupted=True)  # the jobs wait in the queue
    if getattr(args, "cluster_client", None) is not None:  # opened by open_cluster
        from ..core.transfers.cluster import CHUNK_FILES, ClusterExecutor

        cluster = ClusterExecutor(args.cluster_client, store, address=args.cluster, path_map=args.path_map_parsed,
                                  chunk_files=args.chunk_files or CHUNK_FILES, expected_jobs=display.total_files)
        cluster.attach()
    previous = stop_on_signals(store.stop)
    try:
        summary = store.run(batch_ids, on_tick=display)
    finally:
        restore_signals(previous)
        display.close()
        if cluster is not None:
            cluster.close()
            store.executor = None
    summary.interrupted = summary.interrupted or store.held  # paused by another process meanwhile
    return summary


def _kept_for_resume(store, batch_ids) -> int:
    """Bytes the unfinished jobs of these batches keep for a resume (a download's complete ranges,
    an upload's parts): an interrupted run said "0 B" though they were in place."""
    from ..core.transfers.jobs import JobState
    from ..core.transfers.ranges import kept_bytes

    return sum(kept_bytes(j.resume or {}) for b in (batch_ids or [None])
               for j in store.jobs(states=[JobState.QUEUED, JobState.PAUSED], batch_id=b))


def stop_on_signals(stop) -> dict:
    """Ctrl+C and SIGTERM (`timeout`, a service manager, `kill`) both call `stop`: the running
    jobs hand themselves back to the queue with what they kept, and the run says so. A SIGTERM
    ended the process in silence, its jobs left "running" until another process noticed.
    Returns the handlers to give back to restore_signals."""
    import signal

    return {sig: signal.signal(sig, lambda *_: stop()) for sig in (signal.SIGINT, signal.SIGTERM)}


def restore_signals(previous: dict) -> None:
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler)


# How the CLI replaces or keeps a target a job would not replace (jobs.advised).
CONFLICT_ADVICE = "run it again with --overwrite to replace it or --skip-existing to keep it"


def report(store, args, summary, batch_ids, invalid, extra: dict) -> int:
    from ..core.transfers.jobs import JobState, advised

    failures = [j for b in (batch_ids or [None]) for j in store.jobs(states=[JobState.FAILED], batch_id=b)]
    # What did not run: counted on the summary line, not only named on stderr (a held queue's 9 jobs).
    counts = [store.counts(b) for b in (batch_ids or [None])] if summary.interrupted else []  # one query a batch
    waiting = {s: sum(c.get(s.value, (0, 0))[0] for c in counts)
               for s in (JobState.PAUSED, JobState.QUEUED)} if summary.interrupted else {}
    if args.json:
        doc = dict(extra, done=summary.done, failed=len(failures), skipped=summary.skipped,
                   paused=waiting.get(JobState.PAUSED, 0), queued=waiting.get(JobState.QUEUED, 0),
                   cancelled=summary.cancelled, bytes=summary.bytes, seconds=round(summary.seconds, 3),
                   interrupted=summary.interrupted, kept=summary.kept,
                   invalid=[{"path": s.path, "reason": s.reason} for s in invalid],
                   failures=[{"key": j.key, "local_path": j.local_path, "error": advised(j.error, CONFLICT_ADVICE)}
                             for j in failures])
        print(json.dumps(doc))
    else:
        for s in invalid:  # never queued: counted as such below, not as skipped (which is a choice)
            print(f"not transferred {s.path}: {s.reason}", file=sys.stderr)
        print_failures([failed_line(j.uri, advised(j.error, CONFLICT_ADVICE)) for j in failures])
        for uri, note in summary.notes:  # an object replaced since an interrupted run: said, not only logged
            print(f"note {uri}: {note}", file=sys.stderr)
        rate = (summary.bytes - summary.kept) / summary.seconds if summary.seconds else 0  # this run's bytes only
        not_sent = "".join(f", {n:,} {state}" for state, n in waiting.items() if n)
        not_sent += f", {len(invalid):,} not transferred" if invalid else ""
        resumed = f"; {human_size(summary.kept)} of it kept from an interrupted run" if summary.kept else ""
        print(f"{summary.done:,} done, {len(failures):,} failed, {summary.skipped:,} skipped{not_sent}"
              f" · {human_size(summary.bytes)} in {human_duration(summary.seconds) or '0s'}"
              f" ({human_size(rate)}/s{resumed})"
              + (" · the queue is paused: `lakegui-cli queue resume` runs them"
                 if summary.interrupted and store.held and any(waiting.values()) else ""))
        in_place = _kept_for_resume(store, batch_ids) if summary.interrupted else 0
        kept_text = f", with {human_size(in_place)} already in place" if in_place else ""
        if summary.interrupted and store.held:  # a hold set elsewhere, not this process's Ctrl+C
            print("Paused: the queue was paused as a whole (the window's Pause or `lakegui-cli queue pause`); "
                  f"the unfinished jobs wait in it{kept_text}, and `lakegui-cli queue resume` continues them.",
                  file=sys.stderr)
        elif summary.interrupted:
            print(f"Interrupted: the unfinished jobs are back in the queue{kept_text}; "
                  "`lakegui-cli queue resume` continues them.", file=sys.stderr)
    return EXIT_FAILED if failures or invalid or summary.interrupted else EXIT_OK
