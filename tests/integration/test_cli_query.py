"""lakegui-cli query and schema, as a user runs them, against moto's HTTP server seeded with the
demo lake: the output forms (table, --json, --out .parquet/.csv), field pruning on the wire
(GETs counted per key through a proxy), a corrupt file mid-query, schema drift, usage errors;
and the raw GET path's errors (gone, replaced)."""

from __future__ import annotations

import collections
import csv
import io
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.core import demo
from lakegui.core.layouts import DAILY_TICKS
from tests.integration.test_cli_transfers import cli, client
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration
B = demo.DEMO_BUCKET
QUERY = ["--template", "daily-ticks", "--where", "symbol=AAPL,MSFT", "--where", "year=2021..2023",
         "--columns", "date,close", "--filter", "volume > 50000000"]


@pytest.fixture
def lake(moto_endpoint):
    c = client(moto_endpoint)
    demo.seed(c, B)
    return c


def expected_rows() -> int:
    n = 0
    for s in ("AAPL", "MSFT"):
        for y in (2021, 2022, 2023):
            t = demo.daily_table(s, y)
            n += sum(1 for v in t["volume"].to_pylist() if v > 50_000_000)
    return n


def test_json_document(lake, moto_endpoint):
    proc, doc = cli("query", f"s3://{B}/", "--endpoint-url", moto_endpoint, *QUERY, "--limit", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    assert set(doc) == {"files", "row_groups_read", "row_groups_skipped", "requests", "bytes_read", "rows",
                        "columns", "head"}
    assert doc["files"] == 6 and doc["rows"] == expected_rows() > 0
    assert doc["columns"] == ["date", "close", "symbol", "year"]
    assert len(doc["head"]) == 5 and set(doc["head"][0]) == {"date", "close", "symbol", "year"}
    assert doc["head"][0]["symbol"] == "AAPL" and doc["head"][0]["year"] == 2021
    assert doc["head"][0]["date"].startswith("2021-")
    assert doc["requests"] >= 6 and doc["bytes_read"] > 0
    assert doc["row_groups_read"] + doc["row_groups_skipped"] == 6     # one row group per demo file


def test_table_and_out_files(lake, moto_endpoint, tmp_path):
    args = ["query", f"s3://{B}/", "--endpoint-url", moto_endpoint, *QUERY]
    proc, _ = cli(*args, "--limit", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["date", "close", "symbol", "year"] and len(lines) == 4
    assert lines[1].split()[2:] == ["AAPL", "2021"]
    assert f"{expected_rows():,} rows (first 3 shown" in proc.stderr and "6 files" in proc.stderr

    out = tmp_path / "closes.parquet"
    proc, _ = cli(*args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {expected_rows():,} rows x 4 columns to {out}")
    table = pq.read_table(out)
    assert table.num_rows == expected_rows() and table.column_names == ["date", "close", "symbol", "year"]

    out = tmp_path / "closes.csv"
    proc, doc = cli(*args, "--out", str(out), "--json", "--limit", "2")
    assert proc.returncode == 0 and doc["rows"] == expected_rows() and len(doc["head"]) == 2
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == expected_rows() and set(rows[0]) == {"date", "close", "symbol", "year"}


def test_no_get_outside_the_selection_on_the_wire(lake, moto_endpoint):
    requests = []

    def record(method, path):
        requests.append((method, unquote(path.split("?")[0])))
        return False

    with FaultProxy(moto_endpoint, rate=1.0, when=record) as proxy:
        proc, doc = cli("query", f"s3://{B}/", "--endpoint-url", proxy.url, *QUERY, "--json")
    assert proc.returncode == 0, proc.stderr
    gets = collections.Counter(p for m, p in requests if m == "GET" and p.endswith(".parquet"))
    chosen = {f"/{B}/" + DAILY_TICKS.key(symbol=s, year=y) for s in ("AAPL", "MSFT") for y in (2021, 2022, 2023)}
    assert set(gets) == chosen and sum(gets.values()) == doc["requests"]
    assert not [r for r in requests if r[0] == "HEAD"]
    lists = [p for m, p in requests if m == "GET" and not p.endswith(".parquet")]
    assert len(lists) == 2          # one listing per symbol's prefix


def test_a_corrupt_file_mid_query_fails_that_file_only(lake, moto_endpoint):
    bad = DAILY_TICKS.key(symbol="MSFT", year=2022)
    lake.put_object(Bucket=B, Key=bad, Body=b"PAR1 not really parquet, no footer")
    proc, doc = cli("query", f"s3://{B}/", "--endpoint-url", moto_endpoint, *QUERY, "--json")
    assert proc.returncode == 1
    assert f"s3://{B}/{bad} is not a Parquet file" in proc.stderr
    assert doc["files"] == 6 and 0 < doc["rows"] < expected_rows()


def test_schema_text_and_json(lake, moto_endpoint):
    t = demo.daily_table("NVDA", 2023)
    drifted = t.set_column(t.schema.get_field_index("volume"), "volume", t["volume"].cast(pa.float64()))
    sink = io.BytesIO()
    pq.write_table(drifted, sink)
    key = DAILY_TICKS.key(symbol="NVDA", year=2023)
    lake.put_object(Bucket=B, Key=key, Body=sink.getvalue())
    args = ["schema", f"s3://{B}/", "--endpoint-url", moto_endpoint, "--template", "daily-ticks"]
    proc, doc = cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    present = len(demo.SYMBOLS) * len(demo.YEARS) - len(demo.DAILY_GAPS)
    assert doc["files"] == present
    assert [(s["count"], s["majority"]) for s in doc["schemas"]] == [(present - 1, True), (1, False)]
    assert doc["schemas"][0]["columns"][0] == {"name": "date", "type": "date32[day]", "nullable": True}
    assert doc["outliers"] == [{"key": key, "differences": ["column 'volume': type int64 -> double"]}]

    proc, _ = cli(*args, "--where", "symbol=NVDA,AAPL")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "schema 1 (majority): 9 of 10 files" in out and "schema 2: 1 of 10 files" in out
    assert f"  {key}: column 'volume': type int64 -> double" in out


@pytest.mark.parametrize("extra,message", [
    (["--where", "sector=tech"], "has no field 'sector'"),
    (["--where", "year"], "expected FIELD=V1,V2 or FIELD=A..B"),
    (["--filter", "volume >"], "expected a value at the end"),
    (["--out", "rows.xlsx"], "must end in .parquet or .csv"),
    (["--template", "nope"], "no layout named 'nope'"),
])
def test_usage_errors_exit_2(moto_endpoint, extra, message):
    args = ["query", f"s3://{B}/", "--endpoint-url", moto_endpoint, "--template", "daily-ticks", *extra]
    proc, _ = cli(*args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_raw_gets_report_a_gone_or_replaced_object(lake, moto_endpoint):
    from lakegui.core.lake.dataset import LakeDataset
    from lakegui.core.lake.select import Selection, select_files

    files = select_files(lake, B, DAILY_TICKS, Selection.parse(["symbol=JPM", "year=2020..2021"])).files
    lake.delete_object(Bucket=B, Key=files[0].key)
    lake.put_object(Bucket=B, Key=files[1].key, Body=demo._parquet(demo.daily_table("V", 2023)))
    batches = list(LakeDataset(lake, B, files, raw=True).scan(["close"]))
    gone, replaced = batches[0].error, batches[1].error
    assert gone == f"s3://{B}/{files[0].key} was not found: it may have been deleted or renamed."
    assert "changed" in replaced, replaced


def test_backfill_of_a_drifted_local_file(lake, moto_endpoint, tmp_path):
    root = tmp_path / "local"
    root.mkdir()
    (root / "AAPL_2025.parquet").write_bytes(demo._parquet(demo.daily_table("AAPL", 2024)))   # as the lake
    t = demo.daily_table("MSFT", 2024)
    drifted = t.append_column("vwap", t["close"])                                            # a column added
    sink = io.BytesIO()
    pq.write_table(drifted, sink)
    (root / "MSFT_2025.parquet").write_bytes(sink.getvalue())
    common = ["backfill", str(root), f"s3://{B}/", "--endpoint-url", moto_endpoint, "--template", "daily-ticks"]

    proc, doc = cli(*common, "--dry-run", "--json")
    assert proc.returncode == 1, "a drifted file fails the plan unless drift is allowed"
    assert doc["counts"] == {"new": 1, "exists-same": 0, "exists-different": 0, "schema-differs": 1, "invalid": 0}
    item = next(i for i in doc["items"] if i["status"] == "schema-differs")
    assert item["local_path"].endswith("MSFT_2025.parquet") and "column 'vwap' is extra (double)" in item["reason"]
    proc, _ = cli(*common, "--dry-run")
    assert "schema-differs   MSFT_2025.parquet: its schema differs from the lake's" in proc.stdout
    assert "1 schema differs" in proc.stderr
    proc, _ = cli(*common, "--dry-run", "--allow-schema-drift", "--json")
    assert proc.returncode == 0

    proc, doc = cli(*common, "--json", "--name", "strict")
    assert proc.returncode == 1 and doc["done"] == 1 and doc["failed"] == 1
    assert "--allow-schema-drift" in doc["failures"][0]["error"]
    proc, doc = cli(*common, "--json", "--name", "lenient", "--allow-schema-drift")
    assert proc.returncode == 0, proc.stderr
    assert doc["done"] == 1 and doc["skipped"] == 1          # AAPL went before, same content
    assert "vwap" in pq.read_schema(io.BytesIO(lake.get_object(
        Bucket=B, Key=DAILY_TICKS.key(symbol="MSFT", year=2025))["Body"].read())).names


def test_a_column_no_file_has_is_named(lake, moto_endpoint):
    args = ["query", f"s3://{B}/", "--endpoint-url", moto_endpoint, "--template", "daily-ticks",
            "--where", "symbol=AAPL"]
    proc, _ = cli(*args, "--columns", "date,nope")
    assert proc.returncode == 1 and "no file read has a column named 'nope'" in proc.stderr
    proc, _ = cli(*args, "--columns", "date", "--filter", "vwap > 1")
    assert proc.returncode == 1 and "no file read has a column named 'vwap'" in proc.stderr


def test_a_query_loads_no_pandas(lake, moto_endpoint):
    """pyarrow imports pandas on its first conversion of a Python value (0.3 s and more, beyond the
    whole query): the filter's literals, its IN list and the field columns are built from bytes."""
    from tests.core.test_cli_startup import loaded

    code, modules = loaded("query", f"s3://{B}/", "--endpoint-url", moto_endpoint, "--template", "daily-ticks",
                           "--where", "symbol=AAPL,MSFT", "--where", "year=2021..2023", "--columns", "date,close",
                           "--filter", "volume > 50000000 AND date >= '2021-02-01' AND symbol in (AAPL, MSFT)",
                           "--json")
    assert code == 0 and "pyarrow" in modules
    assert "pandas" not in modules
