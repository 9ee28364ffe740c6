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
    assert err == ("lakegui-cli: s3://lake/data/ticks/daily/ is the folder of layout 'daily-ticks' "
                   "(data/ticks/daily/{symbol}/{year}/ticks.parquet): reading the layout from s3://lake/\n")


def test_coverage_of_an_empty_layout_says_nothing_matched_and_exits_1(lake, capsys):
    assert main(["coverage", "s3://lake/", "--template", "minute-ticks"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("lakegui-cli: no file matches s3://lake/data/ticks/minute/") and \
        "nothing is under s3://lake/data/ticks/minute/" in err
    assert main(["coverage", "s3://lake/", "--template", "minute-ticks", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == [] and doc["cols"] == [] and doc["present"] == 0   # not "cols": [""]


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
    with pytest.warns(LakeReadWarning, match="the filter rules out all 2 files selected"):
        assert list(Lake.connect(bucket="lake").scan("daily-ticks", symbol="AAPL", filter="year >= 2030")) == []


def test_a_reader_that_closes_the_pipe_ends_ls_and_preview_quietly(tmp_path, moto_endpoint):
    """`ls | head` said 'lakegui-cli: Broken pipe' (exit 1); `preview --json | head` printed a
    BrokenPipeError at exit (exit 0). Both: nothing on stderr, exit 141 (a shell's 128 + SIGPIPE)."""
    import os
    import subprocess
    import sys

    from tests.integration.test_cli_transfers import client

    c = client(moto_endpoint)
    c.create_bucket(Bucket="pipe")
    c.put_object(Bucket="pipe", Key="a.json", Body=json.dumps({"k": list(range(20))}).encode())
    for i in range(3):
        c.put_object(Bucket="pipe", Key=f"k/{i}", Body=b"x")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    for argv in (["ls", "s3://pipe/k/"], ["preview", "s3://pipe/a.json", "--json"]):
        proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", *argv, "--endpoint-url", moto_endpoint],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        proc.stdout.close()  # the reader is gone before the first line
        err = proc.stderr.read().decode()
        assert proc.wait(30) == 141 and err == "", (argv, err)
        proc.stderr.close()


def test_preview_options_and_suggestions(lake, capsys):
    key = "s3://lake/" + DAILY_TICKS.key(symbol="AAPL", year=2022)
    assert main(["preview", key, "--rows", "-3"]) == 2
    assert capsys.readouterr().err == "lakegui-cli: --rows -3: must be 0 or more\n"
    assert main(["preview", key, "--row-group", "-1"]) == 2
    assert capsys.readouterr().err == "lakegui-cli: --row-group -1: must be 0 or more\n"
    assert main(["preview", key, "--columns", "date,nope"]) == 2   # no 'did you mean open?'
    assert capsys.readouterr().err == "lakegui-cli: no column named nope in this file; it has date, close, volume\n"


def test_query_out_is_checked_before_the_lake_is_read(lake, capsys, tmp_path):
    base = ["query", "s3://lake/", "--template", "daily-ticks"]
    assert main(base + ["--out", str(tmp_path / "nodir" / "x.parquet")]) == 2
    assert capsys.readouterr().err == f"lakegui-cli: --out {tmp_path / 'nodir' / 'x.parquet'}: the folder " \
                                      f"{tmp_path / 'nodir'} does not exist\n"
    assert main(base + ["--out", str(tmp_path / "x.parquet")]) == 0
    assert "wrote 6 rows" in capsys.readouterr().out


def test_schema_of_a_json_layout_is_a_usage_error(lake, capsys):
    assert main(["schema", "s3://lake/", "--template", "fundamentals"]) == 2
    assert "holds JSON files, not Parquet" in capsys.readouterr().err


def test_query_schema_and_the_api_read_the_layout_from_its_own_folder_too(lake, capsys):
    note = ("lakegui-cli: s3://lake/data/ticks/daily/ is the folder of layout 'daily-ticks' "
            "(data/ticks/daily/{symbol}/{year}/ticks.parquet): reading the layout from s3://lake/\n")
    assert main(["query", "s3://lake/data/ticks/daily/", "--template", "daily-ticks", "--where", "symbol=KO"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(note) and "2 rows · 1 file" in err and "KO" in out
    assert main(["schema", "s3://lake/data/ticks/daily", "--template", "daily-ticks"]) == 0
    assert capsys.readouterr().err.startswith(note)  # the same note, the "/" added
    from lakegui import Lake

    assert len(Lake.connect(bucket="lake", prefix="data/ticks/daily").read("daily-ticks", symbol="KO")) == 2
