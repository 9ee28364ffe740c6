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
        assert main([command, "s3://lake/", "--template", "fundamentals"]) == 2  # a usage error (trial B)
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
    assert main(["preview", f"s3://lake/{KEY}", "--columns", "dat"]) == 2  # as preview says it
    assert capsys.readouterr().err == ("lakegui-cli: no column named dat in this file (did you mean date?); it has "
                                       "date, close, volume\n")
    assert main(base + ["--columns", "close"]) == 0  # and one row group is one, not "1 row groups"
    assert "1 file, 1 row group read, 0 skipped, " in capsys.readouterr().err


def test_a_where_value_in_the_wrong_case_is_hinted(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key=KEY, Body=_parquet())
    for command in ("query", "schema"):
        assert main([command, "s3://lake/", "--template", "daily-ticks", "--where", "symbol=aapl"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("lakegui-cli: no file matches ") and err.endswith(
            "the one object under s3://lake/data/ticks/daily/ is not selected (did you mean symbol=AAPL?)\n")
    # A listing that was not narrowed holds the values itself; an exact match is no typo.
    assert case_hints(Selection.parse(["symbol=aapl,MSFT"]), {"symbol": {"AAPL", "MSFT"}}) == \
        ["did you mean symbol=AAPL?"]
    assert case_hints(Selection.parse(["symbol=msft"]), {"symbol": {"AAPL"}}) == []


def test_cp_and_mv_of_a_prefix_without_its_slash_say_it_is_a_prefix(s3, capsys):
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="tmp/a.csv", Body=b"1")
    for command, verb in (("cp", "copy"), ("mv", "move")):
        assert main([command, "s3://bkt/tmp", "s3://bkt/tmp3/"]) == 2
        assert capsys.readouterr().err == (f"lakegui-cli: s3://bkt/tmp is a prefix: end it with '/' (s3://bkt/tmp/) "
                                           f"to {verb} every key under it\n")
    assert main(["cp", "s3://bkt/nope", "s3://bkt/tmp3/"]) == 1  # nothing there: not found, as before
    assert "s3://bkt/nope was not found" in capsys.readouterr().err


def test_download_of_a_missing_key_says_it_was_not_found(s3, tmp_path, capsys):
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="data/a.csv", Body=b"1")
    q = str(tmp_path / "q.sqlite3")
    assert main(["download", "s3://bkt/data/nope.csv", str(tmp_path / "out"), "--queue", q]) == 1
    assert capsys.readouterr().err == ("lakegui-cli: s3://bkt/data/nope.csv was not found: it may have been deleted "
                                       "or renamed.\n")
    assert main(["download", "s3://bkt/empty/", str(tmp_path / "out"), "--queue", q]) == 1  # a prefix: as before
    assert "holds no files" in capsys.readouterr().err


def test_retry_failed_counts_one_job_in_the_singular(tmp_path, capsys):
    from lakegui.core.transfers.jobs import JobState
    from lakegui.core.transfers.object_jobs import tag_job
    from lakegui.core.transfers.store import JobStore

    q = str(tmp_path / "q.sqlite3")
    store = JobStore(q)
    try:
        new = tag_job("b", "k.csv", {"a": "b"})
        (job_id,) = store.add_jobs(store.create_batch("old", str(new.direction), {}), [new])
        store.finish_many([(job_id, JobState.FAILED, "Cannot reach the endpoint", 0, "")])
    finally:
        store.close()
    assert main(["queue", "retry-failed", "--queue", q]) == 0
    assert capsys.readouterr().out == "1 failed job queued again\n"


def test_ls_versions_of_an_unversioned_bucket_says_so_first(s3, capsys):
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="a.csv", Body=b"1")
    assert main(["ls", "s3://bkt/", "--versions"]) == 0
    out, err = capsys.readouterr()
    assert err == ("lakegui-cli: s3://bkt keeps no versions (versioning was never enabled): each key has one "
                   "version, null\n")
    assert out.rstrip().endswith("null * a.csv")
    s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
    assert main(["ls", "s3://bkt/", "--versions"]) == 0
    assert capsys.readouterr().err == ""


def test_an_unreachable_default_endpoint_is_named_with_the_options_that_change_it(s3, monkeypatch, capsys):
    from botocore.exceptions import EndpointConnectionError

    from lakegui.core import listing

    def unreachable(self):
        raise EndpointConnectionError(endpoint_url=f"https://{self.bucket}.s3.amazonaws.com/?list-type=2")

    monkeypatch.setattr(listing.PrefixLister, "next_page", unreachable)
    assert main(["ls", "s3://lake/", "--region", "eu-west-1"]) == 1
    assert capsys.readouterr().err == (
        "lakegui-cli: Cannot reach https://lake.s3.amazonaws.com: check the endpoint URL and your network. No "
        "--endpoint-url was given, so this was AWS S3 in region eu-west-1: name another S3 server with "
        "--endpoint-url URL, or a profile with --profile NAME.\n")
    assert main(["ls", "s3://lake/", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    assert capsys.readouterr().err == ("lakegui-cli: Cannot reach http://127.0.0.1:9: check the endpoint URL and "
                                       "your network.\n")
