"""Deletes, tags, restores and new buckets as queue jobs (issue 20.6): a delete job per 1,000
keys, each key's failure kept and reported, a transient per-key error retried for that key only,
and the queue's store, service and rows taking the new kinds."""

from __future__ import annotations

import json

from lakegui.core.settings import TransferSettings
from lakegui.core.transfers.engine import EngineBase, JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState, display_name
from lakegui.core.transfers.object_jobs import (
    bucket_job,
    delete_jobs,
    delete_keys,
    delete_results,
    restore_job,
    tag_job,
)
from lakegui.core.transfers.service import JobRow
from lakegui.core.transfers.store import JobStore


class ClientEngine(EngineBase):
    """The engine's retry loop over a given client (no connection)."""

    def __init__(self, client):
        super().__init__(None, TransferSettings(), backoff=0.0)
        self._client = client

    @property
    def client(self):
        return self._client

    def verdict(self, exc, job):  # the real one names the endpoint: there is no connection here
        from lakegui.core.errors import classify

        return classify(exc).permanent if not hasattr(exc, "permanent") else exc.permanent, str(exc)


def job_of(new, job_id=1) -> Job:
    return Job(id=job_id, batch_id=1, direction=new.direction, bucket=new.bucket, key=new.key,
               local_path=new.local_path, size=new.size, extra=dict(new.extra or {}), policy=new.policy)


def test_deletes_are_a_job_per_1000_keys_named_by_their_folder():
    keys = [f"data/2024/{i:05d}" for i in range(2500)]
    jobs = delete_jobs("b", keys, {k: 10 for k in keys})
    assert [len(json.loads(j.extra["Keys"])) for j in jobs] == [1000, 1000, 500]
    assert all(j.direction is Direction.DELETE and j.key == "data/2024/" for j in jobs)
    assert [j.size for j in jobs] == [10_000, 10_000, 5_000]
    assert jobs[2].local_path == "500 keys, data/2024/02000 … data/2024/02499"
    assert display_name(jobs[2].direction, jobs[2].key, jobs[2].local_path) == jobs[2].local_path
    one = delete_jobs("b", ["a/b c.txt"])[0]
    assert (one.key, one.local_path) == ("a/b c.txt", "a/b c.txt")
    assert delete_keys(job_of(one)) == [("a/b c.txt", 0)]
    assert display_name(Direction.MAKE_BUCKET, "", bucket_job("new-one").local_path) == "s3://new-one"


def test_a_delete_job_reports_each_key_it_could_not_delete_and_a_retry_asks_only_for_those():
    asked = []

    class Partial:
        def delete_objects(self, Bucket, Delete):
            keys = [o["Key"] for o in Delete["Objects"]]
            asked.append(keys)
            return {"Errors": [{"Key": "p/b", "Code": "AccessDenied", "Message": "Access Denied"}]} \
                if "p/b" in keys else {}

    job = job_of(delete_jobs("bkt", ["p/a", "p/b", "p/c"], {"p/a": 1, "p/b": 2, "p/c": 3})[0])
    saved = []
    progress = Progress()
    outcome = ClientEngine(Partial()).run(job, JobControl(), progress, on_resume=saved.append)
    assert outcome.state is JobState.FAILED and outcome.permanent and outcome.attempts == 1
    assert "1 of 3 keys" in outcome.error and "p/b: AccessDenied: Access Denied" in outcome.error
    assert saved == [{"left": ["p/b"], "failures": [["p/b", "AccessDenied: Access Denied"]]}]
    assert progress.done == 4  # the bytes of the two keys that went
    job.state, job.error = outcome.state, outcome.error
    deleted, failures, nbytes = delete_results([job])
    assert deleted == ["p/a", "p/c"] and failures == [("p/b", "AccessDenied: Access Denied")] and nbytes == 4
    job.state = JobState.QUEUED  # `queue retry-failed`: only what is left is asked for
    ClientEngine(Partial()).run(job, JobControl(), Progress())
    assert asked[-1] == ["p/b"]


def test_a_transient_per_key_error_is_retried_for_that_key_with_backoff():
    calls = []

    class SlowOnce:
        def delete_objects(self, Bucket, Delete):
            keys = [o["Key"] for o in Delete["Objects"]]
            calls.append(keys)
            if len(calls) == 1:
                return {"Errors": [{"Key": keys[0], "Code": "SlowDown", "Message": "Reduce your request rate"}]}
            return {}

    job = job_of(delete_jobs("bkt", ["x/1", "x/2"])[0])
    outcome = ClientEngine(SlowOnce()).run(job, JobControl(), Progress())
    assert outcome.state is JobState.DONE and outcome.attempts == 2
    assert calls == [["x/1", "x/2"], ["x/1"]]
    job.state = JobState.DONE
    assert delete_results([job])[:2] == (["x/1", "x/2"], [])


def test_a_whole_failed_or_unfinished_delete_job_names_every_key():
    job = job_of(delete_jobs("bkt", ["k1", "k2"])[0])
    job.state, job.error = JobState.FAILED, "Access denied to s3://bkt"
    assert delete_results([job])[1] == [("k1", "Access denied to s3://bkt"), ("k2", "Access denied to s3://bkt")]
    job.state, job.error = JobState.CANCELLED, ""
    assert delete_results([job])[1][0] == ("k1", "not deleted: the job is cancelled")


