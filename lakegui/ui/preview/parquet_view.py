"""The Parquet views of the preview pane: rows (read in blocks as they scroll into view, columns
chosen), a price chart, the schema, row groups with their column statistics, and file metadata.

The pane opens the file and hands it here; these views read only what they show, each read a
coroutine on the qasync loop with the blocking part in the executor.
"""

from __future__ import annotations

from concurrent.futures import Executor

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSpinBox,
    QTableView,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import classify
from ...core.preview import cells, ohlcv
from ...core.preview.parquet import HEAD_ROWS, ParquetPreview, PreviewError, SchemaNode
from ...core.preview.rangefile import ObjectChanged, PreviewCancelled, RangeFile
from ...core.units import human_size
from ..column_fit import FitTableView
from ..tasks import TaskSlot, in_executor
from .models import ParquetRowsModel, RowGroupsModel

DEFAULT_COLUMNS = 30     # wide files open with this many columns; the chooser shows the rest
WANTED_BLOCKS = 4        # blocks asked for while scrolling; older asks are dropped
# Failures whose message is already written for a person (others go through classify()).
EXPECTED_ERRORS = (PreviewError, ObjectChanged, ValueError)


def _rows_of(read, *args):
    """Read rows and turn them into Python values, both in the executor."""
    rows = read(*args)
    return rows, cells.python_columns(rows)


def make_table(name: str, accessible: str) -> QTableView:
    """A read-only table of fixed-height rows, as the previews show them."""
    view = FitTableView()  # columns fit the first block of rows (a timestamp reads whole)
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


