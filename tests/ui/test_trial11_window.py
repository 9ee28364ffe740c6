"""Findings of session 11's new-user trials (A and B) in the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel

from lakegui.ui.query.models import cells_query

from .test_coverage import index_of, open_coverage


def select_cells(view, *cells) -> None:
    sel = QItemSelection()
    for cell in cells:
        index = index_of(view, *cell)
        sel.select(index, index)
    view.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def test_cells_query_keeps_exactly_the_cells():
    """B1: two cells on a diagonal are not their cross product."""
    assert cells_query([{"symbol": "KO", "year": "2022"}, {"symbol": "PEP", "year": "2023"}], ["symbol", "year"]) == (
        {"symbol": ["KO", "PEP"], "year": ["2022", "2023"]},
        "(symbol = KO AND year = 2022) OR (symbol = PEP AND year = 2023)")
    # a full rectangle needs no filter
    assert cells_query([{"symbol": s, "year": y} for s in ("KO", "PEP") for y in ("2022", "2023")],
                       ["symbol", "year"]) == ({"symbol": ["KO", "PEP"], "year": ["2022", "2023"]}, "")
    # a cell that leaves a field open (a folder: every year of NVDA) must not narrow that field's picker
    assert cells_query([{"symbol": "NVDA"}, {"symbol": "A B", "year": "2022"}], ["symbol", "year"]) == (
        {"symbol": ["A B", "NVDA"]}, "(symbol = 'A B' AND year = 2022) OR symbol = NVDA")


def test_query_these_is_off_for_missing_cells_and_reads_only_the_present_ones(qtbot, window, demo_connection):
    """B1: with only missing cells chosen there is nothing to query; a mixed choice queries its present cells."""
    cov = open_coverage(qtbot, window, demo_connection)
    select_cells(cov, ("V", 2021), ("V", 2022))
    assert not cov.query_button.isEnabled() and cov.backfill_button.isEnabled()
    select_cells(cov, ("V", 2022), ("AAPL", 2021), ("MSFT", 2022))
    assert cov.query_button.isEnabled() and cov.query_button.text() == "Query 2 cells…"
    view = window.query_window()
    view.filter_edit.setText("volume > 100000000")   # an earlier query's filter
    with qtbot.waitSignal(view.query_finished, timeout=30000):
        cov.query_button.click()
    got = sorted(set(zip(view.table["symbol"].to_pylist(), view.table["year"].to_pylist())))
    assert got == [("AAPL", 2021), ("MSFT", 2022)]
    assert view.status.text().startswith("The earlier filter (volume > 100000000) was cleared.")


def test_a_layout_change_drops_the_old_grid_s_selection_and_details(qtbot, window, demo_connection):
    """B8: after another layout, Backfill and Query stayed enabled and the old hovered cell's details stayed."""
    cov = open_coverage(qtbot, window, demo_connection)
    select_cells(cov, ("V", 2022), ("AAPL", 2021))
    with qtbot.waitSignal(cov.details_shown, timeout=10000):
        cov.show_details(index_of(cov, "V", 2022))
    assert cov.backfill_button.isEnabled() and cov.query_button.isEnabled()
    with qtbot.waitSignal(cov.loaded, timeout=15000):
        cov.layout_box.setCurrentText("minute-ticks")
    assert not cov.backfill_button.isEnabled() and not cov.query_button.isEnabled()
    assert cov.backfill_button.text() == "Backfill these…" and cov.query_button.text() == "Query these…"
    assert cov.details.toPlainText() == ""


def test_connect_test_names_a_wrong_secret_as_the_cli_does(qtbot, io_executor, memory_keyring, seaweedfs):
    """B5: a HEAD's bare 403 read "Access denied … permissions"; the CLI's listing said the secret was wrong."""
    from lakegui.core.connection import ConnectionProfile
    from lakegui.ui.dialogs.connection import KEYCHAIN_ROUTE, ConnectionDialog

    seaweedfs.client().create_bucket(Bucket="wrong-secret-probe")
    d = ConnectionDialog([ConnectionProfile(name="weed", endpoint_url=seaweedfs.endpoint_url,
                                            bucket="wrong-secret-probe", addressing_style="path")],
                         executor=io_executor)
    qtbot.addWidget(d)
    d.show()
    d.route_combo.setCurrentText(KEYCHAIN_ROUTE)
    d.access_key_edit.setText(seaweedfs.access_key)
    d.secret_key_edit.setText("not-the-secret")
    with qtbot.waitSignal(d.tested, timeout=15000) as blocker:
        d.test_button.click()
    assert blocker.args == [False, "The secret key does not match the access key: check the profile's credentials."]
    d.secret_key_edit.setText(seaweedfs.secret_key)
    with qtbot.waitSignal(d.tested, timeout=15000) as blocker:
        d.test_button.click()
    assert blocker.args[0] is True


