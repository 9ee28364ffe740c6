"""The path bar: an editable s3:// path that, when too long for its width and not being edited,
shows its start and end with an ellipsis in the middle (the bucket and the folder you are in),
rather than QLineEdit's scrolled tail ("/02/")."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QLineEdit, QStyle, QStyleOptionFrame

_MARGIN = 2  # QLineEdit's own horizontal margin inside the contents rectangle


class PathEdit(QLineEdit):
    def displayed_text(self) -> str:
        """What the bar shows: the whole text while it is edited or fits, else the text elided in the middle."""
        if self.hasFocus():
            return self.text()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, self._text_rect().width())

    def _text_rect(self) -> QRect:
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        rect = self.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, self)
        m = self.textMargins()
        return rect.adjusted(m.left() + _MARGIN, m.top(), -m.right() - _MARGIN, -m.bottom())

    def paintEvent(self, event) -> None:
        shown = self.displayed_text()
        if shown == self.text():
            super().paintEvent(event)
            return
        # The frame as QLineEdit paints it, then the elided text where its text would go.
        painter = QPainter(self)
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelLineEdit, option, painter, self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        painter.drawText(self._text_rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()
