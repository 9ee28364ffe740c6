"""`lakegui-cli preview`: one object's first rows, over the same core as the preview pane.

Parquet: a summary, the schema and the first rows of a row group, read through a RangeFile
(the footer and one page per shown column, never the file). JSON pretty, CSV/TSV as a table,
text its first lines. `--json` prints one document with what it cost (requests, bytes read).
"""

from __future__ import annotations

import argparse
import sys

from ..core.units import counted
from .common import (
    EXIT_OK,
    add_command,
    add_connection_options,
    connection_for,
    error_message,
    fail,
    fail_usage,
    print_json,
)

DEFAULT_ROWS = 10
TEXT_COLUMNS = 30        # Parquet columns read for the terminal when --columns is not given (as the pane)
MAX_CELL = 40            # a cell wider than this is elided in the table
GAP = "  "


def add_parser(sub) -> None:
    p = add_command(
        sub, "preview", help="show a file's summary, schema and first rows (Parquet, JSON, CSV, text)",
        description="Preview one object without downloading it: a Parquet file's summary (rows, row groups, "
                    "columns, writer), schema and first rows; JSON pretty-printed; CSV/TSV as a table; "
                    "text as its first lines. Only the bytes shown are read (ranged GETs).\n\n"
                    "--json prints {uri, size, kind, rows, row_groups, columns: [{name, type}], "
                    "head: [{column: value}], requests, bytes_read}, with a JSON file's content under "
                    "\"value\" and a text file's under \"text\". Exit status: 0 shown, 1 the file cannot "
                    "be read (corrupt, truncated, empty, not what its name says), 2 usage.",
        example="lakegui-cli preview s3://us-equity-datalake/data/ticks/daily/AAPL/2024/ticks.parquet\n"
                "lakegui-cli preview s3://us-equity-datalake/data/ticks/daily/AAPL/2024/ticks.parquet "
                "--rows 5 --columns timestamp,close --json")
    p.add_argument("uri", metavar="s3://BUCKET/KEY")
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS, metavar="N",
                   help=f"rows (or lines of text) to show (default: {DEFAULT_ROWS})")
    p.add_argument("--columns", default="", metavar="a,b,...", help="Parquet columns to show (default: all that fit)")
    p.add_argument("--row-group", type=int, default=0, metavar="K", help="the Parquet row group to read (default: 0)")
    p.add_argument("--version-id", default="", metavar="V", help="preview this version of the object")
    add_connection_options(p)
    p.set_defaults(func=preview)


def preview(args: argparse.Namespace) -> int:
    from ..core.listing import parse_s3_uri

    try:
        bucket, key = parse_s3_uri(args.uri)
    except ValueError as exc:
        return fail_usage(str(exc))
    if not key or key.endswith("/"):
        return fail_usage(f"{args.uri} names a prefix, not an object: preview takes s3://BUCKET/KEY")
    for option, value in (("--rows", args.rows), ("--row-group", args.row_group)):
        if value < 0:
            return fail_usage(f"{option} {value}: must be 0 or more")
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] or None
    conn, problem = connection_for(args, bucket)
    if conn is None:
        return fail_usage(problem)
    try:
        return _preview(args, conn, bucket, key, columns)
    except _Usage as exc:
        return fail_usage(str(exc))
    except KeyboardInterrupt:
        return fail(f"{args.uri}: interrupted")
    except BrokenPipeError:  # the reader closed the pipe (`| head`): main ends quietly
        raise
    except Exception as exc:  # one line saying what failed and why, never a traceback
        reason = _reason(exc, bucket, key, args, conn)
        return fail(reason if args.uri in reason else f"{args.uri}: {reason}")  # the URI once


class _Usage(Exception):
    """An option that does not fit the file (an unknown column, a row group past the end)."""


def _reason(exc: Exception, bucket: str, key: str, args, conn) -> str:
    from ..core.preview.parquet import NotParquet, PreviewError
    from ..core.preview.rangefile import ObjectChanged

    if isinstance(exc, NotParquet):
        return f"{args.uri} {exc.problem}"   # as query and schema say it of a file
    if isinstance(exc, (PreviewError, ObjectChanged, ValueError, UnicodeError)):
        return str(exc)
    if getattr(exc, "response", None) is not None or exc.__class__.__module__.startswith(("botocore", "urllib3")):
        return error_message(exc, bucket=bucket, key=key, endpoint=args.endpoint_url or None,
                             version_id=args.version_id or None, connection=conn)
    return f"{type(exc).__name__}: {exc}"


