"""Column widths for the app's tables: each column as wide as the first block of rows a model
shows (capped, so one long value cannot take the table), and the last column stretching into
the free space. A width the user set, by dragging a header edge or restored from the settings,
is never clobbered afterwards.

Only the first `rows` rows are measured, from their display text: a lazy model (the Parquet
rows) is not asked for rows it has not read, and a 75,000-job queue is not walked.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QHeaderView, QStyle, QTableView


class FitHeader(QHeaderView):
    """A horizontal header that remembers whether its widths came from the user or the settings."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.user_sized = False
        self.fitting = False
        self._pressed = False  # a mouse button is down on the header: a resize now is the user's
        self.setSectionsClickable(True)
        self.setHighlightSections(False)
        self.setStretchLastSection(True)
        self.sectionResized.connect(self._on_section_resized)

    def restoreState(self, state) -> bool:
        ok = super().restoreState(state)
        if ok:
            self.user_sized = True  # the widths the user left last time
            self.setStretchLastSection(True)
        return ok

    def mousePressEvent(self, event) -> None:
        self._pressed = True
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        self._pressed = False

    def mouseDoubleClickEvent(self, event) -> None:  # a double-click on an edge fits that column
        self._pressed = True
        try:
            super().mouseDoubleClickEvent(event)
        finally:
            self._pressed = False

    def _on_section_resized(self, index: int, _old: int, _new: int) -> None:
        # Only a drag counts: code setting widths, and Qt stretching the last section, do not.
        if self._pressed and not self.fitting:
            self.user_sized = True


class ColumnFitter(QObject):
    """Fits `view`'s columns on the first rows of each model it shows (see the module's text).
    Install it before configuring the header: it gives the view a FitHeader."""

    def __init__(self, view: QTableView, *, rows: int = 64, max_width: int = 420, min_width: int = 40,
                 refit_on_reset: bool = True, samples: dict[int, str] | None = None):
        """`samples`: per column, a value as wide as it can get (a speed, an ETA), for columns
        that are still empty in the first rows but fill in later."""
        super().__init__(view)
        self.samples = samples or {}
        self.view = view
        self.rows, self.max_width, self.min_width = rows, max_width, min_width
        self.refit_on_reset = refit_on_reset
        self.header = FitHeader(view)
        view.setHorizontalHeader(self.header)
        self._model = None
        self._fitted = False

    def watch(self, model) -> None:
        """Follow this model (call after view.setModel)."""
        if model is self._model:
            return
        if self._model is not None:
            for signal in (self._model.modelReset, self._model.rowsInserted):
                try:
                    signal.disconnect(self._on_model_changed)
                except (RuntimeError, TypeError):
                    pass
        self._model, self._fitted = model, False
        if model is not None:
            model.modelReset.connect(self._on_model_changed)
            model.rowsInserted.connect(self._on_model_changed)
            self._on_model_changed()

    def _on_model_changed(self, *args) -> None:
        if not args and self.refit_on_reset:  # a reset (or a new model): a new first block
            self._fitted = False
        if not self._fitted and self._model is not None and self._model.rowCount() > 0:
            self.fit()

    def fit(self) -> None:
        """Size the columns to the first rows now, unless the user set the widths."""
        model, header = self._model, self.header
        self._fitted = True
        if model is None or header.user_sized:
            return
        columns = model.columnCount()
        if not columns:
            return
        fm = self.view.fontMetrics()
        style = self.view.style()
        pad = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.view) + 1) + 8
        icon = self.view.iconSize().width() if self.view.iconSize().width() > 0 else 16
        n = min(self.rows, model.rowCount())
        header.fitting = True
        try:
            for c in range(columns - 1):  # the last one stretches
                if header.isSectionHidden(c):
                    continue
                if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch:
                    header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
                width = header.sectionSizeFromContents(c).width()
                decorated = 0  # a column whose rows have icons: room for one beside the sample too
                for r in range(n):
                    index = model.index(r, c)
                    text = index.data(Qt.ItemDataRole.DisplayRole)
                    extra = icon + 4 if index.data(Qt.ItemDataRole.DecorationRole) is not None else 0
                    decorated = max(decorated, extra)
                    if text is not None:
                        width = max(width, fm.horizontalAdvance(str(text)) + pad + extra)
                if c in self.samples:
                    width = max(width, fm.horizontalAdvance(self.samples[c]) + pad + decorated)
                header.resizeSection(c, max(self.min_width, min(self.max_width, width)))
        finally:
            header.fitting = False


class FitTableView(QTableView):
    """A table whose columns a ColumnFitter sizes for every model it is given."""

    def __init__(self, parent=None, **fit):
        super().__init__(parent)
        self.column_fitter = ColumnFitter(self, **fit)

    def setModel(self, model) -> None:
        super().setModel(model)
        self.column_fitter.watch(model)


def fit_columns(view: QTableView, **kwargs) -> ColumnFitter:
    """Give `view` a ColumnFitter following its current model (and later ones, through
    `fitter.watch`). Call it before setting resize modes on the header."""
    fitter = ColumnFitter(view, **kwargs)
    fitter.watch(view.model())
    view._column_fitter = fitter  # kept with the view
    return fitter
