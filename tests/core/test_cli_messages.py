"""Messages a new user stumbled on in `lakegui-cli` (moto in-process): a JSON layout given to
schema/query, a typo in a column or a --where value, a prefix copied without its '/', a missing
key downloaded, counts in the singular, an unversioned bucket listed with --versions, and an
endpoint that cannot be reached."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from lakegui.cli import main
from lakegui.core.lake.select import Selection, case_hints

KEY = "data/ticks/daily/AAPL/2020/ticks.parquet"


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"date": ["2020-01-02"], "close": [75.1], "volume": [135_480_400]}), buf)
    return buf.getvalue()


def test_schema_and_query_of_a_json_layout_say_so_once_before_reading_any_file(s3, capsys):
    s3.create_bucket(Bucket="lake")
    for q in (1, 2, 3):
        s3.put_object(Bucket="lake", Key=f"data/fundamental/AAPL/2020/Q{q}.json", Body=b"{}")
    for command in ("schema", "query"):
        assert main([command, "s3://lake/", "--template", "fundamentals"]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err == ("lakegui-cli: template 'fundamentals' holds JSON files, not Parquet: schema/query read "
                       "Parquet layouts (daily-ticks, minute-ticks)\n")


def test_a_column_typo_names_the_columns_and_the_nearest(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key=KEY, Body=_parquet())
    base = ["query", "s3://lake/", "--template", "daily-ticks"]
    assert main(base + ["--columns", "dat"]) == 1
    assert capsys.readouterr().err == ("lakegui-cli: no file read has a column named 'dat' (did you mean date?); "
                                       "the columns are: date, close, volume, symbol, year\n")
    assert main(base + ["--filter", "volumee > 5"]) == 1
    assert "'volumee' (did you mean volume?); the columns are: date, close" in capsys.readouterr().err
    assert main(base + ["--columns", "close"]) == 0  # and one row group is one, not "1 row groups"
    assert "1 file, 1 row group read, 0 skipped, " in capsys.readouterr().err


def test_a_where_value_in_the_wrong_case_is_hinted(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key=KEY, Body=_parquet())
    for command in ("query", "schema"):
        assert main([command, "s3://lake/", "--template", "daily-ticks", "--where", "symbol=aapl"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("lakegui-cli: no file matches ") and err.endswith(
            "none of the 1 objects under s3://lake/data/ticks/daily/ is selected (did you mean symbol=AAPL?)\n")
    # A listing that was not narrowed holds the values itself; an exact match is no typo.
    assert case_hints(Selection.parse(["symbol=aapl,MSFT"]), {"symbol": {"AAPL", "MSFT"}}) == \
        ["did you mean symbol=AAPL?"]
    assert case_hints(Selection.parse(["symbol=msft"]), {"symbol": {"AAPL"}}) == []
