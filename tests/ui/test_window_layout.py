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
