"""The Python API (`lakegui.Lake`) refuses or warns where `lakegui-cli query` does, in the same
words (trial B: a typo gave a column of nulls, an empty frame, a raw ClientError), and a read
that matches no file keeps its columns. moto in-process."""

from __future__ import annotations

import io
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegui import Lake
from lakegui.cli import main
from lakegui.core.lake.select import SelectionError
from lakegui.lake import LakeError, LakeReadWarning

KEY = "data/ticks/daily/AAPL/2020/ticks.parquet"


@pytest.fixture
def lake(s3):
    buf = io.BytesIO()
    pq.write_table(pa.table({"date": ["2020-01-02"], "close": [75.1], "volume": [135_480_400]}), buf)
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key=KEY, Body=buf.getvalue())
    return Lake.connect(bucket="lake")


def _cli_says(capsys, *args) -> str:
    assert main(["query", "s3://lake/", "--template", "daily-ticks", *args]) == 1
    return capsys.readouterr().err.removeprefix("lakegui-cli: ").rstrip("\n")


def test_a_column_typo_is_refused_in_the_cli_s_words(lake, capsys):
    with pytest.raises(LakeError) as info:
        lake.read("daily-ticks", symbol="AAPL", columns=["clse"])
    assert str(info.value) == ("no file read has a column named 'clse' (did you mean close?); the columns are: "
                               "date, close, volume, symbol, year")
    assert str(info.value) == _cli_says(capsys, "--where", "symbol=AAPL", "--columns", "clse")


def test_a_filter_typo_is_refused_in_read_and_in_scan(lake, capsys):
    with pytest.raises(LakeError, match=r"'volum' \(did you mean volume\?\)") as info:
        lake.read("daily-ticks", filter="volum > 1")
    assert str(info.value) == _cli_says(capsys, "--filter", "volum > 1")
    with pytest.raises(LakeError, match="did you mean volume"):
        list(lake.scan("daily-ticks", filter="volum > 1"))
    assert len(lake.read("daily-ticks", columns=["close"], filter="volume > 1")) == 1  # the right name reads


def test_a_value_that_matches_no_file_warns_as_the_cli_says_it(lake, capsys):
    with pytest.warns(LakeReadWarning) as caught:
        df = lake.read("daily-ticks", symbol="aapl")
    assert df.empty and df.columns.tolist() == ["symbol", "year"]   # not a (0, 0) frame
    said = str(caught[0].message)
    assert said.startswith("no file matches ") and said.endswith("(did you mean symbol=AAPL?)")
    assert said == _cli_says(capsys, "--where", "symbol=aapl")


def test_a_field_typo_is_refused(lake):
    with pytest.raises(SelectionError, match="has no field 'symbl'"):
        lake.read("daily-ticks", symbl="AAPL")


def test_s3_errors_are_the_cli_s_messages(s3, capsys):
    lake = Lake.connect(bucket="nosuch")
    for call in (lambda: lake.read("daily-ticks"), lambda: lake.files("daily-ticks"),
                 lambda: lake.exists("daily-ticks", symbol="AAPL", year=2020)):
        with pytest.raises(LakeError) as info, warnings.catch_warnings():
            warnings.simplefilter("error")
            call()
        assert str(info.value) == "Bucket 'nosuch' does not exist at this endpoint."
    assert main(["query", "s3://nosuch/", "--template", "daily-ticks"]) == 1
    assert capsys.readouterr().err == "lakegui-cli: Bucket 'nosuch' does not exist at this endpoint.\n"
