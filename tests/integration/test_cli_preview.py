"""`lakegui-cli preview` (issue 17, item 1) against a real HTTP endpoint (moto's server): the demo
lake's files, pyarrow and pandas Parquet of every kind the pane renders, and files that cannot be
read, which exit 1 with one line and never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.cli import main
from tests.integration.test_cli_transfers import client
from tests.support.parquetdata import pandas_parquet_bytes, parquet_bytes, rich_table

pytestmark = pytest.mark.integration
BUCKET = "cli-preview"


@pytest.fixture
def lake(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)

    def put(key: str, body: bytes) -> str:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return f"s3://{BUCKET}/{key}"

    put.url, put.s3 = moto_endpoint, s3
    return put


def run(lake, *args) -> tuple[int, str, str]:
    """main() in-process, as the console script calls it."""
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["preview", *args, "--endpoint-url", lake.url])
    return code, out.getvalue(), err.getvalue()


def preview_json(lake, uri: str, *args) -> dict:
    code, out, err = run(lake, uri, "--json", *args)
    assert code == 0, err
    return json.loads(out)


FIELDS = {"uri", "size", "kind", "rows", "row_groups", "columns", "head", "requests", "bytes_read"}


def demo_files() -> dict[str, tuple[str, bytes]]:
    from lakegui.core.demo import demo_objects

    found = {}
    for obj in demo_objects():
        kind = obj.key.rsplit(".", 1)[-1]
        if kind in ("parquet", "json", "csv") and kind not in found:
            found[kind] = (obj.key, obj.body)
        if len(found) == 3:
            return found
    raise AssertionError(f"the demo lake lacks {set(('parquet', 'json', 'csv')) - set(found)}")


def test_demo_lake_parquet_json_and_csv(lake):
    files = demo_files()
    key, body = files["parquet"]
    uri = lake(key, body)
    code, out, err = run(lake, uri, "--rows", "3")
    assert code == 0, err
    assert "rows 252 · row groups 1 · columns 6" in out or "row groups 1" in out
    assert "created by parquet-cpp-arrow" in out
    assert "schema:" in out and "  date: date32[day] (INT32)" in out
    table = out.split("first 3 of")[1].splitlines()[1:]
    assert table[0].split() == ["date", "open", "high", "low", "close", "volume"]
    assert set(table[1]) == {"-", " "} and len(table) == 5
    assert "read 2 requests" in err  # HEAD, and one suffix read holding the whole (small) file
    doc = preview_json(lake, uri, "--rows", "2")
    assert set(doc) == FIELDS and doc["kind"] == "parquet" and doc["size"] == len(body)
    assert [c["name"] for c in doc["columns"]] == ["date", "open", "high", "low", "close", "volume"]
    assert len(doc["head"]) == 2 and doc["head"][0]["date"].count("-") == 2

    key, body = files["json"]
    uri = lake(key, body)
    doc = preview_json(lake, uri)
    assert set(doc) == FIELDS | {"value"} and doc["kind"] == "json"
    assert doc["value"] == json.loads(body)
    code, out, _ = run(lake, uri)
    assert code == 0 and json.dumps(json.loads(body), indent=2) in out

    key, body = files["csv"]
    uri = lake(key, body)
    doc = preview_json(lake, uri, "--rows", "2")
    assert doc["kind"] == "csv" and [c["name"] for c in doc["columns"]] == ["symbol", "name", "sector", "exchange"]
    assert len(doc["head"]) == 2 and doc["rows"] == body.count(b"\n") - 1
    code, out, _ = run(lake, uri, "--rows", "2")
    lines = out.splitlines()
    assert code == 0 and lines[1].split() == ["symbol", "name", "sector", "exchange"]


def test_rich_pyarrow_file_every_type(lake):
    table = rich_table(3000)
    uri = lake("rich.parquet", parquet_bytes(table, row_group_size=1000))
    doc = preview_json(lake, uri, "--rows", "3")
    assert doc["rows"] == 3000 and doc["row_groups"] == 3 and len(doc["columns"]) == 9
    types = {c["name"]: c["type"] for c in doc["columns"]}
    assert types["symbol"].startswith("dictionary<values=string")
    assert types["timestamp"] == "timestamp[us, tz=America/New_York]"
    first, second = doc["head"][0], doc["head"][1]
    assert first["timestamp"] == "2024-01-02T09:30:00-05:00"  # zoned: shown in the file's zone
    assert first["symbol"] in ("AAPL", "MSFT", "NVDA")
    assert first["price"] == f"{table.column('close')[0].as_py():.2f}"  # exact decimal, as text
    assert first["note"] == "row 0" and second["note"] is None  # nulls
    assert first["tags"] == [] and second["tags"] == ["a"]  # nested lists
    assert set(first["quote"]) == {"bid", "ask"}  # structs
    assert first["raw"] == "0x00ff"
    code, out, err = run(lake, uri, "--rows", "2")
    assert code == 0, err
    assert "quote: struct<bid: double, ask: double>" in out and "    bid: double (DOUBLE)" in out
    assert "2024-01-02 09:30:00-05:00" in out


def test_row_group_and_columns(lake):
    uri = lake("rich.parquet", parquet_bytes(rich_table(3000), row_group_size=1000))
    doc = preview_json(lake, uri, "--rows", "2", "--row-group", "2", "--columns", "close,volume")
    assert list(doc["head"][0]) == ["close", "volume"]
    assert doc["requests"] <= 2 + 2
    expect = rich_table(3000).column("close")[2000].as_py()
    assert doc["head"][0]["close"] == expect
    assert run(lake, uri, "--row-group", "3")[0] == 2
    code, _, err = run(lake, uri, "--columns", "close,nope")
    assert code == 2 and "no column named nope" in err


def test_pandas_file(lake):
    uri = lake("pandas.parquet", pandas_parquet_bytes(500))
    doc = preview_json(lake, uri, "--rows", "2")
    assert doc["rows"] == 500 and doc["row_groups"] == 5
    assert [c["name"] for c in doc["columns"]] == ["date", "close", "volume", "day"]
    assert doc["head"][0] == {"date": "2024-01-01T00:00:00+00:00", "close": 10.0, "volume": 0, "day": "d0"}


def test_zero_rows_and_zero_row_groups(lake):
    schema = pa.schema([("a", pa.int64()), ("b", pa.string())])
    empty = io.BytesIO()
    pq.write_table(schema.empty_table(), empty)
    none = io.BytesIO()
    pq.ParquetWriter(none, schema).close()
    assert pq.read_metadata(io.BytesIO(none.getvalue())).num_row_groups == 0
    for key, body in (("empty.parquet", empty.getvalue()), ("none.parquet", none.getvalue())):
        doc = preview_json(lake, lake(key, body))
        assert doc["rows"] == 0 and doc["head"] == [] and [c["name"] for c in doc["columns"]] == ["a", "b"]
        code, out, _ = run(lake, f"s3://{BUCKET}/{key}")
        assert code == 0 and "no rows" in out
    assert preview_json(lake, f"s3://{BUCKET}/none.parquet")["row_groups"] == 0


def test_text_file_first_lines(lake):
    uri = lake("logs/run.log", "".join(f"line {i}\n" for i in range(100)).encode())
    doc = preview_json(lake, uri, "--rows", "3")
    assert set(doc) == FIELDS | {"text"} and doc["text"] == "line 0\nline 1\nline 2\n"
    code, out, _ = run(lake, uri, "--rows", "3")
    assert code == 0 and out.splitlines()[1:4] == ["line 0", "line 1", "line 2"]


def test_version_id(lake):
    lake.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    old = lake.s3.put_object(Bucket=BUCKET, Key="v.json", Body=b'{"v": 1}')["VersionId"]
    lake.s3.put_object(Bucket=BUCKET, Key="v.json", Body=b'{"v": 2, "more": true}')
    uri = f"s3://{BUCKET}/v.json"
    assert preview_json(lake, uri)["value"] == {"v": 2, "more": True}
    assert preview_json(lake, uri, "--version-id", old)["value"] == {"v": 1}
    table = pa.table({"x": [1, 2, 3]})
    lake.s3.put_object(Bucket=BUCKET, Key="v.parquet", Body=parquet_bytes(table))
    first = lake.s3.list_object_versions(Bucket=BUCKET, Prefix="v.parquet")["Versions"][0]["VersionId"]
    lake.s3.put_object(Bucket=BUCKET, Key="v.parquet", Body=parquet_bytes(pa.table({"x": [9]})))
    assert [r["x"] for r in preview_json(lake, "s3://cli-preview/v.parquet", "--version-id", first)["head"]] == [1, 2, 3]


def _one_line_exit_1(lake, uri: str, *words: str) -> str:
    code, out, err = run(lake, uri)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith((f"lakegui-cli: {uri}: ", f"lakegui-cli: {uri} is ")), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def test_files_that_cannot_be_read(lake):
    good = parquet_bytes(rich_table(2000), row_group_size=1000)
    _one_line_exit_1(lake, lake("zero.parquet", b""), "empty (0 bytes)")
    _one_line_exit_1(lake, lake("zero.json", b""), "empty (0 bytes)")
    _one_line_exit_1(lake, lake("truncated.parquet", good[: len(good) // 2]), "is not a Parquet file: it does not")
    _one_line_exit_1(lake, lake("text.parquet", b"symbol,close\nAAPL,1\n" * 100),
                     "text.parquet is not a Parquet file: it does not end in PAR1")  # as query and schema say it
    _one_line_exit_1(lake, lake("bad.json", b'{"a": 1,'), "Not valid JSON")
    _one_line_exit_1(lake, lake("bin.csv", bytes(range(256)) * 10), "binary data")
    # corrupt: the first data page's bytes overwritten, the footer intact
    md = pq.read_metadata(io.BytesIO(good))
    col = md.row_group(0).column(2)
    start = col.data_page_offset
    corrupt = good[:start] + bytes([0xFF]) * 64 + good[start + 64:]
    code, out, err = run(lake, lake("corrupt.parquet", corrupt), "--columns", "close")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "cannot be read" in err, err
    code, _, err = run(lake, f"s3://{BUCKET}/missing.parquet")
    assert code == 1 and "not found" in err and len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(lake):
    assert run(lake, f"s3://{BUCKET}/")[0] == 2  # a prefix, not an object
    assert run(lake, "cli-preview/k.parquet")[0] == 2
    assert run(lake, f"s3://{BUCKET}/k.parquet", "--rows", "-1")[0] == 2


def test_subprocess_exit_codes_and_no_traceback(lake):
    uri = lake("truncated.parquet", b"PAR1" + b"\0" * 100)
    r = subprocess.run([sys.executable, "-m", "lakegui.cli", "preview", uri, "--endpoint-url", lake.url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "lakegui.cli", "preview"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2


def test_large_file_reads_a_sliver(lake, tmp_path):
    """Requests and bytes within the pane's targets: at most 2 + shown columns GETs (the HEAD counted)
    and 2% of the file. (bench/preview_cli.py does this on 1 GiB.)"""
    rng = np.random.default_rng(5)
    rows = 3_000_000
    table = pa.table({f"c{i}": rng.normal(100, 5, rows) for i in range(4)})
    path = tmp_path / "big.parquet"
    # Plain pages: random doubles would first fill a 1 MiB dictionary page per chunk (a real cost, but
    # one of this synthetic data; the benchmark's ticks have small dictionaries).
    pq.write_table(table, path, row_group_size=750_000, compression="none", use_dictionary=False)
    size = path.stat().st_size
    assert size > 90 << 20
    lake.s3.upload_file(str(path), BUCKET, "big.parquet")
    doc = preview_json(lake, f"s3://{BUCKET}/big.parquet", "--rows", "10")
    assert doc["size"] == size and len(doc["head"]) == 10 and len(doc["head"][0]) == 4
    assert doc["requests"] <= 2 + 4, doc["requests"]
    assert doc["bytes_read"] <= 0.02 * size, (doc["bytes_read"], size)
