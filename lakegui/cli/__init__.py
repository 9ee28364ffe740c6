"""`lakegui-cli`: headless commands over the same core as the GUI.

Each command group is a module here with an `add_parser(sub)`; they share only `common`.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import backfill, coverage, demo, listing, transfers
from .common import EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lakegui-cli", description="Headless lakegui commands.")
    p.add_argument("--version", action="version", version=f"lakegui-cli {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in (demo, listing, transfers, backfill, coverage):
        module.add_parser(sub)
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
    from ..core import logs

    logs.setup(console_level=None)  # the CLI prints its own messages; the file keeps the detail
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
