"""Parquet files generated for tests: several row groups and the types previews must render."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def rich_table(rows: int = 3000) -> pa.Table:
    """Ticks plus nested, dictionary, zoned-timestamp, decimal, binary and null columns."""
    rng = np.random.default_rng(7)
    start = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.timezone.utc)
    close = np.round(100 + np.cumsum(rng.normal(0, 0.2, rows)), 2)
    return pa.table({
        "timestamp": pa.array([start + dt.timedelta(minutes=i) for i in range(rows)],
                              pa.timestamp("us", tz="America/New_York")),
        "symbol": pa.array(rng.choice(["AAPL", "MSFT", "NVDA"], rows)).dictionary_encode(),
        "close": pa.array(close),
        "volume": pa.array(rng.integers(100, 10_000, rows)),
        "price": pa.array([Decimal(f"{c:.2f}") for c in close], pa.decimal128(12, 2)),
        "note": pa.array([None if i % 3 else f"row {i}" for i in range(rows)], pa.string()),
        "tags": pa.array([["a", "b"][: i % 3] for i in range(rows)], pa.list_(pa.string())),
        "quote": pa.array([{"bid": float(c) - 0.01, "ask": float(c) + 0.01} for c in close],
                          pa.struct([("bid", pa.float64()), ("ask", pa.float64())])),
        "raw": pa.array([bytes([i % 256, 255]) for i in range(rows)], pa.binary()),
    })


def parquet_bytes(table: pa.Table, row_group_size: int = 1000, **kwargs) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size, **kwargs)
    return sink.getvalue()


def pandas_parquet_bytes(rows: int = 500) -> bytes:
    """Written the way analysts write it: DataFrame.to_parquet, with a named index."""
    df = pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=rows, freq="D", tz="UTC"),
        "close": np.linspace(10, 20, rows),
        "volume": np.arange(rows, dtype="int64"),
    }).set_index(pd.Index([f"d{i}" for i in range(rows)], name="day"))
    sink = io.BytesIO()
    df.to_parquet(sink, engine="pyarrow", row_group_size=100)
    return sink.getvalue()


def wide_table(rows: int, columns: int = 20) -> pa.Table:
    rng = np.random.default_rng(3)
    base = 100 + np.cumsum(rng.normal(0, 0.05, rows))
    data = {f"c{i:02d}": np.round(base + rng.normal(0, 0.1, rows), 2) for i in range(columns)}
    return pa.table(data)
