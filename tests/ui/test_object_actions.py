"""Object actions in the browser against a real HTTP endpoint: presigned URL, delete with
confirmation, new folder, metadata edit, and odd keys shown and opened exactly."""

from __future__ import annotations

import urllib.request

from PySide6.QtWidgets import QApplication

from lakegui.core.demo import DEMO_BUCKET
from lakegui.ui.browser.model import ENTRY_ROLE


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


def connected(qtbot, window, conn):
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.set_connection(conn)
    return window.browser


def test_presigned_url_downloads_without_credentials(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    select(b, "README.txt")
    b.object_actions.ask_expiry = lambda: 3600
    with qtbot.waitSignal(b.object_actions.done, timeout=10000) as blocker:
        b.presign_action.trigger()
    assert "1 hour" in blocker.args[0]
    url = QApplication.clipboard().text()
    assert "X-Amz-Expires=3600" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = resp.read()
    assert body == demo_connection.client().get_object(Bucket=DEMO_BUCKET, Key="README.txt")["Body"].read()


def test_delete_asks_with_the_count_and_respects_no(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/fundamental/AAPL/")
    assert names(b) == ["2022/", "2023/", "2024/"]
    select(b, "2022/", "2023/")
    asked = []
    b.object_actions.confirm = lambda title, text: asked.append(text) or False
    task = b.object_actions.delete_selected()
    qtbot.waitUntil(task.done, timeout=10000)
    assert "Delete 8 objects (8 of them inside 2 folders)" in asked[0]
    assert len(demo_connection.client().list_objects_v2(Bucket=DEMO_BUCKET,
                                                        Prefix="data/fundamental/AAPL/")["Contents"]) == 12
    b.object_actions.confirm = lambda title, text: True
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        with qtbot.waitSignal(b.object_actions.done, timeout=10000) as blocker:
            b.delete_action.trigger()
    assert blocker.args[0] == "Deleted 8 objects"
    assert names(b) == ["2024/"]


def test_new_folder_is_a_marker_and_bad_names_are_refused(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/")
    b.object_actions.ask_folder_name = lambda: "a/b"
    with qtbot.waitSignal(b.object_actions.failed, timeout=10000) as blocker:
        b.new_folder_action.trigger()
    assert "cannot contain '/'" in blocker.args[0]
    b.object_actions.ask_folder_name = lambda: "scratch space"
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.new_folder_action.trigger()
    assert "scratch space/" in names(b)
    head = demo_connection.client().head_object(Bucket=DEMO_BUCKET, Key="data/scratch space/")
    assert head["ContentLength"] == 0


def test_metadata_edit_rewrites_in_place_after_confirmation(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/AAPL/2024/")
    select(b, "ticks.parquet")
    seen = {}

    def edit(props, *_):
        seen["props"] = props
        return dict(props.metadata, source="corrected-feed")

    b.object_actions.edit_properties = edit
    b.object_actions.confirm = lambda title, text: "copied onto itself" in text
    key = "data/ticks/daily/AAPL/2024/ticks.parquet"
    before = demo_connection.client().get_object(Bucket=DEMO_BUCKET, Key=key)["Body"].read()
    with qtbot.waitSignal(b.object_actions.done, timeout=10000):
        b.properties_action.trigger()
    assert seen["props"].metadata["symbol"] == "AAPL"
    head = demo_connection.client().head_object(Bucket=DEMO_BUCKET, Key=key)
    assert head["Metadata"]["source"] == "corrected-feed" and head["Metadata"]["symbol"] == "AAPL"
    assert demo_connection.client().get_object(Bucket=DEMO_BUCKET, Key=key)["Body"].read() == before


def test_properties_dialog_edits_and_validates(qtbot, demo_connection):
    from lakegui.core.objects import head
    from lakegui.ui.dialogs.properties import PropertiesDialog

    props = head(demo_connection.client(), DEMO_BUCKET, "data/ticks/daily/MSFT/2023/ticks.parquet")
    dialog = PropertiesDialog(props)
    qtbot.addWidget(dialog)
    assert dialog.metadata() == props.metadata
    dialog._add_row("Quality", "checked")
    assert dialog.metadata()["quality"] == "checked"
    dialog._add_row("symbol", "dup")
    dialog._on_buttons_accepted()
    assert "once" in dialog.problem.text() and dialog.result() == 0


def test_odd_keys_are_shown_and_opened_exactly(qtbot, window, demo_connection):
    s3 = demo_connection.client()
    odd = ["odd/with space.txt", "odd/plus+sign.csv", "odd/100%.json", "odd/ünïcødé 📈.parquet",
           "odd/trailing space ", "odd/sub dir/inner.txt"]
    for k in odd:
        s3.put_object(Bucket=DEMO_BUCKET, Key=k, Body=k.encode())
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "odd/")
    assert sorted(names(b)) == sorted(["sub dir/", "with space.txt", "plus+sign.csv", "100%.json",
                                       "ünïcødé 📈.parquet", "trailing space "])
    select(b, "100%.json")
    with qtbot.waitSignal(window.preview.preview_failed, timeout=10000) as blocker:
        pass
    assert blocker.args == ["odd/100%.json", "Not valid JSON: Expecting value at line 1, column 1."]
    index = b.model.index(names(b).index("sub dir/"), 0)
    assert index.data(ENTRY_ROLE).prefix == "odd/sub dir/"
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.table.activated.emit(index)
    assert names(b) == ["inner.txt"] and b.path_edit.text() == f"s3://{DEMO_BUCKET}/odd/sub dir/"


def test_breadcrumb_navigates_to_each_level(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/")
    assert [x.text() for x in b.breadcrumb.buttons] == [DEMO_BUCKET, "data", "ticks", "daily"]
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.breadcrumb.buttons[1].click()
    assert b.prefix == "data/" and b.back_action.isEnabled()
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.breadcrumb.buttons[0].click()
    assert b.prefix == "" and names(b) == ["data/", "README.txt"]
    assert [x.text() for x in b.breadcrumb.buttons] == [DEMO_BUCKET]
    b.breadcrumb.set_path(DEMO_BUCKET, "a//b/")  # an empty folder name between slashes is shown, not lost
    assert [x.text() for x in b.breadcrumb.buttons] == [DEMO_BUCKET, "a", "(empty name)", "b"]
    assert b.breadcrumb.buttons[2].toolTip() == f"s3://{DEMO_BUCKET}/a//"


def test_bucket_switcher_lists_buckets_and_takes_typed_names(qtbot, window, demo_connection):
    demo_connection.client().create_bucket(Bucket="second-bucket")
    demo_connection.client().put_object(Bucket="second-bucket", Key="hello.txt", Body=b"hi")
    b = connected(qtbot, window, demo_connection)
    box = b.bucket_box
    qtbot.waitUntil(lambda: box.count() == 2, timeout=10000)
    assert [box.itemText(i) for i in range(box.count())] == ["second-bucket", DEMO_BUCKET]
    assert box.currentText() == DEMO_BUCKET
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        box.activated.emit(0)
    assert b.bucket == "second-bucket" and names(b) == ["hello.txt"]
    assert b.breadcrumb.buttons[0].text() == "second-bucket"
    box.setEditText("Not_A_Bucket")
    box.activated.emit(-1)
    assert "not a valid bucket name" in b.state_label.text() and b.bucket == "second-bucket"


def test_server_side_prefix_search(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection)
    go(qtbot, b, "data/ticks/daily/")
    assert len(names(b)) == 12
    b.server_filter.setChecked(True)
    b.filter_edit.setText("MS")
    with qtbot.waitSignal(b.listing_finished, timeout=10000) as blocker:
        b.filter_edit.returnPressed.emit()
    assert blocker.args == ["data/ticks/daily/", 1] and names(b) == ["MSFT/"]
    assert "listed by the server" in b.state_label.text()


def test_an_ampersand_in_a_folder_name_is_shown_not_taken_as_a_shortcut(qtbot, window, demo_connection):
    """'europe & asia/' showed as 'europe _asia' in the breadcrumb (Qt's mnemonic marker)."""
    from PySide6.QtGui import QKeySequence

    b = connected(qtbot, window, demo_connection)
    b.breadcrumb.set_path(DEMO_BUCKET, "europe & asia/r&d/")
    for button, name in zip(b.breadcrumb.buttons[1:], ["europe & asia", "r&d"]):
        assert QKeySequence.mnemonic(button.text()).isEmpty()
        assert button.text().replace("&&", "&") == name
    assert b.breadcrumb.buttons[2].toolTip() == f"s3://{DEMO_BUCKET}/europe & asia/r&d/"
    window._save_bookmarks([f"s3://{DEMO_BUCKET}/europe & asia/r&d/"])
    window._fill_bookmarks_menu()
    action = next(a for a in window.bookmarks_menu.actions() if a.data())
    assert QKeySequence.mnemonic(action.text()).isEmpty() and action.text() == "europe && asia/r&&d/"
