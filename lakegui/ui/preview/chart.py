"""A price chart of tick rows: close over time, volume beneath. Painted directly: a few
thousand points need no chart library (and QtCharts' object ownership under PySide
crashed in garbage collection)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ...core.preview.ohlcv import ChartColumns, Series
from ...core.units import human_size

_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_Y = 64, 12, 18


def _when(ms: float, fmt: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone().strftime(fmt)


class ChartCanvas(QWidget):
    """Close as a line over the top three quarters, volume as bars in the last quarter."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("chartCanvas")
        self.setAccessibleName("Close price and volume over time")
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.series: Series | None = None
        self.time_format = "%Y-%m-%d"
        self.empty_text = "No rows to chart"

    def set_series(self, series: Series | None, time_format: str) -> None:
        self.series, self.time_format = series, time_format
        self.update()

    def paintEvent(self, _event) -> None:
        s = self.series
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        if s is None or len(s.close) == 0:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        area = QRectF(_MARGIN_LEFT, _MARGIN_Y, self.width() - _MARGIN_LEFT - _MARGIN_RIGHT,
                      self.height() - 2 * _MARGIN_Y)
        has_volume = s.volume is not None and len(s.volume) == len(s.close)
        price = QRectF(area.left(), area.top(), area.width(), area.height() * (0.75 if has_volume else 1.0))
        t0, t1 = float(s.times_ms[0]), float(s.times_ms[-1])
        span = (t1 - t0) or 1.0
        xs = area.left() + (s.times_ms - t0) / span * area.width()
        lo, hi = float(np.min(s.close)), float(np.max(s.close))
        rng = (hi - lo) or 1.0
        ys = price.bottom() - (s.close - lo) / rng * price.height()

        grid = QColor(text)
        grid.setAlpha(40)
        painter.setPen(QPen(grid, 1))
        painter.drawRect(area)
        painter.setPen(text)
        metrics = painter.fontMetrics()
        for value, y in ((hi, price.top()), (lo, price.bottom())):
            painter.drawText(QRectF(0, y - metrics.height() / 2, _MARGIN_LEFT - 6, metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:,.6g}")
        painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width() / 2, _MARGIN_Y),
                         Qt.AlignmentFlag.AlignLeft, _when(t0, self.time_format))
        painter.drawText(QRectF(area.center().x(), area.bottom() + 2, area.width() / 2, _MARGIN_Y),
                         Qt.AlignmentFlag.AlignRight, _when(t1, self.time_format))

        if has_volume:
            top = float(np.max(s.volume)) or 1.0
            band = QRectF(area.left(), price.bottom() + 4, area.width(), area.bottom() - price.bottom() - 4)
            bars = QPainterPath()
            for x, v in zip(xs, s.volume):
                bars.moveTo(float(x), band.bottom())
                bars.lineTo(float(x), band.bottom() - float(v) / top * band.height())
            volume_pen = QColor(pal.color(QPalette.ColorRole.Highlight))
            volume_pen.setAlpha(110)
            painter.setPen(QPen(volume_pen, max(1.0, area.width() / max(1, len(xs)) * 0.8)))
            painter.drawPath(bars)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1.5))
        painter.drawPolyline(QPolygonF([QPointF(float(x), float(y)) for x, y in zip(xs, ys)]))


class PriceChart(QWidget):
    whole_file_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("priceChart")
        self.canvas = ChartCanvas(self)
        self.caption = QLabel(self)
        self.caption.setObjectName("chartCaption")
        self.caption.setWordWrap(True)
        self.whole_button = QPushButton(self)
        self.whole_button.setObjectName("chartWholeFile")
        self.whole_button.clicked.connect(self.whole_file_requested)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.whole_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)

    def offer_whole_file(self, cols: ChartColumns, rows: int, nbytes: int) -> None:
        self.whole_button.setText(f"Chart all {rows:,} rows")
        self.whole_button.setToolTip(f"Reads only the {', '.join(cols.names)} columns of the whole file: "
                                     f"about {human_size(nbytes)}")
        self.whole_button.setEnabled(True)
        self.whole_button.show()

    def show_series(self, s: Series, cols: ChartColumns, source: str) -> None:
        span = (s.times_ms[-1] - s.times_ms[0]) if len(s.times_ms) > 1 else 0
        self.canvas.set_series(s, "%H:%M" if span < 2 * 86_400_000 else "%Y-%m-%d")
        thinned = f", drawn as {len(s.close):,} points" if len(s.close) < s.rows else ""
        volume = f" and {cols.volume}" if cols.volume and s.volume is not None else ""
        self.caption.setText(f"{cols.close}{volume} over {cols.time}: {s.rows:,} rows ({source}){thinned}")