def _preview(args, conn, bucket: str, key: str, columns: list[str] | None) -> int:
    from ..core.preview import formats
    from ..core.preview.rangefile import FIRST_READ, RangeFile

    client = conn.client()
    if args.version_id:
        from ..core.versions import head_version

        meta = head_version(client, bucket, key, args.version_id)
    else:
        meta = client.head_object(Bucket=bucket, Key=key)
    size = int(meta["ContentLength"])
    kind = formats.kind_of(key)
    if columns and kind != formats.PARQUET:
        raise _Usage("--columns applies to Parquet files only")
    source = RangeFile(client, bucket, key, size, etag=meta.get("ETag", "").strip('"'), version_id=args.version_id,
                       first_read=FIRST_READ if kind == formats.PARQUET else 0)
    source.requests += 1  # the HEAD: part of what the preview cost
    if size == 0:
        raise ValueError("the file is empty (0 bytes): there is nothing to preview")
    if kind == formats.PARQUET:
        doc, lines = _parquet(args, source, columns)
    elif kind == formats.JSON:
        doc, lines = _json(args, source)
    elif kind == formats.CSV:
        doc, lines = _csv(args, source)
    elif kind == formats.TEXT:
        doc, lines = _text(args, source)
    else:  # images and files of no known kind: what they are, no content
        doc, lines = _base(kind), [f"no terminal preview for this kind of file ({kind}); "
                                   "`lakegui-cli download` fetches it"]
    doc = {"uri": args.uri, "size": size, **doc, "requests": source.requests, "bytes_read": source.bytes_fetched}
    if args.json:
        print_json(doc)  # one line, as every command's --json
        return EXIT_OK
    from ..core.units import human_size

    print(f"{args.uri} · {human_size(size)} · {kind}"
          + (f" · version {args.version_id}" if args.version_id else ""))
    print("\n".join(lines))
    print(f"read {source.stats.describe()}", file=sys.stderr)
    return EXIT_OK


def _base(kind: str) -> dict:
    return {"kind": kind, "rows": None, "row_groups": None, "columns": [], "head": []}


# Parquet

def _parquet(args, source, columns: list[str] | None) -> tuple[dict, list[str]]:
    from decimal import Decimal

    from ..core.preview.cells import format_value, python_columns
    from ..core.preview.parquet import ParquetPreview

    p = ParquetPreview(source)
    s = p.summary()
    if columns:
        unknown = [c for c in columns if c not in p.column_names]
        if unknown:
            from ..core.lake.checks import nearest

            near = [f"did you mean {m}?" for c in unknown if (m := nearest(c, p.column_names))]
            raise _Usage(f"no column named {', '.join(unknown)} in this file"
                         + (f" ({'; '.join(near)})" if near else "") + f"; it has {', '.join(p.column_names)}")
    if s.row_groups and args.row_group >= s.row_groups:
        raise _Usage(f"--row-group {args.row_group}: the file has {s.row_groups} row group"
                     f"{'s' if s.row_groups != 1 else ''} (0-{s.row_groups - 1})")
    if args.row_group and not s.row_groups:
        raise _Usage("--row-group: the file has no row groups")
    shown = columns or (p.column_names if args.json else p.column_names[:TEXT_COLUMNS])
    table = p.head(shown, args.rows, row_group=args.row_group)
    values = python_columns(table)
    names = table.column_names
    doc = {"kind": "parquet", "rows": s.rows, "row_groups": s.row_groups,
           "columns": [{"name": f.name, "type": str(f.type)} for f in p.arrow_schema],
           "head": [{n: json_value(values[c][r], table.schema.field(c).type) for c, n in enumerate(names)}
                    for r in range(table.num_rows)]}
    if args.json:
        return doc, []
    lines = [f"rows {s.rows:,} · row groups {s.row_groups:,} · columns {len(p.column_names):,}"
             f" ({s.columns:,} leaf) · created by {s.created_by or 'unknown'}", "", "schema:"]
    lines += _schema_lines(p.schema())
    lines.append("")
    if not s.row_groups or not s.rows:
        lines.append("no rows" + ("" if s.row_groups else " (no row groups)"))
        return doc, lines
    rg_rows = p.metadata.row_group(args.row_group).num_rows
    lines.append(f"first {table.num_rows:,} of {counted(rg_rows, 'row')} of row group {args.row_group}:")
    cells = [[format_value(values[c][r]) for c in range(len(names))] for r in range(table.num_rows)]
    numeric = [all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) or v is None for v in col)
               for col in values]
    table_lines, fitted = fit_table(names, cells, terminal_width(), numeric)
    lines += table_lines
    left = [n for n in (columns or p.column_names) if n not in names[:fitted]]
    if left:
        more = ", ".join(left[:8]) + (", …" if len(left) > 8 else "")
        lines.append(f"({len(left):,} more column{'s' if len(left) != 1 else ''} not shown: {more}; "
                     "--columns a,b picks them)")
    return doc, lines


def _schema_lines(nodes, depth: int = 1) -> list[str]:
    out = []
    for n in nodes:
        physical = f" ({n.physical})" if n.physical else ""
        out.append(f"{'  ' * depth}{n.name}: {n.type}{physical}{'' if n.nullable else ' not null'}")
        if n.children and depth < 4:
            out += _schema_lines(n.children, depth + 1)
    return out


