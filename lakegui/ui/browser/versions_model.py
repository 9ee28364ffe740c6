"""What Show versions adds to the browser's models: deleted objects and folders among the rows
(dimmed), every version of the listed keys as the version listing streams in, and the rows of
the Versions pane (one key's versions, newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from ...core.listing import ListingPage, PrefixEntry
from ...core.units import human_size
from ...core.versions import VersionEntry, VersionsPage
from ..table_model import ColumnTableModel
from .model import ENTRY_ROLE, ObjectTableModel


@dataclass(frozen=True, slots=True)
class DeletedObject:
    """A key whose latest version is a delete marker: shown dimmed, with the size and ETag of the
    version Undelete would bring back and the date it was deleted. Not an ObjectEntry, so download,
    open, delete and the preview pass it by."""

    key: str
    size: int
    last_modified: datetime | None  # when the delete marker was written
    etag: str
    version_id: str  # the delete marker's
    storage_class: str = "deleted"

    def name(self, parent: str) -> str:
        return self.key[len(parent):] if self.key.startswith(parent) else self.key


def _newest_first(entries: list[VersionEntry]) -> list[VersionEntry]:
    return sorted(entries, key=lambda e: (not e.latest, -(e.last_modified.timestamp() if e.last_modified else 0)))


class VersionIndex:
    """Every version of the keys of one prefix, page by page. A key's versions may run over a page's
    end (and moto lists markers after versions): a key is complete once a page holds a later key."""

    def __init__(self):
        self.prefix = ""
        self._by_key: dict[str, list[VersionEntry]] = {}
        self._open = ""  # the last key seen: more of its versions may come
        self.complete = False  # the whole listing is in
        self.entries = 0

    def reset(self, prefix: str) -> None:
        self.prefix, self._by_key, self._open, self.complete, self.entries = prefix, {}, "", False, 0

    def versions(self, key: str) -> list[VersionEntry]:
        """The versions and delete markers of `key` listed so far: the latest first, then newest first."""
        return _newest_first(self._by_key.get(key, []))

    def known(self, key: str) -> bool:
        """Whether every version of `key` is in (it is listed past, or the listing ended)."""
        return self.complete or (key in self._by_key and key != self._open)

    def add(self, page: VersionsPage) -> list[DeletedObject]:
        """Take a page; returns the keys now complete whose latest is a delete marker."""
        finished = []
        for v in page.versions:
            if v.key != self._open:
                if self._open:
                    finished.append(self._open)
                self._open = v.key
            self._by_key.setdefault(v.key, []).append(v)
        self.entries += len(page.versions)
        if page.is_last:
            self.complete = True
            if self._open:
                finished.append(self._open)
            self._open = ""
        return [d for d in map(self._deleted, finished) if d is not None]

    def _deleted(self, key: str) -> DeletedObject | None:
        versions = self.versions(key)
        if not versions or not (versions[0].latest and versions[0].delete_marker):
            return None
        below = next((v for v in versions if not v.delete_marker), None)
        return DeletedObject(key, below.size if below else 0, versions[0].last_modified,
                             below.etag if below else "", versions[0].version_id)


class BrowserTableModel(ObjectTableModel):
    """The browser's rows, with deleted objects and folders dimmed (Show versions adds them)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.deleted_prefixes: set[str] = set()  # folders every key of which has a delete marker on top
        self.loaded_prefixes: set[str] = set()  # every folder row, live or deleted
        self._dim = QBrush(QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)) \
            if QApplication.instance() is not None else QBrush(QColor("#888888"))
        self._italic = QFont()
        self._italic.setItalic(True)
        self._any_deleted = False  # the usual case: no row needs looking at twice
        self.deleted_rows = 0  # deleted objects and folders added

    def reset(self, prefix: str) -> None:
        self.deleted_prefixes, self.loaded_prefixes, self._any_deleted = set(), set(), False
        self.deleted_rows = 0
        super().reset(prefix)

    def append_page(self, page: ListingPage) -> int:
        self.loaded_prefixes.update(p.prefix for p in page.prefixes)
        return super().append_page(page)

    def add_deleted(self, objects: list[DeletedObject], prefixes: list[str]) -> int:
        """Add deleted objects and folders (dimmed) where the sort puts them."""
        fresh = [p for p in dict.fromkeys(prefixes) if p not in self.loaded_prefixes]
        self.deleted_prefixes.update(fresh)
        if not (objects or fresh):
            return 0
        self._any_deleted = True
        self.deleted_rows += len(objects) + len(fresh)
        return self.append_page(ListingPage(0, [PrefixEntry(p) for p in fresh], list(objects)))

    def is_deleted(self, entry) -> bool:
        return type(entry) is DeletedObject or (type(entry) is PrefixEntry and entry.prefix in self.deleted_prefixes)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if self._any_deleted and role in _DIM_ROLES:
            entry = super().data(index, ENTRY_ROLE)
            if entry is not None and self.is_deleted(entry):
                if role == Qt.ItemDataRole.ForegroundRole:
                    return self._dim
                if role == Qt.ItemDataRole.FontRole:
                    return self._italic
                if index.column() == 0:
                    what = entry.prefix if type(entry) is PrefixEntry else entry.key
                    return f"{what} (deleted: Undelete in the Versions pane brings it back)"
        return super().data(index, role)


_DIM_ROLES = (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ToolTipRole)


class VersionsModel(ColumnTableModel):
    """The versions of one key, newest first."""

    COLUMNS = ("Version", "Last modified", "Size", "State")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.key = ""
        self._dim = QBrush(QColor("#888888"))

    def set_versions(self, key: str, versions: list[VersionEntry]) -> None:
        self.beginResetModel()
        self.key, self._rows = key, list(versions)
        self.endResetModel()

    def version(self, row: int) -> VersionEntry | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        v: VersionEntry = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return v.version_id
            if col == 1:
                return v.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S") if v.last_modified else ""
            if col == 2:
                return "" if v.delete_marker else human_size(v.size)
            return ("delete marker" if v.delete_marker else "version") + (" (latest)" if v.latest else "")
        if role == Qt.ItemDataRole.ForegroundRole and v.delete_marker:
            return self._dim
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"Delete marker {v.version_id}" if v.delete_marker
                    else f"Version {v.version_id} · ETag {v.etag} · {v.size:,} bytes")
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
