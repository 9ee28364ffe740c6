"""Item models of the preview pane: Parquet rows (lazy, block by block), row-group
statistics, and plain tables (CSV)."""

from __future__ import annotations

from collections import OrderedDict

import pyarrow as pa
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from ...core.preview.cells import format_value
from ...core.preview.parquet import ChunkStats, ParquetPreview
from ...core.units import human_size
from ..table_model import ColumnTableModel

PENDING = "…"
_MAX_BLOCKS = 64
_NULL_BRUSH = QBrush(QColor(128, 128, 128))


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


class ParquetRowsModel(QAbstractTableModel):
    """Every row of the file, as far as the view scrolls: rows not yet read show "…" and
    ask for their block (block_needed); the pane reads it off the UI thread and hands it
    back with set_block."""

    block_needed = Signal(int, int)   # row group, block

    def __init__(self, preview: ParquetPreview, columns: list[str], head: pa.Table, head_values: list[list],
                 parent=None):
        super().__init__(parent)
        self.preview = preview
        self.columns = list(columns)
        self._head = head
        self._head_values = head_values
        self._numeric = [_numeric(head.schema.field(c).type) for c in self.columns]
        self._blocks: OrderedDict[tuple[int, int], list[list]] = OrderedDict()
        self._batches: dict[tuple[int, int], pa.RecordBatch] = {}
        self._asked: set[tuple[int, int]] = set()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.preview.num_rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section] if 0 <= section < len(self.columns) else None
        return f"{section + 1:,}"  # numbered from 1, as spreadsheets do

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < self.preview.num_rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self._value(index.row(), index.column())
            return PENDING if value is _MISSING else format_value(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and self._numeric[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self._value(index.row(), index.column()) is None:
            return _NULL_BRUSH
        return None

    def set_block(self, row_group: int, block: int, batch: pa.RecordBatch, values: list[list]) -> None:
        """A block read off the UI thread: the batch (for charts) and its values (cells.python_columns)."""
        key = (row_group, block)
        self._asked.discard(key)
        self._batches[key] = batch
        self._blocks[key] = values
        while len(self._blocks) > _MAX_BLOCKS:
            old, _ = self._blocks.popitem(last=False)
            self._batches.pop(old, None)
        first = self.preview.block_start(row_group, block)
        self.dataChanged.emit(self.index(first, 0), self.index(first + batch.num_rows - 1, len(self.columns) - 1))

    def block_failed(self, row_group: int, block: int) -> None:
        self._asked.discard((row_group, block))

    def loaded_table(self) -> pa.Table:
        """The rows read so far, in file order (what a chart draws without reading more)."""
        batches = [self._batches[k] for k in sorted(self._batches)]
        if (0, 0) not in self._batches:
            batches = self._head.to_batches() + batches
        return pa.Table.from_batches(batches, schema=self._head.schema) if batches else self._head

    def loaded_gaps(self) -> list[int]:
        """Rows of loaded_table() that follow rows not read (a jump far into the file): a chart of
        the rows read must not draw a line over what it never saw."""
        spans = [] if (0, 0) in self._batches else [(0, self._head.num_rows)]
        spans += [(self.preview.block_start(*k), self._batches[k].num_rows) for k in sorted(self._batches)]
        gaps, at, end = [], 0, None
        for start, n in spans:
            if end is not None and start != end:
                gaps.append(at)
            at, end = at + n, start + n
        return gaps

    def _value(self, row: int, column: int):
        key = self.preview.block_of(row)
        columns = self._blocks.get(key)
        if columns is None:
            if row < self._head.num_rows:
                return self._head_values[column][row]
            if key not in self._asked:
                self._asked.add(key)
                self.block_needed.emit(*key)
            return _MISSING
        self._blocks.move_to_end(key)
        return columns[column][row - self.preview.block_start(*key)]


_MISSING = object()


class RowGroupsModel(ColumnTableModel):
    COLUMNS = ("Row group", "Column", "Rows", "Compressed", "Uncompressed", "Compression", "Encodings",
               "Min", "Max", "Nulls")

    def __init__(self, stats: list[ChunkStats], parent=None):
        super().__init__(parent)
        self._rows = list(stats)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        s: ChunkStats = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (str(s.row_group), s.column, f"{s.rows:,}", human_size(s.compressed), human_size(s.uncompressed),
                    s.compression, s.encodings, s.min, s.max,
                    "" if s.null_count is None else f"{s.null_count:,}")[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (3, 4):
            return f"{(s.compressed, s.uncompressed)[index.column() - 3]:,} bytes"
        return None


class ListTableModel(QAbstractTableModel):
    """A small table of strings: CSV rows."""

    def __init__(self, header: list[str], rows: list[list[str]], parent=None):
        super().__init__(parent)
        width = max([len(header)] + [len(r) for r in rows])
        self._header = header + [f"column {i + 1}" for i in range(len(header), width)]
        self._rows = rows

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._header)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._header[section] if 0 <= section < len(self._header) else None
        return str(section + 1)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        row = self._rows[index.row()]
        return row[index.column()] if index.column() < len(row) else ""
