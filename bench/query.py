"""Lake query benchmark (issue 23), on a loopback SeaweedFS, peers in the same run.

A daily-ticks lake of 200 symbols x 10 years (2,000 files, 8 columns, a year of trading days each,
written a month at a time: 12-13 row groups per file), laid out Hive-style
(`data/ticks/daily/symbol=S/year=Y/ticks.parquet`, a user layout) so that DuckDB and pyarrow get
the symbol and year columns too. The query: 3 symbols x 5 years, 2 of the 8 columns, with
`volume > 50000000`, which only the rare heavy days pass, so most row groups are ruled out by their
statistics.

- lakegui (core: one listing, field pruning, range GETs) against DuckDB httpfs (`read_parquet`
  over the same 15 files, hive_partitioning, the filter pushed down) and pyarrow.dataset over
  S3FileSystem on the whole prefix (Hive partitioning, the same filter), each round fresh;
- lakegui's bytes against the footers plus the column chunks that can match (from the files);
- which keys lakegui sent GETs for (none outside the selection);
- the schema scan of all 2,000 files against 2,000 concurrent 64 KB suffix GETs of the same
  files with the same client and concurrency.

    .venv/bin/pip install '.[bench]'
    .venv/bin/python bench/query.py --rounds 5
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import statistics
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.preview import duckdb_connection, pyarrow_fs
from bench.transfers import seaweedfs
from lakegui.core.layouts import LayoutTemplate

BUCKET = "query-bench"
HIVE = LayoutTemplate("daily-ticks-hive", "data/ticks/daily/symbol={symbol}/year={year}/ticks.parquet",
                      "daily-ticks", "{symbol}_{year}.parquet")
YEARS = list(range(2015, 2025))
QUERY_SYMBOLS = ["AAPL", "MSFT", "SYM100"]
QUERY_YEARS = (2019, 2023)
COLUMNS = ["date", "close"]
THRESHOLD = 50_000_000
FILTER = f"volume > {THRESHOLD}"
ROW_GROUP = 21   # a month of trading days


def symbols(n: int) -> list[str]:
    return ["AAPL", "MSFT"] + [f"SYM{i:03d}" for i in range(n - 2)]


def trading_days(year: int) -> np.ndarray:
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    return days[np.is_busday(days)]


def daily_table(symbol: str, year: int) -> pa.Table:
    """A year of daily bars; volume about 5-15 M a day, a heavy day (5-9x) about once in 80."""
    rng = np.random.default_rng(zlib.crc32(f"{symbol} {year}".encode()))
    days = trading_days(year)
    n = len(days)
    close = np.round(50 + 100 * rng.random() + np.cumsum(rng.normal(0, 1, n)), 2)
    base = rng.uniform(5e6, 1.5e7)
    volume = (base * rng.lognormal(0, 0.2, n)).astype(np.int64)
    heavy = rng.random(n) < 1 / 80
    volume[heavy] = (volume[heavy] * rng.uniform(5, 9, heavy.sum())).astype(np.int64)
    return pa.table({
        "date": pa.array(days.astype("datetime64[D]"), pa.date32()),
        "open": np.round(close + rng.normal(0, 0.5, n), 2),
        "high": np.round(close + np.abs(rng.normal(0, 1, n)), 2),
        "low": np.round(close - np.abs(rng.normal(0, 1, n)), 2),
        "close": close,
        "volume": volume,
        "vwap": np.round(close + rng.normal(0, 0.2, n), 3),
        "trades": rng.integers(10_000, 200_000, n),
    })


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=ROW_GROUP)
    return sink.getvalue()


def seed(client, syms: list[str]) -> dict[str, bytes]:
    bodies = {HIVE.key(symbol=s, year=y): parquet_bytes(daily_table(s, y)) for s in syms for y in YEARS}
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda kv: client.put_object(Bucket=BUCKET, Key=kv[0], Body=kv[1]), bodies.items()))
    return bodies


def selected_keys() -> list[str]:
    return [HIVE.key(symbol=s, year=y) for s in QUERY_SYMBOLS for y in range(QUERY_YEARS[0], QUERY_YEARS[1] + 1)]


def can_match_bytes(bodies: dict[str, bytes]) -> tuple[int, int, int]:
    """(footers, footers + the chunks of date, close and volume in row groups whose max volume
    passes, row groups that pass) over the selected files."""
    footers = total = passing = 0
    for key in selected_keys():
        md = pq.read_metadata(io.BytesIO(bodies[key]))
        footers += md.serialized_size + 8
        names = [md.schema.column(i).name for i in range(md.num_columns)]
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            if rg.column(names.index("volume")).statistics.max > THRESHOLD:
                passing += 1
                total += sum(rg.column(names.index(c)).total_compressed_size for c in ("date", "close", "volume"))
    return footers, footers + total, passing


def lakegui_query(client, listing: dict) -> dict:
    from lakegui.core.lake.dataset import LakeDataset, collect
    from lakegui.core.lake.filters import parse_filter
    from lakegui.core.lake.select import Selection, select_files

    t0 = time.perf_counter()
    sel = Selection.of(symbol=QUERY_SYMBOLS, year=range(QUERY_YEARS[0], QUERY_YEARS[1] + 1))
    selected = select_files(client, BUCKET, HIVE, sel, listing=listing)
    listed = time.perf_counter() - t0
    ds = LakeDataset(client, BUCKET, selected.files, field_names=HIVE.field_names, raw=True)
    table, totals = collect(ds.scan(COLUMNS, parse_filter(FILTER)), pruned=ds.files_pruned)
    seconds = time.perf_counter() - t0
    assert not totals.failures, totals.failures
    return {"seconds": seconds, "listing_seconds": listed, "rows": table.num_rows, "files": totals.files,
            "row_groups_read": totals.row_groups_read, "row_groups_skipped": totals.row_groups_skipped,
            "requests": totals.requests, "bytes": totals.bytes_read}


def duckdb_query(sw, work: Path) -> dict:
    con = duckdb_connection(sw, work)
    files = ", ".join(f"'s3://{BUCKET}/{k}'" for k in selected_keys())
    sql = (f"SELECT date, close, symbol, year FROM read_parquet([{files}], hive_partitioning = true) "
           f"WHERE volume > {THRESHOLD}")
    t0 = time.perf_counter()
    table = con.execute(sql).to_arrow_table()
    seconds = time.perf_counter() - t0
    con.close()
    return {"seconds": seconds, "rows": table.num_rows}


def pyarrow_dataset_query(s3fs) -> dict:
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    t0 = time.perf_counter()
    dataset = pads.dataset(f"{BUCKET}/data/ticks/daily/", filesystem=s3fs, format="parquet", partitioning="hive")
    flt = (pc.field("symbol").isin(QUERY_SYMBOLS) & (pc.field("year") >= QUERY_YEARS[0])
           & (pc.field("year") <= QUERY_YEARS[1]) & (pc.field("volume") > THRESHOLD))
    table = dataset.to_table(columns=COLUMNS + ["symbol", "year"], filter=flt)
    return {"seconds": time.perf_counter() - t0, "rows": table.num_rows}


def gets_by_key(client, listing: dict) -> collections.Counter:
    """Run the query once with every ranged GET recorded, per key (listings are not GETs of a key):
    those a phase sends together (phases.LoopFetch) and any a file sends alone (RawGets)."""
    from lakegui.core.lake import fetch, phases

    seen: collections.Counter = collections.Counter()
    original, original_run = fetch.RawGets.get_object, phases.LoopFetch.run

    def record(self, **params):
        seen[params["Key"]] += 1
        return original(self, **params)

    def record_phase(self, jobs, cancelled):
        for rf, _, _ in jobs:
            if rf.error is None:
                seen[rf.key] += 1
        return original_run(self, jobs, cancelled)

    fetch.RawGets.get_object, phases.LoopFetch.run = record, record_phase
    try:
        lakegui_query(client, listing)
    finally:
        fetch.RawGets.get_object, phases.LoopFetch.run = original, original_run
    return seen


def schema_scan(client, files) -> dict:
    from lakegui.core.lake.schema import SCAN_CONCURRENCY, scan_schemas

    t0 = time.perf_counter()
    report = scan_schemas(client, BUCKET, files, concurrency=SCAN_CONCURRENCY, raw=True)
    return {"seconds": time.perf_counter() - t0, "files": report.files, "schemas": len(report.groups),
            "requests": report.requests}


def suffix_gets(client, files) -> dict:
    """The floor: the same GETs as the scan sends them (presigned, RawGets' kept-alive http.client
    connections, 32 threads), nothing parsed."""
    from lakegui.core.lake.fetch import RawGets
    from lakegui.core.lake.schema import SCAN_CONCURRENCY

    client = RawGets(client)

    def get(f):
        return len(client.get_object(Bucket=BUCKET, Key=f.key, Range="bytes=-65536")["Body"].read())

    t0 = time.perf_counter()
    with ThreadPoolExecutor(SCAN_CONCURRENCY) as pool:
        n = sum(pool.map(get, files))
    return {"seconds": time.perf_counter() - t0, "bytes": n}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--symbols", type=int, default=200)
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-query-bench-") as (work, sw):
        return run(args, work, sw)


def run(args, work: Path, sw) -> int:
    from lakegui.core.connection import Connection, ConnectionProfile, StaticCredentials
    from lakegui.core.lake.select import Selection, select_files

    conn = Connection(ConnectionProfile.from_options(endpoint_url=sw.endpoint_url, bucket=BUCKET),
                      credentials=StaticCredentials(sw.access_key, sw.secret_key), concurrency=32)
    client = conn.client()
    client.create_bucket(Bucket=BUCKET)
    listing = {"raw": True, "verify": True}
    t0 = time.perf_counter()
    bodies = seed(client, symbols(args.symbols))
    size = sum(len(b) for b in bodies.values())
    print(f"{len(bodies):,} files, {size / 1e6:.1f} MB seeded in {time.perf_counter() - t0:.0f} s "
          f"({pq.read_metadata(io.BytesIO(next(iter(bodies.values())))).num_row_groups} row groups each)", flush=True)
    footers, can_match, passing = can_match_bytes(bodies)

    s3fs = pyarrow_fs(sw)
    duck = duckdb_connection(sw, work)
    if duck is not None:
        duck.close()
    results: dict[str, list] = collections.defaultdict(list)
    runs = [("lakegui", lambda: lakegui_query(client, listing)),
            ("pyarrow.dataset", lambda: pyarrow_dataset_query(s3fs))]
    if duck is not None:
        runs.append(("duckdb httpfs", lambda: duckdb_query(sw, work)))
    for r in range(args.rounds):
        for name, fn in (runs if r % 2 == 0 else runs[::-1]):
            res = fn()
            results[name].append(res)
            print(f"round {r + 1} {name}: {json.dumps(res)}", flush=True)
    rows = {name: {res["rows"] for res in rs} for name, rs in results.items()}
    assert len(set().union(*rows.values())) == 1, rows

    gets = gets_by_key(client, listing)
    outside = sorted(k for k in gets if k and k not in set(selected_keys()))

    files = select_files(client, BUCKET, HIVE, Selection(), listing=listing).files
    for r in range(args.rounds):
        for name, fn in ((("schema scan", lambda: schema_scan(client, files)),
                          ("64 KB GETs", lambda: suffix_gets(client, files)))[:: 1 if r % 2 == 0 else -1]):
            res = fn()
            results[name].append(res)
            print(f"round {r + 1} {name}: {json.dumps(res)}", flush=True)

    med = lambda name, field="seconds": statistics.median(x[field] for x in results[name])
    ours = med("lakegui")
    last = results["lakegui"][-1]
    print()
    print(f"## query: {len(QUERY_SYMBOLS)} symbols x {QUERY_YEARS[1] - QUERY_YEARS[0] + 1} years, "
          f"{len(COLUMNS)} of 8 columns, {FILTER} ({last['rows']:,} rows)")
    print(f"lakegui: {ours * 1000:.0f} ms (median; listing {med('lakegui', 'listing_seconds') * 1000:.0f} ms), "
          f"{last['requests']} GETs, {last['bytes']:,} bytes, row groups {last['row_groups_read']} read / "
          f"{last['row_groups_skipped']} skipped")
    for name in ("duckdb httpfs", "pyarrow.dataset"):
        if name in results:
            print(f"{name}: {med(name) * 1000:.0f} ms; lakegui/{name} = {ours / med(name):.2f}")
    print(f"bytes: footers {footers:,} + chunks that can match ({passing} row groups) = {can_match:,}; "
          f"lakegui read {last['bytes']:,} = {last['bytes'] / can_match:.2f}x")
    print(f"GETs outside the selection: {len(outside)} {outside[:5]}; GETs per selected key: "
          f"{sorted(collections.Counter(v for k, v in gets.items() if k).items())}")
    scan, baseline = med("schema scan"), med("64 KB GETs")
    print(f"schema scan of {len(files):,} files: {scan * 1000:.0f} ms; {len(files):,} concurrent 64 KB GETs: "
          f"{baseline * 1000:.0f} ms; ratio {scan / baseline:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "footers": footers, "can_match": can_match,
                                               "outside": outside}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
