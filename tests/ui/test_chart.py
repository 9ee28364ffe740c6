"""The pyqtgraph price chart (issue 18, "a real chart"): a time axis in the data's zone, a
crosshair with hover values, zoom, and PNG export, driven through simulated mouse events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from lakegui.core.preview import ohlcv
from lakegui.ui.preview.chart import PriceChart

ZONE = "America/New_York"


def minute_table(n: int, zone: str | None = ZONE) -> pa.Table:
    start = np.datetime64("2024-12-02T14:30:00")  # 09:30 in New York
    times = start + np.arange(n).astype("timedelta64[m]")
    close = 100 + np.cumsum(np.sin(np.arange(n) / 7.0))
    return pa.table({"timestamp": pa.array(times, pa.timestamp("ms", tz=zone) if zone else pa.timestamp("ms")),
                     "open": close - 0.5, "high": close + 1, "low": close - 1, "close": close,
                     "volume": pa.array(np.arange(n) * 10 + 1000, pa.int64())})


@pytest.fixture
def chart(qtbot):
    c = PriceChart()
    c.resize(800, 500)
    qtbot.addWidget(c)
    c.show()
    qtbot.waitExposed(c)
    return c


def show(chart, table):
    cols = ohlcv.chart_columns(table.schema)
    chart.show_series(ohlcv.series(table, cols), cols, "rows read so far")
    QApplication.processEvents()
    return cols


def test_time_axis_reads_in_the_columns_zone_and_says_which(chart):
    show(chart, minute_table(390))
    axis = chart.canvas.volume_time_axis
    first = chart.canvas.series.times_ms[0] / 1000
    assert axis.tickStrings([first], 1, 3600)[0].startswith("09:30") or "09:30" in axis.tickStrings([first], 1, 60)[0]
    assert ZONE in axis.labelText
    # Naive times are shown as written.
    show(chart, minute_table(390, zone=None))
    assert "14:30" in chart.canvas.volume_time_axis.tickStrings([chart.canvas.series.times_ms[0] / 1000], 1, 60)[0]
    assert "no zone" in chart.canvas.volume_time_axis.labelText


def _view_point(chart, plot, x, y) -> QPoint:
    scene = plot.vb.mapViewToScene(QPointF(x, y))
    return chart.canvas.mapFromScene(scene)


def test_hover_shows_the_crosshair_and_the_values_under_the_mouse(qtbot, chart):
    show(chart, minute_table(390))
    s = chart.canvas.series
    i = 120
    x, y = s.times_ms[i] / 1000, float(s.close[i])
    with qtbot.waitSignal(chart.canvas.hovered, timeout=3000,
                          check_params_cb=lambda text: text.startswith("2024-12-02 11:30")) as hovered:
        QTest.mouseMove(chart.canvas.viewport(), _view_point(chart, chart.canvas.price, x, y))
    text = hovered.args[0]
    assert f"C {s.close[i]:,.6g}" in text and f"H {s.high[i]:,.6g}" in text and "volume 2,200" in text
    assert chart.hover.text() == text
    assert chart.canvas.cross_x.isVisible() and chart.canvas.cross_x.value() == pytest.approx(x)


def test_wheel_zooms_both_plots_and_reset_shows_all(qtbot, chart):
    show(chart, minute_table(390))
    price = chart.canvas.price
    (x0, x1), _ = price.viewRange()
    centre = _view_point(chart, price, (x0 + x1) / 2, float(np.mean(chart.canvas.series.close)))
    viewport = chart.canvas.viewport()
    for _ in range(3):
        event = QWheelEvent(QPointF(centre), QPointF(viewport.mapToGlobal(centre)), QPoint(0, 0), QPoint(0, 120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(lambda: (price.viewRange()[0][1] - price.viewRange()[0][0]) < 0.8 * (x1 - x0), timeout=3000)
    assert chart.canvas.volume_plot.viewRange()[0] == pytest.approx(price.viewRange()[0])  # linked
    chart.reset_button.click()
    qtbot.waitUntil(lambda: (price.viewRange()[0][1] - price.viewRange()[0][0]) >= 0.95 * (x1 - x0), timeout=3000)


def test_export_writes_a_png_of_the_chart(chart, tmp_path):
    show(chart, minute_table(390))
    chart.choose_export_path = lambda: str(tmp_path / "close")
    chart.export_button.click()
    image = QImage(str(tmp_path / "close.png"))
    assert not image.isNull() and image.width() >= 400
    assert "close.png" in chart.hover.text()


def test_a_million_points_are_kept_and_drawn(qtbot, chart):
    table = minute_table(1_000_000)
    show(chart, table)
    assert len(chart.canvas.series.close) == 1_000_000
    assert chart.canvas.grab().width() > 0  # paints (pyqtgraph downsamples to the pixels in view)
