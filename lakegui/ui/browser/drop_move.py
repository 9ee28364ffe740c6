"""Dragging objects within the browser: onto a folder row or a breadcrumb segment moves them
there, with Ctrl held copies them. What a drag carries is drag.py's S3 payload; the view or the
crumb under the pointer highlights itself and says which folder it would receive into."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QToolButton

from .drag import ORIGIN, S3_MIME


def dragged_objects(mime: QMimeData) -> tuple[str, list[str]] | None:
    """(bucket, keys and folder prefixes) of a drag of this app's own objects, or None (nothing of
    ours, or another lakegui's: its keys are another connection's)."""
    if mime is None or not mime.hasFormat(S3_MIME):
        return None
    try:
        doc = json.loads(bytes(mime.data(S3_MIME)).decode())
        if doc.get("origin") != ORIGIN:
            return None
        return str(doc["bucket"]), [str(k) for k in doc["keys"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def receives(keys: list[str], folder: str) -> bool:
    """Whether `folder` may receive the dragged `keys`: not one of them, nor inside a dragged folder
    (dropping a folder onto itself would put it inside itself)."""
    return not any(folder.startswith(k) for k in keys if k.endswith("/"))


def drop_action(modifiers) -> Qt.DropAction:
    """Ctrl held copies; otherwise the objects move, as in file managers."""
    return Qt.DropAction.CopyAction if modifiers & Qt.KeyboardModifier.ControlModifier else Qt.DropAction.MoveAction


class CrumbButton(QToolButton):
    """A breadcrumb segment that takes drops of the browser's own objects into its folder."""

    objects_dropped = Signal(list, str, bool)  # keys, this crumb's prefix, copy (Ctrl) rather than move

    def __init__(self, prefix: str, parent=None):
        super().__init__(parent)
        self.prefix = prefix
        self.setAcceptDrops(True)

    def _take(self, event) -> list[str] | None:
        dragged = dragged_objects(event.mimeData())
        if dragged is None or not receives(dragged[1], self.prefix):
            return None
        return dragged[1]

    def dragEnterEvent(self, event) -> None:
        self.dragMoveEvent(event)

    def dragMoveEvent(self, event) -> None:
        if self._take(event) is None:
            event.ignore()
            return
        event.setDropAction(drop_action(event.modifiers()))
        event.accept()
        self.setDown(True)  # the drop target, highlighted

    def dragLeaveEvent(self, event) -> None:
        self.setDown(False)

    def dropEvent(self, event) -> None:
        self.setDown(False)
        keys = self._take(event)
        if keys is None:
            event.ignore()
            return
        action = drop_action(event.modifiers())
        event.setDropAction(action)
        event.accept()
        self.objects_dropped.emit(keys, self.prefix, action == Qt.DropAction.CopyAction)
