"""`lakegui-cli query`: rows of a layout's files across the lake, pruned by the template's fields,
by column and by row-group statistics, read with range GETs; printed, or written to a file."""

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

DEFAULT_LIMIT = 100
CELL_WIDTH = 32          # an instant with its zone fits
SHOWN_FAILURES = 20     # files named on stderr; the count says how many more


def add_parser(sub) -> None:
    p = sub.add_parser(
        "query", help="read rows across a layout's files: pruned by fields, columns and statistics",
        description="lakegui-cli query s3://BUCKET/[PREFIX/] --template NAME [--where FIELD=V1,V2 | FIELD=A..B]... "
                    "[--columns a,b] [--filter EXPR] [--limit N] [--out PATH.parquet|.csv] [--json]\n\n"
                    "Picks the files from one listing by their fields (A..B is inclusive), reads only the "
                    "columns asked for (and the filter's) of the row groups whose statistics can match the "
                    "filter, and adds the template's fields as columns. Prints up to --limit rows as a "
                    "table, or with --out writes every row and prints a one-line summary.\n"
                    "Filters: column op value (=, !=, <, <=, >, >=), column in (a, b), column is [not] null, "
                    "with AND, OR and parentheses.",
        epilog="example:\n  lakegui-cli query s3://us-equity-datalake/ --template daily-ticks "
               "--where symbol=AAPL,MSFT --where year=2020..2024 --columns date,close "
               "--filter 'volume > 50000000'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("uri", metavar="s3://BUCKET/[PREFIX/]")
    add_selection_options(p)
    p.add_argument("--columns", default="", metavar="a,b", help="columns to read (default: all)")
    p.add_argument("--filter", default="", metavar="EXPR", help="keep rows matching, e.g. 'volume > 50000000'")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"rows to print, or to put in --json's head (default: {DEFAULT_LIMIT})")
    p.add_argument("--out", default="", metavar="PATH", help="write every row to PATH.parquet or PATH.csv")
    add_connection_options(p)   # and --json
    p.set_defaults(func=query)


def query(args: argparse.Namespace) -> int:
    from ..core.lake.filters import FilterError, parse_filter
    from ..core.lake.select import Selection, SelectionError
    from ..core.listing import parse_s3_uri  # here, not at start: --version imports no core module

    try:
        bucket, prefix = parse_s3_uri(args.uri)
        template = template_named(args)
        selection = Selection.parse(args.where)
        selection.check(template)
        flt = parse_filter(args.filter) if args.filter.strip() else None
    except (ValueError, SelectionError, FilterError) as exc:
        return fail_usage(str(exc))
    if problem := not_parquet(template):
        return fail_usage(problem)   # the layout given does not fit the command: before any request
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] or None
    if args.limit < 0:
        return fail_usage(f"--limit {args.limit}: must be 0 or more")
    out_kind = ""
    if args.out:
        out_kind = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
        if out_kind not in ("parquet", "csv"):
            return fail_usage(f"--out {args.out}: the file must end in .parquet or .csv")
        if problem := _unwritable(args.out):
            return fail_usage(f"--out {args.out}: {problem}")   # before the lake is read, not after
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    from ..core.lake.checks import root_note

    if note := root_note(bucket, prefix, template):  # the layout's own folder was given: read from its root
        print(f"lakegui-cli: {note}", file=sys.stderr)
    return run(args, conn, bucket, prefix, template, selection, columns, flt, out_kind)


