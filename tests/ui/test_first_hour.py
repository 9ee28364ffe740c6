"""Issue 18, the window's first hour, queue and dashboard side: the dashboard follows the queue's
events (5), columns sized to their contents with the last one stretching (6), queue rows that say
which file they are, with speed, ETA and a failure's whole text (15), Escape and Ctrl+W close the
Backfills and Coverage windows (17), and the wizard says which files the chosen cells left out (19)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QHeaderView

from lakegui.core.demo import DEMO_BUCKET
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.jobs import BACKFILL, Direction, JobState, OverwritePolicy
from lakegui.core.transfers.service import JobRow
from lakegui.core.transfers.store import NewJob
from lakegui.ui.queue.controller import TransferQueue
from lakegui.ui.queue.model import TransferTableModel

from .test_backfill_wizard import lake_folder, open_wizard
from .test_backfills import add_backfill, open_dashboard
from .test_main_window import connect_and_wait
from .test_preview import entry, show


def _text_width(view, text: str) -> int:
    return view.fontMetrics().horizontalAdvance(text)


# 5: the backfill dashboard


def test_dashboard_is_current_within_half_a_second_of_the_last_job_end(qtbot, window, demo_connection, tmp_path):
    connect_and_wait(qtbot, window, demo_connection)
    d = open_dashboard(qtbot, window)
    files = []
    for sym in ("AAPL", "MSFT", "NVDA", "AMD"):
        p = tmp_path / f"{sym}.parquet"
        p.write_bytes(os.urandom(20_000))
        files.append(NewJob(Direction.UPLOAD, DEMO_BUCKET, f"tmp/bf/{sym}/ticks.parquet", str(p), size=20_000,
                            policy=OverwritePolicy.OVERWRITE, metadata={"symbol": sym}))
    files[-1] = NewJob(Direction.UPLOAD, DEMO_BUCKET, "tmp/bf/AMD/ticks.parquet", str(tmp_path / "AMD.parquet"),
                       size=20_000, metadata={"symbol": "AMD"}, state=JobState.SKIPPED)
    with qtbot.waitSignal(window.transfers.idle, timeout=30000):
        window.transfers.enqueue("live", BACKFILL, demo_connection.profile.to_dict(), files)
    # The status bar hears of the end at once; the dashboard must not lag it by a poll's worth.
    qtbot.waitUntil(lambda: d.summary.text().startswith("4 of 4 files done (3 uploaded, 1 already there), 0 failed"),
                    timeout=500)
    assert d.bar.value() == 1000
    rows = [[d.rollup.index(r, c).data() for c in range(6)] for r in range(d.rollup.rowCount())]
    assert ["AMD", "1", "1", "0", "19.5 KB", "100%"] in rows  # skipped counts as done


def test_dashboard_empty_state_names_the_shortcut_and_export_needs_a_backfill(qtbot, window, tmp_path):
    d = open_dashboard(qtbot, window)
    assert "Ctrl+B" in d.summary.text()
    assert not d.export_button.isEnabled()
    batch, _ids = add_backfill(window.transfers)
    with qtbot.waitSignal(d.refreshed, timeout=5000):
        d.refresh(force=True)
    assert d.current_batch() == batch and d.export_button.isEnabled()
    d.choose_manifest_path = lambda: str(tmp_path / "m.csv")
    with qtbot.waitSignal(d.manifest_written, timeout=5000):
        d.export_button.click()
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert len(lines) == 7 and "AccessDenied: no" in (tmp_path / "m.csv").read_text()


def test_throughput_axis_is_labelled_in_mb_per_second(qtbot, window):
    d = open_dashboard(qtbot, window)
    add_backfill(window.transfers)
    for _ in range(2):
        with qtbot.waitSignal(d.refreshed, timeout=5000):
            d.refresh(force=True)
    axis = d.chart.price.getAxis("left")
    assert "MB/s" in axis.labelText
    # Wide enough for the label and for tick values such as "0.0025".
    assert axis.width() >= _text_width(d.chart, "0.0025") + axis.label.boundingRect().height()


# 17: Escape and Ctrl+W close the Backfills and Coverage windows


def _closes_on(qtbot, w, key, modifier=Qt.KeyboardModifier.NoModifier) -> bool:
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=2000)
    QTest.keyClick(w, key, modifier)
    return not w.isVisible()


def test_escape_and_ctrl_w_close_the_backfills_window(qtbot, window):
    d = window.backfill_dashboard()
    assert _closes_on(qtbot, d, Qt.Key.Key_Escape)
    assert _closes_on(qtbot, d, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)


def test_escape_and_ctrl_w_close_the_coverage_window(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    c = window.coverage_window()
    assert _closes_on(qtbot, c, Qt.Key.Key_Escape)
    assert _closes_on(qtbot, c, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)


# 15: queue rows


def _row(job_id, batch, key, direction="download", local="", **kw) -> JobRow:
    return JobRow(key.rsplit("/", 1)[-1], direction, kw.pop("state", "queued"), job_id=job_id, batch_id=batch,
                  uri=f"s3://b/{key}", local_path=local or f"/home/u/Downloads/{key.rsplit('/', 1)[-1]}", **kw)


def test_queue_names_say_where_each_file_is_below_its_batch(qtbot):
    m = TransferTableModel()
    m.append_rows([_row(i, 1, f"data/ticks/daily/{s}/2024/ticks.parquet", local=f"/d/{s}/2024/ticks.parquet")
                   for i, s in enumerate(("AAPL", "MSFT", "NVDA"), 1)])
    m.append_rows([_row(4, 2, "data/ticks/daily/TSLA/2023/ticks.parquet")])  # a batch of one: its folder
    m.append_rows([_row(5, 3, "up/x.bin", "upload", "/home/u/src/a/x.bin"),
                   _row(6, 3, "up/y.bin", "upload", "/home/u/src/b/y.bin")])
    names = [m.index(r, 0).data() for r in range(m.rowCount())]
    assert names == ["AAPL/2024/ticks.parquet", "MSFT/2024/ticks.parquet", "NVDA/2024/ticks.parquet",
                     "2023/ticks.parquet", "a/x.bin", "b/y.bin"]


def test_a_failure_is_shown_whole_in_the_tooltip_and_elided_in_the_middle(qtbot, window):
    error = "AccessDenied: User arn:aws:iam::123456789012:user/x is not authorized to perform s3:PutObject " * 2
    window.queue.model.append_rows([_row(1, 1, "a/b.bin", state="failed", error=error)])
    view = window.queue
    state = window.queue.model.index(0, window.queue.model.columnCount() - 1)
    assert error in state.data(Qt.ItemDataRole.ToolTipRole)
    assert view.table.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_a_running_download_shows_its_speed_and_eta(qtbot, qloop, demo_connection, tmp_path):
    client = demo_connection.client()
    client.put_object(Bucket=DEMO_BUCKET, Key="tmp/speed/big.bin", Body=os.urandom(6 * MB))
    q = TransferQueue(TransferSettings(max_bandwidth=2 * MB, multipart_threshold=5 * MB,
                                       multipart_chunksize=5 * MB))
    try:
        q.set_connection(demo_connection)
        q.start()
        job = NewJob(Direction.DOWNLOAD, DEMO_BUCKET, "tmp/speed/big.bin", str(tmp_path / "big.bin"), size=6 * MB,
                     policy=OverwritePolicy.OVERWRITE)
        q.enqueue("dl", "download", demo_connection.profile.to_dict(), [job])
        m = q.model
        qtbot.waitUntil(lambda: m.row(0).state == "running" and bool(m.index(0, 4).data() and m.index(0, 5).data()),
                        timeout=8000)
        assert m.index(0, 4).data().endswith("/s") and m.index(0, 5).data()
        qtbot.waitUntil(lambda: m.row(0).state == "done", timeout=15000)  # a cancel would leave its socket
        assert m.index(0, 4).data() == "" and m.index(0, 5).data() == ""
    finally:
        q.shutdown()


# 6: columns sized to their contents, the last one stretching


def test_queue_columns_fit_their_contents_and_the_last_stretches(qtbot, window):
    long = "a-rather-long-folder-name/with-a-file-whose-name-is-long.parquet"
    window.resize(1800, 800)  # room for the long name beside the State (a narrow queue squeezes it)
    window.main_splitter.setSizes([1400, 400])
    window.queue.model.append_rows([_row(1, 1, f"x/{long}"), _row(2, 1, "x/y.bin")])
    table = window.queue.table
    header = table.horizontalHeader()
    assert header.stretchLastSection()
    assert header.sectionResizeMode(0) != header.ResizeMode.Stretch
    qtbot.waitUntil(lambda: header.sectionSize(0) >= _text_width(table, long))
    # Speed and ETA are empty in queued rows, and get room for what comes while they run.
    assert header.sectionSize(4) >= _text_width(table, "999.9 KB/s") and header.sectionSize(5) >= _text_width(table, "5m 59s")


def test_preview_tables_fit_timestamps_and_csv_names(qtbot, window, demo_connection):
    from lakegui.ui.browser.location import Location

    pane = window.preview
    pane.set_location(Location(demo_connection, DEMO_BUCKET))
    client = demo_connection.client()
    show(qtbot, pane, entry(client, "data/ticks/minute/AAPL/2024/12/02/ticks.parquet"))
    table = pane.parquet.rows_table
    stamp = table.model().index(0, 0).data()
    assert stamp.startswith("2024-12-02 09:30")
    assert table.columnWidth(0) >= _text_width(table, stamp)
    assert table.horizontalHeader().stretchLastSection()
    show(qtbot, pane, entry(client, "data/reference/tickers.csv"))
    csv = pane.csv_table
    names = [csv.model().index(r, 1).data() for r in range(csv.model().rowCount())]
    assert csv.columnWidth(1) >= max(_text_width(csv, n) for n in names)


def test_wizard_plan_columns_fit_and_why_stretches(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)))
    t = w.table
    keys = [w.model.index(r, 2).data() for r in range(w.model.rowCount())]
    assert t.columnWidth(2) >= max(_text_width(t, k) for k in keys)
    # A column of short values is as wide as they are, not a fixed 300 px leaving "Why" cut.
    meta = [w.model.index(r, 3).data() for r in range(w.model.rowCount())] + ["Metadata"]
    assert t.columnWidth(3) <= max(_text_width(t, v) for v in meta) + 40
    assert t.horizontalHeader().stretchLastSection()


def _drag_edge(header, section: int, width: int) -> None:
    """Drag the right edge of a header section with the mouse, as a user resizes a column."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    x = header.sectionViewportPosition(section) + header.sectionSize(section) - 1
    y = header.height() // 2
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, at, button, buttons in ((QEvent.Type.MouseButtonPress, x, left, left),
                                      (QEvent.Type.MouseMove, x + (width - header.sectionSize(section)) // 2, none, left),
                                      (QEvent.Type.MouseMove, header.sectionViewportPosition(section) + width - 1,
                                       none, left),
                                      (QEvent.Type.MouseButtonRelease, header.sectionViewportPosition(section) + width - 1,
                                       left, none)):
        pos = QPointF(at, y)
        QApplication.sendEvent(header.viewport(), QMouseEvent(kind, pos, header.viewport().mapToGlobal(pos), button,
                                                              buttons, Qt.KeyboardModifier.NoModifier))


def test_a_width_the_user_set_or_restored_is_kept(qtbot, window, demo_connection):
    table = window.browser.table
    header = table.horizontalHeader()
    _drag_edge(header, 1, 33)
    assert abs(header.sectionSize(1) - 33) <= 2
    connect_and_wait(qtbot, window, demo_connection)
    assert abs(header.sectionSize(1) - 33) <= 2
    state = header.saveState()
    from lakegui.ui.main_window import MainWindow

    other = MainWindow(window._executor)
    qtbot.addWidget(other)
    try:
        other.browser.table.horizontalHeader().restoreState(state)
        connect_and_wait(qtbot, other, demo_connection)
        assert abs(other.browser.table.horizontalHeader().sectionSize(1) - 33) <= 2
    finally:
        other.shutdown()


def test_browser_columns_fit_the_first_listing(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    table = window.browser.table
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.browser.navigate("data/ticks/minute/AAPL/2024/12/02/")
    modified = table.model().index(0, 2).data()
    assert table.columnWidth(2) >= _text_width(table, modified)
    assert table.horizontalHeader().sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch  # Name takes the rest


# 19: cells left out by the coverage view's choice


def test_the_wizard_says_how_many_files_the_chosen_cells_left_out(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)),
                    cells=[{"symbol": "QQQQ", "year": "2024"}, {"symbol": "RRRR", "year": "2024"}])
    assert w.model.rowCount() == 0
    # lake_folder: 3 files that place (AAPL, MSFT, ZZZZ 2024) and 3 that cannot.
    assert "3 files are outside the 2 chosen cells" in w.summary.text()
    assert "3 could not be placed" in w.summary.text()