def test_tag_restore_and_bucket_jobs_run_their_request(s3):
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="t.csv", Body=b"1")
    s3.put_object(Bucket="bkt", Key="cold", Body=b"z", StorageClass="GLACIER")
    engine = ClientEngine(s3)
    out = engine.run(job_of(tag_job("bkt", "t.csv", {"a": "1"})), JobControl(), Progress())
    assert out.state is JobState.DONE
    assert s3.get_object_tagging(Bucket="bkt", Key="t.csv")["TagSet"] == [{"Key": "a", "Value": "1"}]
    out = engine.run(job_of(restore_job("bkt", "cold", 2, "Bulk")), JobControl(), Progress())
    assert out.state is JobState.DONE and out.error == "restore started"
    out = engine.run(job_of(restore_job("bkt", "t.csv", 2)), JobControl(), Progress())
    assert out.state is JobState.FAILED and out.permanent and "not archived" in out.error
    out = engine.run(job_of(bucket_job("brand-new")), JobControl(), Progress())
    assert out.state is JobState.DONE and "brand-new" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    out = engine.run(job_of(bucket_job("Bad_Name")), JobControl(), Progress())
    assert out.state is JobState.FAILED and "lowercase" in out.error


def test_the_queue_stores_and_shows_the_new_kinds(tmp_path):
    store = JobStore(tmp_path / "q.sqlite3")
    try:
        batch = store.create_batch("rm", "delete", {})
        ids = store.add_jobs(batch, [*delete_jobs("b", ["d/1", "d/2"], {"d/1": 5}), tag_job("b", "k", {"x": "y"}),
                                     restore_job("b", "k", 1), bucket_job("nb")])
        jobs = store.jobs(ids=ids)
        assert [str(j.direction) for j in jobs] == ["delete", "tag", "restore", "make-bucket"]
        assert delete_keys(jobs[0]) == [("d/1", 5), ("d/2", 0)]
        rows = [JobRow.from_view_row(r) for r in store.view_rows()]
        assert [r.name for r in rows] == ["2 keys, d/1 … d/2", "k", "k", "s3://nb"]
        assert rows[0].uri == "s3://b/d/" and rows[0].bytes_total == 5
    finally:
        store.close()



def test_a_planned_delete_leaves_alone_what_was_written_after_it_was_planned(s3):
    """A sync's delete job can wait in the queue for hours: it deleted an object rewritten from elsewhere
    meanwhile (a new user's finding; gone for good without versions). Checked by HEADs (a few keys) and
    by one listing (more than HEADS_AT_MOST keys)."""
    from lakegui.core.transfers.object_jobs import CHANGED_SINCE_PLANNED, HEADS_AT_MOST

    s3.create_bucket(Bucket="plan")
    for n in (3, HEADS_AT_MOST + 5):
        keys = [f"n{n}/k{i:03d}" for i in range(n)]
        etags = {k: s3.put_object(Bucket="plan", Key=k, Body=k.encode())["ETag"] for k in keys}
        job = job_of(delete_jobs("plan", keys, {k: 1 for k in keys}, etags=etags)[0])
        s3.put_object(Bucket="plan", Key=keys[1], Body=b"written after the plan")  # changed
        s3.delete_object(Bucket="plan", Key=keys[2])  # already gone: what the plan wanted
        saved = []
        outcome = ClientEngine(s3).run(job, JobControl(), Progress(), on_resume=saved.append)
        left = [o["Key"] for o in s3.list_objects_v2(Bucket="plan", Prefix=f"n{n}/").get("Contents", [])]
        assert left == [keys[1]], n
        assert s3.get_object(Bucket="plan", Key=keys[1])["Body"].read() == b"written after the plan"
        assert outcome.state is JobState.FAILED and outcome.permanent, n
        assert f"{keys[1]}: {CHANGED_SINCE_PLANNED}" in outcome.error
        assert saved[-1] == {"left": [keys[1]], "failures": [[keys[1], CHANGED_SINCE_PLANNED]]}
        job.state, job.error, job.resume = outcome.state, outcome.error, saved[-1]
        deleted, failures, _ = delete_results([job])  # the left-alone key is not counted as deleted
        assert keys[1] not in deleted and [k for k, _ in failures] == [keys[1]]
        job.state = JobState.QUEUED  # a retry asks for it again, and leaves it again
        again = ClientEngine(s3).run(job, JobControl(), Progress(), on_resume=saved.append)
        assert again.state is JobState.FAILED and saved[-1]["left"] == [keys[1]]
    plain = job_of(delete_jobs("plan", ["n3/k001"])[0])  # rm: no ETags, no check
    assert ClientEngine(s3).run(plain, JobControl(), Progress()).state is JobState.DONE


def test_a_planned_delete_whose_heads_are_refused_asks_the_listing(s3):
    """HEAD refused (a write-only credential's 403, an SSE-C object's 400) failed every delete of a few
    keys once they were checked; the listing, which the comparison made, answers the same."""
    from tests.support.clients import NoHead

    s3.create_bucket(Bucket="nohead")
    keys = ["h/a", "h/b"]
    etags = {k: s3.put_object(Bucket="nohead", Key=k, Body=b"x")["ETag"] for k in keys}

    job = job_of(delete_jobs("nohead", keys, etags=etags)[0])
    assert ClientEngine(NoHead(s3)).run(job, JobControl(), Progress()).state is JobState.DONE
    assert "Contents" not in s3.list_objects_v2(Bucket="nohead")
