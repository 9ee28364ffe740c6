"""The Versions pane under the browser's table (Show versions): the selected object's versions
and delete markers, newest first, and what can be done with one of them. It shows and asks;
browser/versions.py does the work."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.versions import VersionEntry
from .versions_model import VersionsModel

HINT = "Select an object or a deleted folder to see its versions."


class VersionsPane(QWidget):
    """One key's versions (or a deleted folder), with Undelete, Revert to this version, Download,
    Preview, Copy URI with version and Delete version permanently."""

    version_activated = Signal(object)  # VersionEntry double-clicked or Entered (previews it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("versionsPane")
        self.folder = ""  # a deleted folder shown instead of a key
        self.deleted = False  # the key's latest is a delete marker (or the folder is deleted)

        self.title = QLabel(HINT, self)
        self.title.setObjectName("versionsTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = VersionsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("versionsTable")
        self.table.setAccessibleName("Versions")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 150), (2, 80), (3, 140)):
            header.resizeSection(col, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.update_actions())
        self.table.activated.connect(self._on_table_activated)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(
            lambda pos: self.context_menu().popup(self.table.viewport().mapToGlobal(pos)))

        self.undelete_action = self._action("Undelete", "Remove the delete marker on top, so the object "
                                            "(or every object of the folder) is back")
        self.revert_action = self._action("Revert to this version…", "Copy this version over the latest, "
                                          "server-side; the latest stays in the history")
        self.download_action = self._action("Download…", "Download this version")
        self.preview_action = self._action("Preview", "Show this version in the preview pane")
        self.copy_uri_action = self._action("Copy URI with version", "Copy s3://bucket/key?versionId=… "
                                            "to the clipboard")
        self.delete_action = self._action("Delete version permanently…", "Delete this version (or delete "
                                          "marker) for good: it cannot be undone")

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for action in self.actions():
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(True)
            button.setAccessibleName(action.text().rstrip("…"))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.update_actions()

    def _action(self, text: str, tip: str) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.addAction(action)
        return action

    # what is shown

    def show_key(self, key: str, versions: list[VersionEntry], *, complete: bool) -> None:
        """Show `key`'s versions listed so far (`complete`: all of them), keeping the chosen one."""
        chosen = self.selected()
        self.folder = ""
        self.model.set_versions(key, versions)
        self.deleted = bool(versions) and versions[0].latest and versions[0].delete_marker
        n = sum(1 for v in versions if not v.delete_marker)
        markers = len(versions) - n
        name = key.rsplit("/", 1)[-1] or key
        state = " · deleted: Undelete removes the delete marker on top" if self.deleted else ""
        more = "" if complete else " · listing…"
        self.title.setText(f"{name}: {n:,} version" + ("" if n == 1 else "s")
                           + (f", {markers:,} delete marker" + ("" if markers == 1 else "s") if markers else "")
                           + state + more)
        self.title.setToolTip(key)
        for row, v in enumerate(versions):
            if chosen is not None and v.version_id == chosen.version_id:
                self.table.selectRow(row)
                break
        self.update_actions()

    def show_folder(self, prefix: str) -> None:
        """A deleted folder: Undelete brings back every object in it."""
        self.model.set_versions("", [])
        self.folder, self.deleted = prefix, True
        self.title.setText(f"{prefix} was deleted: every object in it has a delete marker on top. "
                           "Undelete brings them all back.")
        self.title.setToolTip(prefix)
        self.update_actions()

    def show_nothing(self, text: str = HINT) -> None:
        self.model.set_versions("", [])
        self.folder, self.deleted = "", False
        self.title.setText(text)
        self.title.setToolTip("")
        self.update_actions()

    @property
    def key(self) -> str:
        return self.model.key

    def selected(self) -> VersionEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.version(rows[0].row()) if rows else None

    def select_version(self, version_id: str) -> bool:
        for row in range(self.model.rowCount()):
            if self.model.version(row).version_id == version_id:
                self.table.selectRow(row)
                return True
        return False

    def update_actions(self) -> None:
        v = self.selected()
        content = v is not None and not v.delete_marker
        self.undelete_action.setEnabled(self.deleted)
        self.revert_action.setEnabled(content and not v.latest)
        for action in (self.download_action, self.preview_action):
            action.setEnabled(content)
        self.copy_uri_action.setEnabled(content)
        self.delete_action.setEnabled(v is not None)

    def context_menu(self) -> QMenu:
        menu = QMenu(self)
        for action in self.actions():
            menu.addAction(action)
        menu.aboutToHide.connect(menu.deleteLater)
        return menu

    def _on_table_activated(self, index) -> None:
        v = self.model.version(index.row())
        if v is not None and not v.delete_marker:
            self.version_activated.emit(v)
