"""The transfer queue's item model. Rows are jobs; the transfer engine fills it (see issue 4)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt

from ...core.units import human_duration, human_size
from ..table_model import ColumnTableModel


@dataclass
class JobRow:
    """What the queue view shows of one job; bytes are plain Python ints (no 32-bit overflow)."""

    name: str
    direction: str  # "upload" or "download"
    state: str
    bytes_done: int = 0
    bytes_total: int = 0
    speed: float = 0.0  # bytes per second, rolling average
    error: str = ""

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else (1.0 if self.state == "done" else 0.0)

    @property
    def eta(self) -> float | None:
        if self.speed <= 0 or self.state != "running":
            return None
        return (self.bytes_total - self.bytes_done) / self.speed


class TransferTableModel(ColumnTableModel):
    COLUMNS = ("Name", "Direction", "Size", "Progress", "Speed", "ETA", "State")
    PROGRESS_COLUMN = 3

    def row(self, i: int) -> JobRow:
        return self._rows[i]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.name, r.direction, human_size(r.bytes_total), f"{r.fraction:.0%}",
                    f"{human_size(r.speed)}/s" if r.speed else "", human_duration(r.eta), r.state)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.error or r.name
        if role == Qt.ItemDataRole.UserRole and index.column() == self.PROGRESS_COLUMN:
            return r.fraction
        return None
