"""The browser's table view: takes drops of local files and folders from the OS file manager, and
lets the selection be dragged out (see drag.py)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QAbstractItemView, QTableView

from ...core.listing import PrefixEntry
from ..column_fit import ColumnFitter
from .drag import dropped_local_paths
from .model import ENTRY_ROLE


class ObjectTableView(QTableView):
    files_dropped = Signal(list, object)  # local paths, the folder row's prefix dropped on (or None)
    painted = Signal()  # after each repaint of the rows (a streaming listing waits for it)

    def __init__(self, drag_data: Callable[[], QMimeData | None], parent=None):
        """`drag_data()` gives what dragging the selection out carries, or None for no drag."""
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDropIndicatorShown(True)
        self.drops_enabled = False  # only while connected to a bucket
        self._drag_data = drag_data
        # Columns fit each listing's first rows and the last stretches; a user's widths stay.
        self.column_fitter = ColumnFitter(self)

    def setModel(self, model) -> None:
        super().setModel(model)
        self.column_fitter.watch(model)

    def moveCursor(self, action, modifiers):
        # Home and End go to the first and last row, as in file managers (QTableView moves between
        # columns). With Ctrl they keep Qt's meaning: the row changes, the selection does not.
        if action in (self.CursorAction.MoveHome, self.CursorAction.MoveEnd) and \
                not modifiers & Qt.KeyboardModifier.ControlModifier and self.model() is not None:
            rows = self.model().rowCount()
            if rows:
                column = max(self.currentIndex().column(), 0)
                return self.model().index(0 if action == self.CursorAction.MoveHome else rows - 1, column)
        return super().moveCursor(action, modifiers)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.painted.emit()

    def startDrag(self, actions) -> None:
        mime = self._drag_data()
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        index = self.currentIndex()
        decoration = index.siblingAtColumn(0).data(Qt.ItemDataRole.DecorationRole) if index.isValid() else None
        if decoration is not None:
            drag.setPixmap(decoration.pixmap(32, 32))
        drag.exec(Qt.DropAction.CopyAction)  # never a move: the objects stay in the bucket

    def dragEnterEvent(self, event):
        if self.drops_enabled and dropped_local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if self.drops_enabled and dropped_local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        paths = dropped_local_paths(event.mimeData())
        if not (self.drops_enabled and paths):
            event.ignore()
            return
        entry = self.indexAt(event.position().toPoint()).data(ENTRY_ROLE)
        event.acceptProposedAction()
        self.files_dropped.emit(paths, entry.prefix if isinstance(entry, PrefixEntry) else None)
