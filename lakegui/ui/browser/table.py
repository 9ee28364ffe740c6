"""The browser's table view: takes drops of local files and folders from the OS file manager,
lets the selection be dragged out (see drag.py), and takes it back onto a folder row to move or,
with Ctrl, copy it there (see drop_move.py)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QMimeData, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QTableView

from ...core.listing import PrefixEntry
from ..column_fit import ColumnFitter
from .drag import accept_as_copy, dropped_local_paths
from .drop_move import dragged_objects, drop_action, receives
from .model import ENTRY_ROLE


class ObjectTableView(QTableView):
    files_dropped = Signal(list, object)  # local paths, the folder row's prefix dropped on (or None)
    painted = Signal()  # after each repaint of the rows (a streaming listing waits for it)
    objects_dropped = Signal(list, str, bool)  # our own keys, the folder row's prefix, copy (Ctrl) not move

    def __init__(self, drag_data: Callable[[], QMimeData | None], parent=None):
        """`drag_data()` gives what dragging the selection out carries, or None for no drag."""
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDropIndicatorShown(True)
        self.drops_enabled = False  # only while connected to a bucket
        self._drag_data = drag_data
        self._drop_row = QPersistentModelIndex()  # the folder row a drag of our objects would land in
        # Columns fit each listing's first rows and Name takes the rest; a user's widths stay.
        self.column_fitter = ColumnFitter(self, stretch=0)
        # Tab goes on to the next pane, as in file managers: Qt's cell-by-cell Tab moved the current
        # row and replaced the selection (41 rows selected, one Tab, another row selected for Del).
        self.setTabKeyNavigation(False)

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
        if self._drop_row.isValid():  # the drop target: a frame round its whole row
            index = self.model().index(self._drop_row.row(), 0)
            rect = self.visualRect(index).united(self.visualRect(index.siblingAtColumn(self.model().columnCount() - 1)))
            painter = QPainter(self.viewport())
            color = QColor(self.palette().highlight().color())
            painter.setPen(QPen(color, 2))
            color.setAlpha(60)
            painter.setBrush(color)
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
            painter.end()
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
        # Move is offered for drops onto our own folders (this view moves them, through the queue);
        # a drop elsewhere only ever gets copies: what the target does with them is its own business.
        drag.exec(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, Qt.DropAction.CopyAction)

    def _folder_for_objects(self, event) -> str | None:
        """The folder row under a drag of our own objects that may receive them, or None."""
        dragged = dragged_objects(event.mimeData())
        if not self.drops_enabled or dragged is None:
            return None
        index = self.indexAt(event.position().toPoint())
        entry = index.data(ENTRY_ROLE)
        if not isinstance(entry, PrefixEntry) or not receives(dragged[1], entry.prefix):
            return None
        return entry.prefix

    @property
    def drop_row(self) -> int:
        """The folder row highlighted as a drag's target, or -1."""
        return self._drop_row.row() if self._drop_row.isValid() else -1

    def _set_drop_row(self, index) -> None:
        if QPersistentModelIndex(index) != self._drop_row:
            self._drop_row = QPersistentModelIndex(index)
            self.viewport().update()

    def dragEnterEvent(self, event):
        if self.drops_enabled and dragged_objects(event.mimeData()) is not None:
            event.accept()  # where it may land is decided row by row, as it moves
        elif self.drops_enabled and dropped_local_paths(event.mimeData()):
            accept_as_copy(event)  # an upload: never a move of the local files
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if dragged_objects(event.mimeData()) is not None:
            folder = self._folder_for_objects(event)
            if folder is None:
                self._set_drop_row(QPersistentModelIndex())
                event.ignore()
                return
            self._set_drop_row(self.indexAt(event.position().toPoint()))
            event.setDropAction(drop_action(event.modifiers()))
            event.accept()
        elif self.drops_enabled and dropped_local_paths(event.mimeData()):
            accept_as_copy(event)  # an upload: never a move of the local files
        else:
            event.ignore()

    def dragLeaveEvent(self, event):
        self._set_drop_row(QPersistentModelIndex())
        super().dragLeaveEvent(event)

    def dropEvent(self, event):
        self._set_drop_row(QPersistentModelIndex())
        dragged = dragged_objects(event.mimeData())
        if dragged is not None:
            folder = self._folder_for_objects(event)
            if folder is None:
                event.ignore()
                return
            action = drop_action(event.modifiers())
            event.setDropAction(action)
            event.accept()
            self.objects_dropped.emit(dragged[1], folder, action == Qt.DropAction.CopyAction)
            return
        paths = dropped_local_paths(event.mimeData())
        if not (self.drops_enabled and paths):
            event.ignore()
            return
        if not accept_as_copy(event):
            return
        entry = self.indexAt(event.position().toPoint()).data(ENTRY_ROLE)
        self.files_dropped.emit(paths, entry.prefix if isinstance(entry, PrefixEntry) else None)
