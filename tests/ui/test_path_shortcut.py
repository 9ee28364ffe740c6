"""Ctrl+L and Alt+D focus the path box with its text selected, as in web browsers, so what is
typed next replaces the path (it went to the browser's type-ahead); F1 lists them, and lists
every key of an action (Backspace = Up too, as the README says)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from .test_main_window import connect_and_wait


def test_ctrl_l_and_alt_d_focus_the_path_box_with_its_text_selected(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    for key, modifier in ((Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier),
                          (Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)):
        b.table.setFocus()
        qtbot.waitUntil(b.table.hasFocus)
        qtbot.keyClick(b.table, key, modifier)
        assert b.path_edit.hasFocus(), key
        assert b.path_edit.selectedText() == b.path_edit.text() == "s3://us-equity-datalake/"
    qtbot.keyClicks(b.path_edit, "s3://us-equity-datalake/data/")  # replaces the selected path
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        qtbot.keyClick(b.path_edit, Qt.Key.Key_Return)
    assert b.prefix == "data/"


def test_f1_lists_the_path_keys_and_backspace_for_up(qtbot, window):
    rows = window.shortcut_rows()
    assert ("Go", "Go to path…", "Ctrl+L, Alt+D") in rows
    assert ("Go", "Up", "Alt+Up, Backspace") in rows
    window.show_shortcuts()
    box = window.findChild(QWidget, "shortcutsBox")
    qtbot.waitUntil(box.isVisible)
    assert "Ctrl+L, Alt+D" in box.text() and "Alt+Up, Backspace" in box.text()
    box.close()
