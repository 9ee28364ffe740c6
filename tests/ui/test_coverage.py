"""The coverage view on the demo lake (a real HTTP endpoint, moto's server), whose daily ticks have
deliberate gaps: the grid, hover details with metadata, opening a cell in the browser and preview,
filtering and sorting, and missing cells backfilled through the wizard filling in live."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from lakegui.core.demo import DAILY_GAPS, SYMBOLS, YEARS

from .test_main_window import connect_and_wait


def open_coverage(qtbot, window, conn):
    connect_and_wait(qtbot, window, conn)
    view = window.coverage_window()
    with qtbot.waitSignal(view.loaded, timeout=15000):
        window.open_coverage()
    return view


def index_of(view, row, col):
    m = view.model
    r = next(i for i in range(m.rowCount()) if m.headerData(i, Qt.Orientation.Vertical) == row)
    return m.index(r, m.matrix.cols.index(str(col)))


def test_grid_shows_every_cell_and_the_gaps(qtbot, window, demo_connection):
    view = open_coverage(qtbot, window, demo_connection)
    m = view.model
    assert m.rowCount() == len(SYMBOLS) and [m.headerData(c, Qt.Orientation.Horizontal)
                                             for c in range(m.columnCount())] == [str(y) for y in YEARS]
    assert sorted(m.matrix.missing()) == sorted((s, str(y)) for s, y in DAILY_GAPS)
    cells = len(SYMBOLS) * len(YEARS)
    assert view.summary.text().startswith(
        f"{len(SYMBOLS)} symbols × {len(YEARS)} years: {cells - len(DAILY_GAPS)} of {cells} cells present, "
        f"{len(DAILY_GAPS)} missing")
    assert index_of(view, "V", 2022).data(Qt.ItemDataRole.AccessibleTextRole) == "V 2022: missing"
    present = index_of(view, "AAPL", 2024)
    assert present.data(Qt.ItemDataRole.AccessibleTextRole).startswith("AAPL 2024: 1 object, ")
    assert "data/ticks/daily/AAPL/2024/ticks.parquet" in present.data(Qt.ItemDataRole.ToolTipRole)

    with qtbot.waitSignal(view.details_shown, timeout=10000) as shown:
        view.show_details(present)
    assert "symbol: AAPL" in shown.args[0] and "source: lakegui-demo" in shown.args[0]
    with qtbot.waitSignal(view.details_shown, timeout=10000) as shown:
        view.show_details(index_of(view, "V", 2022))
    assert shown.args[0] == "symbol V, year 2022: missing"


def test_filter_sort_and_gaps_only(qtbot, window, demo_connection):
    view = open_coverage(qtbot, window, demo_connection)
    m = view.model
    view.filter_edit.setText("ms")  # any case
    assert [m.headerData(r, Qt.Orientation.Vertical) for r in range(m.rowCount())] == ["MSFT"]
    view.filter_edit.clear()
    view.gaps_check.setChecked(True)
    assert sorted(m.headerData(r, Qt.Orientation.Vertical) for r in range(m.rowCount())) == ["META", "TSLA", "V", "XOM"]
    view.sort_box.setCurrentIndex(1)  # most gaps first
    assert m.headerData(0, Qt.Orientation.Vertical) == "V"
    view.gaps_check.setChecked(False)
    assert m.rowCount() == len(SYMBOLS)


def test_clicking_a_cell_opens_it_in_the_browser_and_previews_it(qtbot, window, demo_connection):
    view = open_coverage(qtbot, window, demo_connection)
    assert not view.open_cell(index_of(view, "V", 2022))  # nothing to open in a missing cell
    with qtbot.waitSignal(window.preview.preview_finished, timeout=15000) as shown:
        assert view.open_cell(index_of(view, "MSFT", 2021))
    assert shown.args[0] == "data/ticks/daily/MSFT/2021/ticks.parquet"
    assert window.browser.prefix == "data/ticks/daily/MSFT/2021/"


def test_missing_cells_backfilled_through_the_wizard_fill_in_live(qtbot, window, demo_connection, tmp_path):
    view = open_coverage(qtbot, window, demo_connection)
    local = tmp_path / "daily"
    local.mkdir()
    for name in ("V_2021.parquet", "V_2022.parquet", "WMT_2024.parquet"):
        (local / name).write_bytes(name.encode() * 100)
    sel = QItemSelection()
    for cell in (("V", 2021), ("V", 2022), ("AAPL", 2024)):  # a present cell in the selection is left out
        index = index_of(view, *cell)
        sel.select(index, index)
    view.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert view.selected_missing() == [{"symbol": "V", "year": "2021"}, {"symbol": "V", "year": "2022"}]
    assert view.backfill_button.text() == "Backfill 2 cells…"

    window.choose_backfill_folder = lambda: str(local)
    view.backfill_button.click()
    wizard = window.wizard
    qtbot.waitUntil(lambda: wizard.plan is not None, timeout=15000)
    assert sorted(i.relative for i in wizard.plan.items) == ["V_2021.parquet", "V_2022.parquet"]
    with qtbot.waitSignal(view.live_applied, timeout=30000):
        wizard.queue_button.click()
    qtbot.waitUntil(lambda: view.model.matrix.count[view.model.matrix.rows.index("V")].tolist() == [1] * len(YEARS),
                    timeout=10000)
    assert index_of(view, "V", 2022).data(Qt.ItemDataRole.AccessibleTextRole).startswith("V 2022: 1 object")
    assert f"{len(DAILY_GAPS) - 2} missing" in view.summary.text()
