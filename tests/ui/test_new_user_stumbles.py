"""What a new user's trial of the window stumbled on, against the demo lake on a real HTTP endpoint:
the preview following a moved object, the download folder's start, the queue's Direction column and
natural name order, a shortcut for every frequent action, Parquet rows numbered from 1, the queue
header saying it is paused, and Properties after a rename."""

from __future__ import annotations

import pytest

from lakegui.core.demo import DEMO_BUCKET

from .test_reorganise import AAPL, connected, finished, select
from .test_transfers import enqueue_upload


def previewed(qtbot, window, key):
    with qtbot.waitSignal(window.preview.preview_finished, timeout=10000,
                          check_params_cb=lambda k: k == key):
        pass


# 1. the preview follows a move


def test_the_preview_follows_an_object_cut_and_pasted_elsewhere(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    p = window.preview
    with qtbot.waitSignal(p.preview_finished, timeout=10000):
        select(b, "Q1.json")
    assert p.title.text() == AAPL + "2022/Q1.json"
    # Dropped on the breadcrumb's AAPL segment: the browser stays (another folder would clear the pane).
    with qtbot.waitSignal(p.preview_finished, timeout=30000, check_params_cb=lambda k: k == AAPL + "Q1.json"):
        finished(qtbot, b, lambda: b.reorganiser.drop([AAPL + "2022/Q1.json"], AAPL, False), "Moved 1 object")
    assert p.title.text() == AAPL + "Q1.json"
    assert p.json_tree.topLevelItemCount() > 0  # read from its new key


def test_the_preview_says_where_an_object_went_to_another_bucket(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    p = window.preview
    with qtbot.waitSignal(p.preview_finished, timeout=10000):
        select(b, "Q2.json")
    p.object_moved(f"s3://{DEMO_BUCKET}/{AAPL}2022/Q1.json", "s3://elsewhere/Q1.json")  # not the one shown
    assert p.title.text() == AAPL + "2022/Q2.json" and not p.message.isVisible()
    p.object_moved(f"s3://{DEMO_BUCKET}/{AAPL}2022/Q2.json", "s3://staging-lake/Q2.json")
    assert p.message.text() == "This object was moved to s3://staging-lake/Q2.json. Select it there to preview it."
    assert not p.tabs.isVisible() and p.source is None


# 2. the download folder's dialog starts in a folder that exists


def test_the_download_folder_dialog_starts_in_a_folder_that_exists(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from lakegui.ui import main_window

    home, downloads = tmp_path / "home", tmp_path / "home" / "Downloads"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(main_window, "downloads_folder", lambda: str(downloads))
    starts = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda parent, title, start: starts.append(
        start) or ""))
    window.settings.download_folder = str(tmp_path / "gone")  # chosen once, removed since
    window.choose_download_folder()
    downloads.mkdir()
    window.choose_download_folder()
    window.settings.download_folder = str(tmp_path)
    window.choose_download_folder()
    assert starts == [str(home), str(downloads), str(tmp_path)]


# 5. Parquet rows are numbered from 1


def test_parquet_rows_are_numbered_from_one(qtbot, window, demo_connection):
    from PySide6.QtCore import Qt

    from lakegui.ui.browser.location import Location

    from .test_preview import DAILY, entry, show

    pane = window.preview
    pane.set_location(Location(demo_connection, DEMO_BUCKET))
    show(qtbot, pane, entry(demo_connection.client(), DAILY))
    model = pane.parquet.rows_model
    assert [model.headerData(r, Qt.Orientation.Vertical) for r in (0, 1, 258)] == ["1", "2", "259"]
    assert model.index(0, 0).data() == "2024-01-02"  # row 1 is the file's first row


# 6. the queue's header says it is paused


def test_the_queue_header_says_paused(qtbot, window, demo_connection, tmp_path):
    from dataclasses import replace

    q, view = window.transfers, window.queue
    q.set_connection(demo_connection)
    # Each file takes seconds: paused, never done before the pause.
    q.apply_settings(replace(q.settings, concurrent_files=1, max_bandwidth=64 * 1024))
    files = []
    for i in range(3):
        (tmp_path / f"f{i}.bin").write_bytes(b"x" * 256 * 1024)
        files.append((tmp_path / f"f{i}.bin", f"tmp/paused/f{i}.bin"))
    enqueue_upload(q, demo_connection, files)
    q.pause()
    rows = [q.model.row(i) for i in range(3)]
    qtbot.waitUntil(lambda: q.running_count == 0 and {r.state for r in rows} == {"paused"}, timeout=10000)
    qtbot.waitUntil(lambda: view.totals_label.text().startswith("Paused (Resume: Ctrl+R) · 0/3 files"),
                    timeout=2000)
    q.resume([rows[0].job_id])  # one goes on: the others are still paused, and the header says how many
    qtbot.waitUntil(lambda: "· 2 paused" in view.totals_label.text(), timeout=5000)
    assert not view.totals_label.text().startswith("Paused")
    q.cancel()
    qtbot.waitUntil(lambda: q.running_count == 0, timeout=10000)


# 3. the queue's Direction column fits every direction, and names sort naturally


def _rows(batch, directions_names, first_id):
    from lakegui.core.transfers.service import JobRow

    return [JobRow(name, direction, "queued", bytes_total=10 * i, job_id=first_id + i, batch_id=batch,
                   uri=f"s3://b/up/{name}", local_path=f"/data/up/{name}")
            for i, (direction, name) in enumerate(directions_names)]


@pytest.fixture
def bare_queue(qloop):
    """A window's queue with no connection and nothing running: rows are put in its model."""
    from lakegui.ui.queue.controller import TransferQueue

    q = TransferQueue()
    yield q
    q.shutdown()


def test_queue_names_sort_naturally_and_the_direction_column_fits(qtbot, bare_queue):
    from PySide6.QtCore import QItemSelectionModel, Qt

    from lakegui.ui.queue.model import SORT_ROLE
    from lakegui.ui.queue.view import TransferQueueView

    q = bare_queue
    view = TransferQueueView(q)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    model, table = q.model, view.table
    model.append_rows(_rows(1, [("upload", n) for n in ("f1", "f10", "f100", "f2")], 1))

    def shown():
        return [model.index(r, 0).data() for r in range(model.rowCount())]

    assert shown() == ["f1", "f10", "f100", "f2"]  # as queued until a header is clicked
    table.selectionModel().select(model.index(3, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert shown() == ["f1", "f2", "f10", "f100"]
    assert model.index(1, 0).data(SORT_ROLE) == ("f", 2, "")
    assert [i.row() for i in table.selectionModel().selectedRows()] == [1]  # f2, still selected
    assert model.row(1).name == "f2" and model.row_for(4).name == "f2"
    model.append_rows(_rows(1, [("upload", "f3"), ("upload", "F20")], 10))
    assert shown() == ["f1", "f2", "f3", "f10", "F20", "f100"]  # arrivals go where the sort puts them
    table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert shown() == ["f100", "F20", "f10", "f3", "f2", "f1"]
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert shown() == ["f1", "f10", "f100", "f2", "f3", "F20"]  # back to the order queued
    # Fitted on the first rows, all uploads, the Direction column still has room for any direction.
    model.append_rows(_rows(2, [("download", "x"), ("make-bucket", "new-bucket")], 20))
    assert table.horizontalHeader().sectionSize(1) >= table.sizeHintForColumn(1)


# 4. a shortcut for every frequent action, and no two actions share one

# Rare or destructive: reached through their menu, never by a slip of the fingers.
WITHOUT_KEYS = {"Change storage class…", "Restore…", "Create bucket…", "Delete bucket…",
                "Enable bucket versioning…", "Clear…", "About lakegui",
                # the Versions pane's own context menu, for the one version chosen there
                "Undelete", "Revert to this version…", "Download…@versionsPane", "Preview@versionsPane",
                "Copy URI with version", "Delete version permanently…"}


def test_every_frequent_action_has_a_shortcut_and_no_two_share_one(qtbot, window):
    from PySide6.QtGui import QAction, QKeySequence

    owners: dict[str, list[str]] = {}
    missing = []
    for action in window.findChildren(QAction):
        text = action.text().replace("&", "")
        if action.isSeparator() or action.menu() is not None or not text or text.startswith("(none yet"):
            continue
        for keys in action.shortcuts():
            owners.setdefault(keys.toString(QKeySequence.SequenceFormat.PortableText), []).append(text)
        where = f"{text}@{action.parent().objectName()}"
        if not action.shortcuts() and text not in WITHOUT_KEYS and where not in WITHOUT_KEYS:
            missing.append(text)
    assert not missing, missing
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    shown = {a: k for _, a, k in window.shortcut_rows()}
    assert {a: shown.get(a) for a in ("Quit", "Upload folder…", "Retry failed", "Remove finished",
                                      "Refresh", "Filter", "Delete…")} == {
        "Quit": "Ctrl+Q", "Upload folder…": "Ctrl+Alt+U", "Retry failed": "Ctrl+Shift+R",
        "Remove finished": "Ctrl+Shift+Del", "Refresh": "F5", "Filter": "Ctrl+F", "Delete…": "Del"}


# 7. Properties after a rename name the object by its new name


def test_properties_of_a_renamed_object_show_its_new_lineage_name(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, "data/reference/")
    p = window.preview
    with qtbot.waitSignal(p.preview_finished, timeout=10000):
        select(b, "tickers.parquet")
    shown = []
    p.preview_finished.connect(shown.append)
    with qtbot.waitSignal(p.preview_finished, timeout=30000, check_params_cb=lambda k: k.endswith("symbols.parquet")):
        finished(qtbot, b, lambda: b.reorganiser.rename_to(b.model.entry(1), "symbols.parquet"), "Renamed")
    assert [i.row() for i in b.table.selectionModel().selectedRows()] == [0]  # the renamed row, selected...
    assert shown == ["data/reference/symbols.parquet"]  # ...and previewed once: followed, not read again
    seen = []
    b.object_actions.edit_properties = lambda props, *_: seen.append(props) or None
    qtbot.waitUntil(b.object_actions.properties().done, timeout=10000)
    assert seen[0].key == "data/reference/symbols.parquet"
    assert seen[0].metadata == {"name": "symbols.parquet", "data-type": "reference", "source": "lakegui-demo"}
    with qtbot.waitSignal(p.properties_loaded, timeout=10000):
        p.tabs.setCurrentWidget(p.properties)  # the preview's Properties tab, read again for the new key
    meta = p.properties.items()["Metadata"]
    assert {meta.child(i).text(0): meta.child(i).text(1) for i in range(meta.childCount())}["name"] == \
        "symbols.parquet"
