"""Schemas across files (moto in-process): distinct schemas with counts, the majority, and each
outlier's difference (a column added, a type changed, a timestamp unit or zone changed,
nullability); and the backfill planner's same check of local files (schema-differs)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.core.backfill import NEW, SCHEMA_DIFFERS, backfill_jobs, plan_backfill
from lakegui.core.lake.schema import Column, differences, scan_schemas
from lakegui.core.lake.select import Selection, select_files
from lakegui.core.layouts import DAILY_TICKS
from lakegui.core.transfers.jobs import JobState, says_conflict

BUCKET = "lake"


def base(n: int = 5, **override) -> pa.Table:
    cols = {
        "ts": pa.array(range(n), pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "close": pa.array([1.5 * i for i in range(n)], pa.float64()),
        "volume": pa.array(range(n), pa.int64()),
    }
    cols.update(override)
    return pa.table(cols)


def body(t: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(t, sink)
    return sink.getvalue()


DRIFTED = {
    ("MSFT", 2021): base().append_column("vwap", pa.array([1.0] * 5)),                              # column added
    ("MSFT", 2022): base(volume=pa.array([float(i) for i in range(5)], pa.float64())),           # int64 -> double
    ("MSFT", 2023): base(ts=pa.array(range(5), pa.int64()).cast(pa.timestamp("us", tz="UTC"))),  # unit ms -> us
    ("NVDA", 2020): base(ts=pa.array(range(5), pa.int64()).cast(pa.timestamp("ms"))),            # zone UTC -> none
}


@pytest.fixture
def lake(s3):
    s3.create_bucket(Bucket=BUCKET)
    for s in ("AAPL", "MSFT", "NVDA"):
        for y in (2020, 2021, 2022, 2023):
            s3.put_object(Bucket=BUCKET, Key=DAILY_TICKS.key(symbol=s, year=y), Body=body(DRIFTED.get((s, y), base())))
    return s3


def test_schemas_grouped_majority_and_outliers(lake):
    files = select_files(lake, BUCKET, DAILY_TICKS, Selection()).files
    report = scan_schemas(lake, BUCKET, files)
    assert report.files == 12 and report.requests == 12          # one suffix GET per footer
    assert [g.count for g in report.groups] == [8, 1, 1, 1, 1] and report.groups[0].majority
    assert [c.name for c in report.majority.columns] == ["ts", "close", "volume"]
    diffs = dict(report.outliers)
    k = lambda s, y: DAILY_TICKS.key(symbol=s, year=y)
    assert diffs == {
        k("MSFT", 2021): ["column 'vwap' is extra (double)"],
        k("MSFT", 2022): ["column 'volume': type int64 -> double"],
        k("MSFT", 2023): ["column 'ts': timestamp unit ms -> us"],
        k("NVDA", 2020): ["column 'ts': time zone UTC -> none"],
    }
    doc = report.to_json()
    assert set(doc) == {"files", "schemas", "outliers"}
    assert doc["schemas"][0] == {"count": 8, "majority": True, "columns": [
        {"name": "ts", "type": "timestamp[ms, tz=UTC]", "nullable": True},
        {"name": "close", "type": "double", "nullable": True},
        {"name": "volume", "type": "int64", "nullable": True}]}
    assert {"key": k("MSFT", 2022), "differences": ["column 'volume': type int64 -> double"]} in doc["outliers"]


def test_differences_name_missing_columns_and_nullability():
    a = (Column("x", "int64", True), Column("y", "string", True))
    assert differences(a, (Column("x", "int64", False),)) == ["column 'y' is missing", "column 'x': nullable -> not null"]
    assert differences(a, tuple(reversed(a))) == ["the same columns in another order"]
    assert differences(a, a) == []


def test_a_file_that_is_not_parquet_is_an_outlier_saying_why(lake):
    lake.put_object(Bucket=BUCKET, Key=DAILY_TICKS.key(symbol="AAPL", year=2024), Body=b"symbol,close\nAAPL,1\n")
    report = scan_schemas(lake, BUCKET, select_files(lake, BUCKET, DAILY_TICKS, Selection.parse(["symbol=AAPL"])).files)
    assert report.files == 4 and report.failures[0][0].endswith("AAPL/2024/ticks.parquet")
    assert "not a Parquet file" in report.failures[0][1]
    assert report.to_json()["outliers"][-1]["differences"][0].startswith("could not be read: ")


def test_backfill_plan_flags_a_drifted_local_file(lake, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "AAPL_2024.parquet").write_bytes(body(base()))                                   # as the lake
    (src / "MSFT_2024.parquet").write_bytes(body(base(close=pa.array(range(5), pa.int64()))))   # double -> int64
    (src / "NVDA_2024.parquet").write_bytes(b"not parquet")                                 # not checked
    (src / "AAPL_2020.parquet").write_bytes(body(base().drop_columns(["volume"])))          # exists, differs
    plan = plan_backfill(lake, BUCKET, src, DAILY_TICKS)
    by = {i.relative: i for i in plan.items}
    assert by["AAPL_2024.parquet"].status == NEW and by["NVDA_2024.parquet"].status == NEW
    msft = by["MSFT_2024.parquet"]
    assert msft.status == SCHEMA_DIFFERS and msft.was == NEW
    assert "column 'close': type double -> int64" in msft.reason and "schema differs from the lake's" in msft.reason
    old = by["AAPL_2020.parquet"]
    assert old.status == SCHEMA_DIFFERS and old.was == "exists-different" and "'volume' is missing" in old.reason
    assert plan.counts()[SCHEMA_DIFFERS] == 2

    jobs = {j.key: j for j in backfill_jobs(plan)}
    assert jobs[msft.key].state == JobState.FAILED and "--allow-schema-drift" in jobs[msft.key].error
    assert jobs[by["AAPL_2024.parquet"].key].state == JobState.QUEUED
    allowed = {j.key: j for j in backfill_jobs(plan, allow_schema_drift=True)}
    assert allowed[msft.key].state == JobState.QUEUED
    assert allowed[old.key].state == JobState.FAILED and says_conflict(allowed[old.key].error)  # still exists
    assert {j.key: j for j in backfill_jobs(plan, allow_schema_drift=True, overwrite=True)}[old.key].state \
        == JobState.QUEUED
    unchecked = plan_backfill(lake, BUCKET, src, DAILY_TICKS, check_schema=False)
    assert SCHEMA_DIFFERS not in unchecked.counts()


def test_schema_key_tells_schemas_apart_and_ignores_row_groups():
    import struct

    from lakegui.core.lake.footer import schema_key

    def footer(t: pa.Table, **kw) -> bytes:
        data = body(t) if not kw else _body(t, **kw)
        n = struct.unpack("<I", data[-8:-4])[0]
        return data[-8 - n:]

    a, b = footer(base(5)), footer(base(9, close=pa.array([float(i) for i in range(9)])))
    assert schema_key(a) == schema_key(b)                                   # other rows, same schema
    for t in DRIFTED.values():
        assert schema_key(footer(t)) != schema_key(a)                       # zone and unit included
    assert schema_key(footer(base(), store_schema=False)) != schema_key(a)  # no ARROW:schema
    assert schema_key(b"\x00garbage") is None


def _body(t: pa.Table, **kw) -> bytes:
    sink = io.BytesIO()
    pq.write_table(t, sink, **kw)
    return sink.getvalue()