# other formats

def _json(args, source) -> tuple[dict, list[str]]:
    import json

    from ..core.preview import formats

    p = formats.read_json(source)
    if p.error and not p.error.startswith("Too large"):  # not JSON: a file that is not what its name says
        raise ValueError(p.error)
    doc = _base(formats.JSON)
    if p.error:  # too large to parse: the start is shown as text
        doc["text"] = p.text.text
        return doc, [p.error, "", *_first_lines(p.text.text, args.rows)]
    doc["value"] = p.value
    return doc, json.dumps(p.value, indent=2, ensure_ascii=False).splitlines()


def _csv(args, source) -> tuple[dict, list[str]]:
    from ..core.preview import formats

    p = formats.read_csv(source)  # ValueError for binary data
    doc = _base(formats.CSV)
    header = p.header
    width = max([len(header)] + [len(r) for r in p.rows])
    header = header + [f"column {i + 1}" for i in range(len(header), width)]
    rows = p.rows[:args.rows]
    doc.update(rows=None if p.truncated else len(p.rows), columns=[{"name": h, "type": "string"} for h in header],
               head=[{h: (r[i] if i < len(r) else None) for i, h in enumerate(header)} for r in rows])
    if args.json:
        return doc, []
    cells = [[r[i] if i < len(r) else "" for i in range(width)] for r in rows]
    numeric = [all(_is_number(r[i]) for r in cells if r[i]) for i in range(width)]
    lines, fitted = fit_table(header, cells, terminal_width(), numeric)
    total = counted(len(p.rows), "row") + (f" in the first {p.shown:,} bytes" if p.truncated else "")
    lines.append(f"({len(rows):,} of {total}"
                 + (f"; {counted(width - fitted, 'more column')} not shown)" if fitted < width else ")"))
    return doc, lines


def _text(args, source) -> tuple[dict, list[str]]:
    from ..core.preview import formats

    p = formats.read_text(source)
    if p.binary:
        raise ValueError("this file holds binary data, not text")
    doc = _base(formats.TEXT)
    doc["text"] = "".join(p.text.splitlines(keepends=True)[:args.rows])
    return doc, _first_lines(p.text, args.rows)


def _first_lines(text: str, n: int) -> list[str]:
    lines = text.splitlines()
    return lines[:n] + ([f"(… {len(lines) - n:,} more lines read)"] if len(lines) > n else [])


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# rendering

def terminal_width() -> int:
    import shutil

    return max(40, shutil.get_terminal_size((100, 24)).columns)


def fit_table(header: list[str], rows: list[list[str]], width: int,
              right: list[bool] | None = None) -> tuple[list[str], int]:
    """An aligned table of as many columns (from the left) as fit in `width` characters; long
    cells are elided. Returns the lines and how many columns fit (at least one)."""
    right = right or [False] * len(header)
    widths = [min(MAX_CELL, max([len(h)] + [len(r[i]) for r in rows])) for i, h in enumerate(header)]
    fitted, used = 0, 0
    for w in widths:
        if fitted and used + len(GAP) + w > width:
            break
        used += (len(GAP) if fitted else 0) + w
        fitted += 1
    if fitted == 1 and widths and widths[0] > width:
        widths[0] = width

    def cell(text: str, i: int) -> str:
        text = text if len(text) <= widths[i] else text[:widths[i] - 1] + "…"
        return text.rjust(widths[i]) if right[i] else text.ljust(widths[i])

    def line(values: list[str]) -> str:
        return GAP.join(cell(values[i], i) for i in range(fitted)).rstrip()

    return [line(header), GAP.join("-" * widths[i] for i in range(fitted)), *[line(r) for r in rows]], fitted


def json_value(value, arrow_type=None):
    """A preview value as JSON holds it: exact decimals and instants as text, bytes as hex,
    maps as objects, NaN and infinities as text (JSON has no such numbers). With the column's
    Arrow type, a map is an object even when empty (Python sees it as a list of pairs)."""
    import datetime as dt
    import math
    from decimal import Decimal

    if arrow_type is not None and value is not None:
        import pyarrow as pa

        t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
        if pa.types.is_map(t):
            return {str(json_value(k, t.key_type)): json_value(v, t.item_type) for k, v in value}
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            return [json_value(v, t.value_type) for v in value]
        if pa.types.is_struct(t):
            return {t.field(i).name: json_value(value.get(t.field(i).name), t.field(i).type)
                    for i in range(t.num_fields)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a map: (key, value) pairs
            return {str(json_value(k)): json_value(v) for k, v in value}
        return [json_value(v) for v in value]
    if hasattr(value, "isoformat"):  # pandas.Timestamp
        return value.isoformat()
    return str(value)

