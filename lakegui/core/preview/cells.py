"""How one value of a preview table reads on screen: timestamps with their zone, exact
decimals, binary as hex, nested values compact, long text elided."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

MAX_TEXT = 200
MAX_ITEMS = 8
MAX_BYTES = 32
NULL = "null"


def format_value(value, depth: int = 0) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        more = f"… ({len(data):,} bytes)" if len(data) > MAX_BYTES else ""
        return "0x" + data[:MAX_BYTES].hex() + more
    if isinstance(value, str):
        return _elide(value)
    if isinstance(value, dict):
        items = [f"{k}: {_nested(v, depth)}" for k, v in list(value.items())[:MAX_ITEMS]]
        return "{" + ", ".join(items) + (", …" if len(value) > MAX_ITEMS else "") + "}"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a map: (key, value) pairs
            items = [f"{_nested(k, depth)}: {_nested(v, depth)}" for k, v in value[:MAX_ITEMS]]
            return "{" + ", ".join(items) + (", …" if len(value) > MAX_ITEMS else "") + "}"
        items = [_nested(v, depth) for v in value[:MAX_ITEMS]]
        more = f", … {len(value) - MAX_ITEMS:,} more" if len(value) > MAX_ITEMS else ""
        return "[" + ", ".join(items) + more + "]"
    if hasattr(value, "isoformat"):  # pandas.Timestamp (nanoseconds) and friends
        return _datetime(value)
    return _elide(str(value))


def _nested(value, depth: int) -> str:
    if isinstance(value, str):
        return repr(_elide(value, 40))
    return format_value(value, depth + 1) if depth < 3 else "…"


def _elide(text: str, limit: int = MAX_TEXT) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _datetime(value) -> str:
    text = value.isoformat(sep=" ")
    if value.tzinfo is None:
        return text
    zone = value.tzname() or ""
    # isoformat already ends in the offset; a named zone (EST, UTC) reads better beside it.
    return f"{text} {zone}" if zone and not zone.startswith(("UTC+", "UTC-")) and zone not in text else text


def python_columns(table) -> list[list]:
    """Each column of an Arrow table or batch as Python values, for a view to format.

    Run it off the UI thread. Zoned timestamps are converted here rather than by pyarrow,
    whose own conversion imports pandas (half a second, once) to find the zone."""
    return [_column_values(table.column(i)) for i in range(table.num_columns)]


def _column_values(column) -> list:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = column.type
    if not (pa.types.is_timestamp(t) and t.tz):
        return column.to_pylist()
    zone = _zone(t.tz)
    # Shown to the microsecond, as Python's datetime holds it.
    micros = pc.cast(column, pa.timestamp("us", tz=t.tz), safe=False).cast(pa.int64()).to_pylist()
    return [None if v is None else (EPOCH + dt.timedelta(microseconds=v)).astimezone(zone) for v in micros]


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _zone(name: str) -> dt.tzinfo:
    if name[:1] in "+-" and ":" in name:
        hours, minutes = name[1:].split(":")
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return dt.timezone(-offset if name[0] == "-" else offset)
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except Exception:  # an unknown zone name: still show the instant, in UTC
        return dt.timezone.utc