class ParquetView(QObject):
    """Holds the Parquet pages (widgets the pane puts in its tabs) and what they read."""

    rows_loaded = Signal(int, int)        # row group, block
    chart_updated = Signal(str)           # what the chart was drawn from
    bytes_read = Signal()                 # more of the file was read: the pane's figures are out of date
    problem = Signal(str)                 # a message for the pane's figures line

    def __init__(self, executor: Executor, parent=None):
        super().__init__(parent)
        self._executor = executor
        self._source: RangeFile | None = None
        self._preview: ParquetPreview | None = None
        self._chart_columns: ohlcv.ChartColumns | None = None
        self._whole_charted = False
        self._chart_on_screen = False
        self._wanted: list[tuple[int, int]] = []
        self._rows_slot, self._chart_slot = TaskSlot("preview rows"), TaskSlot("preview chart")
        self.rows_model: ParquetRowsModel | None = None

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
        # Numbered from 1, as the rows' labels are (row 250 is the row labelled 250).
        self.row_spin.valueChanged.connect(lambda number: self.go_to_row(number - 1))
        self.rows_caption = QLabel(self.data_page)
        self.rows_caption.setObjectName("rowsCaption")
        bar = QHBoxLayout()
        bar.addWidget(self.columns_button)
        bar.addWidget(self.row_spin)
        bar.addWidget(self.rows_caption, 1)
        self.rows_table = make_table("rowsTable", "Parquet rows")
        page = QVBoxLayout(self.data_page)
        page.setContentsMargins(0, 4, 0, 0)
        page.addLayout(bar)
        page.addWidget(self.rows_table, 1)

        self._chart = None  # made for the first file that has a price to chart (see `chart`)
        self.schema_tree = _tree("schemaTree", "Parquet schema", ["Column", "Type", "Physical", "Nullable"])
        self.row_groups_table = make_table("rowGroupsTable", "Row groups and column chunks")
        self.file_tree = _tree("fileTree", "Parquet file metadata", ["Field", "Value"])

    # public

    @property
    def chart(self):
        """The price chart (a PriceChart), made on first use: pyqtgraph adds 0.25 s to the import,
        which a window that never charts should not pay at startup."""
        if self._chart is None:
            from .chart import PriceChart

            self._chart = PriceChart()
            self._chart.whole_file_requested.connect(self._on_chart_whole_file_requested)
        return self._chart

    @property
    def preview(self) -> ParquetPreview | None:
        """The file shown, once its footer has been read."""
        return self._preview

    async def load(self, source: RangeFile) -> list[tuple[QWidget, str]]:
        """Read the footer and the first rows of `source`; the pages to show, with their titles."""
        preview = await in_executor(self._executor, ParquetPreview, source)
        summary, schema, stats = await in_executor(
            self._executor, lambda: (preview.summary(), preview.schema(), preview.chunk_stats()))
        columns = preview.column_names[:DEFAULT_COLUMNS]
        head, values = await in_executor(self._executor, _rows_of, preview.head, columns, HEAD_ROWS)
        self._source, self._preview = source, preview
        self._show_rows(preview, columns, head, values)
        self._fill_columns_menu(preview.column_names, columns)
        pages = [(self.data_page, "Data")]
        self._chart_columns = ohlcv.chart_columns(preview.arrow_schema)
        if self._chart_columns is not None:
            cols = self._chart_columns
            self.chart.offer_whole_file(cols, preview.num_rows, preview.bytes_for(cols.names))
            pages.append((self.chart, "Chart"))
        self._fill_schema(schema)
        self.row_groups_table.setModel(RowGroupsModel(stats, self.row_groups_table))
        self._fill_file(summary)
        pages += [(self.schema_tree, "Schema"), (self.row_groups_table, f"Row groups ({summary.row_groups})"),
                  (self.file_tree, "File")]
        return pages

    def clear(self) -> None:
        """Forget the file shown (the pane calls cancel() first)."""
        self._source = self._preview = self._chart_columns = None
        self._whole_charted = self._chart_on_screen = False
        self._wanted.clear()
        self.rows_model = None
        self.rows_table.setModel(None)

    def cancel(self) -> None:
        self._rows_slot.cancel()
        self._chart_slot.cancel()

    def page_shown(self, widget: QWidget | None) -> None:
        """The pane's current tab changed to `widget` (one of ours or not)."""
        self._chart_on_screen = widget is not None and widget is self._chart
        if not self._chart_on_screen:
            return
        source = self._source
        if source is not None and source.cached(0, source.size) and not self._whole_charted:
            self._on_chart_whole_file_requested()  # every byte is here already: chart them all
        else:
            self._refresh_chart()

    def go_to_row(self, row: int) -> None:
        """Scroll row `row` (from 0; its label is row + 1) to the top and make it current."""
        if self.rows_model is not None and 0 <= row < self.rows_model.rowCount():
            index = self.rows_model.index(row, 0)
            self.rows_table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
            self.rows_table.setCurrentIndex(index)

    def set_columns(self, columns: list[str]) -> None:
        """Read and show these columns instead (the column chooser calls this)."""
        if self._preview is None or not columns:
            return
        self._rows_slot.cancel()
        self._wanted.clear()
        self._rows_slot.start(self._reload_columns(self._preview, columns))

    # rows

    def _show_rows(self, preview: ParquetPreview, columns: list[str], head, values: list[list]) -> None:
        model = ParquetRowsModel(preview, columns, head, values, self.rows_table)
        model.block_needed.connect(self._on_rows_model_block_needed)
        self.rows_model = model
        self.rows_table.setModel(model)
        self.row_spin.blockSignals(True)
        self.row_spin.setRange(1, max(1, preview.num_rows))
        self.row_spin.setValue(1)
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
            self.problem.emit("Keep at least one column.")
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
        except EXPECTED_ERRORS as exc:
            self.problem.emit(str(exc))
            return
        if preview is self._preview:
            self._show_rows(preview, columns, head, values)
            self.bytes_read.emit()
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
                message = str(exc) if isinstance(exc, EXPECTED_ERRORS + (IndexError,)) else classify(exc).message
                self.problem.emit(f"Rows could not be read: {message}")
                return
            if model is not self.rows_model:
                return
            model.set_block(row_group, block, batch, values)
            self.bytes_read.emit()
            self.rows_loaded.emit(row_group, block)
            if self._chart_on_screen:
                self._refresh_chart()

    # schema and file

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
        shown = cols.within(model.columns)  # what of time, OHLC and volume the rows read hold
        table = model.loaded_table()
        self.chart.show_series(ohlcv.series(table, shown, gaps=model.loaded_gaps()), shown, "rows read so far")
        self.chart_updated.emit("rows read")

    def _on_chart_whole_file_requested(self) -> None:
        if self._preview is not None and self._chart_columns is not None and not self._chart_slot.running:
            self.chart.whole_button.setEnabled(False)
            self.chart.caption.setText("Reading…")
            self._chart_slot.start(self._chart_whole_file(self._preview, self._chart_columns))

    async def _chart_whole_file(self, preview: ParquetPreview, cols: ohlcv.ChartColumns) -> None:
        try:
            table = await in_executor(self._executor, preview.column_table, cols.names)
            series = await in_executor(self._executor, ohlcv.series, table, cols)
        except PreviewCancelled:
            return
        except Exception as exc:
            self.chart.caption.setText(str(exc) if isinstance(exc, EXPECTED_ERRORS) else classify(exc).message)
            self.chart.whole_button.setEnabled(True)
            return
        if preview is self._preview:
            self._whole_charted = True
            self.chart.whole_button.hide()
            self.chart.show_series(series, cols, "whole file")
            self.bytes_read.emit()
            self.chart_updated.emit("whole file")