def test_a_skipped_rename_says_so_and_leaves_the_source_selected(qtbot, window, demo_connection):
    """A9: "Skip all existing" kept both files, but the status bar said nothing clear and the
    selection jumped to the existing target, as if the rename had happened."""
    from lakegui.core.transfers.jobs import OverwritePolicy

    from .test_reorganise import AAPL, connected, names, select

    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    r = b.reorganiser
    r.choose_policy = lambda *_a, **_k: OverwritePolicy.SKIP
    select(b, "Q3.json")
    with qtbot.waitSignal(b.listing_finished, timeout=30000):
        with qtbot.waitSignal(r.done, timeout=30000, check_params_cb=lambda t: "not renamed" in t) as blocker:
            r.rename_to(b.model.entry(names(b).index("Q3.json")), "Q2.json")
    said = "Q3.json was not renamed: Q2.json exists already and was kept (skipped); both are as they were"
    assert blocker.args[0] == said
    assert window.statusBar().currentMessage().startswith(said + " · ")
    qtbot.waitUntil(lambda: [names(b)[i.row()] for i in b.table.selectionModel().selectedRows()] == ["Q3.json"],
                    timeout=5000)


def test_a_move_whose_every_object_was_skipped_says_nothing_moved():
    from lakegui.ui.browser.reorganise import _Batch, _ended_message

    assert _ended_message(_Batch("move", 3, "s3://b/x/"), 0, 3) == \
        "Nothing was moved to s3://b/x/: the 3 objects exist there already and were skipped"
    assert _ended_message(_Batch("copy", 3, "s3://b/x/"), 2, 1) == "Copied 2 objects to s3://b/x/; 1 skipped (they exist)"
    assert _ended_message(_Batch("rename", 96, "s3://vers/", renamed=("lake/old/", "lake/new/")), 96, 0) == \
        "Renamed old/ to new/ (96 objects)"


def test_the_browser_filter_is_cleared_in_another_folder_and_by_esc(qtbot, window, demo_connection):
    """B10: a filter typed in one folder stayed when going up, so the parent looked empty ("0 of 2
    items"), and Esc did not clear it."""
    from PySide6.QtCore import Qt

    from .test_reorganise import AAPL, connected, go, names

    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    b.filter_edit.setText("Q1")
    assert names(b) == ["Q1.json"]
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.refresh()   # the same folder again: the filter stays
    assert b.filter_edit.text() == "Q1" and names(b) == ["Q1.json"]
    b.filter_edit.setText("nothing like it")
    assert b.state_label.isVisible() and "the filter hides all 4 items" in b.state_label.text()
    b.filter_edit.setText("Q")
    assert not b.state_label.isVisible()
    go(qtbot, b, AAPL)   # up: another folder starts unfiltered
    assert b.filter_edit.text() == "" and names(b) == ["2022/", "2023/", "2024/"]
    assert window.statusBar().currentMessage() == "3 items"
    b.filter_edit.setFocus()
    qtbot.keyClicks(b.filter_edit, "2023")
    assert names(b) == ["2023/"]
    qtbot.keyClick(b.filter_edit, Qt.Key.Key_Escape)
    assert b.filter_edit.text() == "" and len(names(b)) == 3


@pytest.fixture
def bare_queue(qloop):
    """A window's queue with no connection and nothing running: rows are put in its model."""
    from lakegui.ui.queue.controller import TransferQueue

    q = TransferQueue()
    yield q
    q.shutdown()


def test_queue_direction_fits_beside_its_icon_and_a_skipped_job_has_no_bar(qtbot, bare_queue):
    """A13: the Direction column read "Mak…ket" for Make bucket; skipped jobs showed a 0% bar."""
    from PySide6.QtCore import Qt

    from lakegui.core.transfers.service import JobRow
    from lakegui.ui.queue.model import FRACTION_ROLE
    from lakegui.ui.queue.view import TransferQueueView

    view = TransferQueueView(bare_queue)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    model, table = bare_queue.model, view.table
    model.append_rows([JobRow("new-bucket", "make-bucket", "done", bytes_total=0, job_id=1, batch_id=1,
                              uri="s3://new-bucket/", local_path=""),
                       JobRow("Q2.json", "move", "skipped", bytes_total=477, job_id=2, batch_id=2,
                              uri="s3://b/x/Q2.json", local_path="s3://b/x/Q3.json",
                              error="s3://b/x/Q2.json exists; the source stays where it is")])
    assert model.index(0, 1).data() == "Make bucket"
    # A9: the row's URI, cut in the middle, hid what happened ("Skipped: s3://ve…tays where it is")
    assert model.index(1, 6).data() == "Skipped: Q2.json exists; the source stays where it is"
    assert "s3://b/x/Q2.json" in model.index(1, 6).data(Qt.ItemDataRole.ToolTipRole)
    text_and_icon = table.fontMetrics().horizontalAdvance("Make bucket") + table.iconSize().width() + 4
    assert table.horizontalHeader().sectionSize(1) >= text_and_icon + 8
    assert model.index(1, 3).data(FRACTION_ROLE) is None and model.index(1, 3).data() == ""
    assert model.index(0, 3).data(FRACTION_ROLE) == 1.0


