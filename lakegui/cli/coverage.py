"""`lakegui-cli coverage`: which cells of a layout (symbol by year, say) are in the lake, and which
are missing, from one listing."""

from __future__ import annotations

import argparse
import json
import sys

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    add_connection_options,
    connection_for,
    error_message,
    fail_usage,
    template_named,
)

SHOWN_UNMATCHED = 20


def add_parser(sub) -> None:
    p = sub.add_parser(
        "coverage", help="which symbols and years (or other fields) of a layout are in the lake",
        description="lakegui-cli coverage s3://BUCKET/[PREFIX/] --template NAME [--json | --csv]\n\n"
                    "Lists the layout's prefix once and reads each key back through the template. Prints "
                    "the matrix (rows: the first field, columns: the second) and the missing cells; keys "
                    "that are not in the layout are counted and listed.",
        epilog="example:\n  lakegui-cli coverage s3://us-equity-datalake/data/ticks/daily/ --template daily-ticks "
               "--endpoint-url http://127.0.0.1:9000",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("uri", metavar="s3://BUCKET/[PREFIX/]")
    p.add_argument("--template", default="daily-ticks", help="layout (default: daily-ticks)")
    p.add_argument("--rows", default="", metavar="FIELD", help="the field down the side (default: the first)")
    p.add_argument("--cols", default="", metavar="FIELD", help="the field across (default: the second)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON document")
    fmt.add_argument("--csv", action="store_true", help="print one CSV line per cell, missing ones included")
    add_connection_options(p, json_option=False)  # --json is above, beside --csv
    p.set_defaults(func=coverage)


def coverage(args: argparse.Namespace) -> int:
    from ..core.coverage import compute_coverage, to_csv, to_json
    from ..core.gcpause import gc_paused
    from ..core.lake.checks import root_note
    from ..core.listing import parse_s3_uri
    from ..core.units import counted

    try:
        bucket, prefix = parse_s3_uri(args.uri)
        template = template_named(args)
    except ValueError as exc:
        return fail_usage(str(exc))
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    try:
        with gc_paused():
            cov = compute_coverage(conn.client(), bucket, prefix, template, rows_field=args.rows,
                                   cols_field=args.cols,
                                   listing={"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls})
    except ValueError as exc:
        return fail_usage(str(exc))
    except Exception as exc:
        print(f"lakegui-cli: {error_message(exc, bucket=bucket, key=prefix)}", file=sys.stderr)
        return EXIT_FAILED
    if note := root_note(bucket, prefix, template):  # the layout's own folder was given
        print(f"lakegui-cli: {note}", file=sys.stderr)
    m = cov.matrix()
    if nothing := cov.nothing_found():
        if args.json:
            print(json.dumps(to_json(cov, m)))
        elif args.csv:
            sys.stdout.write(to_csv(m))
        print(f"lakegui-cli: {nothing}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(to_json(cov, m)))
    elif args.csv:
        sys.stdout.write(to_csv(m))
    else:
        _print_grid(cov, m)
    if not args.json:
        missing = len(m.rows) * len(m.cols) - m.present
        shape = f"{counted(len(m.rows), m.rows_field)} x {counted(len(m.cols), m.cols_field or 'column')}"
        print(f"{shape}: {counted(m.present, 'cell')} present, {missing:,} missing; "
              f"{counted(len(cov.keys), 'object')}; {counted(len(cov.unmatched), 'key')} not in the layout "
              f"{template.name!r}", file=sys.stderr)
        for key, why in cov.unmatched[:SHOWN_UNMATCHED]:
            print(f"not in the layout: {key}: {why}", file=sys.stderr)
        if len(cov.unmatched) > SHOWN_UNMATCHED:
            print(f"… and {len(cov.unmatched) - SHOWN_UNMATCHED:,} more (--json lists them all)", file=sys.stderr)
    return EXIT_OK


def _print_grid(cov, m) -> None:
    """'#' present, '.' missing, one line per row; then the missing cells."""
    width = max([len(r) for r in m.rows] + [len(m.rows_field)])
    col_w = max([len(c) for c in m.cols] + [1])
    lines = [f"{m.rows_field:<{width}}  " + " ".join(f"{c:>{col_w}}" for c in m.cols)]
    for i, r in enumerate(m.rows):
        lines.append(f"{r:<{width}}  " + " ".join(f"{'#' if m.count[i, j] else '.':>{col_w}}"
                                                  for j in range(len(m.cols))))
    missing = m.missing()
    if missing:
        lines.append("")
        lines.append(f"missing ({len(missing):,}):")
        lines += [f"{r} {c}".rstrip() for r, c in missing]
    print("\n".join(lines))
