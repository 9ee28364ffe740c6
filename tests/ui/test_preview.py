"""The preview pane against a real HTTP endpoint (moto server): Parquet rows, paging, columns,
chart, schema and statistics; JSON, CSV and text; errors; cancellation of a superseded preview."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QImage

from lakegui.core.demo import DEMO_BUCKET
from lakegui.core.listing import ObjectEntry
from lakegui.ui.browser.location import Location
from lakegui.ui.preview.models import PENDING
from tests.support.parquetdata import parquet_bytes, rich_table, wide_table


def entry(client, key: str) -> ObjectEntry:
    h = client.head_object(Bucket=DEMO_BUCKET, Key=key)
    return ObjectEntry(key, h["ContentLength"], h["LastModified"], h["ETag"].strip('"'), "STANDARD")


def put(client, key: str, body: bytes) -> ObjectEntry:
    client.put_object(Bucket=DEMO_BUCKET, Key=key, Body=body)
    return entry(client, key)


@pytest.fixture
def pane(qtbot, window, demo_connection):
    window.preview.set_location(Location(demo_connection, DEMO_BUCKET))
    return window.preview


def show(qtbot, pane, e: ObjectEntry, signal="preview_finished"):
    with qtbot.waitSignal(getattr(pane, signal), timeout=10000) as blocker:
        pane.show_entry(e)
    return blocker.args


def tab_names(pane) -> list[str]:
    return [pane.tabs.tabText(i) for i in range(pane.tabs.count())]


def cell(model, row: int, column: int) -> str:
    return model.index(row, column).data()


DAILY = "data/ticks/daily/AAPL/2024/ticks.parquet"


def test_daily_ticks_show_rows_chart_schema_and_stats(qtbot, pane, demo_connection):
    client = demo_connection.client()
    show(qtbot, pane, entry(client, DAILY))
    assert tab_names(pane) == ["Data", "Chart", "Schema", "Row groups (1)", "File", "Properties"]
    model = pane.parquet.rows_model
    assert model.rowCount() == 259 and "close" in model.columns
    assert model.columns == ["date", "open", "high", "low", "close", "volume"]
    assert cell(model, 0, 0) == "2024-01-02"
    with qtbot.waitSignal(pane.parquet.rows_loaded, timeout=5000):
        assert cell(model, 258, 0) == PENDING, "past the first 100 rows: read on demand"
    assert cell(model, 258, 0).startswith("2024-12-")
    assert pane.stats_label.text().startswith("Read 1 request, "), "a small file is read whole by the first request"
    schema = {pane.parquet.schema_tree.topLevelItem(i).text(0) for i in range(pane.parquet.schema_tree.topLevelItemCount())}
    assert {"date", "close", "volume"} <= schema
    assert pane.parquet.row_groups_table.model().rowCount() == len(model.columns)
    assert pane.parquet.rows_caption.text().startswith("259 rows")
    with qtbot.waitSignal(pane.parquet.chart_updated, timeout=5000) as chart:
        pane.tabs.setCurrentWidget(pane.parquet.chart)
    assert chart.args == ["whole file"] and len(pane.parquet.chart.canvas.series.close) == 259
    assert "259 rows (whole file)" in pane.parquet.chart.caption.text()
    assert pane.source.requests == 1, "the whole small file was cached: charting it cost nothing"


def test_chart_draws_rows_read_then_the_whole_file_on_request(qtbot, pane, demo_connection):
    table = rich_table(120_000)
    big = put(demo_connection.client(), "tmp/ticks.parquet", parquet_bytes(table, row_group_size=30_000))
    show(qtbot, pane, big)
    assert "Chart" in tab_names(pane)
    with qtbot.waitSignal(pane.parquet.chart_updated, timeout=5000) as chart:
        pane.tabs.setCurrentWidget(pane.parquet.chart)
    assert chart.args == ["rows read"] and len(pane.parquet.chart.canvas.series.close) == 100
    before = pane.source.bytes_fetched
    assert pane.parquet.chart.whole_button.text().startswith("Chart all 120,000 rows (reads about ")
    with qtbot.waitSignal(pane.parquet.chart_updated, timeout=10000) as chart:
        pane.parquet.chart.whole_button.click()
    assert chart.args == ["whole file"] and pane.parquet.chart.canvas.series.rows == 120_000
    assert "close and volume over timestamp: 120,000 rows (whole file)" in pane.parquet.chart.caption.text()
    assert pane.source.bytes_fetched - before <= pane.parquet.preview.bytes_for(["timestamp", "close", "volume"])


def test_a_chart_after_a_jump_does_not_join_the_rows_read_over_the_rows_never_read(qtbot, pane, demo_connection):
    """A new user's finding: after jumping far into a file, the chart drew one straight line from the
    first rows to the rows jumped to, so data never read looked real."""
    import numpy as np

    table = rich_table(120_000)
    big = put(demo_connection.client(), "tmp/jump.parquet", parquet_bytes(table, row_group_size=30_000))
    show(qtbot, pane, big)
    with qtbot.waitSignal(pane.parquet.rows_loaded, timeout=10000):
        pane.parquet.go_to_row(100_500)
    assert pane.parquet.rows_model.loaded_gaps() == [100]  # the first 100 rows, then the block jumped to
    with qtbot.waitSignal(pane.parquet.chart_updated, timeout=5000):
        pane.tabs.setCurrentWidget(pane.parquet.chart)
    canvas = pane.parquet.chart.canvas
    assert list(canvas.series.gaps) == [100]
    x, y = canvas.price_curve.getOriginalDataset()
    assert np.isnan(y[100]) and np.isnan(x[100]) and np.isfinite(y[:100]).all() and np.isfinite(y[101:]).all()
    assert "2 stretches read, not joined" in pane.parquet.chart.caption.text()


def test_properties_load_when_their_tab_opens(qtbot, pane, demo_connection):
    show(qtbot, pane, entry(demo_connection.client(), DAILY))
    assert pane.properties.topLevelItemCount() == 0, "no HEAD until asked"
    with qtbot.waitSignal(pane.properties_loaded, timeout=10000):
        pane.tabs.setCurrentWidget(pane.properties)
    items = pane.properties.items()
    assert items["URI"].text(1) == f"s3://{DEMO_BUCKET}/{DAILY}"
    meta = items["Metadata"]
    lineage = {meta.child(i).text(0): meta.child(i).text(1) for i in range(meta.childCount())}
    assert lineage == {"symbol": "AAPL", "year": "2024", "data-type": "daily-ticks", "source": "lakegui-demo"}


def test_scrolling_far_reads_only_that_block_and_columns_can_change(qtbot, pane, demo_connection):
    table = wide_table(300_000, columns=4)
    big = put(demo_connection.client(), "tmp/wide.parquet", parquet_bytes(table, row_group_size=50_000))
    show(qtbot, pane, big)
    model = pane.parquet.rows_model
    assert model.rowCount() == 300_000 and cell(model, 99, 1) == repr(table.column(1)[99].as_py())
    requests = pane.source.requests
    assert cell(model, 160_500, 0) == PENDING
    with qtbot.waitSignal(pane.parquet.rows_loaded, timeout=10000) as loaded:
        pane.parquet.go_to_row(160_500)
    assert loaded.args == [3, 10]
    assert cell(model, 160_500, 2) == repr(table.column(2)[160_500].as_py())
    assert pane.source.requests > requests
    actions = {a.text(): a for a in pane.parquet.columns_menu.actions()}
    assert list(actions) == ["c00", "c01", "c02", "c03"] and all(a.isChecked() for a in actions.values())
    for name in ("c00", "c01", "c02"):
        actions[name].setChecked(False)  # the chooser re-reads with what is left
    qtbot.waitUntil(lambda: pane.parquet.rows_model.columns == ["c03"], timeout=10000)
    assert cell(pane.parquet.rows_model, 5, 0) == repr(table.column(3)[5].as_py())
    actions["c03"].setChecked(False)
    assert actions["c03"].isChecked() and pane.stats_label.text() == "Keep at least one column."


def test_json_csv_and_text_previews(qtbot, pane, demo_connection):
    client = demo_connection.client()
    show(qtbot, pane, entry(client, "data/fundamental/AAPL/2024/Q1.json"))
    assert tab_names(pane) == ["JSON", "Properties"]
    keys = [pane.json_tree.topLevelItem(i).text(0) for i in range(pane.json_tree.topLevelItemCount())]
    assert "symbol" in keys
    show(qtbot, pane, entry(client, "data/reference/tickers.csv"))
    assert tab_names(pane) == ["Table", "Properties"] and pane.csv_table.model().rowCount() == 12
    show(qtbot, pane, entry(client, "README.txt"))
    assert tab_names(pane) == ["Text", "Properties"] and pane.text_view.toPlainText().startswith("US equity data lake")
    key, message = show(qtbot, pane, put(client, "tmp/bad.json", b'{"a": [1, 2,'), "preview_failed")
    assert key == "tmp/bad.json" and message.startswith("Not valid JSON:") and pane.message.text() == message
    assert "Text" in tab_names(pane)
    image = QImage(32, 16, QImage.Format.Format_RGB32)
    image.fill(0x3366CC)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    show(qtbot, pane, put(client, "tmp/chart.png", bytes(buffer.data())))
    assert tab_names(pane) == ["Image", "Properties"] and pane.image_label.pixmap().width() == 32
    show(qtbot, pane, put(client, "tmp/blob.bin", b"\0\1"))
    assert tab_names(pane) == ["Properties"]
    # nothing read: no 'Read 0 requests, 0 B of 2 B' line (session 9's second trial, finding G)
    assert pane.stats_label.isHidden() and "request" not in pane.stats_label.text()
    qtbot.waitUntil(lambda: "URI" in pane.properties.items(), timeout=10000)


def test_empty_and_corrupt_parquet_say_why(qtbot, pane, demo_connection):
    client = demo_connection.client()
    _, message = show(qtbot, pane, put(client, "tmp/empty.parquet", b""), "preview_failed")
    assert message == "This file is empty (0 bytes): there is nothing to preview."
    _, message = show(qtbot, pane, put(client, "tmp/bad.parquet", b"not parquet" * 100), "preview_failed")
    assert message == "This file is not a Parquet file: it does not end in PAR1."  # as query and schema say it
    assert tab_names(pane) == ["Properties"] and pane.message.isVisible()


def test_a_superseded_preview_is_cancelled_and_never_shows(qtbot, pane, demo_connection):
    client = demo_connection.client()
    big = put(client, "tmp/big.parquet", parquet_bytes(wide_table(400_000, columns=8), row_group_size=100_000))
    small = entry(client, DAILY)
    finished = []
    pane.preview_finished.connect(finished.append)
    pane.show_entry(big)
    first = pane.source
    with qtbot.waitSignal(pane.preview_finished, timeout=10000):
        pane.show_entry(small)
    assert first is None or first._cancelled.is_set()
    assert finished == [DAILY], "the first preview never finished on screen"
    assert pane.title.text() == DAILY and pane.parquet.rows_model.rowCount() == 259


def test_preview_models_pass_the_model_tester(qtbot, qtmodeltester, pane, demo_connection):
    client = demo_connection.client()
    show(qtbot, pane, entry(client, DAILY))
    qtmodeltester.check(pane.parquet.rows_model, force_py=True)
    qtmodeltester.check(pane.parquet.row_groups_table.model(), force_py=True)
    show(qtbot, pane, entry(client, "data/reference/tickers.csv"))
    qtmodeltester.check(pane.csv_table.model(), force_py=True)