def test_a_missing_bucket_is_said_once_with_versions_shown(qtbot, window, demo_connection):
    """A13: a wrong bucket showed the same error four times, the notice bar leading with
    "Versions of s3://nosuchbkt/ could not be listed"."""
    from .test_reorganise import connected

    b = connected(qtbot, window, demo_connection)
    v = b.versions
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        v.toggle_action.setChecked(True)
    said = []
    v.failed.connect(said.append)
    with qtbot.waitSignal(b.listing_failed, timeout=10000):
        b.switch_bucket("nosuchbkt-s11")
    qtbot.waitUntil(lambda: not v.loading, timeout=10000)
    assert b.state_label.text() == "Bucket 'nosuchbkt-s11' does not exist at this endpoint."
    assert said == [] and not window.notice.text()
    assert "does not exist" not in v.pane.title.text()


def test_a_version_listing_that_alone_fails_is_still_said(qtbot, window, demo_connection, monkeypatch):
    from botocore.exceptions import ClientError

    from lakegui.core import versions as core_versions

    from .test_reorganise import connected

    b = connected(qtbot, window, demo_connection)
    v = b.versions

    def refused(self):
        raise ClientError({"Error": {"Code": "NotImplemented", "Message": "no versions here"},
                           "ResponseMetadata": {"HTTPStatusCode": 501}}, "ListObjectVersions")

    monkeypatch.setattr(core_versions.VersionLister, "next_page", refused)
    with qtbot.waitSignal(v.failed, timeout=10000) as blocker:
        v.toggle_action.setChecked(True)
    assert blocker.args[0].startswith(f"Versions of s3://{b.bucket}/ could not be listed: ")
    assert v.pane.title.text().startswith("Versions could not be listed: ")


def test_the_keychain_note_is_shown_whole(qtbot, io_executor, no_keyring):
    """B9: with no keychain the note was cut off mid-line ("… (keyring found no backend…")."""
    from lakegui.core.connection import ConnectionProfile
    from lakegui.ui.dialogs.connection import KEYCHAIN_ROUTE, ConnectionDialog

    d = ConnectionDialog([ConnectionProfile(name="minio", endpoint_url="http://127.0.0.1:9000")], executor=io_executor)
    qtbot.addWidget(d)
    d.show()
    d.route_combo.setCurrentText(KEYCHAIN_ROUTE)
    note = d.keychain_note
    qtbot.waitUntil(lambda: note.isVisible() and note.height() >= note.heightForWidth(note.width()), timeout=3000)
    assert "No keychain is available" in note.text() and note.heightForWidth(note.width()) > 2 * note.fontMetrics().height()


def test_an_edit_takes_a_stale_test_result_away(qtbot, io_executor, memory_keyring, moto_endpoint):
    """B14: a test's answer stayed after the fields it was about were edited."""
    from lakegui.core.connection import ConnectionProfile
    from lakegui.ui.dialogs.connection import ConnectionDialog

    d = ConnectionDialog([ConnectionProfile(name="moto", endpoint_url=moto_endpoint, bucket="no-such-bucket-s11",
                                            addressing_style="path")], executor=io_executor)
    qtbot.addWidget(d)
    d.show()
    with qtbot.waitSignal(d.tested, timeout=10000) as blocker:
        d.test_button.click()
    # the listing's words for a missing bucket, as the CLI's (a HEAD's 404 read "was not found: … renamed")
    assert blocker.args == [False, "Bucket 'no-such-bucket-s11' does not exist at this endpoint."]
    assert d.test_label.text() == blocker.args[1]
    qtbot.keyClicks(d.bucket_edit, "x")
    assert d.test_label.text() == "" and d.test_button.isEnabled()


def test_the_status_bar_separates_versioning_from_the_connection(qtbot, window, demo_connection):
    """B14: "Versioning: off default: http://…" read as one."""
    from .test_reorganise import connected

    connected(qtbot, window, demo_connection)
    qtbot.waitUntil(lambda: window.versioning_label.isVisible(), timeout=10000)
    sep = window.versioning_separator
    assert sep.isVisible()
    assert window.versioning_label.geometry().right() <= sep.geometry().left()
    assert sep.geometry().right() <= window.connection_label.geometry().left()


