"""The window's first hour (issue 18) against a real HTTP endpoint: the Delete question, the notice
bar, the path bar, feedback in the status bar and the log, Home/End, and the new actions: Upload…,
Open, bookmarks and search by name."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QToolButton, QWidget

from lakegui.core.demo import DEMO_BUCKET

from .test_object_actions import connected, go, names, select


def log_lines(window) -> str:
    return "\n".join(text for _level, text in window.log_panel.handler.all())


# defect 3


def test_delete_question_names_the_open_folder_and_its_plurals(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    select(b, "ticks.parquet")
    asked = []
    b.object_actions.confirm = lambda title, text: asked.append(text) or False
    qtbot.waitUntil(b.object_actions.delete_selected().done, timeout=10000)
    assert asked[-1].startswith(f"Delete 1 object from s3://{DEMO_BUCKET}/data/ticks/daily/AAPL/2024/?")
    go(qtbot, b, "data/fundamental/AAPL/")
    select(b, "2022/")
    qtbot.waitUntil(b.object_actions.delete_selected().done, timeout=10000)
    assert asked[-1].startswith(f"Delete 4 objects (4 of them inside 1 folder) from s3://{DEMO_BUCKET}/"
                                "data/fundamental/AAPL/?")


# defect 4


def test_notice_bar_closes_and_goes_after_success_navigation_and_refresh(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    window.show_notice("A folder name cannot contain '/'")
    assert window.notice.isVisible()
    close = window.notice.findChild(QToolButton, "noticeClose")
    close.click()
    assert not window.notice.isVisible()
    window.show_notice("again")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        qtbot.keyClick(b.table, Qt.Key.Key_F5)
    assert not window.notice.isVisible()
    window.show_notice("again")
    go(qtbot, b, "data/")
    assert not window.notice.isVisible()
    window.show_notice("again")
    select(b, "ticks/")
    b.copy_uri_action.trigger()  # a successful action
    assert not window.notice.isVisible()


def test_notice_bar_is_dark_in_the_dark_theme(qtbot, qapp, window):
    from lakegui.ui import theme

    window.show_notice("something to know")
    light = window.notice.grab().toImage().pixelColor(3, 3).lightness()
    try:
        theme.apply_theme(qapp, "dark")
        qtbot.waitUntil(lambda: window.notice.grab().toImage().pixelColor(3, 3).lightness() < 100, timeout=2000)
    finally:
        theme.apply_theme(qapp, "light")
    assert light > 150


def test_new_folder_dialog_stays_open_on_a_bad_name(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/")
    task = b.object_actions.new_folder()
    dialog = None

    def find():
        nonlocal dialog
        dialog = window.findChild(QWidget, "newFolderDialog")
        return dialog is not None and dialog.isVisible()

    qtbot.waitUntil(find, timeout=2000)
    edit = dialog.findChild(QLineEdit, "folderName")
    edit.setText("a/b")
    dialog.accept()
    assert dialog.isVisible() and "cannot contain '/'" in dialog.problem.text()
    assert edit.text() == "a/b"  # kept, to be corrected
    edit.setText("fresh")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        dialog.accept()
    qtbot.waitUntil(task.done, timeout=5000)
    assert "fresh/" in names(b)


# defect 8


def test_path_bar_elides_in_the_middle_with_the_full_path_as_tooltip(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    full = f"s3://{DEMO_BUCKET}/data/ticks/daily/AAPL/2024/"
    b.path_edit.setFixedWidth(140)
    b.table.setFocus()
    qtbot.waitUntil(lambda: not b.path_edit.hasFocus())
    shown = b.path_edit.displayed_text()
    assert shown.startswith("s3://") and shown.endswith("2024/") and "…" in shown
    assert b.path_edit.toolTip() == full and b.path_edit.text() == full
    b.path_edit.setFixedWidth(2000)
    assert b.path_edit.displayed_text() == full


# defect 12


def test_status_bar_counts_rows_and_filters_and_confirms_actions(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    assert window.statusBar().currentMessage() == "1 item"
    go(qtbot, b, "data/ticks/daily/")
    assert window.statusBar().currentMessage() == "12 items"
    qtbot.keyClicks(b.filter_edit, "M")
    shown = b.model.rowCount()
    assert 0 < shown < 12 and window.statusBar().currentMessage() == f"{shown} of 12 items"
    b.filter_edit.clear()
    assert window.statusBar().currentMessage() == "12 items"
    select(b, "AAPL/", "MSFT/", "NVDA/")
    b.copy_uri_action.trigger()
    assert window.statusBar().currentMessage() == "Copied 3 S3 URIs"
    assert QApplication.clipboard().text().count("s3://") == 3


def test_delete_and_metadata_edits_confirm_and_log(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    assert "Connected to" in log_lines(window)  # lifecycle events at the default level
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    select(b, "ticks.parquet")
    b.object_actions.edit_properties = lambda props: dict(props.metadata, source="corrected")
    b.object_actions.confirm = lambda title, text: True
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.properties_action.trigger()
    assert "Saved the metadata" in window.statusBar().currentMessage()
    assert "Saved the metadata of s3://us-equity-datalake/data/ticks/daily/AAPL/2024/ticks.parquet" in log_lines(window)
    select(b, "ticks.parquet")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.delete_action.trigger()
    assert window.statusBar().currentMessage().startswith("Deleted 1 object")
    assert f"Deleted 1 object from s3://{DEMO_BUCKET}/data/ticks/daily/AAPL/2024/" in log_lines(window)
    with qtbot.waitSignal(b.listing_failed, timeout=10000):
        b.switch_bucket("no-such-bucket")
    assert "no-such-bucket" in log_lines(window)


# defect 13


def test_home_and_end_go_to_the_first_and_last_row(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/")
    b.table.setFocus()
    b.table.setCurrentIndex(b.model.index(4, 1))

    def selected():
        return [i.row() for i in b.table.selectionModel().selectedRows()]

    qtbot.keyClick(b.table, Qt.Key.Key_End)
    assert b.table.currentIndex().row() == 11 and selected() == [11]
    qtbot.keyClick(b.table, Qt.Key.Key_Home)
    assert b.table.currentIndex().row() == 0 and selected() == [0]
    qtbot.keyClick(b.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert b.table.currentIndex().row() == 11 and selected() == [0]  # focus moves, the selection stays
