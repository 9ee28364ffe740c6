"""`queue retry-failed` never replaces what an upload or download refused to replace (a new user's
trial: upload, change the file, upload again -> "exists with different content", retry-failed,
resume -> the object held the new bytes), the engine checks such a job's target again if it runs
anyway, and `queue resume` reports only the jobs it ran. The session's moto server, in-process CLI."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from lakegui.cli import main
from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.transfers.crt_engine import CrtEngine
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import CONFLICT, Direction, Job, JobState, OverwritePolicy
from lakegui.core.transfers.object_jobs import permanent_failure
from lakegui.core.transfers.store import JobStore, NewJob

BUCKET = "retry-conflicts"


@pytest.fixture
def endpoint(moto_endpoint):
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"})).create_bucket(Bucket=BUCKET)
    return moto_endpoint


def _body(endpoint, key):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_retry_failed_leaves_an_upload_that_refused_to_replace_and_resume_keeps_the_object(
        endpoint, tmp_path, capsys):
    q, src = str(tmp_path / "q.sqlite3"), tmp_path / "r.csv"
    opts = ["--endpoint-url", endpoint, "--queue", q]
    src.write_text("one\n")
    assert main(["upload", str(src), f"s3://{BUCKET}/rep/", *opts]) == 0
    src.write_text("two2\n")
    assert main(["upload", str(src), f"s3://{BUCKET}/rep/", *opts]) == 1
    assert "exists with different content" in capsys.readouterr().err
    assert main(["queue", "retry-failed", *opts]) == 0
    out, err = capsys.readouterr()
    assert out == "0 failed jobs queued again\n"
    assert (f"  upload s3://{BUCKET}/rep/r.csv: it exists with different content "
            "and was not replaced") in err.splitlines()  # the URI said once
    assert "run the upload again with --overwrite or --skip-existing" in err
    assert main(["queue", "retry-failed", *opts, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["requeued"] == 0 and [(j["kind"], j["key"]) for j in doc["left"]] == [("upload",
                                                                                       f"s3://{BUCKET}/rep/r.csv")]
    assert main(["queue", "resume", *opts]) == 0
    assert capsys.readouterr().out == "Nothing to resume: no queued or paused jobs.\n"
    assert _body(endpoint, "rep/r.csv") == b"one\n"
    assert main(["upload", str(src), f"s3://{BUCKET}/rep/", *opts, "--overwrite"]) == 0  # as it says
    assert _body(endpoint, "rep/r.csv") == b"two2\n"


def test_retry_failed_leaves_a_download_onto_a_different_local_file(endpoint, tmp_path, capsys):
    q, out_dir = str(tmp_path / "q.sqlite3"), tmp_path / "out"
    opts = ["--endpoint-url", endpoint, "--queue", q]
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").put_object(
        Bucket=BUCKET, Key="d/x.csv", Body=b"remote\n")
    out_dir.mkdir()
    (out_dir / "x.csv").write_text("mine\n")
    assert main(["download", f"s3://{BUCKET}/d/x.csv", str(out_dir), *opts]) == 1
    assert main(["queue", "retry-failed", *opts, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert doc["requeued"] == 0 and [j["kind"] for j in doc["left"]] == ["download"]
    assert (out_dir / "x.csv").read_text() == "mine\n"


def test_a_conflict_mark_or_message_is_a_permanent_failure_for_retry():
    def job(**kw):
        return Job(id=1, batch_id=1, direction=kw.pop("direction", Direction.UPLOAD), bucket="b", key="k",
                   local_path="/f", state=JobState.FAILED, **kw)

    assert permanent_failure(job(resume={CONFLICT: True}))
    assert permanent_failure(job(direction=Direction.DOWNLOAD, resume={CONFLICT: True}))
    # a queue written before the mark: its message says what the planner refused
    assert permanent_failure(job(error="s3://b/k exists with different content; overwrite it (--overwrite) "
                                       "or keep it (--skip-existing)"))
    assert permanent_failure(job(error="s3://b/k exists with different content and was not replaced"))
    assert not permanent_failure(job(error="Cannot reach the endpoint"))  # this one retrying can fix
    assert not permanent_failure(job(resume={CONFLICT: True}, policy=OverwritePolicy.OVERWRITE))


def test_the_engine_does_not_replace_a_different_target_of_a_conflict_job_queued_again(endpoint, tmp_path):
    """Defence in depth: a conflict job that runs anyway (queued again by other means) checks first."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key="e/r.csv", Body=b"one\n")
    src = tmp_path / "r.csv"
    engine = CrtEngine(Connection(ConnectionProfile.from_options(endpoint_url=endpoint, bucket=BUCKET)))

    def run(data: bytes, attempts: int = 1, **kw):
        src.write_bytes(data)
        job = Job(id=1, batch_id=1, direction=Direction.UPLOAD, bucket=BUCKET, key="e/r.csv", local_path=str(src),
                  size=len(data), policy=OverwritePolicy.ASK, attempts=attempts, **kw)
        return engine.run(job, JobControl(), Progress())

    try:
        out = run(b"two2\n", resume={CONFLICT: True})
        assert out.state is JobState.FAILED and out.permanent
        assert out.error == f"s3://{BUCKET}/e/r.csv exists with different content and was not replaced"
        assert _body(endpoint, "e/r.csv") == b"one\n"
        assert run(b"one\n", resume={CONFLICT: True}).state is JobState.SKIPPED
        assert run(b"two2\n", attempts=2).state is JobState.FAILED  # a rerun asks too
        assert _body(endpoint, "e/r.csv") == b"one\n"
        assert run(b"new\n").state is JobState.DONE  # a first run trusts the plan's listing: no HEAD
    finally:
        engine.close()


