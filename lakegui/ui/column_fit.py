"""Column widths for the app's tables: each column as wide as the first block of rows a model
shows (capped, so one long value cannot take the table), and one column (the last, unless told:
the browser's Name) stretching into the free space. A `squeeze` column (the queue's Name) gives
up width, down to a floor, so that the stretching one keeps `stretch_min` pixels in a narrow view
rather than a horizontal scroll bar. A width the user set, by dragging a header edge, is never
clobbered afterwards, nor when restored from the settings: a header saves its widths only when
the user set them (fitted widths are fitted again next time).

Only the first `rows` rows are measured, from their display text: a lazy model (the Parquet
rows) is not asked for rows it has not read, and a 75,000-job queue is not walked.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtWidgets import QHeaderView, QStyle, QTableView

_SAVED = b"lakegui-fit-1:"  # what a saved state starts with; an older one (every width, fitted or not) is let go


class FitHeader(QHeaderView):
    """A horizontal header that remembers whether its widths came from the user or the settings."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.user_sized = False
        self.fitting = False
        self.stretch: int | None = None  # the column taking the free space; None: the last
        self._pressed = False  # a mouse button is down on the header: a resize now is the user's
        self.setSectionsClickable(True)
        self.setHighlightSections(False)
        self.setStretchLastSection(True)
        self.sectionResized.connect(self._on_section_resized)

    def apply_stretch(self) -> None:
        """Give the free space to the stretch column (again: a restored state carries resize modes)."""
        if self.stretch is None:
            self.setStretchLastSection(True)
        elif self.stretch < self.count():
            self.setStretchLastSection(False)
            self.setSectionResizeMode(self.stretch, QHeaderView.ResizeMode.Stretch)

    def saveState(self) -> QByteArray:
        """The widths the user set, to restore next run; without them, nothing to keep."""
        return QByteArray(_SAVED + bytes(super().saveState().data())) if self.user_sized else QByteArray()

    def restoreState(self, state) -> bool:
        data = bytes(state.data()) if isinstance(state, QByteArray) else \
            state.encode("latin-1", "replace") if isinstance(state, str) else bytes(state or b"")
        if not data.startswith(_SAVED):
            return False  # fitted widths, or an older state saving every width: fit afresh
        ok = super().restoreState(QByteArray(data[len(_SAVED):]))
        if ok:
            self.user_sized = True  # the widths the user left last time
            self.apply_stretch()
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
                 refit_on_reset: bool = True, samples: dict[int, str] | None = None, stretch: int | None = None,
                 squeeze: int | None = None, stretch_min: int = 0, squeeze_min: int = 120):
        """`samples`: per column, a value as wide as it can get (a speed, an ETA), for columns
        that are still empty in the first rows but fill in later. `stretch`: the column that takes
        the free space (None: the last). `squeeze`: a column narrowed, not below `squeeze_min`,
        while the stretch column would be under `stretch_min` wide."""
        super().__init__(view)
        self.samples = samples or {}
        self.view = view
        self.rows, self.max_width, self.min_width = rows, max_width, min_width
        self.refit_on_reset = refit_on_reset
        self.squeeze, self.stretch_min, self.squeeze_min = squeeze, stretch_min, squeeze_min
        self.header = FitHeader(view)
        self.header.stretch = stretch
        view.setHorizontalHeader(self.header)
        self._model = None
        self._fitted = False
        self._natural = 0  # the squeeze column's fitted width, before any squeezing
        if squeeze is not None:
            view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
            self._squeeze()
        return False

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
            self.header.apply_stretch()
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
        stretch = columns - 1 if header.stretch is None else header.stretch
        header.fitting = True
        try:
            header.apply_stretch()
            for c in range(columns):
                if c == stretch or header.isSectionHidden(c):
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
                if c == self.squeeze:
                    self._natural = header.sectionSize(c)
        finally:
            header.fitting = False
        self._squeeze()

    def _squeeze(self) -> None:
        """Narrow the squeeze column while the stretch column would have less than stretch_min."""
        header, model = self.header, self._model
        c = self.squeeze
        if c is None or model is None or header.user_sized or not self._natural or c >= header.count():
            return
        stretch = model.columnCount() - 1 if header.stretch is None else header.stretch
        others = sum(header.sectionSize(i) for i in range(header.count())
                     if i not in (c, stretch) and not header.isSectionHidden(i))
        room = self.view.viewport().width() - others - self.stretch_min
        width = max(min(self.squeeze_min, self._natural), min(self._natural, room))
        if width != header.sectionSize(c):
            header.fitting = True
            try:
                header.resizeSection(c, width)
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
