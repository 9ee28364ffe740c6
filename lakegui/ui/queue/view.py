"""The transfer queue view: a table of jobs with an empty state that says what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout

from .model import TransferTableModel


class TransferQueueView(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("TransferQueueView")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.model = TransferTableModel(self)
        self.title = QLabel("Transfers", self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.table = QTableView(self)
        self.table.setObjectName("transferTable")
        self.table.setAccessibleName("Transfer queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel("No transfers yet. Drop files on the browser to upload them "
                                  "under the current prefix.", self)
        self.empty_label.setObjectName("queueEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)
        self.model.rowsInserted.connect(self._update_empty)
        self.model.modelReset.connect(self._update_empty)
        self._update_empty()

    def _update_empty(self, *_) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        self.table.setVisible(not empty)
