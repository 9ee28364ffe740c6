"""`lakegui-cli`: headless commands over the same core as the GUI."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _demo_server(args: argparse.Namespace) -> int:
    from .core.demo import DEMO_BUCKET, DEMO_CREDENTIALS, DEMO_REGION, DemoServer
    from .core.units import human_size

    if not 0 <= args.port <= 65535:
        print(f"lakegui-cli: --port must be 0-65535, not {args.port}", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = DemoServer(host=args.host, port=args.port).start()
    except OSError as exc:
        print(f"lakegui-cli: {exc}", file=sys.stderr)
        return EXIT_FAILED
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    r = server.report
    url = server.endpoint_url
    if args.json:
        print(json.dumps({"endpoint_url": url, "bucket": DEMO_BUCKET, "region": DEMO_REGION,
                          "aws_access_key_id": DEMO_CREDENTIALS.access_key,
                          "aws_secret_access_key": DEMO_CREDENTIALS.secret_key,
                          "objects": r.objects, "bytes": r.bytes}), flush=True)
    else:
        print(f"lakegui demo lake serving at {url}\n"
              f"  bucket: s3://{DEMO_BUCKET}/ ({r.objects} objects, {human_size(r.bytes)}, "
              f"seeded in {r.seconds:.1f} s)\n"
              "  credentials (demo only; the endpoint accepts any):\n"
              f"    export AWS_ACCESS_KEY_ID={DEMO_CREDENTIALS.access_key}\n"
              f"    export AWS_SECRET_ACCESS_KEY={DEMO_CREDENTIALS.secret_key}\n"
              f"    export AWS_DEFAULT_REGION={DEMO_REGION}\n"
              "  try:\n"
              f"    aws --endpoint-url {url} s3 ls s3://{DEMO_BUCKET}/data/ticks/daily/ --recursive\n"
              f"    lakegui --endpoint-url {url} --bucket {DEMO_BUCKET}\n"
              "Press Ctrl+C to stop.", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return EXIT_OK


def connection_for(args: argparse.Namespace, bucket: str):
    """A Connection from the common options, or (None, problem) when they are invalid."""
    from .core import settings as settings_store
    from .core.connection import Connection, ConnectionProfile

    profile = ConnectionProfile.from_options(endpoint_url=args.endpoint_url, region=args.region,
                                             aws_profile=args.profile, bucket=bucket)
    problems = profile.problems()
    if problems:
        return None, " ".join(problems)
    s = settings_store.load().transfer
    return Connection(profile, concurrency=s.max_concurrency, read_timeout=s.read_timeout), ""


def _ls(args: argparse.Namespace) -> int:
    from .core.errors import classify
    from .core.listing import PrefixLister, parse_s3_uri

    try:
        bucket, prefix = parse_s3_uri(args.uri)
    except ValueError as exc:
        print(f"lakegui-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE
    conn, problem = connection_for(args, bucket)
    if conn is None:
        print(f"lakegui-cli: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from .core.gcpause import gc_paused

    prefixes, objects = [], []
    try:
        with gc_paused():
            for page in PrefixLister(conn.client(), bucket, prefix, recursive=args.recursive,
                                     raw=conn.profile.raw_listing, verify=conn.profile.verify_tls):
                if args.json:
                    prefixes += [p.prefix for p in page.prefixes]
                    objects += [o.to_json() for o in page.objects]
                    continue
                # Stream as pages arrive, in the shape of `aws s3 ls`.
                lines = [f"{'PRE':>30} {p.name(prefix)}" for p in page.prefixes]
                lines += [f"{o.last_modified.astimezone():%Y-%m-%d %H:%M:%S} {o.size:>10} "
                          f"{o.key if args.recursive else o.name(prefix)}" for o in page.objects]
                if lines:
                    print("\n".join(lines), flush=True)
    except Exception as exc:
        info = classify(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None)
        print(f"lakegui-cli: {info.message}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"prefixes": prefixes, "objects": objects}))
    return EXIT_OK


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint-url", default="", help="S3 endpoint; empty for AWS")
    p.add_argument("--profile", default="", help="AWS profile from your shared config")
    p.add_argument("--region", default="us-east-1")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lakegui-cli", description="Headless lakegui commands.")
    p.add_argument("--version", action="version", version=f"lakegui-cli {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo-server", help="serve the demo lake on loopback until interrupted")
    demo.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    demo.add_argument("--json", action="store_true", help="print the endpoint as one JSON line")
    demo.set_defaults(func=_demo_server)
    ls = sub.add_parser("ls", help="list a prefix, streaming pages as they arrive")
    ls.add_argument("uri", metavar="s3://BUCKET/PREFIX")
    ls.add_argument("--recursive", action="store_true", help="every object under the prefix")
    ls.add_argument("--json", action="store_true", help="print one JSON document: prefixes and objects")
    _add_connection_options(ls)
    ls.set_defaults(func=_ls)
    from .cli_backfill import add_parser as add_backfill
    from .cli_coverage import add_parser as add_coverage
    from .cli_transfers import add_parsers

    add_parsers(sub, _add_connection_options)
    add_backfill(sub, _add_connection_options)
    add_coverage(sub, _add_connection_options)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help/--version
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from .core import logs

    logs.setup(console_level=None)  # the CLI prints its own messages; the file keeps the detail
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
