"""The notice bar: something the user must know but need not answer, above the browser.

It has a close button, and its colours follow the palette, so it stays readable in the dark theme."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QStyle, QToolButton

_LIGHT = ("#fff4ce", "#3d2e00")  # background, text
_DARK = ("#4a3c0b", "#ffe9a6")


class NoticeBar(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setAutoFillBackground(True)
        self.label = QLabel(self)
        self.label.setObjectName("noticeText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("noticeClose")
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Close this notice")
        self.close_button.setAccessibleName("Close notice")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        # The theme sets the application palette; a child whose style sheet fixed its own palette
        # hears of that through this signal only.
        QApplication.instance().paletteChanged.connect(self._on_app_palette_changed)
        self._restyle()
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(bool(text))

    def dismiss(self) -> None:
        self.label.setText("")
        self.hide()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    def _on_app_palette_changed(self, _palette) -> None:
        self._restyle()

    def _restyle(self) -> None:
        dark = QApplication.palette().window().color().lightness() < 128  # ours carries the sheet's colours
        background, text = _DARK if dark else _LIGHT
        # Set on the frame by object name only, so the palette change that triggers this still reaches us.
        sheet = f"QFrame#noticeBar {{ background: {background}; }} QLabel#noticeText {{ color: {text}; }}"
        if sheet != self.styleSheet():  # setting it sends another palette change
            self.setStyleSheet(sheet)
