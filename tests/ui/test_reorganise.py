"""Reorganising in the window against a real HTTP endpoint (the demo lake on moto's server):
F2 rename of a key and of a folder, Cut/Copy/Paste across prefixes and buckets, drag onto a
folder row or a breadcrumb segment (move; Ctrl copies), Duplicate, the refusals, the undo hint,
and the menu entries' state. Every action goes through the transfer queue."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from lakegui.core.demo import DEMO_BUCKET
from lakegui.core.transfers.jobs import OverwritePolicy

AAPL = "data/fundamental/AAPL/"


def names(b):
    return [b.model.index(r, 0).data() for r in range(b.model.rowCount())]


def go(qtbot, b, prefix):
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate(prefix)


def select(b, *wanted):
    b.table.clearSelection()
    current = names(b)
    for name in wanted:
        b.table.selectionModel().select(
            b.model.index(current.index(name), 0),
            b.table.selectionModel().SelectionFlag.Select | b.table.selectionModel().SelectionFlag.Rows)


def connected(qtbot, window, conn, prefix=""):
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.set_connection(conn)
    if prefix:
        go(qtbot, window.browser, prefix)
    return window.browser


def finished(qtbot, b, start, past: str, timeout=30000, *, listed=True) -> str:
    """Run `start`, wait for its batch to end ('Moved …', 'Copied …') and, when it changed the open
    folder, for the folder's new listing."""
    if not listed:
        with qtbot.waitSignal(b.reorganiser.done, timeout=timeout,
                              check_params_cb=lambda text: text.startswith(past)) as blocker:
            start()
        assert not b.loading  # a batch's end lists the folders it changed at once, so none was
        return blocker.args[0]
    with qtbot.waitSignal(b.listing_finished, timeout=timeout):
        with qtbot.waitSignal(b.reorganiser.done, timeout=timeout,
                              check_params_cb=lambda text: text.startswith(past)) as blocker:
            start()
    return blocker.args[0]


def keys(conn, prefix, bucket=DEMO_BUCKET):
    pages = conn.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def body(conn, key, bucket=DEMO_BUCKET):
    return conn.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def event(kind, pos, mime, *, ctrl=False):
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    return kind(QPointF(pos) if kind is QDropEvent else pos, Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, mime,
                Qt.MouseButton.LeftButton, mods)


def row_center(b, name):
    return b.table.visualRect(b.model.index(names(b).index(name), 0)).center()


# rename

