"""Lake queries on moto in-process: files pruned by fields before any GET (requests counted per
key), columns and row groups pruned (bytes counted), fields as columns, results equal to pandas
on the same data, and a missing or corrupt file mid-query."""

from __future__ import annotations

import collections
import io
import threading

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.core import demo
from lakegui.core.lake.dataset import LakeDataset, collect, plan_ranges
from lakegui.core.lake.filters import parse_filter
from lakegui.core.lake.select import (
    Selection,
    SelectionError,
    listing_prefix,
    listing_prefixes,
    select_files,
)
from lakegui.core.layouts import DAILY_TICKS

BUCKET = "lake"
SYMBOLS = ("AAPL", "MSFT", "NVDA")
YEARS = range(2020, 2025)


def daily_bytes(symbol: str, year: int) -> bytes:
    """A year of daily bars written a month at a time (about 21 rows per row group)."""
    sink = io.BytesIO()
    pq.write_table(demo.daily_table(symbol, year), sink, row_group_size=21)
    return sink.getvalue()


def seed_lake(c, bucket: str = BUCKET) -> dict[str, bytes]:
    c.create_bucket(Bucket=bucket)
    bodies = {}
    for s in SYMBOLS:
        for y in YEARS:
            key = DAILY_TICKS.key(symbol=s, year=y)
            bodies[key] = daily_bytes(s, y)
            c.put_object(Bucket=bucket, Key=key, Body=bodies[key])
    return bodies


class RequestLog:
    """Every HTTP request the client sends: (operation, key, Range header)."""

    def __init__(self, client):
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        client.meta.events.register("before-send.s3", self._record)

    def _record(self, request, **_):
        from urllib.parse import unquote, urlsplit

        url = urlsplit(request.url)
        path = unquote(url.path).lstrip("/")
        virtual = url.hostname.startswith(f"{BUCKET}.")   # virtual-hosted style: the path is the key
        key = path if virtual else (path.split("/", 1)[1] if "/" in path else "")
        rng = request.headers.get("Range", "")
        with self._lock:
            self.requests.append((request.method, key, rng.decode() if isinstance(rng, bytes) else rng))

    def gets(self) -> collections.Counter:
        return collections.Counter(k for m, k, _ in self.requests if m == "GET" and k and not k.endswith("/"))


@pytest.fixture
def lake(s3):
    bodies = seed_lake(s3)
    return s3, bodies


def query(client, selection, columns=None, text=None):
    selected = select_files(client, BUCKET, DAILY_TICKS, selection)
    ds = LakeDataset(client, BUCKET, selected.files, field_names=DAILY_TICKS.field_names)
    batches = list(ds.scan(columns, parse_filter(text) if text else None))
    return collect(batches, pruned=ds.files_pruned)


def expected(bodies, symbols, years, columns, rule=None) -> pd.DataFrame:
    frames = []
    for s in symbols:
        for y in years:
            df = pq.read_table(io.BytesIO(bodies[DAILY_TICKS.key(symbol=s, year=y)])).to_pandas()
            if rule is not None:
                df = df[rule(df)]
            df = df[columns].copy()
            df["symbol"], df["year"] = s, y
            frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out["year"].astype("int32")
    return out


def test_files_are_pruned_by_fields_before_any_get(lake):
    c, _ = lake
    log = RequestLog(c)
    table, totals = query(c, Selection.parse(["symbol=AAPL,NVDA", "year=2021..2023"]), ["date", "close"])
    gets = log.gets()
    chosen = {DAILY_TICKS.key(symbol=s, year=y) for s in ("AAPL", "NVDA") for y in (2021, 2022, 2023)}
    assert set(gets) == chosen                      # no GET for any file outside the selection
    assert totals.files == 6 and totals.requests == sum(gets.values())
    lists = [r for r in log.requests if r[0] == "GET" and not r[1]]
    assert len(lists) == 2                          # one small listing per symbol, never a HEAD
    assert sorted(set(zip(table["symbol"].to_pylist(), table["year"].to_pylist()))) == \
        sorted((s, y) for s in ("AAPL", "NVDA") for y in (2021, 2022, 2023))


