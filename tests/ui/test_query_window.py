"""The Query window on the demo lake (a real HTTP endpoint, moto's server; daily ticks of 12
symbols × 2020–2024 with a few gaps): field pickers filled from the listing, the column chooser
and Schema tab from the footers, a typed and a built filter, rows checked against the files
themselves, the chart's series per symbol, export, cancel, Copy as Python run for real, "Query
these…" from coverage cells and an outlier opened in the preview."""

from __future__ import annotations

import io
import threading

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from lakegui.core.demo import DAILY_GAPS, DEMO_BUCKET, SYMBOLS, YEARS, daily_table
from lakegui.core.layouts import DAILY_TICKS
from lakegui.ui.query import window as query_window
from lakegui.ui.query.models import QuerySpec

from .test_coverage import index_of, open_coverage
from .test_feel import _unnamed
from .test_main_window import connect_and_wait

DAILY_FILES = len(SYMBOLS) * len(YEARS) - len(DAILY_GAPS)


def open_query(qtbot, window, conn):
    connect_and_wait(qtbot, window, conn)
    view = window.query_window()
    with qtbot.waitSignal(view.schema_loaded, timeout=20000):
        window.query_action.trigger()
    return view


def run(qtbot, view):
    with qtbot.waitSignal(view.query_finished, timeout=20000) as done:
        view.run_button.click()
    return done.args[0]


def expected(symbols, years, columns, where=None):
    """The rows straight from the demo's own tables, as the query should give them."""
    parts = []
    for s in symbols:
        for y in years:
            if (s, y) in DAILY_GAPS:
                continue
            t = daily_table(s, y)
            if where is not None:
                t = t.filter(where(t))
            t = t.select(columns)
            parts.append(t.append_column("symbol", pa.array([s] * t.num_rows))
                          .append_column("year", pa.array([y] * t.num_rows, pa.int32())))
    return pa.concat_tables(parts)