def run(args, conn, bucket, prefix, template, selection, columns, flt, out_kind) -> int:
    from ..core.errors import classify
    from ..core.lake.checks import ColumnCheck, no_files_message, pruned_message
    from ..core.lake.dataset import LakeDataset, collect
    from ..core.lake.select import select_files
    from ..core.units import human_size

    client = conn.client()
    try:
        selected = select_files(client, bucket, template, selection, prefix=prefix,
                                listing={"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls})
    except Exception as exc:  # noqa: BLE001  any failure of the listing is one line for the user
        print(f"lakegui-cli: {classify(exc, bucket=bucket, key=prefix).message}", file=sys.stderr)
        return EXIT_FAILED
    if not selected.files:  # no rows to show is a failure, said in one line (issue 23: exit 1)
        print(f"lakegui-cli: {no_files_message(bucket, prefix, template, selection, selected)}", file=sys.stderr)
        return EXIT_FAILED
    ds = LakeDataset(client, bucket, selected.files, field_names=template.field_names,
                     raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
    check = ColumnCheck(columns, flt, template.field_names)
    table, totals = collect(_checked(ds.scan(columns, flt), check))
    totals.files += ds.files_pruned
    totals.files_pruned = ds.files_pruned
    failed = totals.failures
    _report_failures(failed)
    if unknown := check.message():
        print(f"lakegui-cli: {unknown}", file=sys.stderr)
        return EXIT_FAILED
    if none := pruned_message(bucket, prefix, template, selection, len(selected.files), args.filter,
                               ds.files_pruned):
        print(f"lakegui-cli: {none}", file=sys.stderr)   # as a --where that finds no file (exit 1)
        return EXIT_FAILED
    names = table.column_names if table.num_columns else (columns or []) + template.field_names
    if args.out:
        try:
            _write(table, args.out, out_kind)
        except (OSError, ValueError) as exc:
            print(f"lakegui-cli: {args.out} could not be written: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        doc = dict(totals.to_json(), columns=names, head=[_json_row(r) for r in table.slice(0, args.limit).to_pylist()])
        print(json.dumps(doc, ensure_ascii=False))
    elif args.out:
        print(f"wrote {counted(totals.rows, 'row')} x {counted(len(names), 'column')} to {args.out} · "
              f"{_cost(totals, human_size)}")
    else:
        _print_table(table, names, args.limit)
        shown = min(args.limit, table.num_rows)
        more = f" (first {shown:,} shown; --limit N for more)" if shown < table.num_rows else ""
        print(f"{counted(totals.rows, 'row')}{more} · {_cost(totals, human_size)}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _unwritable(path: str) -> str:
    """Why a file cannot be written at `path` ('' when it can, as far as can be told before)."""
    import os
    from pathlib import Path

    target = Path(path).expanduser()
    folder = target.parent
    if target.is_dir():
        return "is a folder"
    if not folder.is_dir():
        return f"the folder {folder} does not exist" if not folder.exists() else f"{folder} is not a folder"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} cannot be written to"
    return ""


def _report_failures(failed: list) -> None:
    for _, why in failed[:SHOWN_FAILURES]:
        print(f"lakegui-cli: {why}", file=sys.stderr)
    if len(failed) > SHOWN_FAILURES:
        print(f"lakegui-cli: … and {counted(len(failed) - SHOWN_FAILURES, 'more file')} could not be read",
              file=sys.stderr)


def _checked(batches, check):
    for b in batches:
        check.see(b)
        yield b


def _cost(t, human_size) -> str:
    from ..core.units import counted

    return (f"{counted(t.files, 'file')}, {counted(t.row_groups_read, 'row group')} read, {t.row_groups_skipped:,} skipped, "
            f"{counted(t.requests, 'request')}, {human_size(t.bytes_read)}")


def _write(table, path: str, kind: str) -> None:
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)


def _json_value(v):
    import datetime as dt
    import decimal
    import math

    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return v


def _json_row(row: dict) -> dict:
    return {k: _json_value(v) for k, v in row.items()}


def _cell(v) -> str:
    if v is None:
        return ""
    text = str(_json_value(v)) if not isinstance(v, str) else v
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _print_table(table, names: list[str], limit: int) -> None:
    rows = [[_cell(r.get(n)) for n in names] for r in table.slice(0, limit).to_pylist()] if table.num_columns else []
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    numeric = [table.num_rows > 0 and n in table.column_names and _is_number(table.schema.field(n).type)
               for n in names]
    def line(cells):
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()
    out = [line(names)] + [line(r) for r in rows]
    print("\n".join(out))


def _is_number(t) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
