"""`lakegui-cli preview --json` over the encodings, compressions, logical types and format versions
other writers use (moto in-process): INT96 timestamps as Impala and Spark write them, format 1.0,
data page v2, every codec pyarrow has, maps, times, large and fixed-size types, float16."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.cli import main

TABLE = pa.table({
    "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456), None], pa.timestamp("us")),
    "d": pa.array([dt.date(2024, 1, 2), dt.date(1970, 1, 1)], pa.date32()),
    "t": pa.array([dt.time(9, 30), dt.time(16, 0, 0, 1)], pa.time64("us")),
    "dec": pa.array([Decimal("-1.50"), Decimal("12345678901234567890.12")], pa.decimal128(24, 2)),
    "big": pa.array(["x" * 300, "é"], pa.large_string()),
    "fixed": pa.array([b"abcd", b"\0\1\2\3"], pa.binary(4)),
    "m": pa.array([[("a", 1), ("b", 2)], []], pa.map_(pa.string(), pa.int32())),
    "nested": pa.array([[{"x": [1, 2]}], None], pa.list_(pa.struct([("x", pa.list_(pa.int8()))]))),
    "f16": pa.array([1.5, None], pa.float16()),
    "flag": pa.array([True, None]),
    "u64": pa.array([2**64 - 1, 0], pa.uint64()),
})


def body(**kwargs) -> bytes:
    sink = io.BytesIO()
    pq.write_table(TABLE, sink, **kwargs)
    return sink.getvalue()


@pytest.mark.parametrize("writer", [
    {},
    {"version": "1.0"},
    {"data_page_version": "2.0"},
    {"use_dictionary": False},
    {"compression": "zstd"}, {"compression": "gzip"}, {"compression": "brotli"}, {"compression": "lz4"},
    {"compression": "none"},
    {"use_deprecated_int96_timestamps": True},  # as Impala and older Spark write timestamps
    {"write_statistics": False, "store_schema": False},  # no ARROW:schema: types from Parquet's own
], ids=lambda w: ",".join(f"{k}={v}" for k, v in w.items()) or "defaults")
def test_preview_json_reads_every_writer_option(s3, capsys, writer):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="k.parquet", Body=body(**writer))
    assert main(["preview", "s3://lake/k.parquet", "--json"]) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 2 and len(doc["head"]) == 2
    first, second = doc["head"]
    assert first["ts"].startswith("2024-01-02T03:04:05.123456") and second["ts"] is None
    assert first["d"] == "2024-01-02" and first["t"] == "09:30:00"
    assert first["dec"] == "-1.50" and second["dec"] == "12345678901234567890.12"
    assert first["big"] == "x" * 300 and second["big"] == "é"
    assert first["fixed"] == "0x61626364"
    assert first["m"] == {"a": 1, "b": 2} and second["m"] == {}
    assert first["nested"] == [{"x": [1, 2]}] and second["nested"] is None
    assert first["f16"] == 1.5 and first["flag"] is True and first["u64"] == 2**64 - 1


def test_text_table_of_every_type(s3, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the table fits the terminal: make it a wide one
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="k.parquet", Body=body())
    assert main(["preview", "s3://lake/k.parquet", "--columns", "ts,dec,m,nested"]) == 0
    out = capsys.readouterr().out
    assert "2024-01-02 03:04:05.123456" in out and "12345678901234567890.12" in out
    assert "{'a': 1, 'b': 2}" in out and "[{x: [1, 2]}]" in out
    assert "more columns not shown" not in out  # the four asked for fit


def test_table_fits_the_terminal(s3, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="k.parquet", Body=body())
    assert main(["preview", "s3://lake/k.parquet"]) == 0
    out = capsys.readouterr().out
    table = out.split("rows of row group 0:\n")[1].splitlines()
    assert all(len(line) <= 60 for line in table[:4])
    assert "more columns not shown" in table[-1]