def test_the_leading_fields_narrow_the_listing():
    sel = Selection.parse(["symbol=AAPL", "year=2024"])
    assert listing_prefixes(DAILY_TICKS, sel) == ["data/ticks/daily/AAPL/2024/"]
    assert listing_prefixes(DAILY_TICKS, Selection.parse(["year=2024"])) == ["data/ticks/daily/"]
    assert listing_prefixes(DAILY_TICKS, Selection.parse(["symbol=AAPL,MSFT", "year=2020..2021"]), "p/") == \
        ["p/data/ticks/daily/AAPL/", "p/data/ticks/daily/MSFT/"]
    assert listing_prefix(DAILY_TICKS, Selection.parse(["symbol=AAPL,MSFT"]), "p/") == "p/data/ticks/daily/"
    many = Selection.parse(["symbol=" + ",".join(f"S{i}" for i in range(17))])
    assert listing_prefixes(DAILY_TICKS, many) == ["data/ticks/daily/"]     # beyond 16: one listing


def test_columns_and_row_groups_are_pruned_by_bytes(lake):
    c, bodies = lake
    sel = Selection.parse(["symbol=AAPL", "year=2022..2023"])
    everything, all_totals = query(c, sel)
    table, totals = query(c, sel, ["date", "close"], "volume > 110000000")
    # What can match: each file's footer, plus date/close/volume chunks of row groups whose max volume passes.
    need = 0
    skipped = 0
    for y in (2022, 2023):
        md = pq.read_metadata(io.BytesIO(bodies[DAILY_TICKS.key(symbol="AAPL", year=y)]))
        need += md.serialized_size + 8
        names = [md.schema.column(i).name for i in range(md.num_columns)]
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            if rg.column(names.index("volume")).statistics.max > 110_000_000:
                need += sum(rg.column(names.index(n)).total_compressed_size for n in ("date", "close", "volume"))
            else:
                skipped += 1
    assert skipped > 0 and totals.row_groups_skipped == skipped
    assert totals.row_groups_read + totals.row_groups_skipped == all_totals.row_groups_read
    assert totals.bytes_read <= 1.2 * need
    assert totals.bytes_read < 0.6 * all_totals.bytes_read
    assert table.column_names == ["date", "close", "symbol", "year"]
    assert everything.num_columns == 8                # 6 columns of the file, the 2 fields


def test_results_equal_pandas_on_the_same_data(lake):
    c, bodies = lake
    text = "volume > 50000000 and (close < 190 or date >= '2023-06-01')"
    table, totals = query(c, Selection.of(symbol=["AAPL", "MSFT"], year=range(2021, 2024)), ["date", "close"], text)
    rule = lambda d: (d.volume > 50_000_000) & ((d.close < 190) | (d.date >= pd.Timestamp("2023-06-01").date()))
    want = expected(bodies, ["AAPL", "MSFT"], range(2021, 2024), ["date", "close"], rule)
    got = table.to_pandas()
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert totals.rows == len(want)


def test_fields_are_columns_and_can_be_filtered_before_any_get(lake):
    c, _ = lake
    log = RequestLog(c)
    table, totals = query(c, Selection(), ["close"], "year = 2024 and symbol in (MSFT)")
    assert set(log.gets()) == {DAILY_TICKS.key(symbol="MSFT", year=2024)}
    assert totals.files_pruned == len(SYMBOLS) * len(YEARS) - 1 and totals.files == len(SYMBOLS) * len(YEARS)
    assert table.schema.field("year").type == pa.int32() and table.schema.field("symbol").type == pa.string()
    assert set(table["symbol"].to_pylist()) == {"MSFT"} and set(table["year"].to_pylist()) == {2024}


def test_a_missing_or_corrupt_file_is_reported_and_the_rest_goes_on(lake):
    c, bodies = lake
    selected = select_files(c, BUCKET, DAILY_TICKS, Selection.parse(["symbol=AAPL"]))
    gone, bad = DAILY_TICKS.key(symbol="AAPL", year=2021), DAILY_TICKS.key(symbol="AAPL", year=2022)
    c.delete_object(Bucket=BUCKET, Key=gone)                                   # after the listing
    c.put_object(Bucket=BUCKET, Key=bad, Body=bodies[bad][:-300] + b"\0" * 300)  # same size, no PAR1
    files = [f if f.key != bad else type(f)(f.key, f.size, "", f.fields) for f in selected.files]
    ds = LakeDataset(c, BUCKET, files, field_names=DAILY_TICKS.field_names)
    batches = list(ds.scan(["close"]))
    assert [b.key for b in batches] == [f.key for f in files]
    errors = {b.key: b.error for b in batches if b.error}
    assert set(errors) == {gone, bad}
    assert "not a Parquet file" in errors[bad]
    assert "no longer exists" in errors[gone] or "not found" in errors[gone].lower() or "NoSuchKey" in errors[gone]
    table, totals = collect(batches)
    assert set(table["year"].to_pylist()) == {2020, 2023, 2024}
    assert len(totals.failures) == 2


