"""A drop of local files onto the browser is an upload, so the drag's source is always told Copy:
a file manager told Move may delete the originals once the drop is accepted."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from lakegui.ui.browser.table import ObjectTableView

COPY_OR_MOVE = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
SHIFT = Qt.KeyboardModifier.ShiftModifier  # a file manager proposes Move with Shift (or by default)


def local_mime(path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def table(qtbot) -> ObjectTableView:
    view = ObjectTableView(lambda: None)
    qtbot.addWidget(view)
    view.drops_enabled = True
    return view


def test_local_drops_are_accepted_as_copies_even_when_move_is_proposed(qtbot, tmp_path):
    view = table(qtbot)
    mime = local_mime(tmp_path)
    enter = QDragEnterEvent(QPoint(5, 5), COPY_OR_MOVE, mime, Qt.MouseButton.LeftButton, SHIFT)
    assert enter.proposedAction() == Qt.DropAction.MoveAction  # what the source would be told
    view.dragEnterEvent(enter)
    assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.CopyAction
    over = QDragMoveEvent(QPoint(5, 5), COPY_OR_MOVE, mime, Qt.MouseButton.LeftButton, SHIFT)
    view.dragMoveEvent(over)
    assert over.isAccepted() and over.dropAction() == Qt.DropAction.CopyAction
    drop = QDropEvent(QPointF(5, 5), COPY_OR_MOVE, mime, Qt.MouseButton.LeftButton, SHIFT)
    with qtbot.waitSignal(view.files_dropped, timeout=1000) as blocker:
        view.dropEvent(drop)
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    assert blocker.args == [[str(tmp_path)], None]


def test_a_source_that_offers_only_move_is_refused(qtbot, tmp_path):
    view = table(qtbot)
    dropped = []
    view.files_dropped.connect(lambda *a: dropped.append(a))
    mime = local_mime(tmp_path)
    for kind, pos in ((QDragEnterEvent, QPoint(5, 5)), (QDragMoveEvent, QPoint(5, 5)), (QDropEvent, QPointF(5, 5))):
        event = kind(pos, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        getattr(view, {QDragEnterEvent: "dragEnterEvent", QDragMoveEvent: "dragMoveEvent",
                       QDropEvent: "dropEvent"}[kind])(event)
        assert not event.isAccepted()
    assert dropped == []
