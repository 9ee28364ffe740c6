"""`lakegui-cli demo-server`: the embedded demo lake, served on loopback to other tools."""

from __future__ import annotations

import argparse
import json
import sys

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_command


def add_parser(sub) -> None:
    demo = add_command(sub, "demo-server", help="serve the demo lake on loopback until interrupted",
                       example="lakegui-cli demo-server --port 9000\nlakegui-cli demo-server --json")
    demo.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    demo.add_argument("--json", action="store_true", help="print the endpoint as one JSON line")
    demo.set_defaults(func=demo_server)


def demo_server(args: argparse.Namespace) -> int:
    import signal  # here, not at start-up: every command imports this module
    import threading

    from ..core.demo import DEMO_BUCKET, DEMO_CREDENTIALS, DEMO_REGION, DemoServer
    from ..core.units import human_size

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
