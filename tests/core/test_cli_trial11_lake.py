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


def test_a_filter_that_rules_out_every_file_by_its_fields_finds_no_file(lake, capsys):
    base = ["query", "s3://lake/", "--template", "daily-ticks", "--where", "symbol=AAPL"]
    assert main(base + ["--filter", "year >= 2030"]) == 1   # as --where year=2030 does
    out, err = capsys.readouterr()
    assert out == "" and err == ("lakegui-cli: no file matches s3://lake/data/ticks/daily/{symbol}/{year}/ticks.parquet "
                                 "(layout 'daily-ticks') with symbol in {AAPL} and year >= 2030: the filter rules out "
                                 "all 2 files selected, by their fields\n")
    assert main(base + ["--filter", "close > 1000"]) == 0   # rows ruled out, files read: an answer of 0 rows
    assert capsys.readouterr().err.startswith("0 rows · 2 files")


def test_where_values_that_cannot_be_are_usage_errors(lake, capsys):
    base = ["query", "s3://lake/", "--template", "daily-ticks"]
    for where, said in (("year=abc", "year is a number, and 'abc' is not"),
                        ("year=2024..2022", "the range runs backwards")):
        assert main(base + ["--where", where]) == 2
        assert said in capsys.readouterr().err
    assert main(base + ["--where", "year=2023", "--where", "year=2025"]) == 2
    assert "--where year= is given twice" in capsys.readouterr().err
    assert main(["schema", "s3://lake/", "--template", "daily-ticks", "--where", "year=abc"]) == 2
    capsys.readouterr()


def test_the_python_api_warns_where_a_filter_rules_out_every_file(lake):
    from lakegui import Lake
    from lakegui.lake import LakeReadWarning

    with pytest.warns(LakeReadWarning, match="the filter rules out all 2 files selected"):
        df = Lake.connect(bucket="lake").read("daily-ticks", symbol="AAPL", filter="year >= 2030")
    assert df.empty
