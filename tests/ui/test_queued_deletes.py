"""The browser's Delete… through the window's queue (issue 20): its deletes are the queue's delete
jobs (1,000 keys a job, as the CLI's rm and the sync view's), shown there, finished by a queue
started afresh after a restart, and a key the server refuses is named with its reason."""

from __future__ import annotations

from lakegui.core.connection import Connection
from lakegui.core.transfers.jobs import Direction

from .conftest import profile_for
from .test_comparison import client
from .test_main_window import connect_and_wait
from .test_object_actions import go, names, select

B = "browser-deletes"


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_delete_jobs_show_in_the_queue_and_a_restart_finishes_them(qtbot, window, moto_endpoint):
    from lakegui.core.settings import TransferSettings
    from lakegui.ui.queue.controller import TransferQueue

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    for key in ("d/a.csv", "d/sub/b c.csv", "d/sub/d+e.csv", "d/later/x.csv", "d-old/kept.csv"):
        s3.put_object(Bucket=B, Key=key, Body=b"xy")
    conn = Connection(profile_for(moto_endpoint, B))
    connect_and_wait(qtbot, window, conn)
    b = window.browser
    go(qtbot, b, "d/")
    select(b, "sub/", "a.csv")
    b.object_actions.confirm = lambda title, text: True
    with qtbot.waitSignal(b.listing_finished, timeout=15000):
        with qtbot.waitSignal(b.object_actions.done, timeout=15000) as done:
            b.delete_action.trigger()
    assert done.args[0] == "Deleted 3 objects"
    assert names(b) == ["later/"] and keys(s3, B) == ["d-old/kept.csv", "d/later/x.csv"]
    jobs = [j for j in window.transfers.service.jobs() if j.direction is Direction.DELETE]
    assert len(jobs) == 1 and jobs[0].state == "done" and jobs[0].size == 6  # 3 keys of 2 bytes, one job
    shown = [window.transfers.model.row(i) for i in range(window.transfers.model.rowCount())]
    assert [r.direction for r in shown if r.job_id == jobs[0].id] == ["delete"]  # a row of the window's queue

    # Stored but not run when the app stops (paused here, as a kill would leave them queued):
    # the next session's queue deletes them.
    shown_stored = window.transfers.show_stored

    def stored_paused(batch, rows):
        window.transfers.pause(batch_id=batch)
        return shown_stored(batch, rows)

    window.transfers.show_stored = stored_paused
    select(b, "later/")
    with qtbot.waitSignal(b.object_actions.queued, timeout=15000) as queued:
        b.delete_action.trigger()
    assert queued.args[1] == 1
    assert [j.state for j in window.transfers.batch_jobs(queued.args[0])] == ["paused"]
    assert "d/later/x.csv" in keys(s3, B)
    window.transfers.shutdown()
    again = TransferQueue(TransferSettings())
    try:
        again.set_connection(conn)
        again.start()
        again.resume()
        qtbot.waitUntil(lambda: keys(s3, B) == ["d-old/kept.csv"], timeout=20000)
        qtbot.waitUntil(lambda: again.running_count == 0, timeout=10000)
        assert [j.state for j in again.batch_jobs(queued.args[0])] == ["done"]
    finally:
        again.shutdown()


def test_a_key_the_server_refuses_is_reported_with_its_reason(qtbot, window, moto_endpoint, monkeypatch):
    from lakegui.core.transfers import object_jobs

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B + "-refused")
    for key in ("f/ok.csv", "f/locked.csv"):
        s3.put_object(Bucket=B + "-refused", Key=key, Body=b"x")
    real = object_jobs.delete_objects

    def refuse_locked(engine, bucket, keys):  # as S3 answers a key under object lock
        errors = real(engine, bucket, [k for k in keys if k != "f/locked.csv"])
        return errors + [("f/locked.csv", "AccessDenied", "Access Denied")]

    monkeypatch.setattr(object_jobs, "delete_objects", refuse_locked)
    connect_and_wait(qtbot, window, Connection(profile_for(moto_endpoint, B + "-refused")))
    b = window.browser
    go(qtbot, b, "f/")
    select(b, "ok.csv", "locked.csv")
    b.object_actions.confirm = lambda title, text: True
    with qtbot.waitSignal(b.object_actions.failed, timeout=15000) as failed:
        b.delete_action.trigger()
    assert failed.args[0] == "Deleted 1; 1 could not be deleted: f/locked.csv: AccessDenied: Access Denied"
    assert keys(s3, B + "-refused") == ["f/locked.csv"]
    qtbot.waitUntil(lambda: names(b) == ["locked.csv"], timeout=10000)  # listed again
