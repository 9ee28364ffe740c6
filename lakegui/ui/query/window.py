"""The Query window: a layout's files as one table. Pick the template, the values of its fields
(filled from one listing of the template's prefix: the values present), the columns (from the
majority schema) and a filter (built from rows, or typed: the `--filter` language); the rows
stream in, one file at a time, with what they cost (files, row groups read and skipped, requests,
bytes). A chart draws a numeric column over time, one series per symbol across every year
chosen; Export… writes the rows to Parquet or CSV; Copy as Python puts the lakegui.Lake code for
the same query on the clipboard. The Schema tab shows the distinct schemas and the outliers.

All reads go through core/lake in the executor; changing the query or closing the window
cancels the one running.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Executor

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import paths
from ...core.connection import Connection
from ...core.errors import classify
from ...core.lake.checks import ColumnCheck, nearest
from ...core.lake.dataset import LakeDataset, QueryCancelled, ScanTotals, collect
from ...core.lake.filters import OPS, FilterError, parse_filter
from ...core.lake.schema import scan_schemas
from ...core.lake.select import Selection, select_files
from ...core.layouts import load_layouts
from ...core.units import counted, human_size
from ..browser.location import Location
from ..placement import place_on_first_show
from ..preview.chart import ZoneDateAxis
from ..start_folder import ask_save_path
from ..tasks import TaskSlot, in_executor
from .models import QuerySpec, RowsModel, cells_query, numeric_columns, series_by, time_column

EXPORT_BATCH = 5000   # rows per write: progress moves and Cancel is heard between them
_FILTER_OPS = OPS + ("in", "not in", "is null", "is not null")


def _sort_values(values) -> list[str]:
    return sorted(values, key=lambda v: (0, int(v), v) if v.isdigit() else (1, 0, v))


class FieldPicker(QWidget):
    """The values of one field, each checkable; none checked means every value."""

    changed = Signal()

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.label = QLabel(f"{name} (none checked: all)", self)
        self.list = QListWidget(self)
        self.list.setObjectName(f"queryField_{name}")
        self.list.setAccessibleName(f"Values of {name}")
        self.list.itemChanged.connect(lambda _i: self.changed.emit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.list, 1)

    def set_values(self, values: list[str], checked=()) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for v in values:
            item = QListWidgetItem(v, self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if v in checked else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)

    def values(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def checked(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def check(self, values) -> None:
        wanted = {str(v) for v in values}
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in wanted else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self.changed.emit()


class QueryChart(QWidget):
    """A numeric column over time, one curve per symbol across all the files read, with a legend;
    the time axis in the column's zone (preview/chart.py's ZoneDateAxis)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.value_box = QComboBox(self)
        self.value_box.setObjectName("queryChartValue")
        self.value_box.setAccessibleName("Column to chart")
        self.value_box.currentTextChanged.connect(lambda _t: self._draw())
        self.caption = QLabel("Run a query to chart a numeric column over time.", self)
        self.caption.setObjectName("queryChartCaption")
        self.axis = ZoneDateAxis()
        self.plot = pg.PlotWidget(self, axisItems={"bottom": self.axis})
        self.plot.setObjectName("queryChartPlot")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._table = None
        self._by: str | None = None
        self._time: str | None = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Value", self))
        top.addWidget(self.value_box)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

    def set_table(self, table, by: str | None, skip=()) -> None:
        self._table, self._by = table, by
        self._time = time_column(table.schema) if table is not None and table.num_columns else None
        numbers = numeric_columns(table.schema, skip) if self._time else []
        keep = self.value_box.currentText()
        self.value_box.blockSignals(True)
        self.value_box.clear()
        self.value_box.addItems(numbers)
        for choice in (keep, "close"):
            if choice in numbers:
                self.value_box.setCurrentText(choice)
                break
        self.value_box.blockSignals(False)
        self._draw()

    def _apply_palette(self) -> None:
        # As the preview's chart: the window's colours, so light and dark themes both read.
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(text)
            axis.setTextPen(text)
        self.legend.setLabelTextColor(text)

    def _draw(self) -> None:
        self._apply_palette()
        self.plot.clear()
        self.legend.clear()
        self.curves = {}
        value = self.value_box.currentText()
        if self._table is None or not self._time or not value:
            self.caption.setText("No date or time column with a numeric column beside it to chart."
                                 if self._table is not None else "Run a query to chart a numeric column over time.")
            return
        series, zone = series_by(self._table, self._time, value, self._by)
        n = max(1, len(series))
        first = None
        for i, s in enumerate(series):
            if not len(s.seconds):
                continue
            first = s.seconds[0] if first is None else min(first, s.seconds[0])
            self.curves[s.name] = self.plot.plot(s.seconds, s.values, name=s.name,
                                                 pen=pg.mkPen(pg.intColor(i, hues=n, maxValue=210), width=1.5))
        if first is not None:
            self.axis.set_zone(zone, float(first))
        self.plot.setLabel("left", value)
        self.plot.setLabel("bottom", f"{self._time} ({zone or 'as written, no zone'})")
        points = sum(len(s.seconds) for s in series)
        self.caption.setText(f"{value} over {self._time}: {len(series):,} series (one per "
                             f"{self._by or 'file'}), {points:,} points")
        self.plot.autoRange()


