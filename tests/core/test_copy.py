"""Copy and move jobs in the queue, the checks a copy passes before it counts (and before a move
deletes its source), delete at scale, object settings (issue 20)."""

from __future__ import annotations

import sqlite3
from datetime import timezone

import pytest
from botocore.exceptions import ClientError

from lakegui.core.deletes import delete_many, keys_to_delete
from lakegui.core.errors import classify
from lakegui.core.tagging import create_bucket, parse_restore, parse_tags
from lakegui.core.transfers import copy
from lakegui.core.transfers.engine import JobError
from lakegui.core.transfers.jobs import Direction, Job, OverwritePolicy
from lakegui.core.transfers.store import JobStore, NewJob

_V2 = """
CREATE TABLE batches (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, profile TEXT NOT NULL,
    created REAL NOT NULL, runner TEXT NOT NULL DEFAULT 'cli');
CREATE TABLE jobs (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, direction TEXT NOT NULL, bucket TEXT NOT NULL,
    key TEXT NOT NULL, local_path TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, mtime REAL NOT NULL DEFAULT 0,
    etag TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, bytes_done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '', policy TEXT NOT NULL,
    upload_id TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '{}', extra TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL DEFAULT '', updated REAL NOT NULL, hidden INTEGER NOT NULL DEFAULT 0);
INSERT INTO batches VALUES (1, 'old', 'upload', '{}', 0, 'cli');
INSERT INTO jobs(batch_id, direction, bucket, key, local_path, state, policy, updated)
    VALUES (1, 'upload', 'b', 'k', '/tmp/f', 'queued', 'ask', 0);
"""


def test_a_queue_written_before_copies_opens_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "q.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(_V2)
        db.execute("PRAGMA user_version=2")
    store = JobStore(path)
    try:
        (old,) = store.jobs()
        assert (old.direction, old.key, old.src_bucket) == (Direction.UPLOAD, "k", "")
        batch = store.create_batch("mv", "move", {})
        (new_id,) = store.add_jobs(batch, copy.copy_jobs([copy.CopyItem("a/x y", "b/x y", 5, "e")], "src", "dst",
                                                         move=True, src_version="v1"))
        job = store.job(new_id)
        assert (job.direction, job.src_bucket, job.src_key, job.src_version) == (Direction.MOVE, "src", "a/x y", "v1")
        assert (job.bucket, job.key, job.local_path, job.name) == ("dst", "b/x y", "s3://src/a/x y", "x y")
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 3


class _Client:
    def __init__(self, head):
        self.head = head

    def head_object(self, **kw):
        return self.head


def _job():
    return Job(1, 1, Direction.COPY, "dst", "k", "s3://src/k", src_bucket="src", src_key="k",
               policy=OverwritePolicy.ASK)


def test_a_copy_with_other_bytes_fails_verification():
    src = {"ContentLength": 3, "ETag": '"900150983cd24fb0d6963f7d28e17f72"'}
    with pytest.raises(JobError, match="Verification failed"):
        copy._verify(_Client({"ContentLength": 3, "ETag": '"00000000000000000000000000000000"'}), _job(), src, "")
    with pytest.raises(JobError, match="3 bytes|bytes"):
        copy._verify(_Client({"ContentLength": 2, "ETag": src["ETag"]}), _job(), src, "")
    with pytest.raises(JobError, match="the bytes sent give"):  # a stream: the ETag its bytes predict
        copy._verify(_Client({"ContentLength": 3, "ETag": '"11111111111111111111111111111111"'}), _job(),
                     {"ContentLength": 3, "ETag": '"abc-2"'}, "22222222222222222222222222222222")
    assert copy._verify(_Client(dict(src)), _job(), src, "")["ETag"] == src["ETag"]
    # a single-part source copied in parts: the layouts differ, size (and CopySourceIfMatch) decide
    assert copy._verify(_Client({"ContentLength": 3, "ETag": '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2"'}), _job(), src, "")


