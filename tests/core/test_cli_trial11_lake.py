"""Trial B's findings on the lake as a table and coverage (session 11), as a user meets them in
`lakegui-cli` (moto in-process): the prefix one browses to given to coverage, an empty layout,
rows = cols, --where values that cannot be, filters that rule out every file, --out checked up
front, usage exit codes, plurals, and a reader that closes the pipe."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui.cli import main
from lakegui.core.layouts import DAILY_TICKS

CELLS = [("AAPL", 2022), ("AAPL", 2023), ("KO", 2022)]


def _parquet(n: int = 2) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"date": [f"2022-01-0{i + 1}" for i in range(n)], "close": [1.0 + i for i in range(n)],
                             "volume": [100 * (i + 1) for i in range(n)]}), buf)
    return buf.getvalue()


@pytest.fixture
def lake(s3):
    s3.create_bucket(Bucket="lake")
    body = _parquet()
    for sym, year in CELLS:
        s3.put_object(Bucket="lake", Key=DAILY_TICKS.key(symbol=sym, year=year), Body=body)
    return s3


def test_coverage_of_the_layout_s_own_folder_reads_the_layout(lake, capsys):
    assert main(["coverage", "s3://lake/data/ticks/daily/", "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["prefix"] == "data/ticks/daily/" and doc["rows"] == ["AAPL", "KO"] and doc["present"] == 3
    assert "is the layout 'daily-ticks''s own folder" in err and "from s3://lake/" in err


def test_coverage_of_an_empty_layout_says_nothing_matched_and_exits_1(lake, capsys):
    assert main(["coverage", "s3://lake/", "--template", "minute-ticks"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("lakegui-cli: no file matches s3://lake/data/ticks/minute/") and \
        "nothing is under s3://lake/data/ticks/minute/" in err


def test_coverage_rows_and_cols_of_one_field_is_a_usage_error(lake, capsys):
    assert main(["coverage", "s3://lake/", "--cols", "symbol"]) == 2
    assert "cannot both be 'symbol'" in capsys.readouterr().err


def test_coverage_counts_in_the_singular(lake, capsys):
    lake.put_object(Bucket="lake", Key="data/ticks/daily/AAPL/2023/ticks.parquet.tmp", Body=b"x")
    assert main(["coverage", "s3://lake/"]) == 0
    err = capsys.readouterr().err
    assert "1 key not in the layout" in err and "3 cells present" in err
