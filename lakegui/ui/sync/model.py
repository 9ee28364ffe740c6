"""The comparison view's table: one row per relative path of a core Comparison, filtered by class.

Rows are read from the comparison as the view asks for them (a table view only asks for what it
shows), and their statuses change in place as the queued copies finish.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from ...core.sync.compare import DIFFER, ONLY_LOCAL, ONLY_REMOTE, SAME, Comparison
from ...core.units import human_size

COLUMNS = ("Path", "Local size", "Local modified", "Remote size", "Remote modified", "Status")
STATUS_TEXT = {SAME: "same", DIFFER: "differs", ONLY_LOCAL: "only local", ONLY_REMOTE: "only remote"}
COPIED, DELETED, FAILED = "copied", "deleted", "failed"  # what a plan made of a row


def _when(seconds: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else ""


class ComparisonModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self.status_filter: str | None = None
        self._rows: list = []  # the comparison's entries the filter shows
        self._outcome: dict[str, str] = {}  # relative path: copied, deleted or failed (and why)
        self._notes: dict[str, str] = {}  # the same, of the plan that ran before this comparison was made
        self._row_of: dict[str, int] = {}

    def set_comparison(self, cmp: Comparison | None, notes: dict[str, str] | None = None) -> None:
        """Show `cmp`; `notes`: what the plan run just before it made of each row (outcomes()),
        said after each path's fresh status."""
        self.beginResetModel()
        self.comparison = cmp
        self._outcome.clear()
        self._notes = dict(notes or {})
        self._refilter()
        self.endResetModel()

    def set_filter(self, status: str | None) -> None:
        """Show one class (same, differ, only-local, only-remote) or every row (None)."""
        self.beginResetModel()
        self.status_filter = status
        self._refilter()
        self.endResetModel()

    def _refilter(self) -> None:
        entries = self.comparison.entries if self.comparison else []
        self._rows = [e for e in entries if self.status_filter in (None, e.status)]
        self._row_of = {e.relative: i for i, e in enumerate(self._rows)}

    def mark(self, relative: str, outcome: str) -> None:
        """A row's copy or delete ended (copied, deleted, or 'failed: why'): its status says so."""
        self._outcome[relative] = outcome
        row = self._row_of.get(relative)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def outcomes(self) -> dict[str, str]:
        """{relative path: what the running plan made of it} so far."""
        return dict(self._outcome)

    def status_of(self, relative: str) -> str:
        """What the status column says of a path."""
        e = self.comparison.entry(relative) if self.comparison else None
        if e is None:
            return ""
        outcome = self._outcome.get(relative)
        if outcome:
            return outcome if outcome.startswith(FAILED) else f"{outcome} (was {STATUS_TEXT[e.status]})"
        status = STATUS_TEXT[e.status] + (f": {e.reason}" if e.status == DIFFER else "")
        note = self._notes.get(relative)
        return f"{status} · last run: {note}" if note else status

    def relative_at(self, row: int) -> str:
        return self._rows[row].relative

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if col == 0:
            return e.relative
        if col == 1:
            return human_size(e.local.stat.size) if e.local else ""
        if col == 2:
            return _when(e.local.stat.mtime_ns / 1e9) if e.local else ""
        if col == 3:
            return human_size(e.remote.size) if e.remote else ""
        if col == 4:
            return _when(e.remote.modified) if e.remote else ""
        return self.status_of(e.relative)
