"""`lakegui-cli schema`: the distinct schemas of a layout's files, from their footers (one suffix
GET each, concurrently), with counts, the majority, and how every outlier differs."""

from __future__ import annotations

import argparse
import json
import sys

from ..core.units import counted
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    add_connection_options,
    add_selection_options,
    connection_for,
    fail_usage,
    not_parquet,
    template_named,
)

SHOWN_FAILURES = 20


def add_parser(sub) -> None:
    p = sub.add_parser(
        "schema", help="distinct schemas across a layout's files, and how the outliers differ",
        description="lakegui-cli schema s3://BUCKET/[PREFIX/] --template NAME [--where FIELD=V1,V2 | FIELD=A..B]... "
                    "[--json]\n\nReads the footer of every selected file (one suffix GET each, concurrently), "
                    "groups the files by schema with counts, names the majority, and says for each outlier "
                    "how it differs: a column missing or extra, a type changed, a timestamp's unit or zone, "
                    "nullability.",
        epilog="example:\n  lakegui-cli schema s3://us-equity-datalake/ --template daily-ticks --where year=2020..2024",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("uri", metavar="s3://BUCKET/[PREFIX/]")
    add_selection_options(p)
    add_connection_options(p)   # and --json
    p.set_defaults(func=schema)


def schema(args: argparse.Namespace) -> int:
    from ..core.lake.select import Selection, SelectionError
    from ..core.listing import parse_s3_uri  # here, not at start: --version imports no core module

    try:
        bucket, prefix = parse_s3_uri(args.uri)
        template = template_named(args)
        selection = Selection.parse(args.where)
        selection.check(template)
    except (ValueError, SelectionError) as exc:
        return fail_usage(str(exc))
    if problem := not_parquet(template):
        return fail_usage(problem)   # the layout given does not fit the command: before any request
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    from ..core.lake.checks import root_note

    if note := root_note(bucket, prefix, template):  # the layout's own folder was given: read from its root
        print(f"lakegui-cli: {note}", file=sys.stderr)
    from ..core.errors import classify
    from ..core.lake.checks import no_files_message
    from ..core.lake.schema import scan_schemas
    from ..core.lake.select import select_files

    client = conn.client()
    try:
        selected = select_files(client, bucket, template, selection, prefix=prefix,
                                listing={"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls})
        if not selected.files:  # nothing to compare is a failure, said in one line (issue 23: exit 1)
            print(f"lakegui-cli: {no_files_message(bucket, prefix, template, selection, selected)}",
                  file=sys.stderr)
            return EXIT_FAILED
        report = scan_schemas(client, bucket, selected.files, raw=conn.profile.raw_listing,
                              verify=conn.profile.verify_tls)
    except Exception as exc:  # noqa: BLE001  any failure of the listing is one line for the user
        print(f"lakegui-cli: {classify(exc, bucket=bucket, key=prefix).message}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print(report)
    for _, why in report.failures[:SHOWN_FAILURES]:
        print(f"lakegui-cli: {why}", file=sys.stderr)
    if len(report.failures) > SHOWN_FAILURES:
        print(f"lakegui-cli: … and {counted(len(report.failures) - SHOWN_FAILURES, 'more file')} could not be read",
              file=sys.stderr)
    return EXIT_FAILED if report.failures else EXIT_OK


def _print(report) -> None:
    lines = []
    total = report.files + len(report.failures)
    for i, g in enumerate(report.groups, 1):
        tag = " (majority)" if g.majority else ""
        lines.append(f"schema {i}{tag}: {g.count:,} of {counted(total, 'file')}")
        width = max(len(c.name) for c in g.columns) if g.columns else 0
        for c in g.columns:
            lines.append(f"  {c.name:<{width}}  {c.type}{'' if c.nullable else ' not null'}")
        if not g.majority:
            lines.append(f"  e.g. {g.keys[0]}")
    if report.outliers or report.failures:
        if lines:  # a blank line between the schemas and the outliers, none before (every file failed)
            lines.append("")
        lines.append(f"outliers ({len(report.outliers) + len(report.failures):,}):")
        for key, diffs in report.outliers:
            lines.append(f"  {key}: {'; '.join(diffs)}")
        for key, why in report.failures:
            lines.append(f"  {key}: could not be read: {why}")
    elif report.groups:
        lines.append("")
        lines.append("every file has the same schema")
    print("\n".join(lines))
