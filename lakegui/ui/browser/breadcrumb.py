"""The breadcrumb path bar: the bucket and each folder of the current prefix, clickable, and a
drop target for the browser's own objects (see drop_move.py)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from ..literal_text import literal
from .drop_move import CrumbButton


class Breadcrumb(QWidget):
    prefix_clicked = Signal(str)
    objects_dropped = Signal(list, str, bool)  # keys, the crumb's prefix, copy (Ctrl) rather than move

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.setAccessibleName("Path")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self.buttons: list[QToolButton] = []

    def set_path(self, bucket: str, prefix: str) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons = []
        if not bucket:
            return
        crumbs = [(bucket, "")]
        parts = (prefix[:-1] if prefix.endswith("/") else prefix).split("/") if prefix else []
        so_far = ""
        for part in parts:
            so_far += part + "/"
            crumbs.append((part or "(empty name)", so_far))
        for i, (text, target) in enumerate(crumbs):
            if i:
                self._layout.addWidget(QLabel("›", self))
            button = CrumbButton(target, self)
            button.objects_dropped.connect(self.objects_dropped)
            button.setText(literal(text))
            button.setAutoRaise(True)
            button.setToolTip(f"s3://{bucket}/{target}")
            button.setAccessibleName(f"Go to s3://{bucket}/{target}")
            button.clicked.connect(lambda _=False, t=target: self.prefix_clicked.emit(t))
            self._layout.addWidget(button)
            self.buttons.append(button)
        self._layout.addStretch(1)
