"""core/versions.py and the version ids the queue keeps (issue 22), on moto in-process: the SDK
path of the version listing (botocore splits versions from delete markers), its pages, undelete,
and a queue written before version ids were recorded."""

from __future__ import annotations

import sqlite3

import pytest

from lakegui.core.transfers.jobs import Direction, JobState
from lakegui.core.transfers.store import JobStore, NewJob
from lakegui.core.versions import VersionLister, latest_delete_markers, undelete, versioning_state, versions_of


@pytest.fixture
def vs3(s3):
    s3.create_bucket(Bucket="vers")
    s3.put_bucket_versioning(Bucket="vers", VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_sdk_listing_merges_markers_newest_first_and_pages(vs3):
    ids = [vs3.put_object(Bucket="vers", Key="a", Body=str(i).encode())["VersionId"] for i in range(3)]
    marker = vs3.delete_object(Bucket="vers", Key="a")["VersionId"]
    vs3.put_object(Bucket="vers", Key="b", Body=b"x")
    got = versions_of(vs3, "vers", "a")
    assert [(v.version_id, v.delete_marker, v.latest) for v in got] == \
        [(marker, True, True), (ids[2], False, False), (ids[1], False, False), (ids[0], False, False)]
    pages = list(VersionLister(vs3, "vers", "", recursive=True, page_size=2))
    assert len(pages) >= 2 and pages[-1].is_last and sum(len(p.versions) for p in pages) == 5
    assert versioning_state(vs3, "vers") == "enabled"


def test_undelete_removes_only_the_latest_markers(vs3):
    vs3.put_object(Bucket="vers", Key="p/x", Body=b"x")
    vs3.delete_object(Bucket="vers", Key="p/x")
    vs3.put_object(Bucket="vers", Key="p/y", Body=b"y")
    assert [m.key for m in latest_delete_markers(vs3, "vers", "p/")] == ["p/x"]
    assert undelete(vs3, "vers", "p/y").not_deleted == ["p/y"]
    assert undelete(vs3, "vers", "p/", recursive=True).restored == ["p/x"]
    assert vs3.get_object(Bucket="vers", Key="p/x")["Body"].read() == b"x"
    assert latest_delete_markers(vs3, "vers", "p/") == []


def test_queue_keeps_version_ids_and_migrates_an_older_queue(tmp_path):
    path = tmp_path / "q.sqlite3"
    store = JobStore(path)
    batch = store.create_batch("bf", "backfill", {})
    [job_id] = store.add_jobs(batch, [NewJob(Direction.UPLOAD, "b", "k", "/f", replaced_version="v0")])
    store.finish_many([(job_id, JobState.DONE, "", 1, "etag", "v1")])
    store.finish(job_id, JobState.DONE)  # the 5-field form leaves the version id as it was
    job = store.job(job_id)
    assert (job.version_id, job.replaced_version, job.etag) == ("v1", "v0", "etag")
    store.close()
    # A queue from before: the columns are added, the jobs kept.
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE jobs DROP COLUMN version_id")
    db.execute("ALTER TABLE jobs DROP COLUMN replaced_version")
    db.commit()
    db.close()
    store = JobStore(path)
    try:
        job = store.job(job_id)
        assert (job.key, job.version_id, job.replaced_version) == ("k", "", "")
    finally:
        store.close()


def test_revert_to_the_same_bytes_with_other_metadata_writes_them(vs3):
    """A review's finding: revert skipped a version whose bytes the latest had, though its metadata
    differed (a backfill's lineage on the same bytes stayed the latest). Only a true copy is skipped."""
    from lakegui.core.versions import revert

    bucket = "vers"
    v1 = vs3.put_object(Bucket=bucket, Key="r/k", Body=b"same", ContentType="text/csv",
                        Metadata={"source": "vendor-a"})["VersionId"]
    vs3.put_object(Bucket=bucket, Key="r/k", Body=b"same", Metadata={"source": "backfill-7"})
    assert revert(vs3, bucket, "r/k", v1) != ""
    head = vs3.head_object(Bucket=bucket, Key="r/k")
    assert head["Metadata"] == {"source": "vendor-a"} and head["ContentType"] == "text/csv"
    assert revert(vs3, bucket, "r/k", v1) == ""  # now the latest is its copy: nothing written