def test_resume_reports_only_the_jobs_it_ran(endpoint, tmp_path, capsys):
    q = str(tmp_path / "q.sqlite3")
    opts = ["--endpoint-url", endpoint, "--queue", q]
    src = tmp_path / "ok.csv"
    src.write_text("ok\n")
    store = JobStore(q)
    try:
        batch = store.create_batch("old", "upload", {"endpoint_url": endpoint})
        ids = store.add_jobs(batch, [NewJob(Direction.UPLOAD, BUCKET, f"old/{i}", f"/gone/{i}", size=1)
                                     for i in range(2)])
        store.finish_many([(i, JobState.FAILED, "s3://x exists with different content; overwrite it (--overwrite) "
                            "or keep it (--skip-existing)", 0, "") for i in ids])
        store.add_jobs(batch, [NewJob(Direction.UPLOAD, BUCKET, "new/ok.csv", str(src), size=3)])
    finally:
        store.close()
    assert main(["queue", "resume", *opts]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("1 done, 0 failed, 0 skipped")
    assert "failed s3://" not in err and err.count("2 failed earlier (queue status)") == 1
    assert _body(endpoint, "new/ok.csv") == b"ok\n"
    store = JobStore(q)
    try:
        store.add_jobs(batch, [NewJob(Direction.UPLOAD, BUCKET, "new/gone.csv", str(tmp_path / "gone"), size=1)])
    finally:
        store.close()
    assert main(["queue", "resume", *opts, "--json"]) == 1  # what this run failed decides its exit code
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (doc["done"], doc["failed"], doc["failed_earlier"]) == (0, 1, 2)
    assert [f["key"] for f in doc["failures"]] == ["new/gone.csv"]


def test_a_sync_upload_that_waited_replaces_only_what_it_was_compared_with(endpoint, tmp_path):
    """A review's finding: a sync's or Mirror's upload waiting in a paused queue (or for `queue resume`)
    replaced an object written there since the comparison. One that waited asks its key again."""
    import time

    from lakegui.core.transfers.jobs import CHANGED_SINCE_COMPARED, COMPARED, RECHECK_AFTER

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    compared = s3.put_object(Bucket=BUCKET, Key="s/a.csv", Body=b"as compared\n")["ETag"].strip('"')
    src = tmp_path / "a.csv"
    src.write_bytes(b"local edit\n")
    engine = CrtEngine(Connection(ConnectionProfile.from_options(endpoint_url=endpoint, bucket=BUCKET)))

    def run(key: str, etag: str, waited: float):
        job = Job(id=1, batch_id=1, direction=Direction.UPLOAD, bucket=BUCKET, key=key, local_path=str(src),
                  size=src.stat().st_size, policy=OverwritePolicy.OVERWRITE, attempts=1,
                  extra={COMPARED: f"{etag} {time.time() - waited:.3f}"})
        return engine.run(job, JobControl(), Progress())

    try:
        s3.put_object(Bucket=BUCKET, Key="s/a.csv", Body=b"written from elsewhere\n")
        out = run("s/a.csv", compared, RECHECK_AFTER + 5)
        assert out.state is JobState.FAILED and out.permanent and CHANGED_SINCE_COMPARED in out.error
        assert _body(endpoint, "s/a.csv") == b"written from elsewhere\n"
        s3.put_object(Bucket=BUCKET, Key="s/new.csv", Body=b"appeared\n")  # absent when compared
        assert run("s/new.csv", "", RECHECK_AFTER + 5).state is JobState.FAILED
        assert _body(endpoint, "s/new.csv") == b"appeared\n"
        still = s3.head_object(Bucket=BUCKET, Key="s/a.csv")["ETag"].strip('"')
        assert run("s/a.csv", still, RECHECK_AFTER + 5).state is JobState.DONE  # still as compared: sent
        assert run("s/gone.csv", "", RECHECK_AFTER + 5).state is JobState.DONE  # still absent: sent
        assert _body(endpoint, "s/a.csv") == b"local edit\n"
        assert run("s/a.csv", compared, RECHECK_AFTER + 5).state is JobState.DONE  # sent by a killed run
        assert _body(endpoint, "s/a.csv") == b"local edit\n"
        s3.put_object(Bucket=BUCKET, Key="s/b.csv", Body=b"x\n")
        assert run("s/b.csv", "other", 0).state is JobState.DONE  # run at once: the queue-time recheck stands
    finally:
        engine.close()