class QueryWindow(QWidget):
    fields_loaded = Signal()            # pickers filled from the template's listing
    schema_loaded = Signal()            # columns and the Schema tab filled from the footers
    load_failed = Signal(str)
    batch_received = Signal(int)        # rows so far
    query_finished = Signal(object)     # ScanTotals
    query_failed = Signal(str)
    query_cancelled = Signal()
    export_progressed = Signal(int, int)   # rows written, rows in all
    export_finished = Signal(str, int)     # path, rows
    export_failed = Signal(str)            # why (cancelled included)
    open_requested = Signal(str, str)      # bucket, key: show it in the browser and preview it

    def __init__(self, executor: Executor, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("queryWindow")
        self.setWindowTitle("Query — lakegui")
        self.connection: Connection | None = None
        self.bucket = ""
        self.prefix = ""
        self._executor = executor
        self._load_slot = TaskSlot("query window listing")
        self._query_slot = TaskSlot("query")
        self._export_slot = TaskSlot("query export")
        self._load_cancel = threading.Event()
        self._query_cancel = threading.Event()
        self._export_cancel = threading.Event()
        self.layouts, _ = load_layouts(paths.config_dir())
        self.files: list = []          # LakeFiles of the template, from the listing
        self.schema = None             # SchemaReport of those files
        self.table = None              # the last result, collected
        self.totals: ScanTotals | None = None
        self._wanted: dict[str, list[str]] | None = None   # picks asked for before the pickers filled
        self._run_when_loaded = False
        self._note = ""   # said once with the next result: what set_query changed unasked
        self.pickers: dict[str, FieldPicker] = {}

        self.layout_box = QComboBox(self)
        self.layout_box.setObjectName("queryTemplate")
        self.layout_box.setAccessibleName("Layout template")
        self.layout_box.addItems(sorted(self.layouts))
        self.layout_box.setCurrentText("daily-ticks")
        self.layout_box.currentTextChanged.connect(lambda _t: self.reload())
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("List the template's prefix and read its footers again")
        self.refresh_button.clicked.connect(self.reload)
        self.run_button = QPushButton("Run", self)
        self.run_button.setObjectName("queryRun")
        self.run_button.setToolTip("Read the rows (Ctrl+Return)")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("queryStop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(lambda: self.cancel_query("Stopped."))
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("queryExport")
        self.export_button.setToolTip("Write the rows to a local Parquet or CSV file")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.python_button = QPushButton("Copy as Python", self)
        self.python_button.setObjectName("queryCopyPython")
        self.python_button.setToolTip("Copy the lakegui.Lake code that runs this query")
        self.python_button.clicked.connect(self.copy_python)

        self.fields_row = QHBoxLayout()
        self.columns_list = QListWidget(self)
        self.columns_list.setObjectName("queryColumns")
        self.columns_list.setAccessibleName("Columns to read")
        self.columns_list.itemChanged.connect(lambda _i: self._on_query_changed())
        columns_box = QWidget(self)
        cl = QVBoxLayout(columns_box)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(QLabel("columns (none checked: all)", columns_box))
        cl.addWidget(self.columns_list, 1)
        self.fields_row.addWidget(columns_box)

        self.filter_column = QComboBox(self)
        self.filter_column.setAccessibleName("Filter column")
        self.filter_op = QComboBox(self)
        self.filter_op.setAccessibleName("Filter operator")
        self.filter_op.addItems(_FILTER_OPS)
        self.filter_op.currentTextChanged.connect(lambda op: self.filter_value.setEnabled("null" not in op))
        self.filter_value = QLineEdit(self)
        self.filter_value.setAccessibleName("Filter value")
        self.filter_value.setPlaceholderText("value (in: a, b)")
        self.filter_add = QPushButton("Add", self)
        self.filter_add.setToolTip("Add this condition to the filter, with AND")
        self.filter_add.clicked.connect(self.add_condition)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("queryFilter")
        self.filter_edit.setAccessibleName("Filter")
        self.filter_edit.setPlaceholderText("volume > 50000000 AND (symbol = AAPL OR close <= 120.5)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.filter_edit.returnPressed.connect(self.run)
        self.filter_error = QLabel("", self)
        self.filter_error.setObjectName("queryFilterError")
        self.filter_error.setStyleSheet("color: #c62828")
        self.filter_error.setWordWrap(True)

        self.status = QLabel("", self)
        self.status.setObjectName("queryStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("queryExportProgress")
        self.progress.hide()
        self.export_cancel_button = QPushButton("Cancel export", self)
        self.export_cancel_button.setObjectName("queryExportCancel")
        self.export_cancel_button.clicked.connect(self.cancel_export)
        self.export_cancel_button.hide()

        self.rows = RowsModel(self)
        self.rows_view = QTableView(self)
        self.rows_view.setObjectName("queryRows")
        self.rows_view.setAccessibleName("Rows")
        self.rows_view.setModel(self.rows)
        self.rows_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows_view.verticalHeader().setDefaultSectionSize(20)
        self.chart = QueryChart(self)
        self.schema_groups = QTreeWidget(self)
        self.schema_groups.setObjectName("querySchemas")
        self.schema_groups.setAccessibleName("Distinct schemas")
        self.schema_groups.setHeaderLabels(["Schema / column", "Type", "Nullable"])
        self.outliers = QTreeWidget(self)
        self.outliers.setObjectName("queryOutliers")
        self.outliers.setAccessibleName("Outliers")
        self.outliers.setHeaderLabels(["Outlier (click to preview)", "How it differs from the majority"])
        self.outliers.itemClicked.connect(self._on_outlier_clicked)
        self.outliers.itemActivated.connect(self._on_outlier_clicked)
        schema_tab = QSplitter(Qt.Orientation.Vertical, self)
        schema_tab.addWidget(self.schema_groups)
        schema_tab.addWidget(self.outliers)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.rows_view, "Rows")
        self.tabs.addTab(self.chart, "Chart")
        self.tabs.addTab(schema_tab, "Schema")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layout", self))
        bar.addWidget(self.layout_box)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.run_button)
        bar.addWidget(self.stop_button)
        bar.addWidget(self.export_button)
        bar.addWidget(self.python_button)
        builder = QHBoxLayout()
        builder.addWidget(QLabel("Filter", self))
        builder.addWidget(self.filter_column)
        builder.addWidget(self.filter_op)
        builder.addWidget(self.filter_value)
        builder.addWidget(self.filter_add)
        builder.addWidget(self.filter_edit, 1)
        picks = QWidget(self)
        picks.setLayout(self.fields_row)
        self.fields_row.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(picks)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([190, 520])
        export_row = QHBoxLayout()
        export_row.addWidget(self.status, 1)
        export_row.addWidget(self.progress)
        export_row.addWidget(self.export_cancel_button)
        main = QVBoxLayout(self)
        main.addLayout(bar)
        main.addLayout(builder)
        main.addWidget(self.filter_error)
        main.addWidget(split, 1)
        main.addLayout(export_row)
        self.resize(1100, 760)
        place_on_first_show(self)  # on the main window, within the screen

        for keys in (QKeySequence(Qt.Key.Key_Escape), QKeySequence("Ctrl+W")):  # StandardKey.Close is Ctrl+W too
            QShortcut(keys, self, self.close, context=Qt.ShortcutContext.WindowShortcut)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.run, context=Qt.ShortcutContext.WindowShortcut)

    # where

    def set_location(self, location: Location) -> None:
        """Follow the browser's connection and bucket; the layout is matched from the bucket's root."""
        self.set_target(location.connection, location.bucket)

    def set_target(self, connection: Connection | None, bucket: str, prefix: str = "") -> None:
        changed = (connection, bucket, prefix) != (self.connection, self.bucket, self.prefix)
        self.connection, self.bucket, self.prefix = connection, bucket, prefix
        if not changed:
            return
        if self.isVisible():
            self.reload()
        else:   # the old bucket's files must not show when the window opens again
            self._stop_all()
            self.files, self.schema = [], None

    def template(self):
        return self.layouts[self.layout_box.currentText()]

    def set_query(self, template: str, fields: dict[str, list[str]] | None = None, *,
                  cells: list[dict[str, str]] | None = None, run: bool = True) -> None:
        """Pick `template` and these values of its fields, or exactly these `cells` (as "Query
        these…" does: the pickers hold their values, a filter on the fields keeps only those
        combinations), and run the query once the pickers are filled. The filter is the query's
        own: an earlier one is cleared, and the status says so."""
        flt = ""
        if cells is not None:
            names = self.layouts[template].field_names if template in self.layouts else sorted({k for c in cells for k in c})
            fields, flt = cells_query(cells, list(names))
        self._wanted = {k: [str(v) for v in vs] for k, vs in (fields or {}).items()}
        old = self.filter_edit.text().strip()
        self._note = f"The earlier filter ({old}) was cleared." if old and old != flt else ""
        self.filter_edit.setText(flt)
        self._run_when_loaded = run
        if template in self.layouts and template != self.layout_box.currentText():
            self.layout_box.setCurrentText(template)   # reloads; the picks follow
        elif self.files and not self._load_slot.running:
            self._apply_wanted()
        elif not self._load_slot.running:
            self.reload()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.files and not self._load_slot.running:
            self.reload()

    def hideEvent(self, event) -> None:
        """Closing the window stops what it is reading; reopening lists again if it had not finished."""
        if self._query_slot.running:
            self.cancel_query("The query was stopped when the window closed.")
        if self._load_slot.running:
            self._load_cancel.set()
            self._load_slot.cancel()
            self.files = []
        super().hideEvent(event)

    # loading the template's files and schemas

    def reload(self) -> None:
        self._stop_all()
        self.files, self.schema, self.totals = [], None, None
        if self.connection is None or not self.bucket:
            self.status.setText("Connect to a bucket to query it.")
            return
        self._load_cancel = threading.Event()
        self._load_slot.start(self._load(self.connection, self.bucket, self.prefix, self.template(), self._load_cancel))

    async def _load(self, conn: Connection, bucket: str, prefix: str, template, cancel: threading.Event) -> None:
        where = f"s3://{bucket}/{prefix}{template.static_prefix}"
        self.status.setText(f"Listing {where}…")
        listing = {"raw": conn.profile.raw_listing, "verify": conn.profile.verify_tls}
        try:
            selected = await in_executor(self._executor, lambda: select_files(
                conn.client(), bucket, template, Selection(), prefix=prefix, listing=listing, cancel=cancel))
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception as exc:
            self._load_failed(f"Could not list {where}: {classify(exc, bucket=bucket, key=prefix).message}")
            return
        if cancel.is_set():
            return
        self.files = selected.files
        self._fill_pickers(template)
        self.status.setText(f"{counted(len(self.files), 'file')} of the layout {template.name!r} under {where}; "
                            "reading their schemas…")
        self.fields_loaded.emit()
        if self._wanted is not None:
            self._apply_wanted()
        try:
            report = await in_executor(self._executor, lambda: scan_schemas(
                conn.client(), bucket, self.files, cancel=cancel, raw=conn.profile.raw_listing,
                verify=conn.profile.verify_tls))
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception as exc:
            self._load_failed(f"Could not read the schemas: {classify(exc, bucket=bucket, key=prefix).message}")
            return
        if cancel.is_set():
            return
        self.schema = report
        self._fill_schema(report, template)
        if not self._query_slot.running and self.totals is None:   # a result's line stays (set_query ran it)
            self.status.setText(self._files_summary())
        self.schema_loaded.emit()

    def _load_failed(self, message: str) -> None:
        self.status.setText(message)
        self.load_failed.emit(message)

    def _files_summary(self) -> str:
        r = self.schema
        text = f"{counted(len(self.files), 'file')} in the layout {self.template().name!r}"
        if r is not None:
            text += f" · {counted(len(r.groups), 'distinct schema')}, {counted(len(r.outliers), 'outlier')}"
            if r.failures:
                text += f", {counted(len(r.failures), 'file')} unreadable"
        return text + " · choose values and Run"

    def _fill_pickers(self, template) -> None:
        for p in self.pickers.values():
            self.fields_row.removeWidget(p)
            p.deleteLater()
        self.pickers = {}
        for i, name in enumerate(template.field_names):
            p = FieldPicker(name, self)
            p.set_values(_sort_values({f.fields[name] for f in self.files if name in f.fields}))
            p.changed.connect(self._on_query_changed)
            self.fields_row.insertWidget(i, p)
            self.pickers[name] = p

    def _apply_wanted(self) -> None:
        wanted, self._wanted = self._wanted or {}, None
        for name, p in self.pickers.items():
            p.check(wanted.get(name, ()))
        if self._run_when_loaded:
            self._run_when_loaded = False
            self.run()

    def _fill_schema(self, report, template) -> None:
        self.schema_groups.clear()
        self.outliers.clear()
        for i, g in enumerate(report.groups):
            top = QTreeWidgetItem(self.schema_groups, [
                f"Schema {i + 1}: {counted(g.count, 'file')}" + (" (majority)" if g.majority else ""), "", ""])
            for c in g.columns:
                QTreeWidgetItem(top, [c.name, c.type, "yes" if c.nullable else "no"])
            top.setExpanded(g.majority)
        for key, diffs in report.outliers:
            item = QTreeWidgetItem(self.outliers, [key, "; ".join(diffs)])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            item.setToolTip(1, "\n".join(diffs))
        for key, why in report.failures:
            item = QTreeWidgetItem(self.outliers, [key, f"could not be read: {why}"])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
        self.outliers.resizeColumnToContents(0)
        self.schema_groups.resizeColumnToContents(0)
        # The column chooser and the filter builder offer every column some file has: the majority's
        # first, then those only some files have (a drifted `vwap`), which say in how many.
        having: dict[str, int] = {}
        for g in report.groups:
            for c in g.columns:
                if c.name not in template.field_names:
                    having[c.name] = having.get(c.name, 0) + g.count
        majority = [c.name for c in report.majority.columns if c.name in having] if report.majority else []
        names = majority + [n for n in having if n not in majority]
        files = sum(g.count for g in report.groups)
        keep = set(self.chosen_columns())
        self.columns_list.blockSignals(True)
        self.columns_list.clear()
        for n in names:
            some = having[n] < files
            item = QListWidgetItem(f"{n} (in {having[n]:,} of {files:,} files)" if some else n, self.columns_list)
            item.setData(Qt.ItemDataRole.UserRole, n)
            if some:
                item.setToolTip(f"Only {counted(having[n], 'file')} of {files:,} have {n}: the others give nulls")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if n in keep else Qt.CheckState.Unchecked)
        self.columns_list.blockSignals(False)
        self.filter_column.clear()
        self.filter_column.addItems(names + list(template.field_names))
        self.filter_error.setText(self._filter_problem(self.filter_edit.text()))

    def _on_outlier_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole)
        if key:
            self.open_requested.emit(self.bucket, key)

    # the query

    def column_names(self) -> list[str]:
        """The columns the chooser offers, by name (a column only some files have is annotated)."""
        return [self.columns_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.columns_list.count())]

    def chosen_columns(self) -> list[str]:
        return [self.columns_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.columns_list.count())
                if self.columns_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_columns(self, names) -> None:
        wanted = set(names)
        self.columns_list.blockSignals(True)
        for i in range(self.columns_list.count()):
            item = self.columns_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                               else Qt.CheckState.Unchecked)
        self.columns_list.blockSignals(False)
        self._on_query_changed()

    def spec(self) -> QuerySpec:
        return QuerySpec(self.layout_box.currentText(),
                         {name: p.checked() for name, p in self.pickers.items() if p.checked()},
                         self.chosen_columns(), self.filter_edit.text().strip())

    def python_code(self) -> str:
        p = self.connection.profile if self.connection is not None else None
        return self.spec().python(bucket=self.bucket, endpoint_url=p.endpoint_url if p else "",
                                  profile=p.aws_profile if p else "", region=p.region if p else "",
                                  prefix=self.prefix)

    def copy_python(self) -> str:
        code = self.python_code()
        QApplication.clipboard().setText(code)
        self.status.setText("Copied the Python that runs this query (lakegui.Lake) to the clipboard.")
        return code

    def add_condition(self) -> None:
        col, op, value = self.filter_column.currentText(), self.filter_op.currentText(), self.filter_value.text().strip()
        if not col:
            return
        if "null" in op:
            term = f"{col} {op}"
        elif op in ("in", "not in"):
            term = f"{col} {op} ({', '.join(_quoted(v.strip()) for v in value.split(',') if v.strip())})"
        else:
            term = f"{col} {op} {_quoted(value)}"
        text = self.filter_edit.text().strip()
        self.filter_edit.setText(f"{text} AND {term}" if text else term)

    def _on_filter_text_changed(self, text: str) -> None:
        self.filter_error.setText(self._filter_problem(text))
        self._on_query_changed()

    def _filter_problem(self, text: str) -> str:
        """Why the filter cannot run as typed: a parse error, or (once the schemas are read) a
        column no file has, with the nearest name, as the CLI says it (core/lake/checks.nearest)."""
        if not text.strip():
            return ""
        try:
            flt = parse_filter(text)
        except FilterError as exc:
            return str(exc)
        if self.schema is None:
            return ""
        have = self.column_names() + list(self.template().field_names)
        unknown = sorted(flt.columns() - set(have))
        if not unknown:
            return ""
        hints = [f"did you mean {near}?" for c in unknown if (near := nearest(c, have))]
        return (f"No file has a column named {', '.join(map(repr, unknown))}"
                + (f" ({'; '.join(hints)})" if hints else ""))

    def _on_query_changed(self) -> None:
        """A query in flight no longer answers what is asked: stop it."""
        if self._query_slot.running:
            self.cancel_query("The query changed; Run reads it again.")

    def cancel_query(self, message: str = "") -> None:
        if not self._query_slot.running:
            return
        self._query_cancel.set()
        self._query_slot.cancel()
        self.stop_button.setEnabled(False)
        if message:
            self.status.setText(message)
        self.query_cancelled.emit()

    def run(self) -> None:
        self.cancel_query()
        if self.connection is None or not self.files:
            self.status.setText("Nothing to query yet: the template's files are still being listed."
                                if self._load_slot.running else "No file of this layout to query.")
            return
        try:
            parse_filter(self.filter_edit.text()) if self.filter_edit.text().strip() else None
        except FilterError as exc:
            self.filter_error.setText(str(exc))
            self.status.setText("Fix the filter first.")
            return
        spec = self.spec()
        selection = spec.selection()
        files = [f for f in self.files if selection.matches(f.fields)]
        self._query_cancel = threading.Event()
        self.table, self.totals = None, None
        self.rows.clear()
        self.export_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._query_slot.start(self._run(self.connection, self.bucket, self.template(), spec, files,
                                         self._query_cancel))

    async def _run(self, conn: Connection, bucket: str, template, spec: QuerySpec, files, cancel) -> None:
        loop = asyncio.get_event_loop()
        flt = parse_filter(spec.filter) if spec.filter else None
        live = ScanTotals()
        total = len(files)
        self.status.setText(f"Reading {counted(total, 'file')}…")

        def arrived(b) -> None:   # on the main thread
            if cancel.is_set():
                return
            live.add(b)
            self.rows.add_batch(b.batch)
            self.status.setText(f"Reading… {live.files:,} of {counted(total, 'file')} · " + _cost(live))
            self.batch_received.emit(self.rows.total)

        def work():
            ds = LakeDataset(conn.client(), bucket, files, field_names=template.field_names,
                             raw=conn.profile.raw_listing, verify=conn.profile.verify_tls)
            batches = []
            # A name no file has is most likely a typo: said as the CLI says it, rather than no rows.
            check = ColumnCheck(spec.columns or None, flt, list(template.field_names))
            try:
                for b in ds.scan(spec.columns or None, flt, cancel=cancel):
                    batches.append(b)
                    check.see(b)
                    loop.call_soon_threadsafe(arrived, b)
            except QueryCancelled:
                return None
            return (*collect(batches, pruned=ds.files_pruned), check.message())

        try:
            result = await in_executor(self._executor, work)
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception as exc:
            message = f"The query failed: {classify(exc, bucket=bucket).message}"
            self.status.setText(message)
            self.stop_button.setEnabled(False)
            self.query_failed.emit(message)
            return
        if result is None or cancel.is_set():
            return
        self.table, self.totals, unknown = result
        self.stop_button.setEnabled(False)
        self.export_button.setEnabled(self.table.num_columns > 0)
        by = "symbol" if "symbol" in template.field_names else next(
            (n for n in template.field_names if n not in ("year", "month", "day", "quarter")), None)
        self.chart.set_table(self.table, by, skip=template.field_names)
        text = f"{counted(self.totals.rows, 'row')} · {_cost(self.totals)}"
        if unknown:
            text = f"{unknown[0].upper() + unknown[1:]} · " + text
        if self.totals.files_pruned:
            text += f" ({self.totals.files_pruned:,} ruled out by the filter on their fields)"
        if self.totals.failures:
            text += f" · {counted(len(self.totals.failures), 'file')} could not be read: " + \
                "; ".join(why for _, why in self.totals.failures[:3])
        if self._note:
            text, self._note = f"{self._note} · {text}", ""
        self.status.setText(text)
        self.query_finished.emit(self.totals)

    # export

    def choose_export_path(self) -> str:
        """Ask where the rows go; '' when the user cancels. Tests replace this."""
        return ask_save_path(self, "Export rows", f"{self.layout_box.currentText()}.parquet",
                             "Parquet (*.parquet);;CSV (*.csv)")

    def _on_export_clicked(self) -> None:
        path = self.choose_export_path()
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """Write the last result to `path` (.parquet or .csv), batch by batch in the executor."""
        if self.table is None:
            return
        kind = path.rsplit(".", 1)[-1].lower() if "." in os.path.basename(path) else ""
        if kind not in ("parquet", "csv"):
            path, kind = path + ".parquet", "parquet"
        self._export_cancel.set()
        self._export_cancel = threading.Event()
        self._export_slot.start(self._export(self.table, path, kind, self._export_cancel))

    def cancel_export(self) -> None:
        self._export_cancel.set()
        self._export_slot.cancel()

    async def _export(self, table, path: str, kind: str, cancel: threading.Event) -> None:
        loop = asyncio.get_event_loop()
        total = table.num_rows
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress.show()
        self.export_cancel_button.show()

        def progressed(done: int) -> None:
            if not cancel.is_set():
                self.progress.setValue(done)
                self.export_progressed.emit(done, total)

        def work() -> int:
            return write_rows(table, path, kind, cancel, lambda done: loop.call_soon_threadsafe(progressed, done))

        try:
            rows = await in_executor(self._executor, work)
        except asyncio.CancelledError:
            cancel.set()
            self._export_ended(f"Export cancelled; {path} was not kept.")
            raise
        except Exception as exc:
            self._export_ended(f"{path} could not be written: {exc}")
            return
        if rows is None:
            self._export_ended(f"Export cancelled; {path} was not kept.")
            return
        self.progress.hide()
        self.export_cancel_button.hide()
        self.status.setText(f"Wrote {rows:,} rows to {path}")
        self.export_finished.emit(path, rows)

    def _export_ended(self, message: str) -> None:
        self.progress.hide()
        self.export_cancel_button.hide()
        self.status.setText(message)
        self.export_failed.emit(message)

    # ending

    def _stop_all(self) -> None:
        self._load_cancel.set()
        self._load_slot.cancel()
        self.cancel_query()

    def shutdown(self) -> None:
        self._stop_all()
        self.cancel_export()


def write_rows(table, path: str, kind: str, cancel: threading.Event, on_progress=None) -> int | None:
    """Write `table` to `path` batch by batch; None (and no file left) when `cancel` is set midway."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    done = 0
    writer = pq.ParquetWriter(path, table.schema) if kind == "parquet" else pcsv.CSVWriter(path, table.schema)
    try:
        for batch in table.to_batches(max_chunksize=EXPORT_BATCH):
            if cancel.is_set():
                break
            writer.write_batch(batch)
            done += batch.num_rows
            if on_progress is not None:
                on_progress(done)
    finally:
        writer.close()
        if cancel.is_set():
            try:
                os.remove(path)
            except OSError:
                pass
    return None if cancel.is_set() else done


def _quoted(value: str) -> str:
    """A value for the filter text: numbers and plain words bare, anything else quoted."""
    import re

    if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[A-Za-z0-9_.:\-]+", value or ""):
        return value
    return "'" + value.replace("'", "''") + "'"


def _cost(t: ScanTotals) -> str:
    return (f"{counted(t.files, 'file')}, row groups {t.row_groups_read:,} read / {t.row_groups_skipped:,} skipped, "
            f"{counted(t.requests, 'request')}, {human_size(t.bytes_read)} read")
