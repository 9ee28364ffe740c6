"""The window's findings of the second new-user trial of session 9 (B, C, D, E, G)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QTest

from tests.ui.test_transfers import wait_listed


def test_tab_leaves_the_browser_table_and_keeps_its_selection(qtbot, window, demo_connection):
    """Finding B: Tab walked the table cell by cell, each step replacing the selection with one
    other row (Del then offered to delete that one), and never left the table."""
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    table, model = b.table, b.table.model()
    assert model.rowCount() >= 2
    sel = table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in range(2):
        sel.select(model.index(r, 0), flags)
    table.setCurrentIndex(model.index(0, 0))
    sel.select(model.index(1, 0), flags)
    window.activateWindow()
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=2000)
    before = sorted(i.row() for i in sel.selectedRows())
    assert len(before) == 2
    assert not table.tabKeyNavigation() and not window.queue.table.tabKeyNavigation()
    QTest.keyClick(table, Qt.Key.Key_Tab)
    assert sorted(i.row() for i in sel.selectedRows()) == before
    qtbot.waitUntil(lambda: not table.hasFocus(), timeout=2000)
