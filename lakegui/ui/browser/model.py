"""The browser's item model: folders and objects of one prefix, appended page by page."""

from __future__ import annotations

from PySide6.QtCore import Qt, QSortFilterProxyModel
from PySide6.QtWidgets import QApplication, QStyle

from ...core.listing import ListingPage, ObjectEntry, PrefixEntry
from ...core.units import human_size
from ..table_model import ColumnTableModel

Entry = PrefixEntry | ObjectEntry
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2


class ObjectTableModel(ColumnTableModel):
    """Rows of one listing. Pages are appended as they arrive, never rebuilt."""

    COLUMNS = ("Name", "Size", "Last modified", "Storage class")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._prefix = ""
        style = QApplication.style()
        self._folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._file_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    @property
    def prefix(self) -> str:
        return self._prefix

    def reset(self, prefix: str) -> None:
        self.beginResetModel()
        self._prefix = prefix
        self._rows = []
        self.endResetModel()

    def append_page(self, page: ListingPage) -> int:
        # The folder's own marker object ("prefix/") is the folder itself, not a child.
        return self.append_rows([*page.prefixes, *(o for o in page.objects if o.key != self._prefix)])

    def entry(self, row: int) -> Entry:
        return self._rows[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        e = self._rows[index.row()]
        col = index.column()
        folder = isinstance(e, PrefixEntry)
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
        elif role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._folder_icon if folder else self._file_icon
        elif role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return e.prefix if folder else e.key
        elif role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == SORT_ROLE:
            # Folders sort before files in every column; ties break by name.
            if folder:
                return (0, e.prefix)
            value = (e.key, e.size, e.last_modified.timestamp() if e.last_modified else 0.0,
                     e.storage_class)[col]
            return (1, value, e.key)
        elif role == ENTRY_ROLE:
            return e
        return None


class ObjectSortFilterProxy(QSortFilterProxyModel):
    """Sorts by raw values (not display text) and filters names as the user types."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def lessThan(self, left, right) -> bool:
        return self.sourceModel().data(left, SORT_ROLE) < self.sourceModel().data(right, SORT_ROLE)
