"""Previews in core: the range-reading file, Parquet metadata and rows, other formats, charts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest

from lakegui.core.preview import cells, formats, ohlcv
from lakegui.core.preview.parquet import ParquetPreview, PreviewError, _writer_rows_per_page
from lakegui.core.preview.rangefile import ObjectChanged, PreviewCancelled, RangeFile, coalesce
from tests.support.parquetdata import pandas_parquet_bytes, parquet_bytes, rich_table, wide_table

B = "preview-test"


@pytest.fixture
def s3b(s3):
    s3.create_bucket(Bucket=B)
    return s3


def put(client, key: str, body: bytes) -> RangeFile:
    client.put_object(Bucket=B, Key=key, Body=body)
    etag = client.head_object(Bucket=B, Key=key)["ETag"].strip('"')
    return RangeFile(client, B, key, len(body), etag=etag)


# the range-reading file

def test_first_read_is_one_suffix_request_then_the_cache_serves(s3b):
    body = bytes(range(256)) * 4096  # 1 MiB
    f = put(s3b, "blob.bin", body)
    f.seek(-8, 2)
    assert f.read() == body[-8:]
    assert (f.requests, f.bytes_fetched) == (1, 512 * 1024)
    f.seek(len(body) - 100_000)
    assert f.read(50_000) == body[-100_000:-50_000]
    assert f.requests == 1, "the suffix read already held these bytes"
    assert f.read_range(10, 20) == body[10:20] and f.requests == 2
    assert f.stats.describe() == "2 requests, 512.0 KB of 1.0 MB"


def test_small_file_is_read_whole_by_the_first_request(s3b):
    f = put(s3b, "small.bin", b"0123456789")
    assert f.read_range(0, 4) == b"0123" and f.read_range(6, 10) == b"6789"
    assert (f.requests, f.bytes_fetched) == (1, 10)
    assert f.stats.describe() == "1 request, 10 B of 10 B"


def test_planned_ranges_coalesce_into_one_get(s3b):
    body = b"x" * (4 << 20)
    f = RangeFile(s3b, B, "none", len(body), first_read=0)
    s3b.put_object(Bucket=B, Key="none", Body=body)
    f.prefetch([(0, 1000), (2000, 3000), (3 << 20, (3 << 20) + 10)])
    assert f.requests == 2 and f.bytes_fetched == 3000 + 10
    assert f.cached(0, 3000) and not f.cached(3000, 3001)
    assert coalesce([(5, 9), (0, 4), (100, 200)], hole=1) == [(0, 9), (100, 200)]


def test_cancelled_file_makes_no_more_requests(s3b):
    f = put(s3b, "c.bin", b"abc" * 1000)
    f.read_range(0, 3)
    f.cancel()
    assert f.read_range(0, 3) == b"abc", "cached bytes still read"
    f2 = put(s3b, "d.bin", b"abc" * 1000)
    f2.cancel()
    with pytest.raises(PreviewCancelled):
        f2.read_range(0, 3)
    assert f2.requests == 0


def test_replaced_object_is_detected_not_mixed(s3b):
    f = put(s3b, "e.bin", b"a" * 2000)
    s3b.put_object(Bucket=B, Key="e.bin", Body=b"b" * 2000)
    with pytest.raises(ObjectChanged, match="changed while it was being read"):
        f.read_range(0, 10)


# Parquet

def test_parquet_metadata_schema_and_statistics(s3b):
    f = put(s3b, "rich.parquet", parquet_bytes(rich_table(3000), row_group_size=1000))
    p = ParquetPreview(f)
    s = p.summary()
    assert (s.rows, s.row_groups, s.columns) == (3000, 3, 10)  # leaf columns
    assert s.created_by.startswith("parquet-cpp-arrow") and s.format_version
    assert "timestamp: timestamp[us, tz=America/New_York]" in s.arrow_schema
    assert "ARROW:schema" not in s.key_value
    tree = {n.name: n for n in p.schema()}
    assert tree["quote"].type.startswith("struct") and [c.name for c in tree["quote"].children] == ["bid", "ask"]
    assert tree["tags"].children[0].physical == "BYTE_ARRAY" and tree["close"].physical == "DOUBLE"
    stats = p.chunk_stats()
    assert len(stats) == 3 * 10
    close0 = next(c for c in stats if c.row_group == 0 and c.column == "close")
    assert close0.rows == 1000 and close0.compression == "SNAPPY" and float(close0.min) <= float(close0.max)
    note = next(c for c in stats if c.row_group == 0 and c.column == "note")
    assert note.null_count == 666
    assert f.requests == 1, "the footer came with the first suffix read"


def test_pandas_metadata_is_decoded(s3b):
    f = put(s3b, "pandas.parquet", pandas_parquet_bytes(500))
    p = ParquetPreview(f)
    s = p.summary()
    assert s.pandas is not None and s.pandas["index_columns"] == ["day"] and s.pandas["creator"]["library"]
    assert "pandas" not in s.key_value
    head = p.head(n=5)
    assert head.column_names == ["date", "close", "volume", "day"] and head.num_rows == 5


def test_first_rows_read_row_group_zero_of_visible_columns_only(s3b):
    # Big enough that the footer read does not already hold the data.
    table = wide_table(400_000, columns=6)
    body = parquet_bytes(table, row_group_size=100_000)
    f = put(s3b, "wide.parquet", body)
    p = ParquetPreview(f)
    before = f.requests
    head = p.head(["c01", "c04"], n=100)
    assert head.column_names == ["c01", "c04"] and head.num_rows == 100
    assert head.column("c04").to_pylist() == table.column("c04").to_pylist()[:100]
    assert f.requests - before <= 2, "one GET per visible column at most"
    rg0 = p.metadata.row_group(0)
    chunk = {rg0.column(i).path_in_schema: rg0.column(i) for i in range(rg0.num_columns)}
    assert f.bytes_fetched < 512 * 1024 + chunk["c01"].total_compressed_size + chunk["c04"].total_compressed_size
    full = ParquetPreview(put(s3b, "wide2.parquet", body))
    before = full.source.requests
    full.head()
    assert full.source.requests - before <= 6


def test_lazy_paging_reads_only_the_row_group_needed(s3b):
    table = wide_table(400_000, columns=3)
    f = put(s3b, "paged.parquet", parquet_bytes(table, row_group_size=100_000))
    p = ParquetPreview(f)
    assert p.block_of(225_500) == (2, 25) and p.block_start(2, 25) == 225_000
    spans = []
    original = f._fetch

    def record(start, end):
        spans.append((start, end))
        original(start, end)

    f._fetch = record
    batch = p.block(2, 25)
    assert batch.num_rows == 1000
    assert batch.column(0).to_pylist() == table.column(0).to_pylist()[225_000:226_000]
    rg2 = p.chunk_ranges(2, p.column_names)
    lo, hi = min(s for s, _ in rg2), max(e for _, e in rg2)
    assert spans and all(lo <= s and e <= hi for s, e in spans), "only row group 2 was read"
    assert p.block(2, 26).column(0).to_pylist() == table.column(0).to_pylist()[226_000:227_000]
    p._blocks.clear()
    # Behind the cursor: the row group is decoded again from its start.
    assert p.block(2, 3).column(0).to_pylist() == table.column(0).to_pylist()[203_000:204_000]
    with pytest.raises(IndexError):
        p.block(2, 100)


def test_column_pruned_whole_file_read(s3b):
    table = wide_table(20_000, columns=5)
    f = put(s3b, "cols.parquet", parquet_bytes(table, row_group_size=5_000))
    p = ParquetPreview(f)
    t = p.column_table(["c02"])
    assert t.column_names == ["c02"] and t.num_rows == 20_000
    assert f.bytes_fetched <= 512 * 1024 + p.bytes_for(["c02"])
    with pytest.raises(PreviewError, match="No column named nope"):
        p.head(["nope"])


def test_zero_byte_and_corrupt_files_say_so(s3b):
    with pytest.raises(PreviewError, match="empty"):
        ParquetPreview(put(s3b, "empty.parquet", b""))
    # in the words query and schema use for such a file (footer.tail_problem; trial B had two wordings)
    with pytest.raises(PreviewError, match="^This file is not a Parquet file: it does not end in PAR1.$"):
        ParquetPreview(put(s3b, "bad.parquet", b"this is not parquet at all" * 10))
    good = parquet_bytes(rich_table(500), row_group_size=100)
    with pytest.raises(PreviewError, match="is not a Parquet file: it does not end in PAR1"):
        ParquetPreview(put(s3b, "cut.parquet", good[: len(good) // 2]))
    with pytest.raises(PreviewError, match="has a damaged footer: it claims"):
        ParquetPreview(put(s3b, "long.parquet", b"PAR1" + b"\0" * 20 + (10**6).to_bytes(4, "little") + b"PAR1"))
    broken = bytearray(good)
    broken[200:4000] = b"\0" * 3800  # the data pages of the first row group
    p = ParquetPreview(put(s3b, "smashed.parquet", bytes(broken)))
    with pytest.raises(PreviewError, match="cannot be read"):
        p.head()


def test_page_row_limit_follows_the_writer():
    assert _writer_rows_per_page("parquet-cpp-arrow version 26.0.1") == 20_000
    assert _writer_rows_per_page("parquet-cpp-arrow version 14.0.2") is None
    assert _writer_rows_per_page("parquet-mr version 1.12.3 (build abc)") == 20_000
    assert _writer_rows_per_page("parquet-mr version 1.10.0") is None
    assert _writer_rows_per_page("DuckDB") is None


# values

def test_values_render_readably():
    ny = dt.timezone(dt.timedelta(hours=-5), "EST")
    assert cells.format_value(dt.datetime(2024, 1, 2, 9, 30, tzinfo=ny)) == "2024-01-02 09:30:00-05:00 EST"
    assert cells.format_value(Decimal("1234.50")) == "1234.50"
    assert cells.format_value(b"\x0a\xff") == "0x0aff"
    assert cells.format_value(bytes(100)).endswith("… (100 bytes)")
    assert cells.format_value([1, 2, None]) == "[1, 2, null]"
    assert cells.format_value(list(range(20))).endswith(", … 12 more]")
    assert cells.format_value({"bid": 1.5, "name": "x"}) == "{bid: 1.5, name: 'x'}"
    assert cells.format_value([("k", 1)]) == "{'k': 1}"
    assert cells.format_value(None) == "null" and cells.format_value(True) == "true"
    long = cells.format_value("y" * 500)
    assert len(long) == cells.MAX_TEXT and long.endswith("…")


def test_rich_rows_render(s3b):
    p = ParquetPreview(put(s3b, "r.parquet", parquet_bytes(rich_table(50), row_group_size=20)))
    row = {name: cells.format_value(p.head(n=2).column(name)[1].as_py()) for name in p.column_names}
    assert row["timestamp"] == "2024-01-02 09:31:00-05:00 EST"
    assert row["price"].count(".") == 1 and len(row["price"].split(".")[1]) == 2
    assert row["tags"] == "['a']" and row["quote"].startswith("{bid: ")
    assert row["raw"] == "0x01ff" and row["note"] == "null"


# other formats

def test_json_preview_parses_or_explains(s3b):
    doc = {"symbol": "AAPL", "quarter": 3, "income": {"revenue": 1.5e9}, "segments": [1, 2]}
    good = formats.read_json(put(s3b, "q.json", json.dumps(doc).encode()))
    assert good.value == doc and not good.error
    assert formats.json_children(doc)[2] == ("income", {"revenue": 1.5e9})
    assert formats.json_scalar(doc["segments"]) == "[2 items]" and formats.json_scalar("é") == '"é"'
    # One of a kind reads as such (the tree said "{1 keys}"); thousands get their separator.
    assert formats.json_scalar({"a": 1}) == "{1 key}" and formats.json_scalar([0]) == "[1 item]"
    assert formats.json_scalar({}) == "{0 keys}" and formats.json_scalar(list(range(1200))) == "[1,200 items]"
    bad = formats.read_json(put(s3b, "bad.json", b'{"a": 1,\n "b": }'))
    assert bad.error == "Not valid JSON: Expecting value at line 2, column 7." and bad.text.text.startswith('{"a"')
    big = formats.read_json(put(s3b, "big.json", b"[" + b"1," * 5000 + b"1]"), limit=1000)
    assert "Too large to parse" in big.error and big.text.shown <= formats.TEXT_LIMIT


def test_csv_and_text_read_only_the_start(s3b):
    rows = b"symbol,close\n" + b"".join(b"AAPL,%d.5\n" % i for i in range(20_000))
    f = put(s3b, "t.csv", rows)
    f.first_read = 0
    csv = formats.read_csv(f, limit=1000)
    assert csv.header == ["symbol", "close"] and csv.rows[0] == ["AAPL", "0.5"] and csv.truncated
    assert all(len(r) == 2 for r in csv.rows), "no half line at the cut"
    assert f.bytes_fetched == 1000
    tsv = formats.read_csv(put(s3b, "t.tsv", b"a\tb\n1\t2\n"))
    assert tsv.header == ["a", "b"] and tsv.rows == [["1", "2"]] and not tsv.truncated
    log = formats.read_text(put(s3b, "x.log", "héllo\nwörld\n".encode() * 10), limit=20)
    assert log.text == "héllo\nwörld\n" and log.truncated
    assert formats.read_text(put(s3b, "x.bin.txt", b"\0\1\2")).binary
    with pytest.raises(ValueError, match="not previewed"):
        formats.read_image(put(s3b, "i.png", b"x" * 100), limit=10)


def test_kind_of_extension():
    assert formats.kind_of("data/ticks/daily/AAPL/2024/ticks.parquet") == formats.PARQUET
    assert formats.kind_of("data/fundamental/AAPL/2024/Q1.json") == formats.JSON
    assert formats.kind_of("ref/tickers.CSV") == formats.CSV
    assert formats.kind_of("logs/run.log") == formats.TEXT
    assert formats.kind_of("a.png") == formats.IMAGE
    assert formats.kind_of("archive.tar.gz") == formats.NONE


# charts

def test_chart_finds_ohlcv_columns_and_thins():
    table = rich_table(10_000)
    cols = ohlcv.chart_columns(table.schema)
    assert cols == ohlcv.ChartColumns("timestamp", "close", "volume")
    s = ohlcv.series(table, cols, max_points=1000)
    assert s.rows == 10_000 and len(s.times_ms) == len(s.close) == len(s.volume) == 1000
    assert s.volume.sum() == pytest.approx(pa.compute.sum(table.column("volume")).as_py())
    assert s.close[-1] == table.column("close")[-1].as_py()
    assert s.times_ms[0] == dt.datetime(2024, 1, 2, 14, 39, tzinfo=dt.timezone.utc).timestamp() * 1000
    assert ohlcv.chart_columns(pa.schema([("a", pa.int64())])) is None


def test_python_columns_convert_zoned_timestamps_without_pandas():
    table = pa.table({
        "ny": pa.array([0, None, 1_700_000_000_123_456], pa.timestamp("us", tz="America/New_York")),
        "fixed": pa.array([0, 1, 2], pa.timestamp("ms", tz="+05:30")),
        "n": pa.array([1, None, 3]),
    })
    ny, fixed, n = cells.python_columns(table)
    assert ny[1] is None and ny == table.column("ny").to_pylist()
    assert cells.format_value(ny[2]) == "2023-11-14 17:13:20.123456-05:00 EST"
    assert fixed[2].utcoffset() == dt.timedelta(hours=5, minutes=30) and fixed[2].microsecond == 2000
    assert n == [1, None, 3]


def test_series_gaps_follow_dropped_rows_and_thinning():
    """Rows that follow rows not read carry a gap to the point they become (nulls dropped, buckets thinned)."""
    import numpy as np
    import pyarrow as pa

    from lakegui.core.preview import ohlcv

    t = pa.table({"date": pa.array(np.arange(10, dtype="int64") * 86_400_000, pa.timestamp("ms")),
                  "close": pa.array([1.0, 2, None, 4, 5, 6, 7, 8, 9, 10])})
    cols = ohlcv.ChartColumns(time="date", close="close")
    assert list(ohlcv.series(t, cols, gaps=[3, 7]).gaps) == [2, 6]  # row 2 had no close
    assert list(ohlcv.series(t, cols, max_points=3, gaps=[3, 7]).gaps) == [1, 2]
    assert ohlcv.series(t, cols).gaps is None
