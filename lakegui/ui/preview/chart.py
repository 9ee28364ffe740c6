"""A price chart of tick rows, drawn by pyqtgraph: close over time with volume on an axis of its
own beneath, a time axis in the data's zone, gridlines, a crosshair with the values under the
mouse, zoom and pan (wheel and drag; the two plots share the time axis), and PNG export.

pyqtgraph downsamples each curve to the pixels in view while it draws, so a million points pan
and zoom smoothly; the series itself comes from rows already read or from pruned columns.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.preview.ohlcv import ChartColumns, Series
from ...core.units import human_size
from ..start_folder import ask_save_path


def _zone(name: str | None):
    """The tzinfo of an Arrow zone name ('America/New_York', '+05:00', 'UTC'); UTC for naive times,
    which are shown as written."""
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        try:
            return datetime.strptime(name.replace(":", ""), "%z").tzinfo
        except ValueError:
            return timezone.utc


class ZoneDateAxis(pg.DateAxisItem):
    """pyqtgraph's date axis, its labels in the series' own zone (the Data tab's zone), not the
    machine's: the ticks are placed by the zone's offset at the first point, and each label is
    formatted in the zone itself, so a daylight-saving change still reads right."""

    def __init__(self, orientation="bottom", **kwargs):
        super().__init__(orientation, utcOffset=0, **kwargs)
        self.tz = timezone.utc

    def set_zone(self, zone: str | None, first_seconds: float) -> None:
        self.tz = _zone(zone)
        offset = datetime.fromtimestamp(first_seconds, self.tz).utcoffset()
        self.utcOffset = -int(offset.total_seconds()) if offset else 0  # pyqtgraph: minus east of UTC
        self.picture = None
        self.update()

    def tickStrings(self, values, scale, spacing):
        spec = next((s for s in self.zoomLevel.tickSpecs if s.spacing == spacing), None)
        fmt = spec.format if spec is not None else "%Y-%m-%d %H:%M"
        out = []
        for v in values:
            try:
                text = datetime.fromtimestamp(v, self.tz).strftime(fmt)
            except (OverflowError, OSError, ValueError):
                out.append("")
                continue
            out.append(text[:-3] if "%f" in fmt else text.lstrip("0") if "%Y" in fmt else text)
        return out


class ChartCanvas(pg.GraphicsLayoutWidget):
    """Close on top (three quarters of the height), volume beneath, one shared time axis."""

    hovered = Signal(str)  # the readout for the point under the mouse ('' when off the plots)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("chartCanvas")
        self.setAccessibleName("Close price and volume over time")
        self.setMinimumHeight(160)
        self.series: Series | None = None
        self.columns: ChartColumns | None = None
        self.empty_text = "No rows to chart"
        self.time_axis = ZoneDateAxis()
        self.volume_time_axis = ZoneDateAxis()
        self.price = self.addPlot(row=0, col=0, axisItems={"bottom": self.time_axis})
        self.volume_plot = self.addPlot(row=1, col=0, axisItems={"bottom": self.volume_time_axis})
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 1)
        self._volume_in_layout = True
        self.volume_plot.setXLink(self.price)
        for plot in (self.price, self.volume_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setDownsampling(auto=True, mode="peak")  # extremes survive the downsampling
            plot.setClipToView(True)
            plot.getAxis("left").setWidth(64)
        self.price.getAxis("bottom").setStyle(showValues=False)  # the volume plot's axis labels time
        self.volume_plot.setMouseEnabled(x=True, y=False)
        self.price_curve = self.price.plot([], [])
        self.volume_curve = self.volume_plot.plot([], [], fillLevel=0)
        self.cross_x = pg.InfiniteLine(angle=90, movable=False)
        self.cross_y = pg.InfiniteLine(angle=0, movable=False)
        self.cross_x_volume = pg.InfiniteLine(angle=90, movable=False)
        for plot, line in ((self.price, self.cross_x), (self.price, self.cross_y),
                           (self.volume_plot, self.cross_x_volume)):
            plot.addItem(line, ignoreBounds=True)
            line.hide()
        self.empty_label = pg.TextItem(self.empty_text, anchor=(0.5, 0.5))
        self.price.addItem(self.empty_label, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._apply_palette()

    def _apply_palette(self) -> None:
        pal = self.palette()
        text, highlight = pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Highlight)
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        for plot in (self.price, self.volume_plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(text)
                axis.setTextPen(text)
        self.price_curve.setPen(pg.mkPen(highlight, width=1.5))
        bars = QColor(highlight)
        bars.setAlpha(110)
        self.volume_curve.setPen(pg.mkPen(bars))
        self.volume_curve.setBrush(pg.mkBrush(bars))
        cross = QColor(text)
        cross.setAlpha(120)
        for line in (self.cross_x, self.cross_y, self.cross_x_volume):
            line.setPen(pg.mkPen(cross, style=Qt.PenStyle.DashLine))
        self.empty_label.setColor(text)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        # The theme changed: follow it (not while __init__ is still making the plots).
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "empty_label"):
            self._apply_palette()

    def set_series(self, series: Series | None, columns: ChartColumns | None = None) -> None:
        self.series, self.columns = series, columns
        self._apply_palette()
        empty = series is None or len(series.close) == 0
        self.empty_label.setText(self.empty_text)
        self.empty_label.setVisible(empty)
        for line in (self.cross_x, self.cross_y, self.cross_x_volume):
            line.hide()
        if empty:
            self.price_curve.setData([], [])
            self.volume_curve.setData([], [])
            self.volume_plot.hide()
            self.price.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_label.setPos(0.5, 0.5)
            return
        x = series.times_ms / 1000.0
        for axis in (self.time_axis, self.volume_time_axis):
            axis.set_zone(series.zone, float(x[0]))
        zone = series.zone or "as written, no zone"
        self.volume_plot.setLabel("bottom", f"{columns.time if columns else 'time'} ({zone})")
        self.price.setLabel("left", columns.close if columns else "close")
        gaps = series.gaps if series.gaps is not None else np.array([], dtype=np.int64)
        drawn_x = np.insert(x, gaps, np.nan)  # a NaN between stretches read: no line over rows never read
        self.price_curve.setData(drawn_x, np.insert(series.close, gaps, np.nan), connect="finite")
        if series.volume is not None and len(series.volume) == len(x):
            self.volume_curve.setData(drawn_x, np.insert(series.volume, gaps, np.nan), connect="finite")
            self.volume_plot.setLabel("left", columns.volume if columns and columns.volume else "volume")
            self._show_volume(True)
        else:
            self.volume_curve.setData([], [])
            self._show_volume(False)
        self.reset_zoom()

    def _show_volume(self, shown: bool) -> None:
        """The volume plot beneath, or none: then the close plot has the height and the time axis
        (the dashboard's throughput kept an empty quarter below it, and no times)."""
        if shown != self._volume_in_layout:
            if shown:
                self.ci.addItem(self.volume_plot, row=1, col=0)
                self.ci.layout.setRowStretchFactor(1, 1)
            else:
                self.ci.removeItem(self.volume_plot)
            self._volume_in_layout = shown
        self.volume_plot.setVisible(shown)
        bottom = self.price.getAxis("bottom")
        bottom.setStyle(showValues=not shown)
        if not shown:
            bottom.setLabel(self.volume_plot.getAxis("bottom").labelText)
        bottom.showLabel(not shown)

    def reset_zoom(self) -> None:
        """The whole series in view. Set from the series, not autoRange(): with clip-to-view the
        curves only report the part in view, so autoRange could never zoom back out."""
        s = self.series
        if s is None or len(s.close) == 0:
            return
        x0, x1 = float(s.times_ms[0]) / 1000.0, float(s.times_ms[-1]) / 1000.0
        self.price.setXRange(x0, x1 if x1 > x0 else x0 + 1, padding=0.02)
        self.price.enableAutoRange(axis="y")
        self.price.setAutoVisible(y=True)  # y follows what is in view while zooming and panning
        self.volume_plot.enableAutoRange(axis="y")
        self.volume_plot.setAutoVisible(y=True)

    def index_at(self, seconds: float) -> int | None:
        """The point nearest `seconds` on the time axis, or None without a series."""
        s = self.series
        if s is None or len(s.close) == 0:
            return None
        x = s.times_ms / 1000.0
        i = int(np.clip(np.searchsorted(x, seconds), 0, len(x) - 1))
        if i > 0 and abs(x[i - 1] - seconds) <= abs(x[i] - seconds):
            i -= 1
        return i

    def readout(self, i: int) -> str:
        """Date, open, high, low, close and volume of point `i`, as the hover line shows them."""
        s, c = self.series, self.columns
        when = datetime.fromtimestamp(s.times_ms[i] / 1000.0, _zone(s.zone))
        span = s.times_ms[-1] - s.times_ms[0]
        parts = [when.strftime("%Y-%m-%d %H:%M" if span < 7 * 86_400_000 else "%Y-%m-%d")
                 + (f" {s.zone}" if s.zone else "")]
        for label, values in (("O", s.open), ("H", s.high), ("L", s.low), ("C", s.close)):
            if values is not None and not np.isnan(values[i]):
                parts.append(f"{label} {values[i]:,.6g}")
        if s.volume is not None:
            parts.append(f"{(c.volume if c and c.volume else 'volume')} {s.volume[i]:,.0f}")
        return "  ".join(parts)

    def _on_scene_mouse_moved(self, pos) -> None:
        if self.series is None or len(self.series.close) == 0:
            return
        plot = next((p for p in (self.price, self.volume_plot)
                     if p.isVisible() and p.vb.sceneBoundingRect().contains(pos)), None)
        if plot is None:
            for line in (self.cross_x, self.cross_y, self.cross_x_volume):
                line.hide()
            self.hovered.emit("")
            return
        point = plot.vb.mapSceneToView(pos)
        i = self.index_at(point.x())
        x = self.series.times_ms[i] / 1000.0
        self.cross_x.setPos(x)
        self.cross_x_volume.setPos(x)
        self.cross_y.setPos(float(self.series.close[i]))
        for line in (self.cross_x, self.cross_y, self.cross_x_volume):
            line.show()
        self.hovered.emit(self.readout(i))

    def export_png(self, path: str) -> bool:
        """The chart as shown, at the screen's pixel ratio, as a PNG file."""
        return self.grab().save(path, "PNG")


class PriceChart(QWidget):
    whole_file_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("priceChart")
        self.canvas = ChartCanvas(self)
        self.caption = QLabel(self)
        self.caption.setObjectName("chartCaption")
        self.caption.setWordWrap(True)
        self.hover = QLabel(self)
        self.hover.setObjectName("chartReadout")
        self.hover.setAccessibleName("Values under the mouse")
        self.hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas.hovered.connect(self.hover.setText)
        self.whole_button = QPushButton(self)
        self.whole_button.setObjectName("chartWholeFile")
        self.whole_button.clicked.connect(self.whole_file_requested)
        self.whole_button.hide()  # until a file offers more rows than were read
        self.export_button = QPushButton("Export PNG…", self)
        self.export_button.setObjectName("chartExport")
        self.export_button.setToolTip("Save the chart as shown as a PNG image")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.reset_button = QPushButton("Reset zoom", self)
        self.reset_button.setObjectName("chartResetZoom")
        self.reset_button.setToolTip("Show the whole series again (zoom with the wheel, pan by dragging)")
        self.reset_button.clicked.connect(self.canvas.reset_zoom)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.whole_button)
        top.addWidget(self.reset_button)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover)
        self.export_message = ""

    def choose_export_path(self) -> str:
        """Ask where the PNG goes; '' when the user cancels. Tests replace this."""
        return ask_save_path(self, "Export chart", "chart.png", "PNG images (*.png)")

    def _on_export_clicked(self) -> None:
        path = self.choose_export_path()
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        ok = self.canvas.export_png(path)
        self.export_message = f"Chart saved as {path}" if ok else f"The chart could not be saved as {path}"
        self.hover.setText(self.export_message)

    def offer_whole_file(self, cols: ChartColumns, rows: int, nbytes: int) -> None:
        self.whole_button.setText(f"Chart all {rows:,} rows (reads about {human_size(nbytes)})")
        self.whole_button.setToolTip(f"Reads only the {', '.join(cols.names)} columns of the whole file: "
                                     f"about {human_size(nbytes)}")
        self.whole_button.setEnabled(True)
        self.whole_button.show()

    def show_series(self, s: Series, cols: ChartColumns, source: str) -> None:
        self.canvas.set_series(s, cols)
        self.hover.setText("")
        thinned = f", drawn as {len(s.close):,} points" if len(s.close) < s.rows else ""
        if s.gaps is not None and len(s.gaps):
            thinned += f"; {len(s.gaps) + 1:,} stretches read, not joined over the rows between"
        volume = f" and {cols.volume}" if cols.volume and s.volume is not None else ""
        self.caption.setText(f"{cols.close}{volume} over {cols.time}: {s.rows:,} rows ({source}){thinned}")