def test_the_preview_s_row_box_counts_from_1_as_the_labels_do(qtbot, window, demo_connection):
    """B14: the Row box was 0-based while the rows' labels are 1-based; the row goes to the top."""
    from PySide6.QtCore import Qt

    from lakegui.ui.browser.location import Location

    from .test_preview import entry, show

    pane = window.preview
    pane.set_location(Location(demo_connection, demo_connection.bucket))
    client = demo_connection.client()
    key = client.list_objects_v2(Bucket=demo_connection.bucket, Prefix="data/ticks/minute/")["Contents"][0]["Key"]
    show(qtbot, pane, entry(client, key))
    pv = pane.parquet
    assert pv.row_spin.minimum() == 1 and pv.row_spin.maximum() == pv.rows_model.rowCount()
    pv.row_spin.setValue(250)
    top = pv.rows_table.rowAt(0)
    assert pv.rows_model.headerData(top, Qt.Orientation.Vertical) == "250"
    assert pv.rows_table.currentIndex().row() == top


def test_the_query_window_suggests_the_column_a_filter_typo_meant(qtbot, window, demo_connection):
    """B14: the CLI says "did you mean volume?"; the window said nothing."""
    from .test_query_window import open_query, run

    view = open_query(qtbot, window, demo_connection)
    view.pickers["symbol"].check(["AAPL"])
    view.filter_edit.setText("volum > 1")
    assert view.filter_error.text() == "No file has a column named 'volum' (did you mean volume?)"
    run(qtbot, view)
    assert view.status.text().startswith("No file read has a column named 'volum' (did you mean volume?); ")


def test_a_column_only_some_files_have_can_be_chosen(qtbot, window, demo_connection):
    """B14: the columns list was the majority's only, so a drifted `vwap` could not be chosen."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakegui.core.demo import DEMO_BUCKET, daily_table
    from lakegui.core.layouts import DAILY_TICKS

    from .test_query_window import open_query, run

    drifted = daily_table("V", 2021)
    drifted = drifted.append_column("vwap", pa.array([1.5] * drifted.num_rows))
    sink = io.BytesIO()
    pq.write_table(drifted, sink)
    demo_connection.client().put_object(Bucket=DEMO_BUCKET, Key=DAILY_TICKS.key(symbol="V", year=2022),
                                        Body=sink.getvalue())
    view = open_query(qtbot, window, demo_connection)
    assert view.column_names()[-1] == "vwap"
    item = view.columns_list.item(view.columns_list.count() - 1)
    assert item.text().startswith("vwap (in 1 of ")
    view.pickers["symbol"].check(["V"])
    view.set_columns(["date", "vwap"])
    run(qtbot, view)
    assert view.table.column_names[:2] == ["date", "vwap"]
    assert set(view.table["vwap"].to_pylist()) == {None, 1.5}


def test_query_the_selection_says_it_cleared_an_earlier_filter(qtbot, window, demo_connection):
    """B14: "Query the selection…" silently kept the previous filter (`volume > 100000000`)."""
    from .test_main_window import connect_and_wait
    from .test_reorganise import go

    connect_and_wait(qtbot, window, demo_connection)
    b = window.browser
    go(qtbot, b, "data/ticks/daily/NVDA/2023/")
    b.table.selectRow(0)
    view = window.query_window()
    view.filter_edit.setText("volume > 100000000")
    with qtbot.waitSignal(view.query_finished, timeout=30000):
        window.query_selection_action.trigger()
    assert view.filter_edit.text() == ""
    assert view.status.text().startswith("The earlier filter (volume > 100000000) was cleared. · ")
    assert view.table.num_rows > 0


def test_the_keyboard_shortcuts_fit_the_screen_and_scroll(qtbot, window):
    """B14: the shortcuts box was about 860 px tall and did not fit a 768 px screen."""
    from PySide6.QtWidgets import QWidget

    window.show_shortcuts()
    box = window.findChild(QWidget, "shortcutsBox")
    qtbot.waitUntil(box.isVisible)
    room = box.screen().availableGeometry()
    assert box.frameGeometry().height() <= room.height()
    assert "Ctrl+Shift+L" in box.text()
    full = int(box.view.document().size().height())
    if full > box.view.viewport().height():   # what does not fit scrolls
        assert box.view.verticalScrollBar().maximum() > 0
    assert full > 768 * 0.85   # the table is that tall: a box its height would not fit
    box.close()
