"""The preview pane: Parquet (rows, chart, schema, row groups, file metadata), JSON, CSV,
text and images, each read with a few ranged GETs; Properties (HEAD) on request.

Every read runs as a coroutine on the qasync loop with the blocking part in the executor.
Selecting another object cancels the old preview: its tasks, and its file, which then
refuses to make further requests, so a superseded preview stops costing anything.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QMenu,
                               QPlainTextEdit, QScrollArea, QSizePolicy, QSpinBox, QTableView, QTabWidget, QToolButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from ...core import objects
from ...core.preview import cells, formats, ohlcv
from ...core.connection import Connection
from ...core.errors import classify
from ...core.listing import ObjectEntry
from ...core.preview.parquet import HEAD_ROWS, ParquetPreview, PreviewError, SchemaNode
from ...core.preview.rangefile import FIRST_READ, ObjectChanged, PreviewCancelled, RangeFile
from ...core.settings import PreviewSettings
from ...core.units import human_size
from ..tasks import TaskSlot, in_executor
from .chart import PriceChart
from .json_view import JsonTree
from .models import ListTableModel, ParquetRowsModel, RowGroupsModel
from .properties import PropertiesTree

DEFAULT_COLUMNS = 30     # wide files open with this many columns; the chooser shows the rest
WANTED_BLOCKS = 4        # blocks asked for while scrolling; older asks are dropped
_EXPECTED = (PreviewError, ObjectChanged, ValueError)
EMPTY = ("Select an object to preview it: Parquet rows, schema, statistics and a price chart; "
         "JSON, CSV, text and images; the properties of anything else.")


def _rows_of(read, *args):
    """Read rows and turn them into Python values, both in the executor."""
    rows = read(*args)
    return rows, cells.python_columns(rows)


def _table(name: str, accessible: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setAccessibleName(accessible)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    view.horizontalHeader().setDefaultSectionSize(110)
    return view


def _tree(name: str, accessible: str, labels: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(name)
    tree.setAccessibleName(accessible)
    tree.setHeaderLabels(labels)
    tree.setColumnWidth(0, 200)
    return tree


class PreviewPane(QFrame):
    preview_finished = Signal(str)        # key: its first view is on screen
    preview_failed = Signal(str, str)     # key, message
    properties_loaded = Signal(str)       # key
    rows_loaded = Signal(int, int)        # row group, block
    chart_updated = Signal(str)           # what the chart was drawn from

    def __init__(self, executor: Executor, parent=None):
        super().__init__(parent)
        self.setObjectName("PreviewPane")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._executor = executor
        self.limits = PreviewSettings()  # Edit › Settings… › Preview
        self._connection: Connection | None = None
        self._bucket = ""
        self._entry: ObjectEntry | None = None
        self._source: RangeFile | None = None
        self._parquet: ParquetPreview | None = None
        self._chart_columns: ohlcv.ChartColumns | None = None
        self._wanted: list[tuple[int, int]] = []
        self._started = 0.0
        self._slot, self._rows_slot = TaskSlot("preview"), TaskSlot("preview rows")
        self._chart_slot, self._props_slot = TaskSlot("preview chart"), TaskSlot("properties")
        self.rows_model: ParquetRowsModel | None = None

        self.title = QLabel("Preview", self)
        self.title.setObjectName("previewTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.stats_label = QLabel(self)
        self.stats_label.setObjectName("previewStats")
        self.stats_label.setToolTip("What this preview read from S3 so far")
        self.message = QLabel(EMPTY, self)
        self.message.setObjectName("previewMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("previewTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)

        self._build_parquet_views()
        self.properties = PropertiesTree()
        self.json_tree = JsonTree()
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("textPreview")
        self.text_view.setAccessibleName("Text preview")
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.csv_table = _table("csvTable", "Table preview")
        self.image_label = QLabel()
        self.image_label.setObjectName("imagePreview")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_scroll = QScrollArea()
        self.image_scroll.setWidget(self.image_label)
        self.image_scroll.setWidgetResizable(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        layout.addStretch(0)  # with the tabs hidden, the labels stay at the top
        for label in (self.title, self.stats_label, self.message):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._reset()

    def _build_parquet_views(self) -> None:
        self.data_page = QWidget()
        self.columns_button = QToolButton(self.data_page)
        self.columns_button.setObjectName("columnsButton")
        self.columns_button.setText("Columns")
        self.columns_button.setToolTip("Choose the columns to read and show")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_button.setMenu(self.columns_menu)
        self.row_spin = QSpinBox(self.data_page)
        self.row_spin.setObjectName("goToRow")
        self.row_spin.setAccessibleName("Go to row")
        self.row_spin.setPrefix("Row ")
        self.row_spin.setGroupSeparatorShown(True)
        self.row_spin.setKeyboardTracking(False)
        self.row_spin.valueChanged.connect(self.go_to_row)
        self.rows_caption = QLabel(self.data_page)
        self.rows_caption.setObjectName("rowsCaption")
        bar = QHBoxLayout()
        bar.addWidget(self.columns_button)
        bar.addWidget(self.row_spin)
        bar.addWidget(self.rows_caption, 1)
        self.rows_table = _table("rowsTable", "Parquet rows")
        page = QVBoxLayout(self.data_page)
        page.setContentsMargins(0, 4, 0, 0)
        page.addLayout(bar)
        page.addWidget(self.rows_table, 1)

        self.chart = PriceChart()
        self.chart.whole_file_requested.connect(self._on_chart_whole_file_requested)
        self.schema_tree = _tree("schemaTree", "Parquet schema", ["Column", "Type", "Physical", "Nullable"])
        self.row_groups_table = _table("rowGroupsTable", "Row groups and column chunks")
        self.file_tree = _tree("fileTree", "Parquet file metadata", ["Field", "Value"])

    # public

    def set_connection(self, connection: Connection | None, bucket: str = "") -> None:
        self._connection = connection
        self._bucket = bucket or (connection.bucket if connection else "")
        self.show_entry(None)

    def show_entry(self, entry: ObjectEntry | None) -> None:
        self.cancel()
        self._reset()
        self._entry = entry if self._connection is not None else None
        if self._entry is None:
            return
        self.title.setText(entry.key)
        self.message.setText("Loading…")
        self._started = time.monotonic()
        self._slot.start(self._load(self._connection, self._bucket, entry))

    def cancel(self) -> None:
        for slot in (self._slot, self._rows_slot, self._chart_slot, self._props_slot):
            slot.cancel()
        if self._source is not None:
            self._source.cancel()

    @property
    def source(self) -> RangeFile | None:
        return self._source

    def go_to_row(self, row: int) -> None:
        if self.rows_model is not None and 0 <= row < self.rows_model.rowCount():
            index = self.rows_model.index(row, 0)
            self.rows_table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
            self.rows_table.setCurrentIndex(index)

    def set_columns(self, columns: list[str]) -> None:
        """Read and show these columns instead (the column chooser calls this)."""
        if self._parquet is None or not columns:
            return
        self._rows_slot.cancel()
        self._wanted.clear()
        self._rows_slot.start(self._reload_columns(self._parquet, columns))

    # loading

    def _reset(self) -> None:
        self.tabs.blockSignals(True)
        self.tabs.clear()
        self.tabs.blockSignals(False)
        self.tabs.hide()
        self.title.setText("Preview")
        self.message.setText(EMPTY)
        self.message.show()
        self.stats_label.clear()
        self.stats_label.hide()
        self.properties.clear()
        self._props_key = None
        self._first_view_ms: float | None = None
        self._whole_charted = False
        self._source = self._parquet = self._chart_columns = None
        self._wanted.clear()
        self.rows_model = None
        self.rows_table.setModel(None)

    async def _load(self, connection: Connection, bucket: str, entry: ObjectEntry) -> None:
        kind = formats.kind_of(entry.key)
        try:
            client = await in_executor(self._executor, connection.client)
            source = RangeFile(client, bucket, entry.key, entry.size, etag=entry.etag,
                               first_read=FIRST_READ if kind == formats.PARQUET else 0,
                               cache_limit=self.limits.cache_mb << 20)
            self._source = source
            if kind == formats.PARQUET:
                await self._load_parquet(source)
            elif kind == formats.JSON:
                await self._load_json(source)
            elif kind == formats.CSV:
                preview = await in_executor(self._executor, formats.read_csv, source, self.limits.text_kb << 10)
                self.csv_table.setModel(ListTableModel(preview.header, preview.rows, self.csv_table))
                self._note_truncated(preview.shown, preview.size)
                self.tabs.addTab(self.csv_table, "Table")
            elif kind == formats.TEXT:
                await self._load_text(source)
            elif kind == formats.IMAGE:
                data = await in_executor(self._executor, formats.read_image, source, self.limits.whole_mb << 20)
                pixmap = QPixmap()
                if not pixmap.loadFromData(data):
                    raise ValueError("This image cannot be decoded.")
                self.image_label.setPixmap(pixmap)
                self.tabs.addTab(self.image_scroll, "Image")
            else:
                self.message.setText("No preview for this kind of file; its properties are below.")
        except asyncio.CancelledError:
            raise
        except PreviewCancelled:
            return
        except Exception as exc:
            message = str(exc) if isinstance(exc, _EXPECTED) else classify(exc, bucket=bucket, key=entry.key).message
            self.message.setText(message)
            self.message.show()
            self._add_properties_tab()
            self._update_stats()
            self.preview_failed.emit(entry.key, message)
            return
        self._first_view_ms = (time.monotonic() - self._started) * 1000
        self._add_properties_tab()
        self.tabs.show()
        if kind == formats.NONE:
            self.tabs.setCurrentWidget(self.properties)
            self._load_properties()
        self._update_stats()
        self.preview_finished.emit(entry.key)

    async def _load_parquet(self, source: RangeFile) -> None:
        preview = await in_executor(self._executor, ParquetPreview, source)
        summary, schema, stats = await in_executor(
            self._executor, lambda: (preview.summary(), preview.schema(), preview.chunk_stats()))
        columns = preview.column_names[:DEFAULT_COLUMNS]
        head, values = await in_executor(self._executor, _rows_of, preview.head, columns, HEAD_ROWS)
        self._parquet = preview
        self._show_rows(preview, columns, head, values)
        self._fill_columns_menu(preview.column_names, columns)
        self.tabs.addTab(self.data_page, "Data")
        self._chart_columns = ohlcv.chart_columns(preview.arrow_schema)
        if self._chart_columns is not None:
            cols = self._chart_columns
            self.chart.offer_whole_file(cols, preview.num_rows, preview.bytes_for(cols.names))
            self.tabs.addTab(self.chart, "Chart")
        self._fill_schema(schema)
        self.row_groups_table.setModel(RowGroupsModel(stats, self.row_groups_table))
        self.tabs.addTab(self.schema_tree, "Schema")
        self.tabs.addTab(self.row_groups_table, f"Row groups ({summary.row_groups})")
        self._fill_file(summary)
        self.tabs.addTab(self.file_tree, "File")
        self.message.hide()

    async def _load_json(self, source: RangeFile) -> None:
        preview = await in_executor(self._executor, formats.read_json, source, self.limits.whole_mb << 20)
        if preview.error:
            self.message.setText(preview.error)
            self._show_text(preview.text)
            self.preview_failed.emit(source.key, preview.error)
            return
        self.json_tree.show_value(preview.value)
        self.tabs.addTab(self.json_tree, "JSON")
        self.message.hide()

    async def _load_text(self, source: RangeFile) -> None:
        preview = await in_executor(self._executor, formats.read_text, source, self.limits.text_kb << 10)
        if preview.binary:
            self.message.setText("This file holds binary data; its properties are below.")
            return
        self._show_text(preview)
        self._note_truncated(preview.shown, preview.size)

    def _show_text(self, preview: formats.TextPreview) -> None:
        self.text_view.setPlainText(preview.text)
        self.tabs.addTab(self.text_view, "Text")

    def _note_truncated(self, shown: int, size: int) -> None:
        if shown < size:
            self.message.setText(f"Showing the first {human_size(shown)} of {human_size(size)}.")
        else:
            self.message.hide()

    # Parquet views

    def _show_rows(self, preview: ParquetPreview, columns: list[str], head, values: list[list]) -> None:
        model = ParquetRowsModel(preview, columns, head, values, self.rows_table)
        model.block_needed.connect(self._on_rows_model_block_needed)
        self.rows_model = model
        self.rows_table.setModel(model)
        self.row_spin.blockSignals(True)
        self.row_spin.setRange(0, max(0, preview.num_rows - 1))
        self.row_spin.setValue(0)
        self.row_spin.blockSignals(False)
        self.rows_caption.setText(f"{preview.num_rows:,} rows × {len(columns)} of "
                                  f"{len(preview.column_names)} columns")

    def _fill_columns_menu(self, names: list[str], shown: list[str]) -> None:
        self.columns_menu.clear()
        for name in names:
            action = QAction(name, self.columns_menu)
            action.setCheckable(True)
            action.setChecked(name in shown)
            action.toggled.connect(self._on_column_toggled)
            self.columns_menu.addAction(action)

    def _on_column_toggled(self, _checked: bool) -> None:
        chosen = [a.text() for a in self.columns_menu.actions() if a.isChecked()]
        if not chosen:
            self.stats_label.setText("Keep at least one column.")
            self.stats_label.show()
            action = self.sender()
            action.blockSignals(True)
            action.setChecked(True)
            action.blockSignals(False)
            return
        self.set_columns(chosen)

    async def _reload_columns(self, preview: ParquetPreview, columns: list[str]) -> None:
        try:
            head, values = await in_executor(self._executor, _rows_of, preview.head, columns, HEAD_ROWS)
        except PreviewCancelled:
            return
        except _EXPECTED as exc:
            self.stats_label.setText(str(exc))
            return
        if preview is self._parquet:
            self._show_rows(preview, columns, head, values)
            self._update_stats()
            self._refresh_chart()

    def _on_rows_model_block_needed(self, row_group: int, block: int) -> None:
        model = self.sender()
        self._wanted.append((row_group, block))
        while len(self._wanted) > WANTED_BLOCKS:  # scrolled past: forget, and let the model ask again
            model.block_failed(*self._wanted.pop(0))
        if not self._rows_slot.running:
            self._rows_slot.start(self._load_blocks(model))

    async def _load_blocks(self, model: ParquetRowsModel) -> None:
        while self._wanted and model is self.rows_model:
            row_group, block = self._wanted.pop()  # the latest ask is what is on screen
            try:
                batch, values = await in_executor(self._executor, _rows_of, model.preview.block,
                                                  row_group, block, model.columns)
            except PreviewCancelled:
                return
            except Exception as exc:
                model.block_failed(row_group, block)
                message = str(exc) if isinstance(exc, _EXPECTED + (IndexError,)) else classify(exc).message
                self.stats_label.setText(f"Rows could not be read: {message}")
                return
            if model is not self.rows_model:
                return
            model.set_block(row_group, block, batch, values)
            self._update_stats()
            self.rows_loaded.emit(row_group, block)
            if self.tabs.currentWidget() is self.chart:
                self._refresh_chart()

    def _fill_schema(self, nodes: list[SchemaNode]) -> None:
        self.schema_tree.clear()

        def add(parent, node: SchemaNode) -> None:
            item = QTreeWidgetItem(parent, [node.name, node.type, node.physical, "yes" if node.nullable else "no"])
            item.setToolTip(1, node.type)
            for child in node.children:
                add(item, child)

        for node in nodes:
            add(self.schema_tree, node)
        self.schema_tree.expandToDepth(1)

    def _fill_file(self, s) -> None:
        self.file_tree.clear()
        for name, value in (("Rows", f"{s.rows:,}"), ("Row groups", f"{s.row_groups:,}"),
                            ("Columns", f"{s.columns:,} (leaf columns)"), ("Created by", s.created_by),
                            ("Format version", s.format_version), ("Footer", human_size(s.footer_bytes))):
            QTreeWidgetItem(self.file_tree, [name, value])
        if s.arrow_schema:
            arrow = QTreeWidgetItem(self.file_tree, ["Arrow schema", "decoded from ARROW:schema"])
            for line in s.arrow_schema.splitlines():
                name, _, rest = line.partition(": ")
                QTreeWidgetItem(arrow, [name.strip(), rest])
        if s.pandas:
            pandas = QTreeWidgetItem(self.file_tree, ["pandas", f"pandas {s.pandas.get('pandas_version', '?')}"])
            index = [i if isinstance(i, str) else f"{i.get('kind', '')} {i.get('name') or ''}".strip()
                     for i in s.pandas.get("index_columns", [])]
            QTreeWidgetItem(pandas, ["Index", ", ".join(index) or "none"])
            cols = QTreeWidgetItem(pandas, ["Columns", f"{len(s.pandas.get('columns', []))}"])
            for c in s.pandas.get("columns", []):
                QTreeWidgetItem(cols, [str(c.get("name")), f"{c.get('pandas_type')} ({c.get('numpy_type')})"])
        for key, value in s.key_value.items():
            QTreeWidgetItem(self.file_tree, [key, value if len(value) < 300 else value[:299] + "…"])
        self.file_tree.expandToDepth(0)

    # chart

    def _refresh_chart(self) -> None:
        cols, model = self._chart_columns, self.rows_model
        if cols is None or model is None or self._whole_charted:
            return
        missing = [c for c in (cols.time, cols.close) if c not in model.columns]
        if missing:
            self.chart.caption.setText(f"Show the {' and '.join(missing)} column(s) to chart the rows read, "
                                       "or chart the whole file.")
            return
        shown = ohlcv.ChartColumns(cols.time, cols.close, cols.volume if cols.volume in model.columns else None)
        table = model.loaded_table()
        self.chart.show_series(ohlcv.series(table, shown), shown, "rows read so far")
        self.chart_updated.emit("rows read")

    def _on_chart_whole_file_requested(self) -> None:
        if self._parquet is not None and self._chart_columns is not None and not self._chart_slot.running:
            self.chart.whole_button.setEnabled(False)
            self.chart.caption.setText("Reading…")
            self._chart_slot.start(self._chart_whole_file(self._parquet, self._chart_columns))

    async def _chart_whole_file(self, preview: ParquetPreview, cols: ohlcv.ChartColumns) -> None:
        try:
            table = await in_executor(self._executor, preview.column_table, cols.names)
            series = await in_executor(self._executor, ohlcv.series, table, cols)
        except PreviewCancelled:
            return
        except Exception as exc:
            self.chart.caption.setText(str(exc) if isinstance(exc, _EXPECTED) else classify(exc).message)
            self.chart.whole_button.setEnabled(True)
            return
        if preview is self._parquet:
            self._whole_charted = True
            self.chart.whole_button.hide()
            self.chart.show_series(series, cols, "whole file")
            self._update_stats()
            self.chart_updated.emit("whole file")

    # properties

    def _add_properties_tab(self) -> None:
        self.tabs.addTab(self.properties, "Properties")
        self.tabs.show()

    def _on_tabs_current_changed(self, _index: int) -> None:
        widget = self.tabs.currentWidget()
        if widget is self.properties:
            self._load_properties()
        elif widget is self.chart:
            source = self._source
            if source is not None and source.cached(0, source.size) and not self._whole_charted:
                self._on_chart_whole_file_requested()  # every byte is here already: chart them all
            else:
                self._refresh_chart()

    def _load_properties(self) -> None:
        if self._entry is not None and self._props_key != self._entry.key and not self._props_slot.running:
            self._props_slot.start(self._properties(self._connection, self._bucket, self._entry))

    async def _properties(self, connection: Connection, bucket: str, entry: ObjectEntry) -> None:
        try:
            client = await in_executor(self._executor, connection.client)
            props = await in_executor(self._executor, objects.head, client, bucket, entry.key)
        except Exception as exc:
            if self._entry is entry:
                self.properties.clear()
                QTreeWidgetItem(self.properties, ["Error", classify(exc, bucket=bucket, key=entry.key).message])
            return
        if self._entry is entry:
            self._props_key = entry.key
            self.properties.show_properties(props)
            self.properties_loaded.emit(entry.key)

    def _update_stats(self) -> None:
        if self._source is not None:
            shown = f" · shown in {self._first_view_ms:,.0f} ms" if self._first_view_ms is not None else ""
            self.stats_label.setText(f"Read {self._source.stats.describe()}{shown}")
            self.stats_label.show()
