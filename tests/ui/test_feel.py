"""The feel of a desktop app: shortcuts (listed in Help, none clashing, and working), keyboard
navigation, and an accessible name on every control a person can reach."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from .test_main_window import connect_and_wait, names


def test_every_menu_shortcut_is_listed_and_none_clash(qtbot, window):
    rows = window.shortcut_rows()
    keys = [k for _, _, k in rows]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    listed = {(m, a) for m, a, _ in rows}
    for expected in [("File", "Connect…"), ("Edit", "Settings…"), ("Edit", "Download…"), ("Edit", "Delete…"),
                     ("Transfers", "New backfill…"), ("Transfers", "Backfills…"), ("Go", "Up"), ("Go", "Refresh"),
                     ("Go", "Filter"), ("View", "Lake coverage…"), ("View", "Log"), ("Help", "Keyboard shortcuts")]:
        assert expected in listed, expected
    window.show_shortcuts()
    box = window.findChild(QWidget, "shortcutsBox")
    qtbot.waitUntil(box.isVisible)
    assert "Ctrl+Shift+L" in box.text() and "New backfill" in box.text()
    box.close()


def test_keyboard_alone_browses(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    b.table.setFocus()
    b.table.selectRow(names(b).index("data/"))
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        qtbot.keyClick(b.table, Qt.Key.Key_Return)
    assert b.prefix == "data/"
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        qtbot.keyClick(b.table, Qt.Key.Key_Backspace)
    assert b.prefix == ""
    qtbot.keyClick(b.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert b.filter_edit.hasFocus()
    qtbot.keyClicks(b.filter_edit, "READ")
    qtbot.keyClick(b.filter_edit, Qt.Key.Key_Backspace)  # edits the filter, does not go up
    assert b.filter_edit.text() == "REA" and b.prefix == "" and names(b) == ["README.txt"]


def _unnamed(root: QWidget) -> list[str]:
    """Controls a person can reach that a screen reader could not name."""
    bad = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or w.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if isinstance(w, QAbstractButton):
            if not (w.accessibleName() or w.text().replace("&", "").strip() or w.toolTip()):
                bad.append(f"{type(w).__name__} {w.objectName()!r}")
        elif isinstance(w, (QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QPlainTextEdit)):
            if isinstance(w.parent(), (QComboBox, QAbstractSpinBox)):
                continue  # the editor inside a combo box or spin box: named by its owner
            if not w.accessibleName():
                bad.append(f"{type(w).__name__} {w.objectName()!r} in {type(w.parent()).__name__}")
    return bad


def test_every_control_has_an_accessible_name(qtbot, window, demo_connection, tmp_path):
    from lakegui.ui.dialogs.connection import ConnectionDialog
    from lakegui.ui.dialogs.settings import SettingsDialog

    connect_and_wait(qtbot, window, demo_connection)
    window.log_dock.show()
    with qtbot.waitSignal(window.coverage_window().loaded, timeout=15000):
        window.open_coverage()
    window.open_backfills()
    wizard = window.open_backfill_wizard(folder=str(tmp_path))
    dialogs = [SettingsDialog(window.settings, window), ConnectionDialog(None, window)]
    for d in dialogs:
        d.show()
    for root in [window, window.coverage, window.backfills, wizard, *dialogs]:
        assert _unnamed(root) == [], type(root).__name__
    for d in dialogs:
        d.close()
    wizard.close()
