"""Table models of the backfill windows: the wizard's plan, and the dashboard's roll-up and failures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ...core.backfill import DIFFERENT, INVALID, SAME, BackfillItem
from ...core.units import human_size
from ..table_model import ColumnTableModel


class RollupModel(ColumnTableModel):
    COLUMNS = ("Value", "Files", "Done", "Failed", "Bytes", "Done %")

    def set_rows(self, rows: list[tuple]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index) or role != Qt.ItemDataRole.DisplayRole:
            return None
        value, files, done, failed, size, size_done = self._rows[index.row()]
        pct = f"{100 * size_done / size:.0f}%" if size else ("100%" if files == done else "")
        return ("(none)" if value is None else str(value), f"{files:,}", f"{done:,}", f"{failed:,}",
                human_size(size), pct)[index.column()]


class FailuresModel(ColumnTableModel):
    COLUMNS = ("Key", "Error", "Attempts")

    def set_rows(self, jobs: list) -> None:
        self.beginResetModel()
        self._rows = jobs
        self.endResetModel()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index) or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        j = self._rows[index.row()]
        return (j.key, j.error, str(j.attempts))[index.column()]

    def ids(self) -> list[int]:
        return [j.id for j in self._rows]


class PlanModel(ColumnTableModel):
    """A backfill plan's files, narrowed to one status (or all) without copying the items."""

    COLUMNS = ("Status", "Local file", "Target key", "Metadata", "Size", "Why")
    _COLOURS = {INVALID: QColor("#b3261e"), DIFFERENT: QColor("#8a5300"), SAME: QColor("#5f6368")}

    def __init__(self, parent=None):
        super().__init__(parent)
        self._all: list[BackfillItem] = []
        self.status = ""  # '' shows every item
        self._order: tuple[int, Qt.SortOrder] | None = None

    def set_items(self, items: list[BackfillItem]) -> None:
        self._all = items
        if self._order is not None:
            self.sort(*self._order)  # a new plan keeps the user's sort
        else:
            self._refilter()

    def set_status(self, status: str) -> None:
        self.status = status
        self._refilter()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = (lambda i: (i.status, i.relative), lambda i: i.relative, lambda i: i.key,
               lambda i: tuple(i.metadata.values()), lambda i: i.size, lambda i: i.reason)[column]
        self._order = (column, order)
        self._all = sorted(self._all, key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        self._refilter()

    def _refilter(self) -> None:
        self.beginResetModel()
        self._rows = [i for i in self._all if i.status == self.status] if self.status else self._all
        self.endResetModel()

    def item(self, row: int) -> BackfillItem:
        return self._rows[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        item: BackfillItem = self._rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == 0:
                return item.status
            if col == 1:
                return item.relative
            if col == 2:
                return item.key
            if col == 3:
                return ", ".join(f"{k}={v}" for k, v in item.metadata.items())
            if col == 4:
                return human_size(item.size) if item.size or item.status != INVALID else ""
            return item.reason
        if role == Qt.ItemDataRole.ForegroundRole and col == 0:
            return self._COLOURS.get(item.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
