"""Pause, Resume and Cancel shortcuts act on the queue wherever focus is in the window, the first
press included (issue 18, defect 1)."""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from lakegui.core.settings import MB
from tests.ui.test_transfers import drop, start_paced_upload, wait_listed


def test_queue_shortcuts_work_with_focus_in_the_browser(qtbot, window, demo_connection, tmp_path):
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    model = start_paced_upload(qtbot, window, tmp_path, 4)
    window.activateWindow()
    b.table.setFocus()
    qtbot.waitUntil(b.table.hasFocus, timeout=2000)
    assert window.queue.pause_action.shortcut() == QKeySequence("Ctrl+P")

    QTest.keyClick(b.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # the first press counts
    qtbot.waitUntil(lambda: model.row(0).state == "paused", timeout=10000)
    QTest.keyClick(b.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.row(0).state in ("queued", "running"), timeout=10000)
    qtbot.waitUntil(lambda: model.row(0).state == "running", timeout=10000)
    window.queue.table.setFocus()  # and from the queue itself
    QTest.keyClick(window.queue.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.row(0).state == "paused", timeout=10000)
    window.queue.cancel_action.trigger()
    qtbot.waitUntil(lambda: model.row(0).state == "cancelled", timeout=10000)


def test_a_control_that_fits_no_selected_row_says_so(qtbot, window, demo_connection, tmp_path):
    """Defect: with a finished row selected, Resume (Ctrl+R) did nothing and said nothing. Then
    (new-user trial 9) it refused while the header said "Paused (Resume: Ctrl+R)": a queue paused
    as a whole is resumed whole, whatever is selected; the other controls still say so."""
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    window.transfers.apply_settings(replace(window.transfers.settings, max_bandwidth=256 * 1024))
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    small.write_bytes(b"s" * 1000)
    big.write_bytes(os.urandom(4 * MB))
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        assert drop(b.table, [small, big]).isAccepted()
    model, view = window.transfers.model, window.queue
    rows = {model.row(i).local_path.rsplit("/", 1)[-1]: i for i in range(model.rowCount())}
    qtbot.waitUntil(lambda: model.row(rows["small.bin"]).state == "done", timeout=20000)
    view.pause_action.trigger()  # nothing selected: every transfer
    qtbot.waitUntil(lambda: model.row(rows["big.bin"]).state == "paused", timeout=10000)
    qtbot.waitUntil(lambda: view.totals_label.text().startswith("Paused (Resume: Ctrl+R)"), timeout=10000)
    view.table.selectRow(rows["small.bin"])
    view.table.setFocus()
    QTest.keyClick(view.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.row(rows["big.bin"]).state in ("queued", "running"), timeout=10000)
    assert not window.notice.isVisible() or "nothing to resume" not in window.notice.text()
    view.pause_action.trigger()  # the done row selected: Pause has nothing to pause, and says so
    assert "not running or queued, so there is nothing to pause" in window.notice.text()
    assert model.row(rows["big.bin"]).state in ("queued", "running")
    QTest.keyClick(view.table, Qt.Key.Key_Escape)
    assert view.selected_ids() is None
    view.cancel_action.trigger()
    qtbot.waitUntil(lambda: model.row(rows["big.bin"]).state == "cancelled", timeout=10000)
