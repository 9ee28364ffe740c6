"""The browser's table view: takes drops of local files and folders from the OS file manager."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QTableView

from ...core.listing import PrefixEntry
from .model import ENTRY_ROLE


class ObjectTableView(QTableView):
    files_dropped = Signal(list, object)  # local paths, the folder row's prefix dropped on (or None)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(True)
        self.drops_enabled = False  # only while connected to a bucket

    @staticmethod
    def _local_paths(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]

    def dragEnterEvent(self, event):
        if self.drops_enabled and self._local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if self.drops_enabled and self._local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        paths = self._local_paths(event.mimeData())
        if not (self.drops_enabled and paths):
            event.ignore()
            return
        entry = self.indexAt(event.position().toPoint()).data(ENTRY_ROLE)
        event.acceptProposedAction()
        self.files_dropped.emit(paths, entry.prefix if isinstance(entry, PrefixEntry) else None)