def test_f2_renames_a_key_in_place(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    before = body(demo_connection, AAPL + "2022/Q1.json")
    select(b, "Q1.json")
    b.reorganiser.rename_action.trigger()
    editor = b.table.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "Q1.json"  # the name cell's own editor
    assert editor.selectedText() == "Q1"  # ready to type over, the extension kept
    editor.setText("Q1 restated.json")
    text = finished(qtbot, b, lambda: qtbot.keyClick(editor, Qt.Key.Key_Return), "Renamed")
    assert text == "Renamed Q1.json to Q1 restated.json"
    assert names(b) == ["Q1 restated.json", "Q2.json", "Q3.json", "Q4.json"]
    assert body(demo_connection, AAPL + "2022/Q1 restated.json") == before
    assert AAPL + "2022/Q1.json" not in keys(demo_connection, AAPL)
    rows = [window.transfers.model.row(i) for i in range(window.transfers.model.rowCount())]
    assert [(r.direction, r.state) for r in rows] == [("move", "done")]  # it went through the queue
    assert [i.row() for i in b.table.selectionModel().selectedRows()] == [0]  # the renamed row, selected
    assert window.statusBar().currentMessage().startswith(text + " · ")  # kept through the refresh


def test_f2_renames_a_folder_as_all_its_keys(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL)
    select(b, "2022/")
    b.reorganiser.rename_action.trigger()
    editor = b.table.viewport().findChild(QLineEdit)
    assert editor.text() == "2022" and editor.selectedText() == "2022"  # without the folder's '/'
    editor.setText("FY2022")
    text = finished(qtbot, b, lambda: qtbot.keyClick(editor, Qt.Key.Key_Return), "Renamed")
    assert text == "Renamed 2022/ to FY2022/ (4 objects)"   # the folder's names, not its parent (finding A13)
    assert names(b) == ["2023/", "2024/", "FY2022/"]
    assert keys(demo_connection, AAPL + "FY2022/") == [f"{AAPL}FY2022/Q{i}.json" for i in range(1, 5)]
    assert keys(demo_connection, AAPL + "2022/") == []


def test_escape_cancels_and_bad_names_are_refused(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    r = b.reorganiser
    asked = []
    b.model.rename_requested.connect(lambda entry, name: asked.append(name))
    select(b, "Q1.json")
    r.rename_action.trigger()
    editor = b.table.viewport().findChild(QLineEdit)
    editor.setText("changed my mind.json")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: b.table.viewport().findChild(QLineEdit) is None or
                    not b.table.viewport().findChild(QLineEdit).isVisible(), timeout=5000)
    assert asked == []
    entry = b.model.entry(0)
    for name, why in (("", "The name is empty"), ("a/b.json", "cannot contain '/'"),
                      ("Q1.json", "is its name already")):
        with qtbot.waitSignal(r.failed, timeout=5000) as blocker:
            assert r.rename_to(entry, name) is None
        assert blocker.args[0].startswith("Cannot rename Q1.json: ") and why in blocker.args[0]
    deleted_row = type("DeletedObject", (), {"key": AAPL + "2022/Q9.json"})()  # Show versions' dimmed rows
    with qtbot.waitSignal(r.failed, timeout=5000) as blocker:
        assert r.rename_to(deleted_row, "Q10.json") is None
    assert "Undelete it first" in blocker.args[0]
    # A name that exists: the overwrite policy asks; cancelling queues nothing.
    questions = []
    r.choose_policy = lambda conflicts, total, where, **_: questions.append((conflicts, total, where)) or None
    with qtbot.waitSignal(r.done, timeout=10000) as blocker:
        task = r.rename_to(entry, "Q2.json")
    qtbot.waitUntil(task.done, timeout=10000)
    assert questions == [(1, 1, f"s3://{DEMO_BUCKET}/{AAPL}2022/")]
    assert blocker.args[0] == "The rename was cancelled; nothing was queued."
    assert window.transfers.model.rowCount() == 0
    assert body(demo_connection, AAPL + "2022/Q2.json") != body(demo_connection, AAPL + "2022/Q1.json")


# cut, copy, paste

def test_cut_and_paste_moves_across_prefixes_and_buckets(qtbot, window, demo_connection):
    s3 = demo_connection.client()
    s3.create_bucket(Bucket="staging-lake")  # the demo lake's restore drops it again
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    q1 = body(demo_connection, AAPL + "2022/Q1.json")
    select(b, "Q1.json", "Q2.json")
    b.reorganiser.cut_action.trigger()
    assert QApplication.clipboard().text() == "\n".join(
        f"s3://{DEMO_BUCKET}/{AAPL}2022/Q{i}.json" for i in (1, 2))  # the URIs as text for other apps
    go(qtbot, b, AAPL)
    assert b.reorganiser.paste_action.isEnabled()
    finished(qtbot, b, b.reorganiser.paste_action.trigger, "Moved 2 objects")
    assert names(b) == ["2022/", "2023/", "2024/", "Q1.json", "Q2.json"]
    assert keys(demo_connection, AAPL + "2022/") == [f"{AAPL}2022/Q{i}.json" for i in (3, 4)]
    assert not b.reorganiser.paste_action.isEnabled()  # what was cut is pasted once

    select(b, "2023/", "Q1.json")
    b.reorganiser.cut_action.trigger()
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.switch_bucket("staging-lake")
    finished(qtbot, b, b.reorganiser.paste_action.trigger, "Moved 5 objects")
    assert names(b) == ["2023/", "Q1.json"]
    assert keys(demo_connection, "", bucket="staging-lake") == ["2023/Q1.json", "2023/Q2.json", "2023/Q3.json",
                                                              "2023/Q4.json", "Q1.json"]
    assert body(demo_connection, "Q1.json", bucket="staging-lake") == q1
    assert keys(demo_connection, AAPL + "2023/") == [] and AAPL + "Q1.json" not in keys(demo_connection, AAPL)


def test_copy_and_paste_keeps_the_sources_and_asks_once_about_existing_targets(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL)
    r = b.reorganiser
    select(b, "2022/")
    r.copy_action.trigger()
    with qtbot.waitSignal(r.failed, timeout=5000) as blocker:
        assert r.paste() is None  # onto the same place
    assert "already" in blocker.args[0] and "Duplicate" in blocker.args[0]
    go(qtbot, b, AAPL + "2024/")
    finished(qtbot, b, r.paste_action.trigger, "Copied 4 objects")
    assert "2022/" in names(b)
    assert keys(demo_connection, AAPL + "2024/2022/") == [f"{AAPL}2024/2022/Q{i}.json" for i in range(1, 5)]
    assert len(keys(demo_connection, AAPL + "2022/")) == 4  # a copy leaves its sources
    # Again: all four exist now, so the policy is asked once for the batch.
    questions = []
    r.choose_policy = lambda conflicts, total, where, **_: questions.append((conflicts, total)) or \
        OverwritePolicy.SKIP
    assert r.paste_action.isEnabled()  # a copy pastes as often as asked
    text = finished(qtbot, b, r.paste_action.trigger, "Nothing was copied")
    assert questions == [(4, 4)]
    assert text.endswith(": the 4 objects exist there already and were skipped")


def test_a_folder_is_not_pasted_inside_itself(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL)
    select(b, "2022/")
    b.reorganiser.cut_action.trigger()
    go(qtbot, b, AAPL + "2022/")
    with qtbot.waitSignal(b.reorganiser.failed, timeout=5000) as blocker:
        b.reorganiser.paste()
    assert "cannot go inside itself" in blocker.args[0]
    assert len(keys(demo_connection, AAPL + "2022/")) == 4


# drag within the browser

def test_drag_onto_a_folder_row_moves_and_ctrl_copies(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL)
    select(b, "2022/")
    mime = b.drag_data()
    over = event(QDragMoveEvent, row_center(b, "2023/"), mime)
    b.table.dragMoveEvent(over)
    assert over.isAccepted() and over.dropAction() == Qt.DropAction.MoveAction
    assert b.table.drop_row == names(b).index("2023/")  # highlighted
    onto_itself = event(QDragMoveEvent, row_center(b, "2022/"), mime)
    b.table.dragMoveEvent(onto_itself)
    assert not onto_itself.isAccepted() and b.table.drop_row == -1
    ctrl = event(QDragMoveEvent, row_center(b, "2024/"), mime, ctrl=True)
    b.table.dragMoveEvent(ctrl)
    assert ctrl.dropAction() == Qt.DropAction.CopyAction

    finished(qtbot, b, lambda: b.table.dropEvent(event(QDropEvent, row_center(b, "2023/"), mime)), "Moved 4")
    assert names(b) == ["2023/", "2024/"] and b.table.drop_row == -1
    assert len(keys(demo_connection, AAPL + "2023/2022/")) == 4

    select(b, "2023/")
    mime = b.drag_data()
    finished(qtbot, b, lambda: b.table.dropEvent(event(QDropEvent, row_center(b, "2024/"), mime, ctrl=True)),
             "Copied 8", listed=False)  # the open folder's rows are unchanged: not listed again
    assert len(keys(demo_connection, AAPL + "2024/2023/")) == 8
    assert len(keys(demo_connection, AAPL + "2023/")) == 8  # Ctrl: copied, the sources stay


def test_drag_onto_a_breadcrumb_segment_moves_up(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    select(b, "Q3.json", "Q4.json")
    mime = b.drag_data()
    crumb = b.breadcrumb.buttons[3]  # bucket › data › fundamental › AAPL › 2022
    assert crumb.prefix == AAPL
    over = event(QDragMoveEvent, crumb.rect().center(), mime)
    crumb.dragMoveEvent(over)
    assert over.isAccepted() and crumb.isDown()  # highlighted as the target
    crumb.dragLeaveEvent(QDragLeaveEvent())
    assert not crumb.isDown()
    finished(qtbot, b, lambda: crumb.dropEvent(event(QDropEvent, crumb.rect().center(), mime)), "Moved 2")
    assert names(b) == ["Q1.json", "Q2.json"]
    assert [k for k in keys(demo_connection, AAPL) if k.count("/") == 3] == [AAPL + "Q3.json", AAPL + "Q4.json"]


def test_local_files_still_drop_as_uploads_and_drags_out_still_offer_files(qtbot, window, demo_connection,
                                                                            tmp_path):
    from PySide6.QtCore import QMimeData, QUrl

    b = connected(qtbot, window, demo_connection, AAPL)
    select(b, "2022/")
    assert "text/uri-list" in b.drag_data().formats()  # drag.py's drag-out to a file manager
    (tmp_path / "new.csv").write_text("a,b\n1,2\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "new.csv"))])
    with qtbot.waitSignal(b.upload_requested, timeout=5000) as blocker:
        b.table.dropEvent(event(QDropEvent, row_center(b, "2024/"), mime))
    assert blocker.args == [[str(tmp_path / "new.csv")], AAPL + "2024/"]


# duplicate

def test_duplicate_names_copies_beside_the_original(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    select(b, "Q1.json")
    finished(qtbot, b, b.reorganiser.duplicate_action.trigger, "Duplicated 1 object")
    select(b, "Q1.json")
    finished(qtbot, b, b.reorganiser.duplicate_action.trigger, "Duplicated 1 object")
    assert names(b) == ["Q1 copy 2.json", "Q1 copy.json", "Q1.json", "Q2.json", "Q3.json", "Q4.json"]
    assert body(demo_connection, AAPL + "2022/Q1 copy 2.json") == body(demo_connection, AAPL + "2022/Q1.json")
    go(qtbot, b, AAPL)
    select(b, "2024/")
    finished(qtbot, b, b.reorganiser.duplicate_action.trigger, "Duplicated 4 objects")
    assert names(b) == ["2022/", "2023/", "2024 copy/", "2024/"]


# the undo hint, and the menus

def test_a_move_in_a_versioned_bucket_says_how_to_undo_it(qtbot, window, demo_connection):
    s3 = demo_connection.client()
    s3.create_bucket(Bucket="versioned-lake")
    try:
        s3.put_bucket_versioning(Bucket="versioned-lake", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="versioned-lake", Key="a/x.json", Body=b"{}")
        b = connected(qtbot, window, demo_connection)
        with qtbot.waitSignal(b.listing_finished, timeout=10000):
            b.switch_bucket("versioned-lake", "a/")
        with qtbot.waitSignal(b.reorganiser.done, timeout=10000,
                              check_params_cb=lambda t: t.startswith("Queued")) as blocker:
            b.reorganiser.rename_to(b.model.entry(0), "y.json")
        assert "Undelete restores them" in blocker.args[0]
        qtbot.waitUntil(lambda: keys(demo_connection, "a/", bucket="versioned-lake") == ["a/y.json"], timeout=20000)
        qtbot.waitUntil(lambda: not b.reorganiser._batches, timeout=10000)
    finally:
        versions = s3.list_object_versions(Bucket="versioned-lake")
        for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket="versioned-lake", Key=v["Key"], VersionId=v["VersionId"])
        s3.delete_bucket(Bucket="versioned-lake")


def test_menu_entries_have_shortcuts_and_follow_the_selection_and_clipboard(qtbot, window, demo_connection):
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    r = window.browser.reorganiser
    shown = {a.text(): a.shortcut().toString() for a in edit.actions() if a.text()}
    assert {k: shown[k] for k in ("Rename", "Cut", "Copy", "Paste", "Duplicate")} == {
        "Rename": "F2", "Cut": "Ctrl+X", "Copy": "Ctrl+C", "Paste": "Ctrl+V", "Duplicate": "Ctrl+Alt+D"}
    actions = (r.rename_action, r.cut_action, r.copy_action, r.paste_action, r.duplicate_action)
    assert all(not a.icon().isNull() for a in actions)
    assert not any(a.isEnabled() for a in actions)  # not connected
    b = connected(qtbot, window, demo_connection, AAPL)
    QApplication.clipboard().setText("something else")
    assert not any(a.isEnabled() for a in actions)  # nothing selected, nothing to paste
    select(b, "2022/", "2023/")
    assert [a.isEnabled() for a in actions] == [False, True, True, False, True]  # rename takes one
    select(b, "2022/")
    assert r.rename_action.isEnabled()
    menu = b.context_menu()
    entries = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert {k: entries[k] for k in ("Rename", "Cut", "Copy", "Paste", "Duplicate")} == {
        "Rename": True, "Cut": True, "Copy": True, "Paste": False, "Duplicate": True}
    menu.deleteLater()
    qtbot.keyClick(b.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # the shortcut, in the table
    assert r.paste_action.isEnabled()
    QApplication.clipboard().setText("copied from elsewhere")
    assert not r.paste_action.isEnabled()  # the clipboard holds something else now


def test_a_failed_move_is_said_in_the_notice_bar_after_the_folder_is_listed_again(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL + "2022/")
    entry = b.model.entry(names(b).index("Q1.json"))
    demo_connection.client().delete_object(Bucket=DEMO_BUCKET, Key=AAPL + "2022/Q1.json")  # behind its back
    with qtbot.waitSignal(b.listing_finished, timeout=30000):
        with qtbot.waitSignal(b.reorganiser.failed, timeout=30000) as blocker:
            b.reorganiser.rename_to(entry, "Q1 old.json")
    assert blocker.args[0].startswith("1 of 1 object could not be moved to ")
    assert window.notice.isVisible() and window.notice.text() == blocker.args[0]  # not dismissed by the refresh
    assert names(b) == ["Q2.json", "Q3.json", "Q4.json"]


def test_paste_into_another_connection_streams_the_copy(qtbot, window, demo_connection, demo_lake, monkeypatch):
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.transfers import copy as copy_module

    real_stream = copy_module._stream

    s3 = demo_connection.client()
    s3.create_bucket(Bucket="other-account-lake")  # the demo lake's restore drops it again
    b = connected(qtbot, window, demo_connection)
    select(b, "README.txt")
    b.reorganiser.copy_action.trigger()
    # Another region: another connection as far as a copy knows, so the bytes stream through the app.
    other = Connection(ConnectionProfile(name="other", endpoint_url=demo_lake.endpoint_url, region="eu-west-1",
                                         bucket="other-account-lake", addressing_style="path"))
    streamed = []
    monkeypatch.setattr(copy_module, "_stream", lambda *a, **kw: streamed.append(a[3].key) or real_stream(*a, **kw))
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        window.set_connection(other)
    assert b.reorganiser.paste_action.isEnabled()  # the clipboard outlives the connection it came from
    finished(qtbot, b, b.reorganiser.paste_action.trigger, "Copied 1 object")
    assert names(b) == ["README.txt"]
    assert body(demo_connection, "README.txt", bucket="other-account-lake") == body(demo_connection, "README.txt")
    assert streamed == ["README.txt"]


def test_cut_rows_are_dimmed_until_pasted_or_the_clipboard_changes(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, AAPL)

    def dimmed():
        return {n for r, n in enumerate(names(b)) if b.model.index(r, 0).data(Qt.ItemDataRole.ForegroundRole)
                is not None}

    assert dimmed() == set()
    select(b, "2022/", "2023/")
    b.reorganiser.copy_action.trigger()
    assert dimmed() == set()  # a copy leaves its sources where they are
    b.reorganiser.cut_action.trigger()
    assert dimmed() == {"2022/", "2023/"}
    assert b.model.index(names(b).index("2022/"), 3).data(Qt.ItemDataRole.ForegroundRole) is not None
    go(qtbot, b, AAPL + "2022/")  # inside a cut folder: all of it goes with the folder
    assert names(b) and dimmed() == set(names(b))
    go(qtbot, b, AAPL)
    assert dimmed() == {"2022/", "2023/"}
    QApplication.clipboard().setText("something else")  # Paste would no longer move them
    qtbot.waitUntil(lambda: dimmed() == set(), timeout=2000)

    go(qtbot, b, AAPL + "2022/")
    select(b, "Q1.json")
    b.reorganiser.cut_action.trigger()
    assert dimmed() == {"Q1.json"}
    go(qtbot, b, AAPL)
    assert dimmed() == set()
    finished(qtbot, b, b.reorganiser.paste_action.trigger, "Moved 1 object")
    assert "Q1.json" in names(b) and dimmed() == set()  # pasted: nothing is dimmed, here or there
    go(qtbot, b, AAPL + "2022/")
    assert "Q1.json" not in names(b) and dimmed() == set()