def test_pickers_columns_and_schema_tab_filled_from_the_lake(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    assert window.query_action.shortcut().toString() == "Ctrl+Shift+Q"
    assert view.pickers["symbol"].values() == sorted(SYMBOLS)
    assert view.pickers["year"].values() == [str(y) for y in YEARS]
    assert [view.columns_list.item(i).text() for i in range(view.columns_list.count())] == \
        ["date", "open", "high", "low", "close", "volume"]
    assert view.schema_groups.topLevelItemCount() == 1
    assert view.schema_groups.topLevelItem(0).text(0) == f"Schema 1: {DAILY_FILES} files (majority)"
    assert view.outliers.topLevelItemCount() == 0
    assert f"{DAILY_FILES} files in the layout 'daily-ticks'" in view.status.text()
    assert _unnamed(view) == []   # every control a screen reader can name


def test_filter_typed_and_built_gives_the_rows_of_the_files(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL", "MSFT"])
    view.pickers["year"].check(["2021", "2022", "2023"])
    view.set_columns(["date", "close"])
    view.filter_edit.setText("volume >")          # a parse error is shown inline, and nothing runs
    assert view.filter_error.text()
    view.run_button.click()
    assert view.status.text() == "Fix the filter first." and not view._query_slot.running
    view.filter_edit.setText("volume > 50000000")
    assert view.filter_error.text() == ""
    view.filter_column.setCurrentText("close")    # the builder adds a condition with AND
    view.filter_op.setCurrentText(">=")
    view.filter_value.setText("100")
    view.add_condition()
    assert view.filter_edit.text() == "volume > 50000000 AND close >= 100"
    totals = run(qtbot, view)

    want = expected(["AAPL", "MSFT"], [2021, 2022, 2023], ["date", "close"],
                    lambda t: pc.and_(pc.greater(t["volume"], 50_000_000), pc.greater_equal(t["close"], 100)))
    assert view.table.column_names == ["date", "close", "symbol", "year"]
    assert view.table.sort_by([("symbol", "ascending"), ("date", "ascending")]).to_pylist() == \
        want.sort_by([("symbol", "ascending"), ("date", "ascending")]).to_pylist()
    assert totals.rows == want.num_rows > 0 and totals.files == 6 and not totals.failures
    status = view.status.text()
    assert status.startswith(f"{want.num_rows:,} rows · 6 files, row groups ") and "requests" in status
    assert f"{totals.bytes_read / 1024:.0f}" in status or "B read" in status
    # The rows model hands the view blocks, not the whole result at once.
    assert view.rows.rowCount() == min(want.num_rows, 500)
    assert [view.rows.headerData(c, Qt.Orientation.Horizontal) for c in range(view.rows.columnCount())] == \
        ["date", "close", "symbol", "year"]


def test_a_column_no_file_has_is_named(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL"])
    view.filter_edit.setText("closing > 100")
    # said as it is typed, with the nearest name, once the schemas are read (as the CLI says it)
    assert view.filter_error.text() == "No file has a column named 'closing'"
    totals = run(qtbot, view)
    assert totals.rows == 0
    assert view.status.text().startswith("No file read has a column named 'closing'; "
                                         "the columns are: date, open, high, low, close, volume, symbol, year · "
                                         "0 rows · 5 files")


def test_lazy_rows_model_fetches_blocks(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL", "NVDA", "JPM"])
    totals = run(qtbot, view)
    assert totals.rows == expected(["AAPL", "NVDA", "JPM"], YEARS, ["date"]).num_rows > 1000
    m = view.rows
    assert m.rowCount() == 500 and m.canFetchMore()
    m.fetchMore()
    assert m.rowCount() == 1000
    last = m.index(999, m.columns.index("close"))
    assert float(m.data(last).replace(",", "")) == pytest.approx(view.table.column("close")[999].as_py(), rel=1e-5)


def test_chart_draws_one_series_per_symbol_across_the_years(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL", "MSFT", "NVDA"])
    view.set_columns(["date", "close", "volume"])
    run(qtbot, view)
    chart = view.chart
    assert chart.value_box.currentText() == "close"
    assert [chart.value_box.itemText(i) for i in range(chart.value_box.count())] == ["close", "volume"]
    assert sorted(chart.curves) == ["AAPL", "MSFT", "NVDA"]
    assert sorted(name for _, name in ((i, lab.text) for i, lab in chart.legend.items)) == ["AAPL", "MSFT", "NVDA"]
    for symbol, curve in chart.curves.items():
        x, y = curve.getOriginalDataset()
        want = expected([symbol], YEARS, ["date", "close"])
        assert len(x) == want.num_rows
        assert (x[1:] >= x[:-1]).all()   # in time order, across every file
        assert x[0] == pytest.approx(pa.scalar(want["date"][0].as_py(), pa.date32()).cast(pa.int32()).as_py() * 86400)
        assert int(x[-1] // (365.25 * 86400)) + 1970 == 2024
    chart.value_box.setCurrentText("volume")
    assert sorted(chart.curves) == ["AAPL", "MSFT", "NVDA"] and chart.caption.text().startswith("volume over date: 3 series (one per symbol)")


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_export_writes_the_rows(qtbot, window, demo_connection, tmp_path, suffix):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["MSFT"])
    view.set_columns(["date", "close"])
    run(qtbot, view)
    path = tmp_path / f"out.{suffix}"
    view.choose_export_path = lambda: str(path)
    with qtbot.waitSignal(view.export_finished, timeout=20000) as done:
        view.export_button.click()
    assert done.args == [str(path), view.table.num_rows]
    if suffix == "parquet":
        back = pq.read_table(path)
        assert back.to_pylist() == view.table.to_pylist()
    else:
        import pyarrow.csv as pcsv

        back = pcsv.read_csv(path)
        assert back.num_rows == view.table.num_rows and back.column_names == ["date", "close", "symbol", "year"]
        assert back["close"].to_pylist() == pytest.approx(view.table["close"].to_pylist())
    assert view.status.text() == f"Wrote {view.table.num_rows:,} rows to {path}"


def test_export_cancelled_midway_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(query_window, "EXPORT_BATCH", 100)
    table = daily_table("AAPL", 2024)
    cancel = threading.Event()
    seen = []

    def progressed(done):
        seen.append(done)
        if done >= 100:
            cancel.set()   # as Cancel does, between two batches

    for kind in ("parquet", "csv"):
        seen.clear()
        cancel.clear()
        path = tmp_path / f"partial.{kind}"
        assert query_window.write_rows(table, str(path), kind, cancel, progressed) is None
        assert seen == [100] and not path.exists()
    full = tmp_path / "full.parquet"
    assert query_window.write_rows(table, str(full), "parquet", threading.Event()) == table.num_rows
    assert pq.read_table(full).equals(table)


def test_cancel_export_in_the_window_removes_the_partial_file(qtbot, window, demo_connection, tmp_path, monkeypatch):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL"])
    run(qtbot, view)
    real = query_window.write_rows
    first_batch_written = threading.Event()

    def held(table, path, kind, cancel, on_progress=None):
        def progressed(done):
            on_progress(done)
            first_batch_written.set()
            cancel.wait(10)   # the next batch waits for Cancel: the file is partial meanwhile
        return real(table, path, kind, cancel, progressed)

    monkeypatch.setattr(query_window, "EXPORT_BATCH", 200)
    monkeypatch.setattr(query_window, "write_rows", held)
    path = tmp_path / "aapl.parquet"
    view.choose_export_path = lambda: str(path)
    with qtbot.waitSignal(view.export_progressed, timeout=10000) as progress:
        view.export_button.click()
    assert progress.args == [200, view.table.num_rows]
    assert first_batch_written.is_set() and path.exists()
    assert view.export_cancel_button.isVisible() and view.progress.isVisible()
    with qtbot.waitSignal(view.export_failed, timeout=5000) as failed:
        view.export_cancel_button.click()
    assert failed.args[0] == f"Export cancelled; {path} was not kept."
    qtbot.waitUntil(lambda: not path.exists(), timeout=5000)
    assert not view._export_slot.running and not view.progress.isVisible()


def test_a_slow_query_is_cancelled_when_changed_or_closed(qtbot, window, demo_connection, monkeypatch):
    view = open_query(qtbot, window, demo_connection)
    release = threading.Event()
    reads = []
    original = query_window.LakeDataset._footers

    def slow(self, states, *args):
        reads.append(states[0].f.key)
        release.wait(10)   # held until the test lets go: the query is still running when changed
        return original(self, states, *args)

    monkeypatch.setattr(query_window.LakeDataset, "_footers", slow)
    try:
        view.run_button.click()
        qtbot.waitUntil(lambda: bool(reads), timeout=10000)
        assert view._query_slot.running and view.stop_button.isEnabled()
        with qtbot.waitSignal(view.query_cancelled, timeout=5000):
            view.filter_edit.setText("close > 1")   # changing the query cancels it
        qtbot.waitUntil(lambda: not view._query_slot.running, timeout=5000)
        assert view._query_cancel.is_set() and view.status.text() == "The query changed; Run reads it again."

        reads.clear()
        view.run_button.click()
        qtbot.waitUntil(lambda: bool(reads), timeout=10000)
        with qtbot.waitSignal(view.query_cancelled, timeout=5000):
            view.close()                             # and so does closing the window
        qtbot.waitUntil(lambda: not view._query_slot.running, timeout=5000)
    finally:
        release.set()
    assert view.table is None and not view.isVisible()


def test_copy_as_python_runs_the_same_query(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL", "MSFT"])
    view.pickers["year"].check(["2020", "2021", "2022"])
    view.set_columns(["date", "close"])
    view.filter_edit.setText("volume > 50000000")
    run(qtbot, view)
    view.python_button.click()
    code = QApplication.clipboard().text()
    assert code == (
        "from lakegui import Lake\n\n"
        f"lake = Lake.connect(bucket={DEMO_BUCKET!r}, endpoint_url={demo_connection.profile.endpoint_url!r}, "
        "profile=None)\n"
        "df = lake.read('daily-ticks', symbol=['AAPL', 'MSFT'], year=range(2020, 2023), columns=['date', 'close'], "
        "filter='volume > 50000000')\n")
    scope: dict = {}
    exec(code, scope)   # against the same endpoint
    df = scope["df"]
    assert df.to_dict("records") == view.table.to_pandas().to_dict("records") and len(df) == view.table.num_rows


def test_python_of_other_picks():
    spec = QuerySpec("minute-ticks", {"symbol": ["NVDA"], "year": ["2024"], "month": ["12"], "day": ["02", "04"]})
    code = spec.python(bucket="b", prefix="lake/")
    assert "lake.read('minute-ticks', symbol='NVDA', year=2024, month=12, day=['02', '04'])" in code
    assert "Lake.connect(bucket='b', endpoint_url=None, profile=None, prefix='lake/')" in code


def test_query_these_from_coverage_cells(qtbot, window, demo_connection):
    cov = open_coverage(qtbot, window, demo_connection)
    assert not cov.query_button.isEnabled()
    sel = QItemSelection()
    for cell in (("AAPL", 2023), ("AAPL", 2024), ("JPM", 2024)):
        index = index_of(cov, *cell)
        sel.select(index, index)
    cov.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert cov.selected_present() == [{"symbol": "AAPL", "year": "2023"}, {"symbol": "AAPL", "year": "2024"},
                                      {"symbol": "JPM", "year": "2024"}]
    assert cov.query_button.isEnabled() and cov.query_button.text() == "Query 3 cells…"
    view = window.query_window()
    with qtbot.waitSignal(view.query_finished, timeout=30000) as done:
        cov.query_button.click()
    assert view.isVisible()
    assert view.pickers["symbol"].checked() == ["AAPL", "JPM"] and view.pickers["year"].checked() == ["2023", "2024"]
    # exactly the three cells, not JPM 2023 too: a filter on the fields keeps only those combinations
    assert view.filter_edit.text() == "(symbol = AAPL AND year in (2023, 2024)) OR (symbol = JPM AND year = 2024)"
    assert done.args[0].files_pruned == 1   # JPM 2023 ruled out by its fields, never read
    got = sorted(set(zip(view.table["symbol"].to_pylist(), view.table["year"].to_pylist())))
    assert got == [("AAPL", 2023), ("AAPL", 2024), ("JPM", 2024)]


def test_schema_outlier_opens_in_the_preview(qtbot, window, demo_connection):
    drifted = daily_table("V", 2021)
    drifted = drifted.set_column(drifted.schema.get_field_index("volume"), "volume",
                                 pc.cast(drifted["volume"], pa.float64()))
    sink = io.BytesIO()
    pq.write_table(drifted, sink)
    key = DAILY_TICKS.key(symbol="V", year=2022)   # one of the demo's gaps
    demo_connection.client().put_object(Bucket=DEMO_BUCKET, Key=key, Body=sink.getvalue())
    view = open_query(qtbot, window, demo_connection)
    assert view.schema_groups.topLevelItemCount() == 2
    assert view.outliers.topLevelItemCount() == 1
    item = view.outliers.topLevelItem(0)
    assert item.text(0) == key and "volume" in item.text(1) and "double" in item.text(1)
    with qtbot.waitSignal(window.preview.preview_finished, timeout=15000) as shown:
        view._on_outlier_clicked(item)
    assert shown.args[0] == key
    assert window.browser.prefix == "data/ticks/daily/V/2022/"


def test_escape_and_ctrl_w_close_it(qtbot, window, demo_connection):
    view = open_query(qtbot, window, demo_connection)
    view.activateWindow()
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=3000)
    view = window.open_query()
    qtbot.waitUntil(lambda: view.isVisible() and QApplication.activeWindow() is view, timeout=3000)
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=3000)


def test_query_the_browser_selection(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/ticks/daily/NVDA/2023/")
    b.table.selectRow(0)
    view = window.query_window()
    with qtbot.waitSignal(view.query_finished, timeout=30000) as done:
        window.query_selection_action.trigger()
    assert view.pickers["symbol"].checked() == ["NVDA"] and view.pickers["year"].checked() == ["2023"]
    assert done.args[0].files == 1 and view.table.num_rows == daily_table("NVDA", 2023).num_rows
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("")
    b.table.selectRow(1)   # README.txt: in no layout
    assert window.query_selection() is None and "Select files of a layout" in window.notice.text()
