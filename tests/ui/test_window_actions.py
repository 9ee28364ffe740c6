"""The window's first hour (issue 18) against a real HTTP endpoint: the Delete question, the notice
bar, the path bar, feedback in the status bar and the log, Home/End, and the new actions: Upload…,
Open, bookmarks and search by name."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QToolButton, QWidget

from lakegui.core.demo import DEMO_BUCKET

from .test_object_actions import connected, go, names, select


def log_lines(window) -> str:
    return "\n".join(text for _level, text in window.log_panel.handler.all())


# defect 3


def test_delete_question_names_the_open_folder_and_its_plurals(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    select(b, "ticks.parquet")
    asked = []
    b.object_actions.confirm = lambda title, text: asked.append(text) or False
    qtbot.waitUntil(b.object_actions.delete_selected().done, timeout=10000)
    assert asked[-1].startswith(f"Delete 1 object from s3://{DEMO_BUCKET}/data/ticks/daily/AAPL/2024/?")
    go(qtbot, b, "data/fundamental/AAPL/")
    select(b, "2022/")
    qtbot.waitUntil(b.object_actions.delete_selected().done, timeout=10000)
    assert asked[-1].startswith(f"Delete 4 objects (4 of them inside 1 folder) from s3://{DEMO_BUCKET}/"
                                "data/fundamental/AAPL/?")


# defect 4


def test_notice_bar_closes_and_goes_after_success_navigation_and_refresh(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    window.show_notice("A folder name cannot contain '/'")
    assert window.notice.isVisible()
    close = window.notice.findChild(QToolButton, "noticeClose")
    close.click()
    assert not window.notice.isVisible()
    window.show_notice("again")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        qtbot.keyClick(b.table, Qt.Key.Key_F5)
    assert not window.notice.isVisible()
    window.show_notice("again")
    go(qtbot, b, "data/")
    assert not window.notice.isVisible()
    window.show_notice("again")
    select(b, "ticks/")
    b.copy_uri_action.trigger()  # a successful action
    assert not window.notice.isVisible()


def test_notice_bar_is_dark_in_the_dark_theme(qtbot, qapp, window):
    from lakegui.ui import theme

    window.show_notice("something to know")
    light = window.notice.grab().toImage().pixelColor(3, 3).lightness()
    try:
        theme.apply_theme(qapp, "dark")
        qtbot.waitUntil(lambda: window.notice.grab().toImage().pixelColor(3, 3).lightness() < 100, timeout=2000)
    finally:
        theme.apply_theme(qapp, "light")
    assert light > 150


def test_new_folder_dialog_stays_open_on_a_bad_name(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/")
    task = b.object_actions.new_folder()
    dialog = None

    def find():
        nonlocal dialog
        dialog = window.findChild(QWidget, "newFolderDialog")
        return dialog is not None and dialog.isVisible()

    qtbot.waitUntil(find, timeout=2000)
    edit = dialog.findChild(QLineEdit, "folderName")
    edit.setText("a/b")
    dialog.accept()
    assert dialog.isVisible() and "cannot contain '/'" in dialog.problem.text()
    assert edit.text() == "a/b"  # kept, to be corrected
    edit.setText("fresh")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        dialog.accept()
    qtbot.waitUntil(task.done, timeout=5000)
    assert "fresh/" in names(b)


# defect 8


def test_path_bar_elides_in_the_middle_with_the_full_path_as_tooltip(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    full = f"s3://{DEMO_BUCKET}/data/ticks/daily/AAPL/2024/"
    b.path_edit.setFixedWidth(140)
    b.table.setFocus()
    qtbot.waitUntil(lambda: not b.path_edit.hasFocus())
    shown = b.path_edit.displayed_text()
    assert shown.startswith("s3://") and shown.endswith("2024/") and "…" in shown
    assert b.path_edit.toolTip() == full and b.path_edit.text() == full
    b.path_edit.setFixedWidth(2000)
    assert b.path_edit.displayed_text() == full


# defect 12


def test_status_bar_counts_rows_and_filters_and_confirms_actions(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    assert window.statusBar().currentMessage() == "1 item"
    go(qtbot, b, "data/ticks/daily/")
    assert window.statusBar().currentMessage() == "12 items"
    qtbot.keyClicks(b.filter_edit, "M")
    shown = b.model.rowCount()
    assert 0 < shown < 12 and window.statusBar().currentMessage() == f"{shown} of 12 items"
    b.filter_edit.clear()
    assert window.statusBar().currentMessage() == "12 items"
    select(b, "AAPL/", "MSFT/", "NVDA/")
    b.copy_uri_action.trigger()
    assert window.statusBar().currentMessage() == "Copied 3 S3 URIs"
    assert QApplication.clipboard().text().count("s3://") == 3
    qtbot.waitUntil(lambda: not window._action_message)  # a later refresh of the user's says only what it lists
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.refresh()
    assert window.statusBar().currentMessage() == "12 items"


def test_delete_and_metadata_edits_confirm_and_log(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    assert "Connected to" in log_lines(window)  # lifecycle events at the default level
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    select(b, "ticks.parquet")
    b.object_actions.edit_properties = lambda props, *_: dict(props.metadata, source="corrected")
    b.object_actions.confirm = lambda title, text: True
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.properties_action.trigger()
    assert "Saved the metadata" in window.statusBar().currentMessage()
    assert "Saved the metadata of s3://us-equity-datalake/data/ticks/daily/AAPL/2024/ticks.parquet" in log_lines(window)
    select(b, "ticks.parquet")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.delete_action.trigger()
    assert window.statusBar().currentMessage().startswith("Deleted 1 object")
    assert f"Deleted 1 object from s3://{DEMO_BUCKET}/data/ticks/daily/AAPL/2024/" in log_lines(window)
    with qtbot.waitSignal(b.listing_failed, timeout=10000):
        b.switch_bucket("no-such-bucket")
    assert "no-such-bucket" in log_lines(window)


# defect 13


def test_home_and_end_go_to_the_first_and_last_row(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/")
    b.table.setFocus()
    b.table.setCurrentIndex(b.model.index(4, 1))

    def selected():
        return [i.row() for i in b.table.selectionModel().selectedRows()]

    qtbot.keyClick(b.table, Qt.Key.Key_End)
    assert b.table.currentIndex().row() == 11 and selected() == [11]
    qtbot.keyClick(b.table, Qt.Key.Key_Home)
    assert b.table.currentIndex().row() == 0 and selected() == [0]
    qtbot.keyClick(b.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert b.table.currentIndex().row() == 11 and selected() == [0]  # focus moves, the selection stays


# add 1: Upload… and Upload folder…


def wait_idle(qtbot, queue, timeout=30000):
    qtbot.waitUntil(lambda: queue.running_count == 0 and all(
        queue.model.row(i).state not in ("queued", "running") for i in range(queue.model.rowCount())),
        timeout=timeout)


def keys_under(conn, prefix):
    return {o["Key"] for o in conn.client().list_objects_v2(Bucket=DEMO_BUCKET, Prefix=prefix).get("Contents", [])}


def test_upload_files_and_a_folder_into_the_open_prefix(qtbot, window, demo_connection, tmp_path):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/reference/")
    (tmp_path / "one.csv").write_text("a\n1\n")
    (tmp_path / "two.json").write_text("{}")
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "three.txt").write_text("3")
    transfers = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Transfers")
    menu_texts = [a.text() for a in transfers.actions()]
    assert "Upload…" in menu_texts and "Upload folder…" in menu_texts
    context = [a.text() for a in b.context_menu().actions()]
    assert "Upload…" in context and "Upload folder…" in context
    window.choose_upload_files = lambda: [str(tmp_path / "one.csv"), str(tmp_path / "two.json")]
    b.table.setFocus()
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000) as queued:
        qtbot.keyClick(b.table, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert queued.args[1] == 2
    wait_idle(qtbot, window.transfers)
    window.choose_upload_folder = lambda: str(folder)
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        b.upload_folder_action.trigger()
    wait_idle(qtbot, window.transfers)
    assert keys_under(demo_connection, "data/reference/") >= {
        "data/reference/one.csv", "data/reference/two.json", "data/reference/batch/sub/three.txt"}
    qtbot.waitUntil(lambda: not b.loading and "batch/" in names(b), timeout=10000)  # the open folder refreshes
    assert {"one.csv", "two.json"} <= set(names(b))
    window.choose_upload_files = lambda: []  # cancelled: nothing happens
    b.upload_action.trigger()
    assert window.transfers.model.rowCount() == 3


# add 2: Open and Show in folder


def test_open_downloads_to_the_cache_once_and_hands_the_file_to_the_desktop(qtbot, window, demo_connection):
    from lakegui.core.paths import data_dir

    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/reference/")
    opened = []
    window.opener.open_url = lambda url: opened.append(url.toLocalFile()) or True
    select(b, "tickers.csv")
    b.table.setFocus()
    b.table.setCurrentIndex(b.model.index(names(b).index("tickers.csv"), 0))
    with qtbot.waitSignal(window.opener.opened, timeout=20000) as done:
        qtbot.keyClick(b.table, Qt.Key.Key_Return)
    path = done.args[0]
    assert opened == [path] and path.startswith(str(data_dir() / "cache"))
    key = "data/reference/tickers.csv"
    body = demo_connection.client().get_object(Bucket=DEMO_BUCKET, Key=key)["Body"].read()
    assert Path(path).read_bytes() == body
    assert window.transfers.model.rowCount() == 1  # through the queue
    with qtbot.waitSignal(window.opener.opened, timeout=10000):
        b.table.activated.emit(b.model.index(names(b).index("tickers.csv"), 0))  # a double-click
    assert window.transfers.model.rowCount() == 1 and len(opened) == 2  # from the cache
    demo_connection.client().put_object(Bucket=DEMO_BUCKET, Key=key, Body=b"symbol\nNEW\n")  # a new ETag
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.refresh()
    with qtbot.waitSignal(window.opener.opened, timeout=20000) as again:
        b.table.activated.emit(b.model.index(names(b).index("tickers.csv"), 0))
    assert again.args[0] != path and Path(again.args[0]).read_bytes() == b"symbol\nNEW\n"
    assert window.transfers.model.rowCount() == 2
    # No application for it: said clearly, with the path.
    window.opener.open_url = lambda url: False
    with qtbot.waitSignal(window.opener.failed, timeout=10000):
        b.table.activated.emit(b.model.index(names(b).index("tickers.csv"), 0))
    assert window.notice.isVisible() and again.args[0] in window.notice.text()


def test_a_finished_download_shows_in_its_folder(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/reference/")
    window.opener.open_url = lambda url: True
    with qtbot.waitSignal(window.opener.opened, timeout=20000) as done:
        b.table.activated.emit(b.model.index(names(b).index("tickers.parquet"), 0))
    q = window.queue
    assert "Show in folder" not in [a.text() for a in q.context_menu().actions()]  # nothing selected
    q.table.selectRow(0)
    assert "Show in folder" in [a.text() for a in q.context_menu().actions()]
    shown = []
    q.open_url = lambda url: shown.append(url.toLocalFile()) or True
    q.show_in_folder_action.trigger()
    assert shown == [str(Path(done.args[0]).parent)]
    q.open_url = lambda url: False
    q.show_in_folder_action.trigger()
    assert window.notice.isVisible() and str(Path(done.args[0]).parent) in window.notice.text()


# add 3: bookmarks


def test_bookmarks_are_saved_per_profile_and_open_from_menu_and_panel(qtbot, window, demo_connection):
    from lakegui.core.connection import Connection
    from lakegui.core.settings import Settings

    b = connected(qtbot, window, demo_connection)
    assert ("Go", "Bookmark this location", "Ctrl+Shift+D") in window.shortcut_rows()  # listed in F1
    go(qtbot, b, "data/ticks/daily/")
    saved = []
    window.settings_chosen.connect(saved.append)
    b.table.setFocus()
    qtbot.keyClick(b.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    uri = f"s3://{DEMO_BUCKET}/data/ticks/daily/"
    assert window.bookmarks() == [uri] and saved and saved[-1].bookmarks == {"test": [uri]}
    assert window.bookmarks_dock.isVisible() and window.bookmarks_panel.uris() == [uri]
    go(qtbot, b, "data/")
    menu_action = next(a for a in window.bookmarks_menu.actions() if a.data() == uri)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        menu_action.trigger()
    assert b.prefix == "data/ticks/daily/"
    go(qtbot, b, "")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        window.bookmarks_panel.list.itemClicked.emit(window.bookmarks_panel.list.item(0))
    assert b.prefix == "data/ticks/daily/"
    # Kept in settings.json, per profile, type-checked; a file from before bookmarks has none.
    back = Settings.from_dict(saved[-1].to_dict())
    assert back.bookmarks == {"test": [uri]}
    assert Settings.from_dict({}).bookmarks == {}
    assert Settings.from_dict({"bookmarks": "s3://x/"}).bookmarks == {}
    assert Settings.from_dict({"bookmarks": {"p": [1, "s3://a/b/", "not a uri", "s3://a/b/"], "q": 3}}).bookmarks \
        == {"p": ["s3://a/b/"]}
    other = Connection(replace_name(demo_connection.profile, "other"))
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        window.set_connection(other)
    assert window.bookmarks() == [] and window.bookmarks_panel.uris() == []
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        window.set_connection(demo_connection)
    assert window.bookmarks() == [uri]
    window.bookmarks_panel.list.setCurrentRow(0)
    window.bookmarks_panel.remove_button.click()
    assert window.bookmarks() == [] and saved[-1].bookmarks == {}


def replace_name(profile, name):
    from dataclasses import replace

    return replace(profile, name=name)


# add 5: search by name


def test_search_by_name_streams_counts_and_opens_results(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/")
    window.search_action.trigger()
    search = window.search
    assert search.isVisible() and f"s3://{DEMO_BUCKET}/data/" in search.where.text()
    qtbot.keyClicks(search.query, "tickers")
    with qtbot.waitSignal(search.finished_search, timeout=20000) as found:
        qtbot.keyClick(search.query, Qt.Key.Key_Return)
    matches, keys = found.args
    assert matches == 2 and keys > 2
    assert search.count.text() == f"2 matches in {keys:,} keys below s3://{DEMO_BUCKET}/data/"
    paths = [search.model.index(r, 0).data() for r in range(search.model.rowCount())]
    assert paths == ["reference/tickers.csv", "reference/tickers.parquet"]  # below the searched prefix
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        search.table.selectRow(1)
    assert b.prefix == "data/reference/"
    # Trial C, finding 9: the header followed the match's folder, the results and count did not
    assert search.where.text() == f"Search below s3://{DEMO_BUCKET}/data/"
    qtbot.waitUntil(lambda: [o.key for o in b.selected_entries()[0]] == ["data/reference/tickers.parquet"],
                    timeout=5000)
    search.table.selectRow(0)  # in the open folder: selected without listing it again
    assert [o.key for o in b.selected_entries()[0]] == ["data/reference/tickers.csv"]
    with qtbot.waitSignal(search.finished_search, timeout=20000):  # searched again: from the same root
        search.search()
    assert search.model.rowCount() == 2 and search.count.text().endswith(f"below s3://{DEMO_BUCKET}/data/")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):  # elsewhere: the header follows the browser
        b.navigate("")
    assert search.where.text() == f"Search below s3://{DEMO_BUCKET}/"
    search.close()


def test_search_is_cancellable(qtbot, window, demo_connection):
    from .test_main_window import GatedClient

    b = connected(qtbot, window, demo_connection)
    gated = GatedClient(demo_connection.client(), "data/")
    demo_connection._clients["interactive"] = gated
    b.navigate("data/")  # blocks in the gate too: search from the location it names
    qtbot.waitUntil(gated.entered.is_set, timeout=5000)
    gated.entered.clear()
    search = window.open_search()
    search.query.setText("ticks")
    search.search()
    qtbot.waitUntil(gated.entered.is_set, timeout=5000)
    assert search.running and search.cancel_button.isEnabled()
    search.cancel_button.click()
    qtbot.waitUntil(lambda: not search.running, timeout=2000)
    assert "cancelled" in search.count.text() and not search.cancel_button.isEnabled()
    gated.release.set()
    qtbot.waitUntil(lambda: not b.loading, timeout=10000)
    assert search.model.rowCount() == 0


def test_bookmarks_reach_settings_json_through_the_app(qtbot, qloop, demo_connection):
    import json

    from lakegui import app as lakeapp
    from lakegui.core import settings as settings_store

    lake = lakeapp.LakeApp(lakeapp.LaunchOptions())
    qtbot.addWidget(lake.window)
    try:
        with qtbot.waitSignal(lake.window.browser.listing_finished, timeout=10000):
            lake.window.set_connection(demo_connection)
        go(qtbot, lake.window.browser, "data/reference/")
        lake.window.bookmark_action.trigger()
        saved = json.loads(settings_store.settings_path().read_text(encoding="utf-8"))
        assert saved["bookmarks"] == {"test": [f"s3://{DEMO_BUCKET}/data/reference/"]}
        assert settings_store.load().bookmarks == saved["bookmarks"]
    finally:
        lake.close()
        lake.executor.shutdown(wait=True)


def test_new_windows_and_panels_name_their_controls(qtbot, window, demo_connection):
    from lakegui.ui.dialogs.new_folder import NewFolderDialog

    from .test_feel import _unnamed

    connected(qtbot, window, demo_connection)
    window.bookmarks_dock.show()
    search = window.open_search()
    dialog = NewFolderDialog("s3://b/", "", window)
    dialog.show()
    for root in (window, search, dialog):
        assert _unnamed(root) == [], type(root).__name__
    dialog.close()
    search.close()


def test_the_context_menu_leaves_the_window_actions_as_they_were(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    assert b.download_action.isEnabled()
    menu = b.context_menu()  # nothing selected: Download is disabled in the menu...
    assert not b.download_action.isEnabled()
    menu.aboutToHide.emit()  # as when it closes (a popup grabs the keyboard, which offscreen cannot)
    qtbot.waitUntil(b.download_action.isEnabled, timeout=2000)  # ...and Ctrl+D works again afterwards


def test_cached_copies_older_than_a_week_are_swept(tmp_path):
    import os
    import time

    from lakegui.core.listing import ObjectEntry
    from lakegui.ui.browser.opener import KEEP_SECONDS, cache_path, sweep_cache

    old = cache_path("b", ObjectEntry("k/old.csv", 1, None, "e1", "STANDARD"))
    new = cache_path("b", ObjectEntry("k/new.csv", 1, None, "e2", "STANDARD"))
    for p in (old, new):
        p.parent.mkdir(parents=True)
        p.write_text("x")
    now = time.time()
    os.utime(old.parent, (now - KEEP_SECONDS - 60, now - KEEP_SECONDS - 60))
    assert sweep_cache(now) == 1
    assert not old.exists() and new.exists()


def test_renaming_a_profile_carries_its_bookmarks(qtbot, window, demo_connection, monkeypatch):
    """Defect: a profile renamed in File › Connect… lost its bookmarks (they stayed under the old name)."""
    from lakegui.ui.dialogs.connection import ConnectionDialog

    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/reference/")
    window.bookmark_action.trigger()
    uri = f"s3://{DEMO_BUCKET}/data/reference/"
    edited = []
    window.profiles_edited.connect(edited.append)

    def rename_and_save(dialog):
        dialog.name_edit.setText("lake prod")
        dialog.save()
        return ConnectionDialog.DialogCode.Accepted

    monkeypatch.setattr(ConnectionDialog, "exec", rename_and_save)
    window.open_connection_dialog()
    assert [p.name for p in edited[-1]] == ["lake prod"]
    assert window.settings.bookmarks == {"lake prod": [uri]}
    assert window.bookmarks() == [uri] and window.bookmarks_panel.uris() == [uri]