def test_delete_many_batches_in_parallel_and_reports_every_failure(s3):
    s3.create_bucket(Bucket="bkt")
    for i in range(25):
        s3.put_object(Bucket="bkt", Key=f"data/2024/{i}", Body=b"")
    s3.put_object(Bucket="bkt", Key="data/2024-old/keep", Body=b"")
    keys = keys_to_delete(s3, "bkt", "data/2024", recursive=True)  # the prefix is taken as a folder
    assert len(keys) == 25 and "data/2024-old/keep" not in keys
    seen = []
    report = delete_many(s3, "bkt", keys, batch=10, threads=3, on_progress=lambda done, n: seen.append((done, n)))
    assert len(report.deleted) == 25 and not report.failures
    assert sorted(seen)[-1] == (25, 25) and len(seen) == 3
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == ["data/2024-old/keep"]

    class Broken:
        def delete_objects(self, **kw):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DeleteObjects")

    report = delete_many(Broken(), "bkt", ["a", "b", "c"], batch=2)
    assert [k for k, _ in report.failures] == ["a", "b", "c"] and "Access denied" in report.failures[0][1]


def test_restore_header_tags_and_bucket_names():
    assert not parse_restore(None).requested
    ongoing = parse_restore('ongoing-request="true"')
    assert ongoing.requested and ongoing.ongoing and not ongoing.readable
    done = parse_restore('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')
    assert done.readable and done.expiry.astimezone(timezone.utc).year == 2012 and "2012-12-21" in done.describe()
    assert parse_tags(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_tags(["novalue"])
    with pytest.raises(ValueError, match="at most 10"):
        parse_tags([f"k{i}=v" for i in range(11)])
    with pytest.raises(ValueError, match="3–63 characters"):
        create_bucket(None, "ab")


def test_an_archived_object_says_why_it_cannot_be_read():
    exc = ClientError({"Error": {"Code": "InvalidObjectState", "Message": "The operation is not valid"},
                       "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")
    info = classify(exc, bucket="b", key="cold.parquet")
    assert info.permanent and "archived" in info.message and "restore" in info.message


def test_planned_copies_map_a_prefix_to_relative_keys(s3):
    s3.create_bucket(Bucket="bkt")
    for k in ("p/a", "p/sub/b", "p-other/c"):
        s3.put_object(Bucket="bkt", Key=k, Body=b"1")
    assert [(i.src_key, i.key) for i in copy.plan_copy(s3, "bkt", "p/", "q")] == [("p/a", "q/a"), ("p/sub/b", "q/sub/b")]
    assert [(i.src_key, i.key, i.size) for i in copy.plan_copy(s3, "bkt", "p/a", "r/")] == [("p/a", "r/a", 1)]
    assert [i.key for i in copy.plan_copy(s3, "bkt", "p/a", "r/new")] == ["r/new"]
    job = NewJob(Direction.COPY, "b", "k", "")
    assert job.src_bucket == ""


class _Ranged(_Client):
    """HEAD and ranged GETs over fixed bytes."""

    def __init__(self, head, data: bytes):
        super().__init__(head)
        self.data = data

    def get_object(self, Range, **kw):
        import io

        start, end = (int(x) for x in Range[len("bytes="):].split("-"))
        return {"Body": io.BytesIO(self.data[start:end + 1])}


def test_a_copy_in_parts_whose_etag_the_server_makes_otherwise_is_checked_by_samples():
    data = bytes(range(256)) * 4096  # 1 MiB
    src = {"ContentLength": len(data), "ETag": '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-3"'}
    written = {"ContentLength": len(data), "ETag": '"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-3"'}  # SeaweedFS's kind
    assert copy._verify(_Ranged(written, data), _job(), src, "", _Ranged(src, data))
    other = data[:-1] + b"x"
    with pytest.raises(JobError, match="Verification failed"):
        copy._verify(_Ranged(written, other), _job(), src, "", _Ranged(src, data))


class _Deleting:
    """A moto client whose DeleteObjects can be held (until `release` is set), refuse keys, or
    fail once; it records the keys of each request."""

    def __init__(self, s3, refuse=(), fail_once=None):
        import threading

        self._s3, self.refuse, self.fail_once = s3, set(refuse), fail_once
        self.requests: list[list[str]] = []
        self.held, self.release = threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def delete_objects(self, Bucket, Delete):
        keys = [o["Key"] for o in Delete["Objects"]]
        self.requests.append(keys)
        if len(self.requests) == 1:
            self.held.set()
            assert self.release.wait(10)
        if self.fail_once is not None:
            exc, self.fail_once = self.fail_once, None
            raise exc
        kept = [k for k in keys if k not in self.refuse]
        self._s3.delete_objects(Bucket=Bucket, Delete={"Objects": [{"Key": k} for k in kept]})
        return {"Errors": [{"Key": k, "Code": "AccessDenied", "Message": "Access Denied"} for k in keys
                           if k in self.refuse]}


def _moves(s3, n: int) -> list[Job]:
    s3.create_bucket(Bucket="bkt")
    jobs = []
    for i in range(n):
        put = s3.put_object(Bucket="bkt", Key=f"src/{i}", Body=b"x%d" % i)
        jobs.append(Job(i + 1, 1, Direction.MOVE, "bkt", f"dst/{i}", f"s3://bkt/src/{i}", size=len(b"x%d" % i),
                        etag=put["ETag"].strip('"'), src_bucket="bkt", src_key=f"src/{i}",
                        policy=OverwritePolicy.ASK, extra={copy.TARGET_ABSENT: "1"}))
    return jobs


def _run_moves(client, jobs: list[Job], deletes_at_once: int = 1):
    """Run move jobs on threads of their own through one engine; (outcomes, its SourceDeletes)."""
    from concurrent.futures import ThreadPoolExecutor

    from lakegui.core.transfers.engine import JobControl, Progress
    from tests.core.test_object_jobs import ClientEngine
    from tests.support.waiting import wait_until

    engine = ClientEngine(client)
    engine._source_deletes = deletes = copy.SourceDeletes(engine, deletes_at_once)
    with ThreadPoolExecutor(len(jobs)) as pool:
        first = pool.submit(engine.run, jobs[0], JobControl(), Progress())
        assert client.held.wait(10)  # the first source's request is out: the others wait for the next
        rest = [pool.submit(engine.run, j, JobControl(), Progress()) for j in jobs[1:]]
        wait_until(lambda: sum(len(v) for v in deletes._waiting.values()) == len(jobs) - 1, timeout=10)
        client.release.set()
        return [first.result(10), *(f.result(10) for f in rest)], deletes


def _keys(s3, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket="bkt", Prefix=prefix).get("Contents", []))


def test_moves_in_flight_delete_their_sources_in_one_deleteobjects(s3):
    from lakegui.core.transfers.jobs import JobState

    jobs = _moves(s3, 8)
    client = _Deleting(s3)
    outcomes, deletes = _run_moves(client, jobs)
    assert [o.state for o in outcomes] == [JobState.DONE] * 8
    # the keys that arrived while the first request was out went in one request, not seven
    assert [sorted(r) for r in client.requests] == [["src/0"], [f"src/{i}" for i in range(1, 8)]]
    assert deletes.requests == 2
    assert _keys(s3, "src/") == [] and _keys(s3, "dst/") == sorted(f"dst/{i}" for i in range(8))


def test_a_source_the_server_does_not_delete_stays_and_only_its_move_fails(s3):
    from lakegui.core.transfers.jobs import JobState

    jobs = _moves(s3, 4)
    slow = ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "DeleteObjects")
    client = _Deleting(s3, refuse={"src/2"}, fail_once=slow)  # the first request fails whole, then retried
    outcomes, _ = _run_moves(client, jobs)
    states = {j.src_key: o for j, o in zip(jobs, outcomes)}
    assert [states[f"src/{i}"].state for i in (0, 1, 3)] == [JobState.DONE] * 3
    assert states["src/0"].attempts == 2  # its request failed whole (SlowDown): the job retried
    refused = states["src/2"]
    assert refused.state is JobState.FAILED and refused.permanent
    assert "could not be deleted: AccessDenied: Access Denied" in refused.error
    # never in neither place: the refused source stays beside its verified copy
    assert _keys(s3, "src/") == ["src/2"] and _keys(s3, "dst/") == [f"dst/{i}" for i in range(4)]


def test_targets_listed_beforehand_are_marked_without_another_listing():
    items = [copy.CopyItem("src/a", "dst/a"), copy.CopyItem("src/b", "dst/b")]
    # no client: the keys under the target folder were listed already (the CLI does it meanwhile)
    marked = copy.mark_absent_targets(None, "bkt", items, present={"dst/a", "dst/other"})
    assert [it.target_absent for it in marked] == [False, True]
