"""Search by name below the open prefix: a window with a search box, the matches as they stream
in, a count and Cancel. The listing is core's (`core.search.NameSearch`), one page per executor
call; choosing a match opens its folder in the browser with it selected."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from ..core.errors import classify
from ..core.listing import ObjectEntry
from ..core.search import NameSearch
from ..core.units import human_size
from .browser.location import Location
from .placement import place_on_first_show
from .table_model import ColumnTableModel
from .tasks import TaskSlot, in_executor

log = logging.getLogger(__name__)
SHOW_STEP = 500  # rows the view is given at a time: a search can find hundreds of thousands

KEY_ROLE = Qt.ItemDataRole.UserRole + 1


class SearchResultsModel(ColumnTableModel):
    """Every match found, handed to the view SHOW_STEP rows at a time as it scrolls (fetchMore)."""

    COLUMNS = ("Path", "Size")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._found: list[ObjectEntry] = []
        self.base = ""  # the prefix searched: paths are shown below it

    @property
    def found(self) -> int:
        return len(self._found)

    def reset(self, base: str) -> None:
        self.beginResetModel()
        self.base, self._found, self._rows = base, [], []
        self.endResetModel()

    def add(self, entries: list[ObjectEntry]) -> None:
        self._found.extend(entries)
        if len(self._rows) < SHOW_STEP:  # the first screenful at once; the rest when scrolled to
            self.fetchMore(QModelIndex())

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and len(self._rows) < len(self._found)

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid():
            return
        start = len(self._rows)
        self.append_rows(self._found[start:start + SHOW_STEP])

    def entry(self, row: int) -> ObjectEntry:
        return self._rows[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not self._valid(index):
            return None
        e = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return e.key[len(self.base):] if index.column() == 0 else human_size(e.size)
        if role == Qt.ItemDataRole.ToolTipRole:
            return e.key
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == KEY_ROLE:
            return e.key
        return None


class SearchWindow(QDialog):
    reveal_requested = Signal(str, str)  # bucket, key
    finished_search = Signal(int, int)  # matches, keys listed (also after Cancel)

    def __init__(self, executor: Executor, parent=None):
        super().__init__(parent)
        self.setObjectName("searchWindow")
        self.setWindowTitle("Search by name")
        self.setWindowFlag(Qt.WindowType.Window)
        self._executor = executor
        self._slot = TaskSlot("search")
        self._location = Location()
        self._search_location = Location()

        self.where = QLabel(self)
        self.where.setObjectName("searchWhere")
        self.query = QLineEdit(self)
        self.query.setObjectName("searchQuery")
        self.query.setAccessibleName("Name contains")
        self.query.setPlaceholderText("Part of a name or path, e.g. AAPL or .parquet")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.search)
        self.search_button = QPushButton("Search", self)
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.count = QLabel(self)
        self.count.setObjectName("searchCount")
        self.count.setAccessibleName("Matches")

        self.model = SearchResultsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("searchResults")
        self.table.setAccessibleName("Search results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._on_table_activated)  # double-click, or Enter
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)

        bar = QHBoxLayout()
        bar.addWidget(self.query, 1)
        bar.addWidget(self.search_button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        QShortcut(QKeySequence("Ctrl+W"), self, self.close)
        self.resize(640, 440)
        place_on_first_show(self)  # on the main window, within the screen

    @property
    def running(self) -> bool:
        return self._slot.running

    def set_location(self, location: Location) -> None:
        """Search below where the browser is (the next search; one running keeps its place)."""
        self._location = location
        loc = self._root()
        self.where.setText(f"Search below {loc.uri}" if loc.uri else "Not connected")

    def _root(self) -> Location:
        """Where the next search goes: where the browser is, unless that is below the root of the
        results shown (opening a match goes there): then still that root, so the header says what
        the results and their count say (it named the match's folder, they the root)."""
        shown, loc = self._search_location, self._location
        if shown.bucket and loc.same_bucket(shown) and loc.prefix.startswith(shown.prefix):
            return shown
        return loc

    def search(self) -> asyncio.Task | None:
        text = self.query.text().strip()
        loc = self._root()
        if not text or loc.connection is None or not loc.bucket:
            return None
        self._search_location = loc
        self.model.reset(loc.prefix)
        self.count.setText("Searching…")
        self.cancel_button.setEnabled(True)
        return self._slot.start(self._run(loc, text))

    def cancel(self) -> None:
        if self._slot.running:
            self._slot.cancel()
            self.cancel_button.setEnabled(False)
            self.count.setText(self.count.text().replace("…", "") + " (cancelled)")

    async def _run(self, loc: Location, text: str) -> None:
        conn = loc.connection
        search = None
        try:
            client = await in_executor(self._executor, conn.client)
            search = NameSearch(client, loc.bucket, loc.prefix, text, raw=conn.profile.raw_listing,
                                verify=conn.profile.verify_tls)
            while not search.done:
                page = await in_executor(self._executor, search.next_page)
                self.model.add(page.matches)
                # The browser may have moved on meanwhile: the count says where these results are from.
                self.count.setText(f"{_count_text(search.matches, search.keys_seen)} below {loc.uri}"
                                   + ("" if page.done else "…"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed listing is a message, never a crash
            info = classify(exc, bucket=loc.bucket, key=loc.prefix, endpoint=conn.profile.endpoint_url or None)
            log.warning("Search for %r below %s failed: %s", text, loc.uri, info.message)
            self.count.setText(info.message)
            return
        finally:
            self.cancel_button.setEnabled(False)
        log.info("Search for %r below %s: %s", text, loc.uri, _count_text(search.matches, search.keys_seen))
        self.finished_search.emit(search.matches, search.keys_seen)

    def _reveal(self, index: QModelIndex) -> None:
        key = index.siblingAtColumn(0).data(KEY_ROLE)
        if key:
            self.reveal_requested.emit(self._search_location.bucket, key)

    def _on_table_activated(self, index: QModelIndex) -> None:
        self._reveal(index)

    def _on_table_current_changed(self, current: QModelIndex, _previous) -> None:
        if current.isValid():
            self._reveal(current)

    def shutdown(self) -> None:
        self._slot.cancel()

    def closeEvent(self, event) -> None:
        self._slot.cancel()
        super().closeEvent(event)


def _count_text(matches: int, keys: int) -> str:
    return f"{matches:,} match{'' if matches == 1 else 'es'} in {keys:,} key{'' if keys == 1 else 's'}"
