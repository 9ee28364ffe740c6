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
OPEN_NAMES, HIGH_NAMES, LOW_NAMES = ("open", "o"), ("high", "h"), ("low", "l")
# The chart (pyqtgraph) downsamples to the pixels in view as it draws, so a series keeps up to a
# million points and thinning only bounds memory.
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class ChartColumns:
    time: str
    close: str
    volume: str | None = None
    open: str | None = None  # open, high and low only feed the hover readout
    high: str | None = None
    low: str | None = None

    @property
    def names(self) -> list[str]:
        return [c for c in (self.time, self.open, self.high, self.low, self.close, self.volume) if c]

    def within(self, available) -> "ChartColumns":
        """These columns, less the optional ones that `available` lacks."""
        have = set(available)
        return ChartColumns(self.time, self.close, *(c if c in have else None
                                                     for c in (self.volume, self.open, self.high, self.low)))


@dataclass(frozen=True)
class Series:
    times_ms: np.ndarray     # epoch milliseconds (UTC)
    close: np.ndarray
    volume: np.ndarray | None
    rows: int                # rows the series was drawn from, before thinning
    zone: str | None = None  # the time column's zone; None for naive times (shown as written)
    open: np.ndarray | None = None
    high: np.ndarray | None = None
    low: np.ndarray | None = None
    gaps: np.ndarray | None = None  # indexes whose point follows rows not read: a line must not join them


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
    return ChartColumns(time, close, _by_name(schema, VOLUME_NAMES, _is_number),
                        *(_by_name(schema, names, _is_number) for names in (OPEN_NAMES, HIGH_NAMES, LOW_NAMES)))


def series(table: pa.Table, cols: ChartColumns, max_points: int = MAX_POINTS,
           gaps: list[int] | None = None) -> Series:
    """Close (and volume, open, high, low) over time; rows without a time or close are left out.
    Long series are thinned to `max_points` buckets: each bucket's last close, first open, highest
    high, lowest low and summed volume. `gaps`: the table's rows that follow rows not read (a jump
    far into the file), carried to the points they become."""
    t = table.column(cols.time)
    zone = getattr(t.type, "tz", None)
    if pa.types.is_date(t.type):
        t = pc.cast(t, pa.timestamp("ms"))
    times = pc.cast(pc.cast(t, pa.timestamp("ms", tz=zone)), pa.int64())
    close = pc.cast(table.column(cols.close), pa.float64())
    keep = pc.and_(pc.is_valid(times), pc.is_valid(close))
    times_np = pc.filter(times, keep).to_numpy().astype(np.float64)
    close_np = pc.filter(close, keep).to_numpy()

    def column(name: str | None, fill: float | None) -> np.ndarray | None:
        if not name:
            return None
        values = pc.cast(table.column(name), pa.float64())
        values = pc.fill_null(values, fill) if fill is not None else values
        return pc.filter(values, keep).to_numpy(zero_copy_only=False)

    volume_np = column(cols.volume, 0.0)
    open_np, high_np, low_np = (column(c, None) for c in (cols.open, cols.high, cols.low))
    rows = len(times_np)
    kept_before = np.cumsum(keep.to_numpy(zero_copy_only=False)) if gaps else None
    # a gap before table row g falls before the kept row that comes first at or after it
    at = sorted({int(kept_before[g - 1]) if g else 0 for g in gaps if 0 < g < len(table)}) if gaps else []
    step = 1
    if rows > max_points:
        step = -(-rows // max_points)
        starts = np.arange(0, rows, step)
        ends = np.minimum(starts + step, rows) - 1
        times_np, close_np = times_np[ends], close_np[ends]
        if volume_np is not None:
            volume_np = np.add.reduceat(volume_np, starts)
        open_np = open_np[starts] if open_np is not None else None
        high_np = np.fmax.reduceat(high_np, starts) if high_np is not None else None
        low_np = np.fmin.reduceat(low_np, starts) if low_np is not None else None
    points = sorted({-(-i // step) for i in at if 0 < -(-i // step) < len(close_np)})
    return Series(times_np, close_np, volume_np, rows, zone, open_np, high_np, low_np,
                  np.array(points, dtype=np.int64) if points else None)