def test_a_file_replaced_after_the_listing_is_reported(lake):
    c, _ = lake
    selected = select_files(c, BUCKET, DAILY_TICKS, Selection.parse(["symbol=MSFT", "year=2020"]))
    c.put_object(Bucket=BUCKET, Key=selected.files[0].key, Body=daily_bytes("NVDA", 2020))
    b = next(LakeDataset(c, BUCKET, selected.files).scan(["close"]))
    assert b.error and "changed" in b.error


def test_a_column_a_file_lacks_is_null_there(s3):
    s3.create_bucket(Bucket=BUCKET)
    old = pa.table({"date": pa.array([1, 2], pa.int32()), "close": [1.0, 2.0]})
    new = old.append_column("vwap", pa.array([1.5, 2.5]))
    for y, t in ((2020, old), (2021, new)):
        sink = io.BytesIO()
        pq.write_table(t, sink)
        s3.put_object(Bucket=BUCKET, Key=DAILY_TICKS.key(symbol="AAPL", year=y), Body=sink.getvalue())
    table, _ = query(s3, Selection(), ["close", "vwap"])
    assert table["vwap"].to_pylist() == [None, None, 1.5, 2.5]
    table, _ = query(s3, Selection(), ["close"], "vwap > 2")
    assert table["close"].to_pylist() == [2.0]


def test_selection_parsing():
    sel = Selection.parse(["year=2021..2022", "symbol=AAPL,MSFT"])
    assert sel.matches({"symbol": "AAPL", "year": "2021"}) and not sel.matches({"symbol": "AAPL", "year": "2020"})
    assert not sel.matches({"symbol": "NVDA", "year": "2021"})
    with pytest.raises(SelectionError, match=r"--where year= is given twice .*year=A,B"):  # not silently both
        Selection.parse(["year=2023", "symbol=AAPL", "year=2025"])
    for impossible, why in (("year=abc", "year is a number, and 'abc' is not"), ("year=2020,x1", "'x1' is not"),
                            ("year=2024..2022", "the range runs backwards"), ("month=..x", "'x' is not"),
                            ("symbol=MSFT..AAPL", "runs backwards")):
        with pytest.raises(SelectionError, match=why):
            Selection.parse([impossible])
    with pytest.raises(SelectionError, match="year is a number"):
        Selection.of(year="abc")
    assert Selection.parse(["month=1..3"]).matches({"month": "02"})
    assert Selection.of(year=range(2020, 2025)).matches({"year": "2024"})
    assert not Selection.of(year=range(2020, 2025)).matches({"year": "2025"})
    for bad in ("year", "year=", "=1", "year=1..2..3", "year=..", "symbol=A,,B"):
        with pytest.raises(SelectionError):
            Selection.parse([bad])
    with pytest.raises(SelectionError, match="has no field 'sector'"):
        Selection.parse(["sector=tech"]).check(DAILY_TICKS)


def test_range_plan_bridges_only_small_holes():
    assert plan_ranges([(0, 100), (100, 200)]) == [(0, 200)]
    assert plan_ranges([(0, 1000), (1010, 2000), (5000, 6000)]) == [(0, 2000), (5000, 6000)]
    assert plan_ranges([(0, 1000), (1300, 2000)], share=0.1) == [(0, 1000), (1300, 2000)]


def test_a_file_where_no_row_group_can_match_reads_no_chunk(lake):
    c, _ = lake
    table, totals = query(c, Selection.parse(["symbol=AAPL", "year=2022"]), ["date", "close"], "volume > 1e12")
    assert table.num_rows == 0 and totals.row_groups_read == 0 and totals.row_groups_skipped == 13
    assert totals.requests <= 2      # the footer only
    assert table.column_names == ["date", "close", "symbol", "year"]


