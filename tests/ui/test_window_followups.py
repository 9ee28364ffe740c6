"""Window follow-ups against the demo lake: a Pause of an idle queue holds jobs queued after it."""

from __future__ import annotations

from .test_transfers import enqueue_upload

# 1. Pause with nothing running holds the queue: a job added later waits for Resume


def test_pause_on_an_idle_queue_holds_an_upload_queued_after_it(qtbot, window, demo_connection, tmp_path):
    q, view = window.transfers, window.queue
    q.set_connection(demo_connection)
    view.pause_action.trigger()  # nothing selected, nothing in the queue
    assert view.totals_label.text() == "Paused (Resume: Ctrl+R)"
    f = tmp_path / "f.txt"
    f.write_text("hello")
    enqueue_upload(q, demo_connection, [(f, "tmp/held/f.txt")])
    row = q.model.row(0)
    assert row.state == "paused" and q.running_count == 0
    assert view.totals_label.text().startswith("Paused (Resume: Ctrl+R) · 0/1 files")
    view.resume_action.trigger()
    qtbot.waitUntil(lambda: row.state == "done", timeout=10000)
    assert view.totals_label.text().startswith("1/1 files")
