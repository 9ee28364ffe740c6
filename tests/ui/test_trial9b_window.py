"""The window's findings of the second new-user trial of session 9 (B, C, D, E, G)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QTest

from tests.ui.test_new_user_stumbles import _rows, bare_queue  # noqa: F401 (a fixture)
from tests.ui.test_transfers import wait_listed


def test_tab_leaves_the_browser_table_and_keeps_its_selection(qtbot, window, demo_connection):
    """Finding B: Tab walked the table cell by cell, each step replacing the selection with one
    other row (Del then offered to delete that one), and never left the table."""
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    # the bucket list may answer after the folder's, and a listing it starts would reset the rows
    qtbot.waitUntil(lambda: not b._slot.running and not b._buckets_slot.running, timeout=10000)
    table, model = b.table, b.table.model()
    assert model.rowCount() >= 2
    sel = table.selectionModel()
    window.activateWindow()
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=2000)  # before selecting: focusing may set the current row
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    table.setCurrentIndex(model.index(0, 0))
    for r in range(2):
        sel.select(model.index(r, 0), flags)
    before = sorted(i.row() for i in sel.selectedRows())
    assert len(before) == 2
    assert not table.tabKeyNavigation() and not window.queue.table.tabKeyNavigation()
    QTest.keyClick(table, Qt.Key.Key_Tab)
    assert sorted(i.row() for i in sel.selectedRows()) == before
    qtbot.waitUntil(lambda: not table.hasFocus(), timeout=2000)


def test_refresh_reads_the_buckets_versioning_again(qtbot, window, demo_lake):
    """Finding C: the status bar's "Versioning: …" and Edit's versioning item were read once per
    bucket; after `lakegui-cli versioning … on` F5 still said off and offered Enable."""
    from lakegui.core import versions as core
    from lakegui.core.connection import Connection
    from tests.ui.conftest import profile_for

    demo_lake.restore()  # as seeded; the next restore drops the bucket made here
    bucket = "versioning-refresh"
    demo_lake.client.create_bucket(Bucket=bucket)
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(Connection(profile_for(demo_lake.endpoint_url, bucket))))
    versions = b.versions
    qtbot.waitUntil(lambda: versions.state == core.NEVER, timeout=10000)
    assert versions.versioning_action.text() == "Enable bucket versioning…"
    core.set_versioning(demo_lake.client, bucket, True)  # as another process would
    b.refresh_action.trigger()
    qtbot.waitUntil(lambda: versions.state == core.ENABLED, timeout=10000)
    assert versions.versioning_action.text() == "Suspend bucket versioning…"
    assert "Versioning: on" in window.versioning_label.text()


def test_a_narrow_queue_gives_speed_and_eta_only_what_they_show(qtbot, bare_queue):  # noqa: F811
    """Finding D: at 900x600 the empty Speed and ETA columns kept ~130 px while Name and State were
    cut off behind a horizontal scroll bar."""
    from lakegui.ui.queue.view import TransferQueueView

    view = TransferQueueView(bare_queue)
    qtbot.addWidget(view)
    view.resize(590, 200)  # the queue of a 900x600 window
    view.show()
    model, table = bare_queue.model, view.table
    rows = _rows(1, [("upload", f"/data/up/lakegui/README-{i}.md") for i in range(6)], 1)
    rows[0].state, rows[0].error = "failed", "the object exists with different content"
    model.append_rows(rows)
    header, fm = table.horizontalHeader(), table.fontMetrics()
    qtbot.waitUntil(lambda: header.sectionSize(0) < 240)  # fitted
    for c in (4, 5):  # nothing runs: as narrow as the header
        assert header.sectionSize(c) <= header.sectionSizeFromContents(c).width() + 2
    assert table.horizontalScrollBar().maximum() == 0
    room = header.sectionSize(0) + header.sectionSize(6)
    assert header.sectionSize(0) >= int(room * 0.4) - 1  # Name and State share what is left
    assert header.sectionSize(6) >= int(room * 0.5)
    rows[1].state, rows[1].speed, rows[1].bytes_done, rows[1].bytes_total = "running", 12.3e6, 1, 10**9
    model.rows_changed([rows[1].job_id])  # a tick: Speed and ETA widen to what they show
    assert header.sectionSize(4) >= fm.horizontalAdvance(model.index(1, 4).data())
    assert header.sectionSize(5) >= fm.horizontalAdvance(model.index(1, 5).data())
    assert table.horizontalScrollBar().maximum() == 0
    rows[1].state = "done"
    model.rows_changed([rows[1].job_id])  # and narrow again once nothing shown runs
    assert header.sectionSize(4) <= header.sectionSizeFromContents(4).width() + 2
    for r in rows:
        r.state, r.error = "done", ""
    model.rows_changed([r.job_id for r in rows])  # all done: Name whole beside "Done", if it fits
    assert header.sectionSize(0) >= min(fm.horizontalAdvance(model.index(1, 0).data()),
                                         room - fm.horizontalAdvance("Done") - 16)
    assert table.horizontalScrollBar().maximum() == 0
    view.resize(1200, 200)  # room: Name whole beside the short states
    qtbot.waitUntil(lambda: header.sectionSize(0) >= fm.horizontalAdvance(model.index(1, 0).data()))
    assert table.horizontalScrollBar().maximum() == 0


def test_a_queue_restored_all_done_has_no_scroll_bar(qtbot, bare_queue):  # noqa: F811
    """Finding D: rows of the last session, all "Done", in a narrow queue: Qt kept State at the
    100 px it had when it began stretching, behind a horizontal scroll bar."""
    from lakegui.ui.queue.view import TransferQueueView

    view = TransferQueueView(bare_queue)
    qtbot.addWidget(view)
    rows = _rows(1, [("upload", f"/data/up/upload-file-with-a-longish-name-{i}.bin") for i in range(3)], 1)
    for r in rows:
        r.state, r.bytes_done, r.bytes_total = "done", 200_000, 200_000
    bare_queue.model.set_rows(rows)  # as a reopened window loads them
    view.resize(598, 160)
    view.show()
    table = view.table
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: header.length() <= table.viewport().width())
    assert table.horizontalScrollBar().maximum() == 0
    assert header.sectionSize(6) >= table.fontMetrics().horizontalAdvance("Done")


def test_a_paused_row_with_every_byte_sent_is_not_shown_done():
    """Finding E: after `queue pause` during an upload, rows read "Paused" at 100% (every part
    sent, the upload not completed), which looks done."""
    from lakegui.core.transfers.service import JobRow
    from lakegui.ui.queue.model import FRACTION_ROLE, TransferTableModel

    model = TransferTableModel()
    sent = JobRow("big.bin", "upload", "paused", bytes_done=1000, bytes_total=1000, job_id=1)
    done = JobRow("small.bin", "upload", "done", bytes_done=10, bytes_total=10, job_id=2)
    half = JobRow("half.bin", "upload", "paused", bytes_done=500, bytes_total=1000, job_id=3)
    model.append_rows([sent, done, half])
    assert model.index(0, 3).data() == "99%" and model.index(0, 3).data(FRACTION_ROLE) == 0.99
    assert model.index(0, 6).data() == "Paused (all sent, not completed: Resume finishes it)"
    assert model.index(1, 3).data() == "100%" and model.index(1, 6).data() == "Done"
    assert model.index(2, 3).data() == "50%" and model.index(2, 6).data() == "Paused"


def test_a_transfer_queued_while_the_queue_is_held_says_it_waits(qtbot, window, demo_connection, tmp_path):
    """Finding E: an upload added to a held queue said "Queued 1 transfer", though it waits."""
    from tests.ui.test_transfers import drop

    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    window.queue.pause_action.trigger()  # nothing selected: the whole queue, held
    assert window.transfers.service.held
    f = tmp_path / "held.txt"
    f.write_bytes(b"held")
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        assert drop(b.table, [f]).isAccepted()
    assert window.statusBar().currentMessage() == \
        "Queued 1 transfer (paused: the queue is held; Resume: Ctrl+R)"
    model = window.transfers.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.row(0).state == "paused", timeout=5000)
    window.queue.cancel_action.trigger()
    qtbot.waitUntil(lambda: model.row(0).state == "cancelled", timeout=5000)
    window.queue.resume_action.trigger()  # the hold ends
    assert not window.transfers.service.held


def test_the_status_bar_counts_a_selection_of_several_rows(qtbot, window, demo_connection):
    """Finding G: the status bar said "2,000 items" with 41 of them selected."""
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    table, model = b.table, b.table.model()
    assert model.rowCount() == 2  # data/ and README.txt
    readme = next(r for r in range(2) if model.index(r, 0).data() == "README.txt")
    size = model.index(readme, 1).data()
    table.selectRow(readme)
    assert window.statusBar().currentMessage() == "2 items"  # one row: the folder's count
    table.selectAll()
    assert window.statusBar().currentMessage() == f"2 items · 2 selected (1 folder), {size}"
    table.selectRow(readme)
    assert window.statusBar().currentMessage() == "2 items"


def test_quitting_while_transfers_run_says_they_continue_next_start(qtbot, window, demo_connection, tmp_path):
    """Finding G: Ctrl+Q during an upload quit without a word (it resumed on the next start, but
    nothing said it would)."""
    from tests.ui.test_transfers import start_paced_upload

    asked = []
    window.ask_before_quit = True  # as the app sets it for a person
    window.confirm_quit = lambda text, more: asked.append((text, more)) or False  # Keep running
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    assert window._quit_question() is None  # nothing runs: quit at once
    model = start_paced_upload(qtbot, window, tmp_path, 2)
    assert not window.close()  # kept open
    assert window.isVisible() and model.row(0).state == "running"
    assert asked == [("1 transfer is running.", "Quit now and it stops here with its progress kept: it continues "
                      "where it left off the next time lakegui starts (or with lakegui-cli queue resume).")]
    window.queue.cancel_action.trigger()
    qtbot.waitUntil(lambda: model.row(0).state == "cancelled", timeout=10000)


def test_tab_goes_from_the_objects_to_the_transfers(qtbot, window, demo_connection, tmp_path):
    """Finding B: the queue could not be reached from the objects by keyboard."""
    from tests.ui.test_transfers import drop

    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    f = tmp_path / "tab.txt"
    f.write_bytes(b"tab")
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        assert drop(b.table, [f]).isAccepted()
    qtbot.waitUntil(window.queue.table.isVisible, timeout=5000)
    window.activateWindow()
    b.table.setFocus()
    qtbot.waitUntil(b.table.hasFocus, timeout=2000)
    QTest.keyClick(b.table, Qt.Key.Key_Tab)
    qtbot.waitUntil(window.queue.table.hasFocus, timeout=2000)
