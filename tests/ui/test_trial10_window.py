"""Findings of session 10's new-user trial in the window."""

from __future__ import annotations

from tests.ui.test_backfills import add_backfill


def test_remove_finished_from_the_queue_s_button_removes_the_finished_rows(qtbot, window):
    """Finding 1: the button, the menu entry and Ctrl+Shift+Del did nothing; triggered(bool) gave
    its `checked` to remove_finished as the ids (TypeError: 'bool' object is not iterable)."""
    q = window.transfers
    add_backfill(q, n=2)  # one done, one failed
    q._on_sync_timer_timeout()
    qtbot.waitUntil(lambda: q.model.rowCount() == 2)
    window.queue.remove_finished_action.trigger()
    qtbot.waitUntil(lambda: q.model.rowCount() == 1, timeout=5000)
    assert q.model.row(0).state == "failed"