# the pictures: the chart follows a change of theme (it stayed white in the dark window)


def test_the_chart_follows_the_theme(qtbot, qapp):
    from PySide6.QtGui import QPalette

    from lakegui.ui.preview.chart import ChartCanvas
    from lakegui.ui.theme import apply_theme

    canvas = ChartCanvas()
    qtbot.addWidget(canvas)
    try:
        apply_theme(qapp, "dark")
        qapp.processEvents()
        base = canvas.palette().color(QPalette.ColorRole.Base)
        assert base.lightness() < 100 and canvas.backgroundBrush().color() == base
    finally:
        apply_theme(qapp, "light")
        qapp.processEvents()
    assert canvas.backgroundBrush().color() == canvas.palette().color(QPalette.ColorRole.Base)


def test_an_empty_dashboard_shows_no_bare_axes(qtbot, window):
    # Seen in the click-through: before any reading, an empty plot with "00.100" ticks and its hint cut.
    d = open_dashboard(qtbot, window)
    assert not d.chart.isVisible() and d.chart_placeholder.isVisible()
    assert "MB/s" in d.chart_placeholder.text()
    add_backfill(window.transfers)
    for _ in range(2):
        with qtbot.waitSignal(d.refreshed, timeout=5000):
            d.refresh(force=True)
    assert d.chart.isVisible() and not d.chart_placeholder.isVisible()
