"""The log panel's "Open log folder" says where the folder is when no file manager opens it
(issue 18, defect 16)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QPushButton

from lakegui.core import paths
from lakegui.ui.log_panel import LogPanel


def test_open_log_folder_without_a_launcher_shows_the_path(qtbot, monkeypatch):
    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.show()
    asked = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: asked.append(url) or False)
    button = panel.findChild(QPushButton, "openLogFolder")
    qtbot.mouseClick(button, Qt.LeftButton)
    folder = str(paths.log_dir())
    assert asked and asked[0].toLocalFile() == folder
    assert panel.where.isVisible() and folder in panel.where.text()
    assert QGuiApplication.clipboard().text() == folder
    panel.shutdown()


def test_open_log_folder_with_a_launcher_shows_nothing_extra(qtbot, monkeypatch):
    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.show()
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: True)
    assert panel.open_folder()
    assert not panel.where.isVisible()
    panel.shutdown()
