"""Pause, Resume and Cancel shortcuts act on the queue wherever focus is in the window, the first
press included (issue 18, defect 1)."""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from lakegui.core.settings import MB
from tests.ui.test_transfers import drop, wait_listed


def test_queue_shortcuts_work_with_focus_in_the_browser(qtbot, window, demo_connection, tmp_path):
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    window.transfers.apply_settings(replace(window.transfers.settings, max_bandwidth=256 * 1024))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * MB))
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        assert drop(b.table, [big]).isAccepted()
    model = window.transfers.model
    qtbot.waitUntil(lambda: model.row(0).state == "running", timeout=10000)
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
