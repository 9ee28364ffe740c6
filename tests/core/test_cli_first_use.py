"""What a new user met first in `lakegui-cli` (moto in-process): a query or schema that finds no
file, an upload of a path that does not exist, `queue retry-failed` asking again what cannot
succeed, `ls` of an exact key, and `mb` of a bucket one already owns."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from lakegui.cli import main
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import JobState
from lakegui.core.transfers.object_jobs import PERMANENT, bucket_job, permanent_failure, tag_job
from lakegui.core.transfers.store import JobStore
from tests.core.test_object_jobs import ClientEngine, job_of

PATTERN = "s3://lake/data/ticks/daily/{symbol}/{year}/ticks.parquet (layout 'daily-ticks')"


def test_query_and_schema_that_find_no_file_fail_in_one_line(s3, capsys):
    s3.create_bucket(Bucket="lake")
    for command in ("query", "schema"):
        assert main([command, "s3://lake/", "--template", "daily-ticks"]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err.splitlines() == [f"lakegui-cli: no file matches {PATTERN}: nothing is under "
                                    "s3://lake/data/ticks/daily/"]
    s3.put_object(Bucket="lake", Key="data/ticks/daily/AAPL/2020/ticks.parquet", Body=b"PAR1")
    s3.put_object(Bucket="lake", Key="data/ticks/daily/notes.txt", Body=b"x")
    for command in ("query", "schema"):
        assert main([command, "s3://lake/", "--template", "daily-ticks", "--where", "year=2021"]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err == (f"lakegui-cli: no file matches {PATTERN} with year in {{2021}}: none of the 2 "
                                     "objects under s3://lake/data/ticks/daily/ is selected (1 of them does not fit "
                                     "the layout)\n")


def test_a_narrow_listing_is_named_and_a_schema_of_unreadable_files_starts_with_them(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="data/ticks/daily/AAPL/2020/ticks.parquet", Body=b"PAR1")
    assert main(["query", "s3://lake/", "--template", "daily-ticks", "--where", "symbol=MSFT"]) == 1
    assert capsys.readouterr().err == (f"lakegui-cli: no file matches {PATTERN} with symbol in {{MSFT}}: nothing is "
                                       "under s3://lake/data/ticks/daily/MSFT/\n")
    assert main(["schema", "s3://lake/", "--template", "daily-ticks"]) == 1  # the one file is not Parquet
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "outliers (1):" and "could not be read" in out  # no blank line first


def test_upload_of_a_path_that_does_not_exist_names_it_and_sends_nothing(s3, tmp_path, capsys):
    s3.create_bucket(Bucket="lake")
    (tmp_path / "here.txt").write_text("x")
    missing = tmp_path / "missing.txt"
    q = str(tmp_path / "q.sqlite3")
    assert main(["upload", str(tmp_path / "here.txt"), str(missing), "s3://lake/x/", "--queue", q]) == 2
    out, err = capsys.readouterr()
    assert err == f"lakegui-cli: {missing} does not exist (nothing was uploaded)\n" and "skipped" not in out + err
    assert s3.list_objects_v2(Bucket="lake").get("KeyCount") == 0


def _fail(store: JobStore, new, error: str) -> int:
    """A job of its own batch that failed the way a run before this fix left it (no mark)."""
    batch = store.create_batch("old", str(new.direction), {})
    (job_id,) = store.add_jobs(batch, [new])
    store.finish_many([(job_id, JobState.FAILED, error, 0, "")])
    return job_id


def test_retry_failed_leaves_one_request_jobs_that_failed_for_good(s3, tmp_path, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="std.csv", Body=b"1")
    q = str(tmp_path / "q.sqlite3")
    assert main(["tag", "s3://lake/gone.csv", "a=b", "--queue", q]) == 1          # NoSuchKey
    assert main(["restore", "s3://lake/std.csv", "--days", "1", "--queue", q]) == 1  # not archived
    store = JobStore(q)
    try:
        unknown = _fail(store, tag_job("lake", "std.csv", {"a": "b"}), "Cannot reach the endpoint")
    finally:
        store.close()
    capsys.readouterr()
    assert main(["queue", "retry-failed", "--queue", q, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["requeued"] == 1
    assert [(j["kind"], j["key"]) for j in doc["left"]] == [("tag", "s3://lake/gone.csv"),
                                                             ("restore", "s3://lake/std.csv")]
    assert "not archived" in doc["left"][1]["error"]
    store = JobStore(q)
    try:
        assert [j.id for j in store.jobs(states=[JobState.QUEUED])] == [unknown]
    finally:
        store.close()
    assert main(["queue", "retry-failed", "--queue", q]) == 0
    out, err = capsys.readouterr()
    assert out == "0 failed jobs queued again\n"
    assert "2 failed jobs left as they are: retrying cannot help until the cause is fixed, then run its command again:" in err
    assert "  restore s3://lake/std.csv: it is not archived" in err  # the URI said once


def _error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Request")


def test_a_one_request_job_keeps_whether_its_failure_was_permanent():
    class Client:
        codes = [("AccessDenied", 403)]

        def put_object_tagging(self, **_):
            raise _error(*self.codes.pop(0))

    job, saved = job_of(tag_job("b", "k", {"a": "1"})), []
    out = ClientEngine(Client()).run(job, JobControl(), Progress(), on_resume=saved.append)
    job.state = out.state
    assert out.state is JobState.FAILED and out.permanent and saved == [{PERMANENT: True}]
    assert permanent_failure(job)
    Client.codes = [("SlowDown", 503)] * 10  # retried by hand, it now fails for a reason that passes
    job.state = JobState.QUEUED
    out = ClientEngine(Client()).run(job, JobControl(), Progress(), on_resume=saved.append)
    job.state = out.state
    assert out.state is JobState.FAILED and not out.permanent and saved[-1] == {} and not permanent_failure(job)


def test_a_bucket_job_says_the_bucket_exists_and_whose():
    class Client:
        code = "BucketAlreadyOwnedByYou"

        def create_bucket(self, **_):
            raise _error(self.code, 409)

    out = ClientEngine(Client()).run(job_of(bucket_job("mine")), JobControl(), Progress())
    assert out.permanent and out.error == "s3://mine already exists and is yours (BucketAlreadyOwnedByYou)"
    Client.code = "BucketAlreadyExists"
    out = ClientEngine(Client()).run(job_of(bucket_job("theirs")), JobControl(), Progress())
    assert out.permanent and "taken by another account" in out.error


def test_ls_of_an_exact_key_prints_its_name_as_aws_does(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="exact/key.csv", Body=b"a,b\n1,2\n")
    assert main(["ls", "s3://lake/exact/key.csv"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split()[-2:] == ["8", "key.csv"]
    assert main(["ls", "s3://lake/exact/ke"]) == 0   # a partial name lists from the folder too
    assert capsys.readouterr().out.split()[-1] == "key.csv"
    assert main(["ls", "s3://lake/ex"]) == 0
    assert capsys.readouterr().out.split() == ["PRE", "exact/"]
    assert main(["ls", "s3://lake/exact/key.csv", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(o["key"], o["size"]) for o in doc["objects"]] == [("exact/key.csv", 8)] and doc["prefixes"] == []
    assert main(["ls", "s3://lake/exact/key.csv", "--versions"]) == 0
    assert capsys.readouterr().out.split()[-1] == "key.csv"


def test_mb_of_a_bucket_you_own_says_so_and_fails(s3, tmp_path, capsys):
    q = str(tmp_path / "q.sqlite3")
    assert main(["mb", "s3://fresh", "--queue", q]) == 0
    assert capsys.readouterr().out == "make_bucket: fresh\n"
    assert main(["mb", "s3://fresh", "--queue", q]) == 1   # moto, as S3 in us-east-1, answers a second create 200
    out, err = capsys.readouterr()
    assert out == "" and "s3://fresh already exists and is yours (BucketAlreadyOwnedByYou)" in err
    assert main(["mb", "s3://fresh", "--queue", q, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == 1 and "already exists and is yours" in doc["failures"][0]["error"]
