"""The coverage grid's model: a Matrix snapshot (rows of one field, columns of another) shown
through a row order that filtering and sorting rearrange, never copying cells. Only the view's
visible cells are ever asked for, so 75,000 cells cost their numpy arrays and nothing per cell."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ...core.coverage import Coverage, Matrix
from ...core.units import counted, human_size

CELL_ROLE = Qt.ItemDataRole.UserRole + 1  # (objects, bytes, shade 0-1) of a cell
SORTS = ("name", "gaps", "size")
SHOWN_KEYS = 8


class CoverageModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.coverage: Coverage | None = None
        self.matrix: Matrix | None = None
        self._order = np.zeros(0, dtype=np.int64)  # view row -> matrix row
        self._row_at: dict[str, int] = {}  # row value -> matrix row
        self._col_at: dict[str, int] = {}
        self._log_range = (0.0, 0.0)  # log sizes of the smallest and largest present cells
        self.filter_text = ""
        self.gaps_only = False
        self.sort_by = "name"

    # contents

    def set_coverage(self, coverage: Coverage | None, matrix: Matrix | None = None) -> None:
        """Show a coverage; its `matrix`, when already built off the UI thread, is used as is."""
        self.beginResetModel()
        self.coverage = coverage
        self.matrix = matrix or (coverage.matrix() if coverage is not None else None)
        self._index_matrix()
        self._order = self._arrange()
        self.endResetModel()

    def _index_matrix(self) -> None:
        m = self.matrix
        self._row_at = {v: i for i, v in enumerate(m.rows)} if m else {}
        self._col_at = {v: j for j, v in enumerate(m.cols)} if m else {}
        self._log_range = (0.0, 0.0)
        if m is not None and m.present:
            sizes = m.bytes[m.count > 0]
            self._log_range = (math.log1p(float(sizes.min())), math.log1p(float(sizes.max())))

    def add_objects(self, objects: list[tuple[str, int, float]]) -> int:
        """Count finished uploads (key, size, modified); cells already in the grid change in place,
        a new row or column rebuilds the grid once. Returns how many keys were in the layout."""
        if self.coverage is None:
            return 0
        placed, changed, rebuild = 0, set(), False
        for key, size, modified in objects:
            cell = self.coverage.add(key, size, modified)
            if cell is None:
                continue
            placed += 1
            i, j = self._row_at.get(cell[0]), self._col_at.get(cell[1])
            if i is None or j is None:
                rebuild = True
            else:
                changed.add((i, j))
        if rebuild:
            self.set_coverage(self.coverage)
            return placed
        m = self.matrix
        view_row = {int(r): v for v, r in enumerate(self._order)} if changed else {}
        for i, j in changed:
            objs = self.coverage.objects_in(m.rows[i], m.cols[j])
            m.count[i, j] = len(objs)
            m.bytes[i, j] = sum(s for _, s, _ in objs)
            m.newest[i, j] = max((t for _, _, t in objs), default=0.0)
            v = view_row.get(i)
            if v is not None:
                index = self.index(v, j)
                self.dataChanged.emit(index, index)
        return placed

    # arrangement

    def set_arrangement(self, *, filter_text: str | None = None, gaps_only: bool | None = None,
                        sort_by: str | None = None) -> None:
        if filter_text is not None:
            self.filter_text = filter_text.strip().upper()
        if gaps_only is not None:
            self.gaps_only = gaps_only
        if sort_by is not None:
            self.sort_by = sort_by
        self.layoutAboutToBeChanged.emit()
        self._order = self._arrange()
        self.layoutChanged.emit()

    def _arrange(self) -> np.ndarray:
        m = self.matrix
        if m is None or not m.rows:
            return np.zeros(0, dtype=np.int64)
        keep = np.ones(len(m.rows), dtype=bool)
        if self.filter_text:
            keep &= np.array([self.filter_text in r.upper() for r in m.rows])
        gaps = (m.count == 0).sum(axis=1)
        if self.gaps_only:
            keep &= gaps > 0
        rows = np.nonzero(keep)[0]
        if self.sort_by == "gaps":
            rows = rows[np.argsort(-gaps[rows], kind="stable")]
        elif self.sort_by == "size":
            rows = rows[np.argsort(-m.bytes.sum(axis=1)[rows], kind="stable")]
        return rows

    # what the view asks

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() or self.matrix is None else len(self.matrix.cols)

    def cell(self, index) -> tuple[str, str]:
        m = self.matrix
        return m.rows[int(self._order[index.row()])], m.cols[index.column()]

    def figures(self, index) -> tuple[int, int, float]:
        i, j = int(self._order[index.row()]), index.column()
        m = self.matrix
        return int(m.count[i, j]), int(m.bytes[i, j]), float(m.newest[i, j])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.matrix is None or not (0 <= index.row() < len(self._order)):
            return None
        n, size, newest = self.figures(index)
        if role == CELL_ROLE:
            return n, size, self._shade(size) if n else 0.0
        if role == Qt.ItemDataRole.AccessibleTextRole:
            row, col = self.cell(index)
            return f"{row} {col}: " + (f"{counted(n, 'object')}, {human_size(size)}" if n else "missing")
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.describe(index)
        return None

    def _shade(self, size: int) -> float:
        """0-1 by log size between the smallest and largest present cells; 0.5 when all are alike."""
        low, high = self._log_range
        return 0.5 if high - low < 1e-9 else min(1.0, max(0.0, (math.log1p(size) - low) / (high - low)))

    def describe(self, index) -> str:
        """A cell in words: its keys and sizes, or that it is missing."""
        row, col = self.cell(index)
        n, size, newest = self.figures(index)
        where = f"{self.matrix.rows_field} {row}" + (f", {self.matrix.cols_field} {col}" if col else "")
        if not n:
            return f"{where}: missing"
        objs = self.coverage.objects_in(row, col)
        lines = [f"{where}: {counted(n, 'object')}, {human_size(size)}, newest "
                 f"{datetime.fromtimestamp(newest):%Y-%m-%d %H:%M}" if newest else f"{where}: {counted(n, 'object')}"]
        lines += [f"{key}  {human_size(s)}" for key, s, _ in objs[:SHOWN_KEYS]]
        if len(objs) > SHOWN_KEYS:
            lines.append(f"… and {len(objs) - SHOWN_KEYS:,} more")
        return "\n".join(lines)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or self.matrix is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.matrix.cols[section] if 0 <= section < len(self.matrix.cols) else None
        return self.matrix.rows[int(self._order[section])] if 0 <= section < len(self._order) else None
