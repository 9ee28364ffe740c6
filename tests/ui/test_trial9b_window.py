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


def test_refresh_reads_the_buckets_versioning_again(qtbot, window, demo_lake):
    """Finding C: the status bar's "Versioning: …" and Edit's versioning item were read once per
    bucket; after `lakegui-cli versioning … on` F5 still said off and offered Enable."""
    from lakegui.core import versions as core
    from lakegui.core.connection import Connection
    from tests.ui.conftest import profile_for

    demo_lake.restore()  # as seeded; the next restore drops the bucket made here
    bucket = "versioning-refresh"
    demo_lake.client.create_bucket(Bucket=bucket)
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(Connection(profile_for(demo_lake.endpoint_url, bucket))))
    versions = b.versions
    qtbot.waitUntil(lambda: versions.state == core.NEVER, timeout=10000)
    assert versions.versioning_action.text() == "Enable bucket versioning…"
    core.set_versioning(demo_lake.client, bucket, True)  # as another process would
    b.refresh_action.trigger()
    qtbot.waitUntil(lambda: versions.state == core.ENABLED, timeout=10000)
    assert versions.versioning_action.text() == "Suspend bucket versioning…"
    assert "Versioning: on" in window.versioning_label.text()
