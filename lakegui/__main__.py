"""`lakegui` / `python -m lakegui`: parse the command line and hand over to the app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .core.connection import ConnectionProfile


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lakegui", description="A desktop transfer manager for S3 data lakes.")
    p.add_argument("--version", action="version", version=f"lakegui {__version__}")
    p.add_argument("--demo", action="store_true",
                   help="start an embedded S3 endpoint with a sample data lake and open it (its transfer "
                        "queue and logs go to a temporary folder, removed at exit)")
    p.add_argument("--screenshot", metavar="PATH", type=Path,
                   help="render the main window once data has loaded, save it as PNG and exit")
    p.add_argument("--theme", choices=("system", "light", "dark"), default="",
                   help="colours for this run (default: as in Settings, which follows the system)")
    conn = p.add_argument_group("connection (not saved)")
    conn.add_argument("--endpoint-url", default="",
                      help="S3 endpoint (default: AWS_ENDPOINT_URL or the AWS profile's endpoint_url when set, "
                           "else AWS)")
    conn.add_argument("--profile", default="", help="AWS profile from your shared config")
    conn.add_argument("--region", default="us-east-1")
    conn.add_argument("--bucket", default="")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    profile = None
    if args.endpoint_url or args.profile or args.bucket:
        profile = ConnectionProfile.from_options(endpoint_url=args.endpoint_url, region=args.region,
                                                 aws_profile=args.profile, bucket=args.bucket)
        if problems := profile.problems():
            print("lakegui: " + " ".join(problems), file=sys.stderr)
            return 2
    from .core import xcb

    if xcb.wants_xcb() and (missing := xcb.missing_libraries()):
        # Qt would abort with a message that names the wrong library; say what to install instead.
        print(xcb.install_hint(missing), file=sys.stderr)
        return 1
    if args.demo:
        _demo_folders()
    from .app import LaunchOptions, run  # Qt loads only when a window is wanted

    return run(LaunchOptions(demo=args.demo, screenshot=args.screenshot, profile=profile, theme=args.theme))


def _demo_folders() -> None:
    """The demo's queue and logs in a folder of its own: its jobs name an endpoint that is gone
    once it quits, and would wait in the user's real queue (and its lines in the real log)."""
    import atexit
    import os
    import shutil
    import tempfile

    from .core.paths import OVERRIDES

    temp = tempfile.mkdtemp(prefix="lakegui-demo-")
    for kind in ("data", "log"):
        os.environ.setdefault(OVERRIDES[kind], os.path.join(temp, kind))  # a folder given stays
    atexit.register(shutil.rmtree, temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
