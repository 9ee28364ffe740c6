"""The path box gives the window its shortcuts, and Enter hands the focus to the rows (new-user
trial 9): Ctrl+U did nothing with focus in the box (X11's QLineEdit deletes the line on it), and
the file name typed after Ctrl+L, a path and Enter went into the box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

from .test_main_window import connect_and_wait

CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


def _claimed(edit, key, modifiers) -> bool:
    """Whether the box claims the key before the window's shortcuts see it."""
    event = QKeyEvent(QEvent.Type.ShortcutOverride, key, modifiers)
    event.ignore()
    edit.event(event)
    return event.isAccepted()


def test_enter_in_the_path_box_goes_there_and_hands_the_focus_to_the_rows(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    b.table.setFocus()
    qtbot.keyClick(b.table, Qt.Key.Key_L, CTRL)
    assert b.path_edit.hasFocus()
    qtbot.keyClicks(b.path_edit, "s3://us-equity-datalake/data/")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        qtbot.keyClick(b.path_edit, Qt.Key.Key_Return)
    assert b.prefix == "data/"
    assert b.table.hasFocus() and not b.path_edit.hasFocus()
    qtbot.keyClick(b.path_edit, Qt.Key.Key_L, CTRL)  # a path it cannot open keeps the focus, to mend it
    qtbot.keyClicks(b.path_edit, "not a path")
    qtbot.keyClick(b.path_edit, Qt.Key.Key_Return)
    assert b.path_edit.hasFocus()


def test_window_shortcuts_work_from_the_path_box_and_editing_keys_stay_with_it(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b, edit = window.browser, window.browser.path_edit
    qtbot.keyClick(b.table, Qt.Key.Key_L, CTRL)
    assert edit.hasFocus()
    # Upload…, Connect… (X11's QLineEdit takes both), Download… and Ctrl+P (the queue's Pause) go
    # to the window; the box keeps typing, Backspace, copy/paste, undo, select all and word moves.
    for key, modifiers in ((Qt.Key.Key_U, CTRL), (Qt.Key.Key_K, CTRL), (Qt.Key.Key_D, CTRL), (Qt.Key.Key_P, CTRL)):
        assert not _claimed(edit, key, modifiers), key
    for key, modifiers in ((Qt.Key.Key_A, CTRL), (Qt.Key.Key_C, CTRL), (Qt.Key.Key_V, CTRL), (Qt.Key.Key_Z, CTRL),
                           (Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_Left, CTRL),
                           (Qt.Key.Key_S, Qt.KeyboardModifier.NoModifier)):
        assert _claimed(edit, key, modifiers), key
    asked = []
    window.choose_upload_files = lambda: asked.append(True) or []
    qtbot.keyClick(edit, Qt.Key.Key_U, CTRL)
    assert asked == [True]
    assert edit.window_takes(QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_U, CTRL))
