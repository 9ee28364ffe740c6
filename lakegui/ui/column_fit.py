"""Column widths for the app's tables: each column as wide as the first block of rows a model
shows (capped, so one long value cannot take the table), and one column (the last, unless told:
the browser's Name) stretching into the free space. A `squeeze` column (the queue's Name) gives
up width, down to a floor, so that the stretching one keeps `stretch_min` pixels in a narrow view
rather than a horizontal scroll bar; with `squeeze_share` the two share the room instead: the
squeeze column keeps its width while the stretch column's shown text fits beside it, and gives way
to that text down to its share of the room. `live` columns (the queue's Speed and ETA, empty
until a job runs) follow the rows shown instead of the first block: as wide as their header while
empty, wider as soon as a shown row needs it. A width the user set, by dragging a header edge, is never
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
                 squeeze: int | None = None, stretch_min: int = 0, squeeze_min: int = 120,
                 squeeze_share: float = 0.0, live: tuple[int, ...] = (), icons: tuple[int, ...] = ()):
        """`samples`: per column, a value as wide as it can get (a speed, an ETA), for columns
        that are still empty in the first rows but fill in later. `stretch`: the column that takes
        the free space (None: the last). `squeeze`: a column narrowed, not below `squeeze_min`,
        while the stretch column would be under `stretch_min` wide; with `squeeze_share` (0-1) it
        gives way to the stretch column's shown text too, keeping that share of their room.
        `live`: columns sized to the rows on screen whenever those change (not given samples).
        `icons`: columns whose rows carry an icon, so that a sample measured before any row has
        room for one (the queue's Direction read "Mak…ket" beside its icon)."""
        super().__init__(view)
        self.samples = samples or {}
        self.view = view
        self.rows, self.max_width, self.min_width = rows, max_width, min_width
        self.refit_on_reset = refit_on_reset
        self.squeeze, self.stretch_min, self.squeeze_min = squeeze, stretch_min, squeeze_min
        self.squeeze_share, self.live = squeeze_share, tuple(live)
        self.icons = tuple(icons)
        self._stretch_text = 0  # the stretch column's widest shown text (measured with squeeze_share)
        self.header = FitHeader(view)
        self.header.stretch = stretch
        view.setHorizontalHeader(self.header)
        self._model = None
        self._fitted = False
        self._natural = 0  # the squeeze column's fitted width, before any squeezing
        if squeeze is not None or self.live:
            view.viewport().installEventFilter(self)
        if self.live or squeeze_share:
            view.verticalScrollBar().valueChanged.connect(lambda _v: self._measure_shown())

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
            if not self._measure_shown():
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
            if self.live or self.squeeze_share:
                for signal in (self._model.dataChanged, self._model.rowsRemoved, self._model.layoutChanged):
                    try:
                        signal.disconnect(self._on_shown_changed)
                    except (RuntimeError, TypeError, SystemError):
                        pass
        self._model, self._fitted = model, False
        if model is not None:
            self.header.apply_stretch()
            model.modelReset.connect(self._on_model_changed)
            model.rowsInserted.connect(self._on_model_changed)
            if self.live or self.squeeze_share:  # the shown rows' text changes: a tick's speeds
                for signal in (model.dataChanged, model.rowsRemoved, model.layoutChanged):
                    signal.connect(self._on_shown_changed)
            self._on_model_changed()

    def _on_model_changed(self, *args) -> None:
        if not args and self.refit_on_reset:  # a reset (or a new model): a new first block
            self._fitted = False
        if not self._fitted and self._model is not None and self._model.rowCount() > 0:
            self.fit()
        elif self._fitted:
            self._measure_shown()

    def _on_shown_changed(self, *_args) -> None:
        if self._fitted:
            self._measure_shown()

    def _shown_rows(self) -> range:
        """The rows on screen (a handful: cheap to measure on every tick)."""
        n = self._model.rowCount() if self._model is not None else 0
        if not n:
            return range(0)
        first = max(self.view.rowAt(0), 0)
        last = self.view.rowAt(max(self.view.viewport().height() - 1, 0))
        return range(first, (n - 1 if last < 0 else last) + 1)

    def _text_width(self, c: int, rows) -> int:
        fm, model, pad = self.view.fontMetrics(), self._model, self._pad()
        width = 0
        for r in rows:
            text = model.index(r, c).data(Qt.ItemDataRole.DisplayRole)
            if text:
                width = max(width, fm.horizontalAdvance(str(text)) + pad)
        return width

    def _pad(self) -> int:
        style = self.view.style()
        return 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.view) + 1) + 8

    def _measure_shown(self) -> bool:
        """Size the live columns to the rows on screen, and measure the stretch column's text there;
        True when that changed a width (and so squeezed again)."""
        header, model = self.header, self._model
        if model is None or header.user_sized or not (self.live or self.squeeze_share):
            return False
        rows = self._shown_rows()
        changed = False
        header.fitting = True
        try:
            for c in self.live:
                if c >= header.count() or header.isSectionHidden(c):
                    continue
                # Its header's width while empty; wider at once when a row needs it, narrower only
                # by a good step (an ETA going from "1m 21s" to "59s" does not make the columns jump).
                empty = header.sectionSizeFromContents(c).width()
                need = max(empty, self._text_width(c, rows))
                now = header.sectionSize(c)
                if need > now or need < now - 16 or need == empty != now:
                    header.resizeSection(c, min(self.max_width, need))
                    changed = True
        finally:
            header.fitting = False
        if self.squeeze_share:
            stretch = model.columnCount() - 1 if header.stretch is None else header.stretch
            text = self._text_width(stretch, rows)
            if text != self._stretch_text:
                self._stretch_text, changed = text, True
        if changed:
            self._squeeze()
        return changed

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
        pad = self._pad()
        icon = self.view.iconSize().width() if self.view.iconSize().width() > 0 else 16
        n = min(self.rows, model.rowCount())
        stretch = columns - 1 if header.stretch is None else header.stretch
        header.fitting = True
        try:
            header.apply_stretch()
            if self.squeeze_share and header.stretch is None:
                # Qt never stretches the last section below the width it had when stretching began
                # (100 px): State pushed out a horizontal scroll bar beside three "Done" rows.
                header.setStretchLastSection(False)
                header.resizeSection(columns - 1, header.minimumSectionSize())
                header.setStretchLastSection(True)
            for c in range(columns):
                if c == stretch or c in self.live or header.isSectionHidden(c):
                    continue
                if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch:
                    header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
                width = header.sectionSizeFromContents(c).width()
                # a column whose rows have icons: room for one beside the sample too
                decorated = icon + 4 if c in self.icons else 0
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
        if not self._measure_shown():
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
        room = self.view.viewport().width() - others  # for the two of them
        if self.squeeze_share:
            # Its own width while the stretch column's text fits beside it; else it gives way to
            # that text, keeping its share of the room (and the stretch column the rest: no scroll bar).
            wanted = self._stretch_text or self.stretch_min  # what the rows shown say (not room for
            # a failure none of them shows: Name was elided beside three "Done")
            floor = max(min(self.squeeze_min, self._natural), int(room * self.squeeze_share))
            width = min(self._natural, max(room - wanted, floor))
        else:
            width = max(min(self.squeeze_min, self._natural), min(self._natural, room - self.stretch_min))
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
