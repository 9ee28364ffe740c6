"""Another folder clears the preview, as in a file manager (new-user trial 9: Q1.json stayed in
the pane after going to another folder)."""

from __future__ import annotations

from .test_main_window import connect_and_wait


def test_another_folder_clears_the_preview(qtbot, window, demo_connection):
    from .test_versions_browser import select

    connect_and_wait(qtbot, window, demo_connection)
    b, pane = window.browser, window.preview
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("data/reference/")
    with qtbot.waitSignal(pane.preview_finished, timeout=10000):
        select(b, "tickers.csv")
    assert pane.shown_uri.endswith("data/reference/tickers.csv")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.go_up()  # the old file stayed in the pane
    assert pane.shown_uri == "" and pane.title.text() == "Preview"
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.refresh()  # the same folder listed again: nothing to clear, and nothing breaks
    assert pane.shown_uri == ""
