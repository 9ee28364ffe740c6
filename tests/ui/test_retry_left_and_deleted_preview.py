"""Window follow-ups: Retry failed leaves what retrying cannot fix (as `queue retry-failed` does)
and says so; the preview pane lets go of an object a delete took."""

from __future__ import annotations

import pytest

from lakegui.core.settings import TransferSettings
from lakegui.core.transfers.jobs import JobState
from lakegui.core.transfers.object_jobs import PERMANENT, restore_job, tag_job
from lakegui.core.transfers.store import JobStore
from lakegui.ui.queue.controller import TransferQueue
from lakegui.ui.queue.view import TransferQueueView

BUCKET = "us-equity-datalake"


def _failed(store: JobStore, profile: dict, new, error: str, resume: dict | None = None) -> int:
    batch = store.create_batch(new.direction, str(new.direction), profile)
    (job_id,) = store.add_jobs(batch, [new])
    store.finish_many([(job_id, JobState.FAILED, error, 0, "")])
    if resume:
        store.set_resume(job_id, resume)
    return job_id


def test_retry_failed_leaves_jobs_that_failed_for_good_and_says_why(qtbot, qloop, demo_connection, tmp_path):
    path = tmp_path / "q.sqlite3"
    store = JobStore(path)
    try:
        profile = demo_connection.profile.to_dict()
        gone = _failed(store, profile, restore_job(BUCKET, "std.csv", 1), "s3://us-equity-datalake/std.csv is "
                       "not archived", {PERMANENT: True})
        again = _failed(store, profile, tag_job(BUCKET, "nothing/here.csv", {"a": "b"}), "Cannot reach the endpoint")
    finally:
        store.close()
    queue = TransferQueue(TransferSettings(), store_path=path)
    try:
        queue.set_connection(demo_connection)
        queue.start()
        view = TransferQueueView(queue)
        qtbot.addWidget(view)
        messages = []
        view.failed.connect(messages.append)
        view.retry_action.trigger()
        assert queue.row_for(gone).state == "failed"
        assert queue.row_for(again).state in ("queued", "running")  # asked again: it may work now
        assert messages == ["1 left: restore of s3://us-equity-datalake/std.csv failed for good: "
                            "it is not archived. Retrying cannot help until the "  # the URI once
                            "cause is fixed; then ask again."]
        qtbot.waitUntil(lambda: queue.row_for(again).state == "failed" and queue.running_count == 0, timeout=10000)
    finally:
        queue.shutdown()


@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
def test_deleting_the_previewed_object_clears_the_preview(qtbot, window, moto_endpoint, versioned):
    from lakegui.core.connection import Connection

    from .conftest import profile_for
    from .test_comparison import client
    from .test_main_window import connect_and_wait
    from .test_object_actions import go, select

    bucket = "preview-deletes" + ("-v" if versioned else "")
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=bucket)
    if versioned:  # the delete leaves a delete marker
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("d/a.csv", "d/b.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x,y\n1,2\n")
    connect_and_wait(qtbot, window, Connection(profile_for(moto_endpoint, bucket)))
    b, pane = window.browser, window.preview
    go(qtbot, b, "d/")
    with qtbot.waitSignal(pane.preview_finished, timeout=10000):
        select(b, "a.csv")
    b.object_actions.confirm = lambda title, text: True
    with qtbot.waitSignal(b.listing_finished, timeout=15000):
        with qtbot.waitSignal(b.object_actions.done, timeout=15000):
            b.delete_action.trigger()
    assert pane.message.text() == f"s3://{bucket}/d/a.csv was deleted."
    assert pane.title.text() == "d/a.csv" and not pane.tabs.isVisible() and pane.shown_uri == ""
    pane.objects_deleted(bucket, ["d/b.csv"])  # another key: nothing shown changes
    assert pane.message.text() == f"s3://{bucket}/d/a.csv was deleted."
