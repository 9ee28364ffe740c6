"""Lake coverage: a heat-map grid of a layout's cells (symbols down, years across), coloured by
presence and size, missing cells marked. Hovering shows a cell's keys, sizes and metadata;
clicking a present cell opens it in the browser and previews it; choosing missing cells and
"Backfill these…" opens the backfill wizard for just them. Finished uploads fill cells in live.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Executor

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core import paths
from ...core.connection import Connection
from ...core.coverage import CoverageCancelled, compute_coverage
from ...core.errors import classify
from ...core.gcpause import gc_paused
from ...core.layouts import load_layouts
from ...core.objects import head
from ...core.units import counted, human_size
from ..browser.location import Location
from ..placement import place_on_first_show
from ..tasks import TaskSlot, in_executor
from .model import CELL_ROLE, CoverageModel

LIVE_MS = 250  # finished uploads are applied to the grid at most this often
_LIGHT, _DARK = QColor("#c7e9c0"), QColor("#1f7a3a")
_MISSING_BG, _MISSING_MARK = QColor("#fbe4e2"), QColor("#c62828")
_SORTS = (("Symbol A–Z", "name"), ("Most gaps first", "gaps"), ("Largest first", "size"))


class CellDelegate(QStyledItemDelegate):
    """Paints a cell as a colour: green, darker for more bytes; missing cells pale red with a cross."""

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        figures = index.data(CELL_ROLE)
        if figures is None:
            return
        n, _size, shade = figures
        r = option.rect.adjusted(1, 1, -1, -1)
        if n:
            t = 0.25 + 0.75 * shade
            painter.fillRect(r, QColor.fromRgbF(_LIGHT.redF() + (_DARK.redF() - _LIGHT.redF()) * t,
                                                _LIGHT.greenF() + (_DARK.greenF() - _LIGHT.greenF()) * t,
                                                _LIGHT.blueF() + (_DARK.blueF() - _LIGHT.blueF()) * t))
        else:
            painter.fillRect(r, _MISSING_BG)
            painter.setPen(QPen(_MISSING_MARK, 1.5))
            c, d = r.center(), min(r.width(), r.height()) // 4
            painter.drawLine(c.x() - d, c.y() - d, c.x() + d, c.y() + d)
            painter.drawLine(c.x() - d, c.y() + d, c.x() + d, c.y() - d)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(option.palette.highlight().color(), 2))
            painter.drawRect(QRect(r).adjusted(1, 1, -1, -1))

    def sizeHint(self, option, index) -> QSize:
        return QSize(40, 18)


class CoverageWindow(QWidget):
    loaded = Signal()  # a coverage is shown
    load_failed = Signal(str)
    details_shown = Signal(str)  # the details panel's text, metadata included
    open_requested = Signal(str, str)  # bucket, key: show it in the browser and preview it
    backfill_requested = Signal(str, list)  # template name, cells [{field: value}] chosen missing
    live_applied = Signal(int)  # finished uploads placed in the grid
    query_requested = Signal(str, list)  # template name, cells [{field: value}] chosen present

    def __init__(self, transfers, executor: Executor, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("coverageWindow")
        self.setWindowTitle("Lake coverage — lakegui")
        self.transfers = transfers
        self.connection: Connection | None = None
        self.bucket = ""
        self.prefix = ""
        self._executor = executor
        self._slot = TaskSlot("coverage listing")
        self._details_slot = TaskSlot("coverage cell details")
        self._cancel = threading.Event()
        self._pending: list[tuple[str, int, float]] = []
        self.layouts, _ = load_layouts(paths.config_dir())

        self.layout_box = QComboBox(self)
        self.layout_box.setAccessibleName("Layout template")
        self.layout_box.addItems(sorted(self.layouts))
        self.layout_box.setCurrentText("daily-ticks")
        self.layout_box.currentTextChanged.connect(lambda _t: self.reload())
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("List the layout's prefix again")
        self.refresh_button.clicked.connect(self.reload)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("coverageFilter")
        self.filter_edit.setAccessibleName("Filter rows")
        self.filter_edit.setPlaceholderText("Filter symbols")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(120)
        self.filter_edit.textChanged.connect(lambda text: self.model.set_arrangement(filter_text=text))
        self.sort_box = QComboBox(self)
        self.sort_box.setAccessibleName("Sort rows")
        for title, key in _SORTS:
            self.sort_box.addItem(title, key)
        self.sort_box.currentIndexChanged.connect(
            lambda _i: self.model.set_arrangement(sort_by=self.sort_box.currentData()))
        self.gaps_check = QCheckBox("Only rows with gaps", self)
        self.gaps_check.toggled.connect(lambda on: self.model.set_arrangement(gaps_only=on))
        self.backfill_button = QPushButton("Backfill these…", self)
        self.backfill_button.setObjectName("backfillMissing")
        self.backfill_button.setToolTip("Choose a local folder and backfill the selected missing cells from it")
        self.backfill_button.setEnabled(False)
        self.backfill_button.clicked.connect(self.backfill_selected)
        self.query_button = QPushButton("Query these…", self)
        self.query_button.setObjectName("queryCells")
        self.query_button.setToolTip("Open the rows of the selected present cells (only those) in the Query window")
        self.query_button.setEnabled(False)
        self.query_button.clicked.connect(self.query_selected)

        self.summary = QLabel("", self)
        self.summary.setObjectName("coverageSummary")
        self.summary.setWordWrap(True)
        self.model = CoverageModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("coverageGrid")
        self.table.setAccessibleName("Coverage grid")
        self.table.setModel(self.model)
        self.table.setItemDelegate(CellDelegate(self.table))
        self.table.setShowGrid(False)
        self.table.setMouseTracking(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for header, size in ((self.table.horizontalHeader(), 44), (self.table.verticalHeader(), 20)):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measure 5,000 rows
            header.setDefaultSectionSize(size)
            header.setMinimumSectionSize(size)
        self.table.verticalHeader().setFixedWidth(84)
        self.table.entered.connect(self._on_table_entered)
        self.table.clicked.connect(self._on_table_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # A reset (another layout, Refresh, another bucket) drops the selection without saying so.
        self.model.modelReset.connect(self._on_selection_changed)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("coverageDetails")
        self.details.setAccessibleName("Cell details")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Hover over a cell to see its keys, sizes and metadata.")
        legend = QLabel("Green: present (darker = more bytes) · pale red with a cross: missing · "
                        "click a cell to open it; select missing cells to backfill them", self)
        legend.setWordWrap(True)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layout", self))
        bar.addWidget(self.layout_box)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.sort_box)
        bar.addWidget(self.gaps_check)
        # The cell buttons sit beside the summary: on the top bar their counts squeezed the filter
        # to "Fi…" and were cut off themselves in an 800 px window.
        actions = QHBoxLayout()
        actions.addWidget(self.summary, 1)
        actions.addWidget(self.backfill_button)
        actions.addWidget(self.query_button)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        main = QVBoxLayout(self)
        main.addLayout(bar)
        main.addLayout(actions)
        main.addWidget(split, 1)
        main.addWidget(legend)
        close = QKeySequence.keyBindings(QKeySequence.StandardKey.Close)  # Ctrl+W where the desktop says so
        for keys in close + [QKeySequence(k) for k in ("Ctrl+W", "Escape") if QKeySequence(k) not in close]:
            QShortcut(keys, self, self.close)
        self.resize(1000, 640)
        place_on_first_show(self)  # on the main window, within the screen

        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LIVE_MS)
        self._live.timeout.connect(self._apply_live)
        transfers.job_finished.connect(self._on_transfers_job_finished)

    # loading

    def set_location(self, location: Location) -> None:
        """Follow the browser's connection and bucket; the layout is matched from the bucket's root."""
        self.set_target(location.connection, location.bucket)

    def set_target(self, connection: Connection | None, bucket: str, prefix: str = "") -> None:
        changed = (connection, bucket, prefix) != (self.connection, self.bucket, self.prefix)
        self.connection, self.bucket, self.prefix = connection, bucket, prefix
        if changed and self.isVisible():
            self.reload()
        elif changed:  # the old bucket's grid must not show when the window opens again
            self._cancel.set()
            self._slot.cancel()
            self.model.set_coverage(None)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.model.coverage is None and not self._slot.running:
            self.reload()

    def hideEvent(self, event) -> None:
        """Closing the window stops a listing in flight; reopening starts a fresh one."""
        if self._slot.running:
            self._cancel.set()
            self._slot.cancel()
            self.summary.setText("The listing was stopped when the window closed; Refresh lists again.")
        super().hideEvent(event)

    def reload(self) -> None:
        """List the layout's prefix again; the old grid, its selection and the hovered cell's
        details go at once (they belong to the layout or bucket shown before)."""
        self._cancel.set()
        self._slot.cancel()
        self._details_slot.cancel()
        self.model.set_coverage(None)
        self.details.clear()
        if self.connection is None or not self.bucket:
            self.summary.setText("Connect to a bucket to see its coverage.")
            return
        template = self.layouts[self.layout_box.currentText()]
        self._cancel = threading.Event()
        self._slot.start(self._load(self.connection, self.bucket, self.prefix, template, self._cancel))

    async def _load(self, conn: Connection, bucket: str, prefix: str, template, cancel: threading.Event) -> None:
        where = f"s3://{bucket}/{prefix}{template.static_prefix}"
        self.summary.setText(f"Listing {where}…")
        loop = asyncio.get_event_loop()
        started = time.perf_counter()

        def progress(listed: int) -> None:  # on the listing thread
            loop.call_soon_threadsafe(self._show_progress, where, listed, cancel)

        def run():
            # Collections over 75,000 fresh entries would hold the GIL ~100 ms at a time (see gcpause).
            with gc_paused():
                cov = compute_coverage(conn.client(), bucket, prefix, template, cancel=cancel, on_page=progress,
                                       listing={"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls})
                return cov, cov.matrix()

        try:
            cov, matrix = await in_executor(self._executor, run)
        except asyncio.CancelledError:
            cancel.set()
            raise
        except CoverageCancelled:
            return
        except Exception as exc:
            message = f"Could not list {where}: {classify(exc, bucket=bucket, key=prefix).message}"
            self.summary.setText(message)
            self.load_failed.emit(message)
            return
        self._pending.clear()  # what finished during the listing is in it
        self.model.set_coverage(cov, matrix)
        self._summarise(time.perf_counter() - started)
        self.loaded.emit()

    def _show_progress(self, where: str, listed: int, cancel: threading.Event) -> None:
        if not cancel.is_set():
            self.summary.setText(f"Listing {where}… {listed:,} keys so far")

    def _summarise(self, seconds: float | None = None) -> None:
        cov, m = self.model.coverage, self.model.matrix
        cells = len(m.rows) * len(m.cols)
        text = (f"{counted(len(m.rows), m.rows_field)} × {counted(len(m.cols), m.cols_field or 'column')}: "
                f"{m.present:,} of {cells:,} cells present, {cells - m.present:,} missing · "
                f"{counted(len(cov.keys), 'object')}, {human_size(cov.total_bytes)}")
        if cov.unmatched:
            text += f" · {counted(len(cov.unmatched), 'key')} not in the layout (hover the summary)"
            self.summary.setToolTip("\n".join(f"{k}: {why}" for k, why in cov.unmatched[:30]))
        else:
            self.summary.setToolTip("")
        if nothing := cov.nothing_found():  # no key is a cell: what was looked for, and what is there
            # (not "0 symbols × 1 year: 0 of 0 cells present", which said nothing of why)
            text = f"{nothing[:1].upper()}{nothing[1:]}"
        if seconds is not None:
            text += f" · listed in {seconds:.1f} s"
        self.summary.setText(text)

    # cells

    def _on_table_entered(self, index: QModelIndex) -> None:
        self.show_details(index)

    def show_details(self, index: QModelIndex) -> None:
        """The cell's keys and sizes at once; the first object's metadata (one HEAD) follows."""
        if not index.isValid() or self.model.coverage is None:
            return
        text = self.model.describe(index)
        self.details.setPlainText(text)
        row, col = self.model.cell(index)
        objs = self.model.coverage.objects_in(row, col)
        if objs:
            self._details_slot.start(self._metadata(text, objs[0][0]))
        else:
            self._details_slot.cancel()
            self.details_shown.emit(text)

    async def _metadata(self, text: str, key: str) -> None:
        conn, bucket = self.connection, self.bucket
        try:
            info = await in_executor(self._executor, lambda: head(conn.client(), bucket, key))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            text += f"\n\nMetadata of {key} could not be read: {classify(exc, bucket=bucket, key=key).message}"
        else:
            meta = "\n".join(f"  {k}: {v}" for k, v in sorted(info.metadata.items())) or "  (none)"
            text += f"\n\nMetadata of {key.rsplit('/', 1)[-1]}:\n{meta}"
        self.details.setPlainText(text)
        self.details_shown.emit(text)

    def _on_table_clicked(self, index: QModelIndex) -> None:
        if QApplication.keyboardModifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            return  # extending a selection, not opening
        self.open_cell(index)

    def open_cell(self, index: QModelIndex) -> bool:
        """Ask the main window to show the cell's first object in the browser and preview it."""
        if not index.isValid() or self.model.coverage is None:
            return False
        objs = self.model.coverage.objects_in(*self.model.cell(index))
        if not objs:
            return False
        self.open_requested.emit(self.bucket, objs[0][0])
        return True

    def _selected_cells(self, present: bool) -> list[dict[str, str]]:
        m = self.model.matrix
        if m is None:
            return []
        cells = []
        for index in sorted(self.table.selectionModel().selectedIndexes(), key=lambda i: (i.row(), i.column())):
            if (self.model.figures(index)[0] > 0) == present:
                row, col = self.model.cell(index)
                cells.append({m.rows_field: row, **({m.cols_field: col} if m.cols_field else {})})
        return cells

    def selected_missing(self) -> list[dict[str, str]]:
        """The selected cells that are missing, as field values: what "Backfill these…" fills."""
        return self._selected_cells(present=False)

    def selected_present(self) -> list[dict[str, str]]:
        """The selected cells that hold objects, as field values: what "Query these…" reads."""
        return self._selected_cells(present=True)

    def query_selected(self) -> None:
        cells = self.selected_present()
        if cells:
            self.query_requested.emit(self.layout_box.currentText(), cells)

    def _on_selection_changed(self, *_args) -> None:
        present, missing = len(self.selected_present()), len(self.selected_missing())
        self.query_button.setEnabled(present > 0)
        self.query_button.setText(f"Query {counted(present, 'cell')}…" if present else "Query these…")
        self.backfill_button.setEnabled(missing > 0)
        self.backfill_button.setText(f"Backfill {counted(missing, 'cell')}…" if missing else "Backfill these…")

    def backfill_selected(self) -> None:
        cells = self.selected_missing()
        if cells:
            self.backfill_requested.emit(self.layout_box.currentText(), cells)

    # live updates

    def _on_transfers_job_finished(self, job_id: int, state: str) -> None:
        if state != "done" or self.model.coverage is None:
            return
        row = self.transfers.model.row_for(job_id)
        base = f"s3://{self.bucket}/"
        if row is not None and row.direction == "upload" and row.uri.startswith(base):
            self._pending.append((row.uri[len(base):], row.bytes_total, time.time()))
            if not self._live.isActive():
                self._live.start()

    def _apply_live(self) -> None:
        pending, self._pending = self._pending, []
        placed = self.model.add_objects(pending)
        if placed:
            self._summarise()
            self.live_applied.emit(placed)

    def shutdown(self) -> None:
        self._live.stop()
        self._cancel.set()
        self._slot.cancel()
        self._details_slot.cancel()
