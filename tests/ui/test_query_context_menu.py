"""The browser's context menu offers the window's "Query the selection…" (issue 23's "Query these…"
from a browser selection) for Parquet files and for folders of a layout, on the demo lake (a real
HTTP endpoint, moto's server)."""

from __future__ import annotations

from lakegui.core.demo import DAILY_GAPS, YEARS, daily_table

from .test_main_window import connect_and_wait, row_of


def _menu_entry(window):
    """The query action as the browser's context menu has it for the current selection."""
    menu = window.browser.context_menu()
    action = window.query_selection_action
    assert action in menu.actions()
    return action


def _navigate(qtbot, browser, prefix: str) -> None:
    with qtbot.waitSignal(browser.listing_finished, timeout=10000):
        browser.navigate(prefix)


def test_query_these_from_the_context_menu_of_a_file_and_of_a_folder(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    view = window.query_window()

    _navigate(qtbot, b, "data/ticks/daily/NVDA/2023/")
    b.table.selectRow(row_of(b, "ticks.parquet"))
    action = _menu_entry(window)
    assert action.isEnabled()
    with qtbot.waitSignal(view.query_finished, timeout=30000) as done:
        action.trigger()
    assert view.pickers["symbol"].checked() == ["NVDA"] and view.pickers["year"].checked() == ["2023"]
    assert done.args[0].files == 1 and view.table.num_rows == daily_table("NVDA", 2023).num_rows

    # A folder: its depth of the layout names the symbol; every year of it is read.
    _navigate(qtbot, b, "data/ticks/daily/")
    b.table.selectRow(row_of(b, "TSLA/"))
    action = _menu_entry(window)
    assert action.isEnabled()
    with qtbot.waitSignal(view.query_finished, timeout=30000) as done:
        action.trigger()
    years = [y for y in YEARS if ("TSLA", y) not in DAILY_GAPS]
    assert view.pickers["symbol"].checked() == ["TSLA"] and view.pickers["year"].checked() == []
    assert done.args[0].files == len(years)
    assert view.table.num_rows == sum(daily_table("TSLA", y).num_rows for y in years)


def test_not_offered_for_files_that_are_not_parquet(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    b.table.selectRow(row_of(b, "README.txt"))
    assert not _menu_entry(window).isEnabled()
    _navigate(qtbot, b, "data/")   # a folder above every layout's fixed part: enabled, but names no layout
    b.table.selectRow(row_of(b, "ticks/"))
    assert _menu_entry(window).isEnabled()
    assert window.query_selection() is None and "Select files of a layout" in window.notice.text()
