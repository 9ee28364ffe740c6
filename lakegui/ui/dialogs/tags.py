"""An object's tags as an editable table, checked against S3's rules as they are typed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.tagging import MAX_TAGS, tags_problem


class TagsEditor(QWidget):
    """Key/value rows with Add and Remove. `tags` None means they could not be read: the editor
    shows `unavailable` (why) and offers nothing to edit, so saving never wipes tags unseen."""

    changed = Signal()

    def __init__(self, tags: dict[str, str] | None, unavailable: str = "", parent=None):
        super().__init__(parent)
        self.original = dict(tags) if tags is not None else None
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("tagsTable")
        self.table.setAccessibleName("Tags")
        self.table.setHorizontalHeaderLabels(["Key", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add_button = QPushButton("Add tag", self)
        self.add_button.clicked.connect(lambda: self.add_row("", "", edit=True))
        self.remove_button = QPushButton("Remove tag", self)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.hint = QLabel(f"S3 keeps up to {MAX_TAGS} tags an object: keys of 128 characters, values of 256.", self)
        self.hint.setWordWrap(True)
        self.problem = QLabel(self)
        self.problem.setObjectName("tagsProblem")
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.problem)
        for k, v in (tags or {}).items():
            self.add_row(k, v)
        self.table.itemChanged.connect(self._on_table_item_changed)
        if tags is None:
            for w in (self.table, self.add_button, self.remove_button):
                w.setEnabled(False)
            self.problem.setText(unavailable or "The tags could not be read.")
        self._check()

    @property
    def available(self) -> bool:
        return self.original is not None

    def add_row(self, key: str, value: str, *, edit: bool = False) -> None:
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        self.table.blockSignals(False)
        if edit:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(self.table.item(row, 0))
        self._check()

    def pairs(self) -> list[tuple[str, str]]:
        """Rows as typed (keys stripped), blank rows left out."""
        out = []
        for row in range(self.table.rowCount()):
            key = (self.table.item(row, 0).text() if self.table.item(row, 0) else "").strip()
            value = self.table.item(row, 1).text() if self.table.item(row, 1) else ""
            if key or value:
                out.append((key, value))
        return out

    def tags(self) -> dict[str, str]:
        return dict(self.pairs())

    def problem_text(self) -> str:
        return tags_problem(self.pairs()) if self.available else ""

    def modified(self) -> bool:
        return self.available and self.tags() != self.original

    def _check(self) -> None:
        if self.available:
            self.problem.setText(self.problem_text())
            self.add_button.setEnabled(self.table.rowCount() < MAX_TAGS)
        self.changed.emit()

    def _on_table_item_changed(self, _item) -> None:
        self._check()

    def _on_remove_clicked(self) -> None:
        for index in sorted((i.row() for i in self.table.selectionModel().selectedRows()), reverse=True):
            self.table.removeRow(index)
        self._check()
