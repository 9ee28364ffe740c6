"""Price charts of tick tables: find the time, close and volume columns, and thin a
series to what a chart can draw."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIME_NAMES = ("timestamp", "ts", "time", "datetime", "date", "trade_date")
CLOSE_NAMES = ("close", "adj_close", "close_price", "price", "last", "c")
VOLUME_NAMES = ("volume", "vol", "v")
MAX_POINTS = 4000


@dataclass(frozen=True)
class ChartColumns:
    time: str
    close: str
    volume: str | None = None

    @property
    def names(self) -> list[str]:
        return [c for c in (self.time, self.close, self.volume) if c]


@dataclass(frozen=True)
class Series:
    times_ms: np.ndarray     # epoch milliseconds (UTC)
    close: np.ndarray
    volume: np.ndarray | None
    rows: int                # rows the series was drawn from, before thinning


def _is_time(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) or pa.types.is_date(t)


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _by_name(schema: pa.Schema, names: tuple[str, ...], accept) -> str | None:
    fields = {f.name.lower(): f.name for f in schema if accept(f.type)}
    return next((fields[n] for n in names if n in fields), None)


def chart_columns(schema: pa.Schema) -> ChartColumns | None:
    """The columns of a price chart, or None when the table has no time and close columns."""
    time = _by_name(schema, TIME_NAMES, _is_time) or next((f.name for f in schema if _is_time(f.type)), None)
    close = _by_name(schema, CLOSE_NAMES, _is_number)
    if time is None or close is None:
        return None
    return ChartColumns(time, close, _by_name(schema, VOLUME_NAMES, _is_number))


def series(table: pa.Table, cols: ChartColumns, max_points: int = MAX_POINTS) -> Series:
    """Close (and volume) over time; rows without a time or close are left out. Long series
    are thinned to `max_points` buckets: the last close and the summed volume of each."""
    t = table.column(cols.time)
    if pa.types.is_date(t.type):
        t = pc.cast(t, pa.timestamp("ms"))
    times = pc.cast(pc.cast(t, pa.timestamp("ms", tz=getattr(t.type, "tz", None))), pa.int64())
    close = pc.cast(table.column(cols.close), pa.float64())
    keep = pc.and_(pc.is_valid(times), pc.is_valid(close))
    times_np = pc.filter(times, keep).to_numpy().astype(np.float64)
    close_np = pc.filter(close, keep).to_numpy()
    volume_np = None
    if cols.volume:
        volume = pc.fill_null(pc.cast(table.column(cols.volume), pa.float64()), 0.0)
        volume_np = pc.filter(volume, keep).to_numpy()
    rows = len(times_np)
    if rows > max_points:
        step = -(-rows // max_points)
        starts = np.arange(0, rows, step)
        ends = np.minimum(starts + step, rows) - 1
        times_np, close_np = times_np[ends], close_np[ends]
        if volume_np is not None:
            volume_np = np.add.reduceat(volume_np, starts)
    return Series(times_np, close_np, volume_np, rows)
