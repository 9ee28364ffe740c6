"""The browser's item model: folders and objects of one prefix, appended page by page, sorted
and filtered in the model itself.

A QSortFilterProxyModel with a Python lessThan made some 17,000 Python calls per 1,000-row
page and stalled the UI while 100,000 keys streamed in. Here rows live in one ascending list
(folders first) with their sort keys beside it; a descending sort is the same list read
backwards. S3 lists keys in code-point order, which is Python's string order, so under the
default sort by name each page is at most two block inserts; other sorts insert by bisection.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import QApplication

from ...core.listing import ListingPage, ObjectEntry, PrefixEntry
from ...core.preview import formats
from ...core.preview.formats import kind_of
from ...core.units import human_size
from ..resources import icon
from ..table_model import ColumnTableModel

Entry = PrefixEntry | ObjectEntry
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2
_KIND_ICONS = {formats.PARQUET: "parquet", formats.JSON: "json", formats.CSV: "csv", formats.TEXT: "text",
               formats.IMAGE: "image"}


def _sort_key(column: int):
    """Ascending keys, folders first; ties break by key so the order is total."""
    if column == 1:
        return lambda e: (0, 0, e.prefix) if type(e) is PrefixEntry else (1, e.size, e.key)
    if column == 2:
        return lambda e: (0, 0.0, e.prefix) if type(e) is PrefixEntry else \
            (1, e.last_modified.timestamp() if e.last_modified else 0.0, e.key)
    if column == 3:
        return lambda e: (0, "", e.prefix) if type(e) is PrefixEntry else (1, e.storage_class, e.key)
    return lambda e: (0, e.prefix) if type(e) is PrefixEntry else (1, e.key)


class ObjectTableModel(ColumnTableModel):
    """Rows of one listing, sorted and filtered here. `_rows` is the visible list, ascending."""

    COLUMNS = ("Name", "Size", "Last modified", "Storage class", "Restore")
    RESTORE_COLUMN = 4  # archived objects' restore state, filled lazily (restore_column.py)
    # A name typed into a row's Name cell (F2): a rename for reorganise.py to queue. The row keeps its
    # name until the move is done and the folder is listed again.
    rename_requested = Signal(object, str)  # Entry, the new name

    def __init__(self, parent=None):
        super().__init__(parent)
        self._prefix = ""
        self._all: list[Entry] = []  # everything loaded, in arrival order
        self._keys: list = []  # sort keys of _rows
        self._column = 0
        self._descending = False
        self._filter = ""
        self._key = _sort_key(0)
        self._folder_icon = icon("folder")
        self._kind_icons = {kind: icon(name) for kind, name in _KIND_ICONS.items()}
        self._file_icon = icon("file")
        self.restore_text = lambda entry: ""  # ObjectEntry -> the Restore column (set by restore_column.py)
        self._cut: frozenset[str] = frozenset()  # keys and folder prefixes Cut took, until pasted (dimmed)
        self._cut_brush: QBrush | None = None

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def loaded(self) -> int:
        """Rows loaded, whether or not the filter shows them."""
        return len(self._all)

    def reset(self, prefix: str) -> None:
        self.beginResetModel()
        self._prefix = prefix
        self._all, self._rows, self._keys = [], [], []
        self.endResetModel()

    # rows in view order

    def _at(self, row: int) -> Entry:
        return self._rows[len(self._rows) - 1 - row] if self._descending else self._rows[row]

    def entry(self, row: int) -> Entry:
        return self._at(row)

    def _visible(self, e: Entry) -> bool:
        return not self._filter or self._filter in e.name(self._prefix).casefold()

    def append_page(self, page: ListingPage) -> int:
        """Add a page's folders and objects where the current sort puts them; returns rows added."""
        # The folder's own marker object ("prefix/") is the folder itself, not a child.
        new = [*page.prefixes, *(o for o in page.objects if o.key != self._prefix)]
        self._all.extend(new)
        key = self._key
        keyed = sorted((key(e), e) for e in new if self._visible(e))  # each key computed once
        keys = [k for k, _ in keyed]
        shown = [e for _, e in keyed]
        i = 0
        while i < len(shown):
            at = bisect.bisect_right(self._keys, keys[i])
            # Take every following new row that also belongs at `at` as one block.
            limit = self._keys[at] if at < len(self._keys) else None
            j = i + 1
            while j < len(shown) and (limit is None or keys[j] <= limit):
                j += 1
            self._insert_block(at, shown[i:j], keys[i:j])
            i = j
        return len(new)

    def _insert_block(self, at: int, rows: list, keys: list) -> None:
        n = len(self._rows)
        first = n - at if self._descending else at
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows[at:at] = rows
        self._keys[at:at] = keys
        self.endInsertRows()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_entries = [(self._at(i.row()), i.column()) if 0 <= i.row() < len(self._rows) else (None, 0)
                       for i in old]
        self._column, self._descending = column, order == Qt.SortOrder.DescendingOrder
        self._key = _sort_key(column)
        self._rows.sort(key=self._key)
        self._keys = [self._key(e) for e in self._rows]
        self._remap(old, old_entries)
        self.layoutChanged.emit()

    def set_filter(self, text: str) -> None:
        """Show only rows whose name contains `text` (case-insensitive), at once."""
        text = text.casefold()
        if text == self._filter:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_entries = [(self._at(i.row()), i.column()) if 0 <= i.row() < len(self._rows) else (None, 0)
                       for i in old]
        self._filter = text
        self._rows = sorted((e for e in self._all if self._visible(e)), key=self._key)
        self._keys = [self._key(e) for e in self._rows]
        self._remap(old, old_entries)
        self.layoutChanged.emit()

    def _remap(self, old, old_entries) -> None:
        """Keep selections and the current row on the same entries after a re-layout."""
        if not old:
            return
        n = len(self._rows)
        where = {id(e): i for i, e in enumerate(self._rows)}
        new = []
        for entry, column in old_entries:
            i = where.get(id(entry)) if entry is not None else None
            if i is None:
                new.append(QModelIndex())
            else:
                new.append(self.index(n - 1 - i if self._descending else i, column))
        self.changePersistentIndexList(old, new)

    # what Cut took

    def set_cut(self, keys) -> None:
        """Dim the rows of these keys and folders (and what lies below a cut folder): what Cut took,
        until it is pasted or the clipboard holds something else. An empty set undims them."""
        keys = frozenset(keys)
        if keys == self._cut:
            return
        self._cut = keys
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.COLUMNS) - 1),
                                  [Qt.ItemDataRole.ForegroundRole])

    def is_cut(self, entry) -> bool:
        cut = self._cut
        if not cut:
            return False
        key = entry.prefix if type(entry) is PrefixEntry else entry.key
        if key in cut:
            return True
        i = key.find("/")
        while 0 <= i < len(key) - 1:  # a parent folder that was cut: O(depth), however much was cut
            if key[:i + 1] in cut:
                return True
            i = key.find("/", i + 1)
        return False

    def _dimmed(self) -> QBrush:
        if self._cut_brush is None:
            self._cut_brush = QBrush(QApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                                  QPalette.ColorRole.Text)) \
                if QApplication.instance() is not None else QBrush(QColor("#888888"))
        return self._cut_brush

    def flags(self, index):
        base = super().flags(index)
        if not self._valid(index):
            return base
        base |= Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == 0 else base  # the view edits on F2 only

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if role == Qt.ItemDataRole.EditRole and self._valid(index) and index.column() == 0:
            self.rename_requested.emit(self._at(index.row()), str(value))
        return False  # nothing changes here until the rename is done

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        e = self._at(index.row())
        col = index.column()
        folder = type(e) is PrefixEntry
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return e.name(self._prefix)
            if folder:
                return ""
            if col == 1:
                return human_size(e.size)
            if col == 2:
                return e.last_modified.astimezone().strftime("%Y-%m-%d %H:%M") if e.last_modified else ""
            if col == 3:
                return e.storage_class
            if col == self.RESTORE_COLUMN:
                return self.restore_text(e)
        elif role == Qt.ItemDataRole.EditRole and col == 0:
            name = e.name(self._prefix)
            return name[:-1] if folder else name
        elif role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._folder_icon if folder else self._kind_icons.get(kind_of(e.key), self._file_icon)
        elif role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return e.prefix if folder else e.key
        elif role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == ENTRY_ROLE:
            return e
        elif role == Qt.ItemDataRole.ForegroundRole and self._cut and self.is_cut(e):
            return self._dimmed()
        return None
