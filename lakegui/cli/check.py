"""`lakegui-cli check`: compare a local folder with an S3 prefix (core/sync/compare) and say, path by
path, what is the same, what differs and why, and what exists on one side only. Changes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_connection_options,
    add_queue_option,
    connection_for,
    error_message,
    fail,
    fail_usage,
    print_json,
)

CLASSES = (("differ", "differ"), ("only-local", "only_local"), ("only-remote", "only_remote"), ("same", "same"))


def add_parser(sub) -> None:
    p = add_command(sub, "check", help="compare a local folder and an S3 prefix, by content",
                    description="Compare LOCAL and s3://BUCKET/PREFIX/ (in either order) from one listing: each "
                                "path is the same, differs (size or content, by ETag), or exists on one side "
                                "only. Exits 0 when the two sides are identical, 1 when they differ.",
                    example="lakegui-cli check ./ticks s3://us-equity-datalake/data/ticks/daily/\n"
                            "lakegui-cli check s3://us-equity-datalake/data/ticks/daily/ ./ticks --json")
    p.add_argument("src", metavar="LOCAL|s3://BUCKET/PREFIX/")
    p.add_argument("dst", metavar="s3://BUCKET/PREFIX/|LOCAL")
    p.add_argument("--compare", choices=["content", "size", "mtime"], default="content",
                   help="content: size, then ETag (default); size: size only; mtime: size, then time stamps")
    p.add_argument("--exclude", dest="filters", action="append", default=[], metavar="GLOB",
                   type=lambda g: ("exclude", g), help="leave out paths matching GLOB, on both sides (repeatable)")
    p.add_argument("--include", dest="filters", action="append", default=[], metavar="GLOB",
                   type=lambda g: ("include", g), help="take back paths matching GLOB; the last match decides")
    p.add_argument("--list-same", action="store_true",
                   help="list the paths that are the same too (by default only their count: they are most)")
    add_queue_option(p)
    add_connection_options(p)
    p.set_defaults(func=check_command)


def check_command(args: argparse.Namespace) -> int:
    from ..core.sync.compare import Filters, compare_with
    from ..core.sync.plan import sides

    try:
        direction, local, bucket, prefix = sides(args.src, args.dst)
    except ValueError as exc:
        return fail_usage(str(exc))
    if not Path(local).is_dir():
        return fail_usage(f"{local} is not a folder")
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    from ..core import settings as settings_store

    try:
        cmp = compare_with(conn, direction, local, bucket, prefix, mode=args.compare, filters=Filters(args.filters),
                           queue_path=Path(args.queue) if args.queue else None,
                           chunksize=settings_store.load().transfer.multipart_chunksize)
    except ValueError as exc:
        return fail_usage(str(exc))
    except Exception as exc:
        return fail(error_message(exc, bucket=bucket, key=prefix, endpoint=args.endpoint_url or None))
    counts = cmp.counts()
    if args.json:
        doc = {"local": str(cmp.root), "remote": f"s3://{bucket}/{cmp.prefix}", "compared": len(cmp.entries),
               **{name: counts[status] for status, name in CLASSES}, "identical": cmp.identical,
               "paths": {name: [{"path": e.relative, "reason": e.reason} if status == "differ" else e.relative
                                for e in cmp.of(status)] for status, name in CLASSES},
               "problems": [{"path": p.path, "side": p.side, "reason": p.reason} for p in cmp.problems]}
        print_json(doc)
    else:
        print(f"{len(cmp.entries):,} compared: {counts['same']:,} same, {counts['differ']:,} differ, "
              f"{counts['only-local']:,} only local, {counts['only-remote']:,} only remote"
              + (f", {len(cmp.problems):,} not comparable" if cmp.problems else ""))
        for status, _ in CLASSES:
            entries = cmp.of(status)
            if entries and (status != "same" or args.list_same):
                print(f"{status} ({len(entries):,}):")
                for e in entries:
                    print(f"  {e.relative}" + (f"  ({e.reason})" if status == "differ" else ""))
        if cmp.problems:
            print(f"not comparable ({len(cmp.problems):,}):")
            for p in cmp.problems:
                print(f"  {p.path}: {p.reason}")
    return EXIT_OK if cmp.identical else EXIT_FAILED
