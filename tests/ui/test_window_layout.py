"""Layout findings of new-user trial 9: the browser's Name column takes the free space (it stayed
as narrow as the first listing while Storage class took the rest); the queue's State column keeps
room in a narrow queue, with no horizontal scroll bar (Name gives way, elided); fitted widths are
not saved as if the user had set them (every restart kept the first run's widths)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QHeaderView

from .test_main_window import connect_and_wait
from .test_new_user_stumbles import _rows, bare_queue  # noqa: F401 (a fixture)


def test_the_browser_name_column_stretches_and_the_others_fit(qtbot, window, demo_connection):
    window.resize(1280, 800)
    connect_and_wait(qtbot, window, demo_connection)
    table = window.browser.table
    header = table.horizontalHeader()
    fm = table.fontMetrics()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch
    qtbot.waitUntil(lambda: header.length() >= table.viewport().width() - 2)  # the rows' width, no more
    storage = header.sectionSize(3)
    assert storage < fm.horizontalAdvance("Storage class") + 60  # fits its header and STANDARD
    others = sum(header.sectionSize(c) for c in range(1, header.count()) if not header.isSectionHidden(c))
    assert header.sectionSize(0) >= table.viewport().width() - others - 2  # Name has the rest
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.browser.navigate("data/ticks/minute/AAPL/2024/12/02/")
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch
    assert header.sectionSize(0) > header.sectionSize(3)
    assert table.horizontalScrollBar().maximum() == 0


def test_a_narrow_queue_keeps_room_for_the_state_without_a_scroll_bar(qtbot, bare_queue):  # noqa: F811
    from lakegui.ui.queue.view import TransferQueueView

    view = TransferQueueView(bare_queue)
    qtbot.addWidget(view)
    view.resize(780, 240)  # about the window's first-run queue
    view.show()
    model, table = bare_queue.model, view.table
    rows = _rows(1, [("download", "reference-tickers-" * 4 + f"{i}.csv") for i in range(3)], 1)
    for r in rows:
        r.state, r.error = "failed", "the local file exists with different content; keep it or replace it"
    model.append_rows(rows)
    header = table.horizontalHeader()
    fm = table.fontMetrics()
    qtbot.waitUntil(lambda: header.sectionSize(6) >= fm.horizontalAdvance("Failed: the object exists"))
    assert table.horizontalScrollBar().maximum() == 0
    assert header.sectionSize(0) < fm.horizontalAdvance(model.index(0, 0).data())  # Name gave way, elided
    state = model.index(0, 6)
    assert state.data().startswith("Failed: the local file exists")
    assert state.data(Qt.ItemDataRole.ToolTipRole).splitlines()[0] == state.data()  # the whole text, first
    view.resize(660, 240)  # as narrow as the trial's: still no scroll bar
    qtbot.waitUntil(lambda: table.viewport().width() < 660)
    assert table.horizontalScrollBar().maximum() == 0
    view.resize(1500, 240)  # room again: Name back to its fitted width
    qtbot.waitUntil(lambda: header.sectionSize(0) >= min(420, fm.horizontalAdvance(model.index(0, 0).data())))


def test_fitted_widths_are_not_saved_as_the_users(qtbot, window, demo_connection):
    connect_and_wait(qtbot, window, demo_connection)
    header = window.browser.table.horizontalHeader()
    assert not header.user_sized
    assert header.saveState().isEmpty()  # nothing to keep: fitted again next run
    legacy = QByteArray(bytes(QHeaderView.saveState(header).data()))  # as older versions saved every width
    assert not header.restoreState(legacy)
    assert not header.user_sized
    header.user_sized = True  # as a drag of a header edge does (test_first_hour drags one)
    state = header.saveState()
    header.user_sized = False
    assert header.restoreState(state) and header.user_sized
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch


# The tool windows: centred on the main window, within the screen; Compare's headers and times whole


def test_query_and_compare_windows_open_on_the_main_window_within_the_screen(qtbot, window):
    from lakegui.ui.placement import fitted_rect

    area = window.screen().availableGeometry()
    window.resize(min(700, area.width() - 40), min(500, area.height() - 60))
    window.move(area.left() + 20, area.top() + 10)
    for make in (window.query_window, window.comparison_window):
        tool = make()
        tool.show()
        qtbot.waitExposed(tool)
        frame = tool.frameGeometry()
        assert area.contains(frame), (make, frame, area)  # it reached below the screen's bottom
        centre, main = frame.center(), window.frameGeometry().center()
        # Centred, unless that would leave the screen (then against its edge).
        assert abs(centre.x() - main.x()) <= 2 or frame.left() == area.left() or frame.right() == area.right()
        assert abs(centre.y() - main.y()) <= 2 or frame.top() == area.top() or frame.bottom() == area.bottom()
        tool.close()
    # The arithmetic, for a screen smaller than the window asked for and a main window in a corner:
    r = fitted_rect((1100, 760), (10, 30), anchor=_rect(0, 0, 300, 200), area=_rect(0, 0, 1024, 700))
    assert (r.width(), r.height()) == (1014, 670) and (r.x(), r.y()) == (0, 0)
    r = fitted_rect((400, 300), (10, 30), anchor=_rect(500, 300, 600, 400), area=_rect(0, 0, 1600, 1000))
    assert (r.x(), r.y(), r.width(), r.height()) == (799 - 205, 499 - 165, 400, 300)  # the frame's centre on the anchor's


def _rect(x, y, w, h):
    from PySide6.QtCore import QRect

    return QRect(x, y, w, h)


def test_the_compare_table_shows_its_headers_and_times_whole(qtbot, window):
    view = window.comparison_window()
    table = view.table
    header = table.horizontalHeader()
    fm = table.fontMetrics()
    for column in range(1, 5):  # "Remote modified" was cut to "Remote modifiec"
        title = view.model.headerData(column, Qt.Orientation.Horizontal)
        assert header.sectionSize(column) >= fm.horizontalAdvance(title) + 8, title
        if "modified" in title:
            assert header.sectionSize(column) >= fm.horizontalAdvance("2026-12-01 18:13:19") + 8
    assert not table.wordWrap()  # a time on one line



def test_show_versions_is_kept_across_runs(qtbot, qloop, io_executor, demo_connection):
    from lakegui.ui.main_window import MainWindow

    for on in (True, False):
        first = MainWindow(io_executor)
        qtbot.addWidget(first)
        first.show()
        first.browser.versions.set_enabled(on)
        first.close()  # saves the layout
        second = MainWindow(io_executor)
        qtbot.addWidget(second)
        second.show()
        try:
            assert second.browser.versions.enabled is on
            assert second.browser.versions.toggle_action.isChecked() is on
            assert second.browser.versions.pane.isVisible() is on
        finally:
            second.close()