def test_a_cancelled_scan_stops_and_leaves_no_thread(lake):
    from lakegui.core.lake.dataset import QueryCancelled

    c, _ = lake
    files = select_files(c, BUCKET, DAILY_TICKS, Selection()).files
    cancel = threading.Event()
    scan = LakeDataset(c, BUCKET, files, concurrency=2).scan(["close"], cancel=cancel)
    first = next(scan)
    assert first.key == files[0].key and not first.error
    cancel.set()
    with pytest.raises(QueryCancelled):
        list(scan)


def test_closing_a_scan_early_stops_it(lake):
    c, _ = lake
    files = select_files(c, BUCKET, DAILY_TICKS, Selection()).files
    scan = LakeDataset(c, BUCKET, files, concurrency=2).scan(["close"])
    assert next(scan).rows > 0
    scan.close()      # the pool shuts down; the no-leak check of conftest proves its threads ended


def test_instants_compare_in_utc_and_row_groups_skip_consistently(s3):
    import datetime as dt

    s3.create_bucket(Bucket=BUCKET)
    start = dt.datetime(2024, 12, 2, 14, 30, tzinfo=dt.timezone.utc)
    ts = pa.array([start + dt.timedelta(minutes=i) for i in range(390)], pa.timestamp("us", tz="America/New_York"))
    sink = io.BytesIO()
    pq.write_table(pa.table({"timestamp": ts, "close": [float(i) for i in range(390)]}), sink, row_group_size=30)
    s3.put_object(Bucket=BUCKET, Key=DAILY_TICKS.key(symbol="AAPL", year=2024), Body=sink.getvalue())
    for text, first in (("timestamp >= '2024-12-02 16:00'", 90),                 # UTC without an offset
                        ("timestamp >= '2024-12-02 11:00-05:00'", 90),           # the same instant
                        ("timestamp < '2024-12-02T14:45:00+00:00'", 0)):
        table, totals = query(s3, Selection(), ["close"], text)
        want = [float(i) for i in range(390)
                if eval_rule(text, start + dt.timedelta(minutes=i))]
        assert table["close"].to_pylist() == want, text
        assert table["close"].to_pylist()[0] == first
        assert totals.row_groups_skipped > 0


def eval_rule(text: str, when) -> bool:
    import datetime as dt

    value = text.split("'")[1]
    bound = dt.datetime.fromisoformat(value)
    bound = bound if bound.tzinfo else bound.replace(tzinfo=dt.timezone.utc)
    return when >= bound if ">=" in text else when < bound


def test_the_key_s_fields_win_over_a_file_column_of_the_same_name(s3):
    s3.create_bucket(Bucket=BUCKET)
    sink = io.BytesIO()
    pq.write_table(pa.table({"symbol": ["AAPL", "aapl-old"], "close": [1.0, 2.0]}), sink)
    s3.put_object(Bucket=BUCKET, Key=DAILY_TICKS.key(symbol="AAPL", year=2024), Body=sink.getvalue())
    table, _ = query(s3, Selection(), None, "close > 1.5")
    assert table.to_pylist() == [{"close": 2.0, "symbol": "AAPL", "year": 2024}]
    table, totals = query(s3, Selection(), ["close"], "symbol = 'aapl-old'")
    assert table.num_rows == 0 and totals.files_pruned == 1


def test_small_waves_and_parts_of_a_wave_give_the_same_rows(lake, monkeypatch):
    from lakegui.core.lake import dataset

    c, _ = lake
    sel = Selection.parse(["symbol=AAPL,MSFT", "year=2021..2023"])
    whole, totals = query(c, sel, ["date", "close"], "volume > 50000000 or close < 100")
    monkeypatch.setattr(dataset, "WAVE", 2)          # files read two at a time,
    monkeypatch.setattr(dataset, "WAVE_BYTES", 1)    # and each file's chunks fetched on their own
    parts, again = query(c, sel, ["date", "close"], "volume > 50000000 or close < 100")
    assert whole.num_rows > 0 and parts.equals(whole)
    assert (again.files, again.row_groups_read, again.rows) == (totals.files, totals.row_groups_read, totals.rows)
