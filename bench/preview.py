"""Preview benchmark (issue 5): the first rows of a 1 GiB Parquet file on loopback SeaweedFS,
against pyarrow (read_table on S3FileSystem, and its own first batch) and DuckDB's httpfs,
in the same run.

    .venv/bin/pip install '.[bench]'
    .venv/bin/python bench/preview.py --rounds 3

Files: a 20-column tick table of about 1 GiB in 8+ row groups, and a narrow one (4 columns,
8 row groups). For lakegui: requests, bytes and time for footer + schema + statistics + the first
100 rows of every column; the jump to row 1,000,000 (which row groups it read); the GUI's time
from selecting the file to the rows on screen.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bench.transfers import seaweedfs  # noqa: E402
from tests.support.endpoints import SeaweedFS  # noqa: E402

BUCKET = "preview-bench"
MIB = 1 << 20


def tick_batch(rng: np.random.Generator, start_s: int, rows: int, columns: int, price: float) -> pa.Table:
    """Second bars of one symbol: prices on a random walk in cents, sizes and counts as ints."""
    ts = (np.int64(start_s) + np.arange(rows, dtype=np.int64)) * 1_000_000
    walk = price + np.cumsum(rng.normal(0, 0.02, rows))
    cents = lambda a: np.round(a, 2)  # noqa: E731
    cols = {
        "timestamp": pa.array(ts, pa.timestamp("us", tz="America/New_York")),
        "symbol": pa.array(np.full(rows, "AAPL")).dictionary_encode(),
        "close": cents(walk),
        "volume": rng.integers(100, 50_000, rows),
    }
    extra = {
        "open": lambda: cents(walk + rng.normal(0, 0.01, rows)),
        "high": lambda: cents(walk + np.abs(rng.normal(0, 0.02, rows))),
        "low": lambda: cents(walk - np.abs(rng.normal(0, 0.02, rows))),
        "vwap": lambda: cents(walk + rng.normal(0, 0.005, rows)),
        "bid": lambda: cents(walk - 0.01),
        "ask": lambda: cents(walk + 0.01),
        "bid_size": lambda: rng.integers(1, 5_000, rows),
        "ask_size": lambda: rng.integers(1, 5_000, rows),
        "trades": lambda: rng.integers(1, 400, rows),
        "spread_bps": lambda: np.round(rng.gamma(2.0, 0.5, rows), 3),
        "return_bps": lambda: np.round(rng.normal(0, 3, rows), 3),
        "imbalance": lambda: np.round(rng.uniform(-1, 1, rows), 4),
        "venue": lambda: pa.array(rng.choice(["XNAS", "XNYS", "ARCX", "BATS", "IEXG"], rows)).dictionary_encode(),
        "condition": lambda: pa.array(rng.choice(["@", "F", "T", "I", "O"], rows)).dictionary_encode(),
        "sequence": lambda: np.arange(start_s, start_s + rows, dtype=np.int64),
        "notional": lambda: np.round(walk * rng.integers(100, 50_000, rows), 2),
    }
    for name in list(extra)[: columns - 4]:
        cols[name] = extra[name]()
    return pa.table(cols)


def write_file(path: Path, columns: int, target_bytes: int, row_group: int) -> dict:
    rng = np.random.default_rng(20261123)
    writer, start, price, rows = None, 1_700_000_000, 180.0, 0
    while writer is None or path.stat().st_size < target_bytes or rows < 8 * row_group:
        table = tick_batch(rng, start, row_group, columns, price)
        price = float(table.column("close")[-1].as_py())
        start += row_group
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=row_group)
        rows += row_group
    writer.close()
    md = pq.read_metadata(path)
    return {"bytes": path.stat().st_size, "rows": md.num_rows, "row_groups": md.num_row_groups,
            "columns": md.num_columns, "created_by": md.created_by}


def lakegui_first_view(client, key: str, size: int, etag: str) -> dict:
    from lakegui.core.preview.parquet import ParquetPreview
    from lakegui.core.preview.rangefile import RangeFile

    t0 = time.perf_counter()
    f = RangeFile(client, BUCKET, key, size, etag=etag)
    p = ParquetPreview(f)
    p.summary(), p.schema(), p.chunk_stats()
    head = p.head(n=100)
    first = time.perf_counter() - t0
    out = {"seconds": first, "requests": f.requests, "bytes": f.bytes_fetched, "rows": head.num_rows,
           "columns": head.num_columns}
    if p.num_rows > 1_000_000:
        spans = []
        fetch = f._fetch
        f._fetch = lambda s, e: (spans.append((s, e)), fetch(s, e))[1]
        r0, b0, t1 = f.requests, f.bytes_fetched, time.perf_counter()
        g, block = p.block_of(1_000_000)
        p.block(g, block)
        groups = set()
        for s, e in spans:
            for i in range(p.metadata.num_row_groups):
                lo = min(a for a, _ in p.chunk_ranges(i, p.column_names))
                hi = max(b for _, b in p.chunk_ranges(i, p.column_names))
                if s < hi and e > lo:
                    groups.add(i)
        out["row_1m"] = {"seconds": time.perf_counter() - t1, "requests": f.requests - r0,
                         "bytes": f.bytes_fetched - b0, "row_group": g, "row_groups_read": sorted(groups)}
    return out


def pyarrow_fs(sw: SeaweedFS):
    from pyarrow import fs

    return fs.S3FileSystem(access_key=sw.access_key, secret_key=sw.secret_key, scheme="http",
                           endpoint_override=sw.endpoint_url.split("://")[1], region="us-east-1")


def pyarrow_read_table(s3fs, key: str) -> dict:
    t0 = time.perf_counter()
    table = pq.read_table(f"{BUCKET}/{key}", filesystem=s3fs)
    head = table.slice(0, 100)
    return {"seconds": time.perf_counter() - t0, "rows": head.num_rows}


def pyarrow_first_batch(s3fs, key: str) -> dict:
    t0 = time.perf_counter()
    with s3fs.open_input_file(f"{BUCKET}/{key}") as f:
        batch = next(pq.ParquetFile(f).iter_batches(batch_size=100))
    return {"seconds": time.perf_counter() - t0, "rows": batch.num_rows}


def duckdb_connection(sw: SeaweedFS, work: Path):
    """A fresh DuckDB with httpfs (from the PyPI wheel, no download) and the endpoint's secret;
    None when DuckDB is not installed. Fresh each run: DuckDB caches footers per connection."""
    try:
        import duckdb
        import duckdb_extension_httpfs
    except ImportError:
        return None
    ext = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}" \
        / "httpfs.duckdb_extension"
    con = duckdb.connect(config={"extension_directory": str(work / "duckdb-ext")})
    con.execute(f"INSTALL '{ext}'")
    con.execute("LOAD httpfs")
    host = sw.endpoint_url.split("://")[1]
    con.execute(f"CREATE SECRET s (TYPE s3, KEY_ID '{sw.access_key}', SECRET '{sw.secret_key}', "
                f"ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')")
    return con


def duckdb_first_rows(sw: SeaweedFS, work: Path, key: str) -> dict:
    con = duckdb_connection(sw, work)
    t0 = time.perf_counter()
    table = con.execute(f"SELECT * FROM read_parquet('s3://{BUCKET}/{key}') LIMIT 100").to_arrow_table()
    seconds = time.perf_counter() - t0
    con.close()
    return {"seconds": seconds, "rows": table.num_rows}


def gui_first_view(sw: SeaweedFS, key: str) -> dict:
    env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
               QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "gui_preview.py"), "--endpoint-url", sw.endpoint_url,
                          "--bucket", BUCKET, "--prefix", key], env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(results: list[dict], field: str = "seconds") -> float:
    return statistics.median(r[field] for r in results)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--wide-mib", type=int, default=1024, help="size of the 20-column file (MiB)")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-preview-bench-") as (work, sw):
        return run(args, work, sw)


def run(args, work: Path, sw: SeaweedFS) -> int:
    from boto3.s3.transfer import TransferConfig

    client = sw.client()
    client.create_bucket(Bucket=BUCKET)
    files = {
        "wide.parquet": dict(columns=20, target_bytes=args.wide_mib * MIB, row_group=1_048_576),
        "narrow.parquet": dict(columns=4, target_bytes=8 * MIB, row_group=131_072),
    }
    facts = {}
    for key, spec in files.items():
        path = work / key
        t0 = time.perf_counter()
        facts[key] = write_file(path, **spec)
        client.upload_file(str(path), BUCKET, key, Config=TransferConfig(multipart_chunksize=64 * MIB))
        head = client.head_object(Bucket=BUCKET, Key=key)
        facts[key]["etag"] = head["ETag"].strip('"')
        path.unlink()
        print(f"{key}: {facts[key]['bytes'] / MIB:,.0f} MiB, {facts[key]['rows']:,} rows, "
              f"{facts[key]['row_groups']} row groups, {facts[key]['columns']} columns "
              f"(made in {time.perf_counter() - t0:.0f} s)", flush=True)

    s3fs = pyarrow_fs(sw)
    duck = duckdb_connection(sw, work)
    if duck is not None:
        duck.close()
    results: dict[str, dict[str, list]] = {k: {} for k in files}
    for r in range(args.rounds):
        for key, fact in facts.items():
            # Each lambda binds this round's key and facts (they run before the loop moves on).
            runs = [("lakegui", lambda key=key, fact=fact: lakegui_first_view(client, key, fact["bytes"],
                                                                               fact["etag"])),
                    ("lakegui GUI", lambda key=key: gui_first_view(sw, key)),
                    ("pyarrow first batch", lambda key=key: pyarrow_first_batch(s3fs, key)),
                    ("pyarrow read_table", lambda key=key: pyarrow_read_table(s3fs, key))]
            if duck is not None:
                runs.append(("duckdb httpfs", lambda key=key: duckdb_first_rows(sw, work, key)))
            for name, fn in runs:
                res = fn()
                results[key].setdefault(name, []).append(res)
                print(f"round {r + 1} {key} {name}: {json.dumps(res)}", flush=True)

    print()
    for key, fact in facts.items():
        res = results[key]
        ours = median(res["lakegui"])
        last = res["lakegui"][-1]
        print(f"## {key}: {fact['bytes'] / MIB:,.0f} MiB, {fact['rows']:,} rows, {fact['row_groups']} row groups, "
              f"{fact['columns']} columns ({fact['created_by']})")
        print(f"lakegui first view: {last['requests']} GETs, {last['bytes'] / MIB:.2f} MiB "
              f"= {100 * last['bytes'] / fact['bytes']:.2f}% of the file, {ours * 1000:.0f} ms (median)")
        print(f"lakegui GUI, selection to rows on screen: {median(res['lakegui GUI'], 'ms'):.0f} ms (median)")
        if "row_1m" in last:
            j = last["row_1m"]
            print(f"row 1,000,000 (row group {j['row_group']}): {j['requests']} GETs, {j['bytes'] / MIB:.1f} MiB, "
                  f"row groups read {j['row_groups_read']}, {j['seconds'] * 1000:.0f} ms")
        for name in res:
            if name.startswith("lakegui"):
                continue
            theirs = median(res[name])
            print(f"{name}: {theirs * 1000:.0f} ms; lakegui/{name} = {ours / theirs:.3f}")
        print()
    if args.json:
        Path(args.json).write_text(json.dumps({"files": facts, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
