import io
import json

import pyarrow.parquet as pq

from lakegui.core import demo
from lakegui.core.layouts import BUILTIN_LAYOUTS, DAILY_TICKS


def test_demo_lake_covers_the_seeds_layout():
    objs = list(demo.demo_objects())
    keys = {o.key for o in objs}
    daily = [k for k in keys if k.startswith("data/ticks/daily/")]
    assert len(demo.SYMBOLS) >= 10 and len(demo.YEARS) >= 3
    assert len(daily) == len(demo.SYMBOLS) * len(demo.YEARS) - len(demo.DAILY_GAPS)
    assert "data/ticks/daily/V/2022/ticks.parquet" not in keys  # a gap the coverage view shows
    assert "data/ticks/daily/AAPL/2024/ticks.parquet" in keys
    assert "data/fundamental/AAPL/2024/Q4.json" in keys
    assert any(k.startswith("data/ticks/minute/") for k in keys)
    assert "data/reference/tickers.parquet" in keys
    for o in objs:
        if o.key.startswith("data/ticks/"):
            assert {"symbol", "year", "data-type", "source"} <= o.metadata.keys()


def test_daily_ticks_are_deterministic_ohlcv_on_trading_days():
    a = demo.daily_table("MSFT", 2023)
    assert a.equals(demo.daily_table("MSFT", 2023))
    assert a.column_names == ["date", "open", "high", "low", "close", "volume"]
    assert 245 <= a.num_rows <= 262
    days = a.column("date").to_pylist()
    assert all(d.weekday() < 5 for d in days)
    rows = a.to_pylist()
    assert all(r["low"] <= min(r["open"], r["close"]) and r["high"] >= max(r["open"], r["close"]) for r in rows)
    assert all(r["volume"] > 0 for r in rows)


def test_objects_are_readable():
    objs = {o.key: o for o in demo.demo_objects()}
    t = pq.read_table(io.BytesIO(objs["data/ticks/minute/AAPL/2024/12/02/ticks.parquet"].body))
    assert t.num_rows == 390 and str(t.schema.field("timestamp").type.tz) == "America/New_York"
    f = json.loads(objs["data/fundamental/JPM/2022/Q2.json"].body)
    assert f["symbol"] == "JPM" and f["quarter"] == 2 and f["filing"]["form"] == "10-Q"


def test_templates_make_the_seeds_keys():
    assert DAILY_TICKS.key(symbol="AAPL", year=2024) == "data/ticks/daily/AAPL/2024/ticks.parquet"
    assert BUILTIN_LAYOUTS["fundamentals"].key(symbol="AAPL", year=2024, quarter=4) == \
        "data/fundamental/AAPL/2024/Q4.json"
    assert DAILY_TICKS.metadata("x", symbol="AAPL", year=2024) == \
        {"symbol": "AAPL", "year": "2024", "data-type": "daily-ticks", "source": "x"}
