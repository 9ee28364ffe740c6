"""Where the tool windows (Query, Compare, Coverage, Search, Backfills) open: centred on the main
window and within the screen's available area. Qt leaves a plain top-level widget to the window
manager, which put them at the screen's left edge, reaching below its bottom (a 1100x760 Query
window on a 1000-pixel-high screen)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtWidgets import QWidget


def fitted_rect(size: tuple[int, int], frame: tuple[int, int], anchor: QRect, area: QRect) -> QRect:
    """The frame rectangle of a window of client `size` with decorations `frame` (extra width,
    height): centred on `anchor`, no larger than `area` and moved inside it."""
    w = min(size[0], area.width() - frame[0])
    h = min(size[1], area.height() - frame[1])
    outer_w, outer_h = w + frame[0], h + frame[1]
    centre = anchor.center()
    x = max(area.left(), min(centre.x() - outer_w // 2, area.left() + area.width() - outer_w))
    y = max(area.top(), min(centre.y() - outer_h // 2, area.top() + area.height() - outer_h))
    return QRect(x, y, w, h)


def place(window: QWidget, anchor: QWidget | None = None) -> None:
    """Size `window` within its screen's available area and centre it on `anchor` (its parent
    window by default; the screen when there is none)."""
    anchor = anchor if anchor is not None else window.parentWidget()
    anchor = anchor.window() if anchor is not None else None
    screen = (anchor or window).screen()
    area = screen.availableGeometry()
    # The window manager's decorations are not known before the first show: the main window's are
    # the best guess (the same manager draws both); none shown yet, a title bar's worth.
    frame = (16, 40)
    if anchor is not None and anchor.isVisible():
        outer, inner = anchor.frameGeometry(), anchor.geometry()
        if outer != inner:
            frame = (outer.width() - inner.width(), outer.height() - inner.height())
    target = fitted_rect((window.width(), window.height()), frame,
                         anchor.frameGeometry() if anchor is not None and anchor.isVisible() else area, area)
    window.resize(target.width(), target.height())
    window.move(target.topLeft())  # a top-level's move() places its frame


class _FirstShow(QObject):
    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Show:  # sent before the window is mapped
            watched.removeEventFilter(self)
            place(watched)
            self.deleteLater()
        return False


def place_on_first_show(window: QWidget) -> None:
    """Place `window` (see place()) when it is first shown; where the user moves it later stays."""
    window.installEventFilter(_FirstShow(window))
