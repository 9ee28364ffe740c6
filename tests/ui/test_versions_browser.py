"""Show versions in the real browser (issue 22, item 2), on moto's HTTP server with a versioned
bucket: the toggle streams versions in, deleted objects and folders are dimmed, Undelete brings
them back, Revert copies an older version over the latest (bytes checked), a version is previewed
and downloaded, a version is deleted for good, the Delete question says what a delete does on a
versioned and an unversioned bucket, and the status bar names the versioning state."""

from __future__ import annotations

import io

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.config import Config
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from lakegui.core.connection import Connection
from lakegui.ui.browser.model import ENTRY_ROLE
from lakegui.ui.browser.versions_model import DeletedObject
from lakegui.ui.browser.versions_pane import HINT
from tests.ui.conftest import profile_for

BUCKET = "versioned"


def s3client(url):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def fill(s3, bucket: str, *, deleted_folder: bool) -> dict:
    """A versioned bucket: a.txt with 3 versions, b.txt deleted (a marker over 1 version), live/ a
    folder with one live key, and (`deleted_folder`) old/, a folder whose every key is deleted."""
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = {}
    for body in (b"one", b"two!", b"three"):
        ids.setdefault("a.txt", []).append(s3.put_object(Bucket=bucket, Key="a.txt", Body=body)["VersionId"])
    ids["b.txt"] = [s3.put_object(Bucket=bucket, Key="b.txt", Body=b"bee")["VersionId"]]
    s3.delete_object(Bucket=bucket, Key="b.txt")
    for key in ("old/x.txt", "old/y.txt") if deleted_folder else ():
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        s3.delete_object(Bucket=bucket, Key=key)
    s3.put_object(Bucket=bucket, Key="live/z.txt", Body=b"zed")
    return ids


@pytest.fixture
def lake(moto_endpoint):
    """moto's server. It lists a folder whose keys are all deleted as a folder (S3 and SeaweedFS do
    not), so the deleted folder is SeaweedFS's (`seaweed_lake`)."""
    s3 = s3client(moto_endpoint)
    return s3, fill(s3, BUCKET, deleted_folder=False), Connection(profile_for(moto_endpoint, BUCKET))


@pytest.fixture
def seaweed_lake(seaweedfs, moto_server_url):
    """The same on SeaweedFS (a session-wide server, left as found), with the deleted folder old/."""
    s3, bucket = seaweedfs.client(), "versioned-browser"
    ids = fill(s3, bucket, deleted_folder=True)
    yield s3, bucket, ids, Connection(profile_for(seaweedfs.endpoint_url, bucket))
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        gone = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if gone:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": gone})
    s3.delete_bucket(Bucket=bucket)


def rows(b):
    return {b.model.index(r, 0).data(): b.model.index(r, 0).data(ENTRY_ROLE) for r in range(b.model.rowCount())}


def select(b, name):
    names = [b.model.index(r, 0).data() for r in range(b.model.rowCount())]
    flags = b.table.selectionModel().SelectionFlag
    # Not selectRow: it reads the keyboard's modifiers, which a shortcut pressed before may leave set.
    b.table.selectionModel().select(b.model.index(names.index(name), 0), flags.ClearAndSelect | flags.Rows)


def connected(qtbot, window, conn):
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.set_connection(conn)
    qtbot.waitUntil(lambda: window.browser.versions.state != "", timeout=10000)
    return window.browser


def show_versions(qtbot, b, *, keys: bool = False):
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        if keys:  # Ctrl+Shift+H, pressed in the table
            b.window().activateWindow()
            b.table.setFocus()
            qtbot.waitUntil(b.table.hasFocus, timeout=2000)
            QTest.keyClick(b.table, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
            QTest.keyRelease(b.table, Qt.Key.Key_Shift)  # Qt keeps the last event's modifiers as held
        else:
            b.versions.toggle_action.trigger()


def test_toggle_lists_versions_and_dims_deleted_objects_and_folders(qtbot, window, lake):
    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    assert window.versioning_label.text() == "Versioning: on" and window.versioning_label.isVisible()
    assert set(rows(b)) == {"a.txt", "live/"}  # a plain listing: nothing deleted shows
    assert b.versions.pane.isHidden()
    assert b.versions.toggle_action.shortcut().toString() == "Ctrl+Shift+H"
    b.table.clearSelection()
    show_versions(qtbot, b, keys=True)
    assert b.versions.toggle_action.isChecked()
    # Nothing selected: the pane says what to do once the listing ends (it stayed on "Listing versions…").
    assert b.versions.selected_entry() is None and b.versions.pane.title.text() == HINT
    shown = rows(b)
    assert set(shown) == {"a.txt", "b.txt", "live/"}
    assert isinstance(shown["b.txt"], DeletedObject) and shown["b.txt"].size == 3
    assert b.model.is_deleted(shown["b.txt"]) and not b.model.is_deleted(shown["live/"])
    assert not b.model.is_deleted(shown["a.txt"])
    row = list(shown).index("b.txt")
    assert b.model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # dimmed
    assert b.model.index(row, 0).data(Qt.ItemDataRole.FontRole).italic()
    assert b.model.index(list(shown).index("a.txt"), 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert b.versions.pane.isVisible()

    select(b, "a.txt")
    pane = b.versions.pane
    assert [pane.model.version(r).version_id for r in range(pane.model.rowCount())] == ids["a.txt"][::-1]
    assert pane.model.index(0, 3).data() == "version (latest)"
    assert "3 versions" in pane.title.text()
    pane.table.selectRow(2)
    assert pane.revert_action.isEnabled() and not pane.undelete_action.isEnabled()
    pane.copy_uri_action.trigger()
    assert QApplication.clipboard().text() == f"s3://{BUCKET}/a.txt?versionId={ids['a.txt'][0]}"

    # Off again: the plain listing, without the deleted rows or the pane.
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.versions.toggle_action.trigger()
    assert set(rows(b)) == {"a.txt", "live/"} and b.versions.pane.isHidden()


def test_undelete_an_object(qtbot, window, lake):
    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    show_versions(qtbot, b)
    select(b, "b.txt")
    pane = b.versions.pane
    assert pane.deleted and pane.undelete_action.isEnabled()
    assert pane.model.index(0, 3).data() == "delete marker (latest)"
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        with qtbot.waitSignal(b.versions.done, timeout=10000) as done:
            pane.undelete_action.trigger()
    assert done.args[0] == f"Undeleted s3://{BUCKET}/b.txt"
    assert s3.get_object(Bucket=BUCKET, Key="b.txt")["Body"].read() == b"bee"
    assert type(rows(b)["b.txt"]).__name__ == "ObjectEntry"  # live again, and selected again
    qtbot.waitUntil(lambda: pane.key == "b.txt" and not pane.deleted, timeout=5000)


def test_deleted_folder_is_dimmed_and_undeleted_on_seaweedfs(qtbot, window, seaweed_lake):
    s3, BUCKET, ids, conn = seaweed_lake
    b = connected(qtbot, window, conn)
    assert set(rows(b)) == {"a.txt", "live/"}
    show_versions(qtbot, b)
    shown = rows(b)
    assert set(shown) == {"a.txt", "b.txt", "old/", "live/"}
    assert b.model.is_deleted(shown["old/"]) and b.model.is_deleted(shown["b.txt"])
    assert not b.model.is_deleted(shown["live/"])
    pane = b.versions.pane
    select(b, "old/")
    assert pane.folder == "old/" and pane.undelete_action.isEnabled()
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        with qtbot.waitSignal(b.versions.done, timeout=10000) as done:
            pane.undelete_action.trigger()
    assert done.args[0] == f"Undeleted 2 objects in s3://{BUCKET}/old/"
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="old/")["Contents"]) == \
        ["old/x.txt", "old/y.txt"]
    assert not b.model.is_deleted(rows(b)["old/"])


def test_revert_to_an_older_version_asks_and_copies_it_over_the_latest(qtbot, window, lake):
    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    show_versions(qtbot, b)
    select(b, "a.txt")
    pane = b.versions.pane
    assert pane.select_version(ids["a.txt"][0])  # the oldest, b"one"
    asked = []
    b.versions.confirm = lambda title, text, yes: asked.append((title, text, yes)) or False
    task = b.versions.revert()
    qtbot.waitUntil(task.done, timeout=5000)
    assert asked[0][0] == "Revert to this version" and "copied over the latest version, server-side" in asked[0][1]
    assert s3.get_object(Bucket=BUCKET, Key="a.txt")["Body"].read() == b"three"  # No: nothing changed

    b.versions.confirm = lambda title, text, yes: True
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        with qtbot.waitSignal(b.versions.done, timeout=10000):
            pane.revert_action.trigger()
    assert s3.get_object(Bucket=BUCKET, Key="a.txt")["Body"].read() == b"one"
    qtbot.waitUntil(lambda: pane.key == "a.txt" and pane.model.rowCount() == 4, timeout=5000)
    assert pane.model.version(0).latest and pane.model.version(0).size == 3  # the copy, on top of the history


def test_delete_version_permanently_says_it_cannot_be_undone(qtbot, window, lake):
    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    show_versions(qtbot, b)
    select(b, "a.txt")
    pane = b.versions.pane
    pane.select_version(ids["a.txt"][1])
    asked = []
    b.versions.confirm = lambda title, text, yes: asked.append(text) or True
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        pane.delete_action.trigger()
    assert "permanently" in asked[0] and "This cannot be undone." in asked[0]
    left = [v["VersionId"] for v in s3.list_object_versions(Bucket=BUCKET, Prefix="a.txt")["Versions"]]
    assert sorted(left) == sorted([ids["a.txt"][0], ids["a.txt"][2]])
    qtbot.waitUntil(lambda: pane.key == "a.txt" and pane.model.rowCount() == 2, timeout=5000)


def parquet_bytes(values) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"price": values}), buf)
    return buf.getvalue()


def test_preview_and_download_of_an_older_version(qtbot, window, lake, tmp_path):
    s3, ids, conn = lake
    key = "prices.parquet"
    old = s3.put_object(Bucket=BUCKET, Key=key, Body=parquet_bytes([1.0, 2.0]))["VersionId"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=parquet_bytes([7.0, 8.0, 9.0]))
    b = connected(qtbot, window, conn)
    show_versions(qtbot, b)
    select(b, key)
    pane = b.versions.pane
    assert pane.select_version(old)
    with qtbot.waitSignal(window.preview.preview_finished, timeout=10000):
        pane.preview_action.trigger()
    assert window.preview.version_id == old and old in window.preview.title.text()
    assert window.preview.source.version_id == old
    assert window.preview.parquet.preview.num_rows == 2  # the old version's rows, read by range with VersionId

    window.choose_download_folder = lambda: str(tmp_path)
    with qtbot.waitSignal(window.transfers.idle, timeout=20000):
        pane.download_action.trigger()
    assert (tmp_path / key).read_bytes() == parquet_bytes([1.0, 2.0])


def test_delete_question_on_versioned_and_unversioned_buckets(qtbot, window, lake, moto_endpoint):
    s3, ids, conn = lake
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="p.txt", Body=b"p")
    b = connected(qtbot, window, conn)
    asked = []
    b.object_actions.confirm = lambda title, text: asked.append(text) or False
    select(b, "a.txt")
    qtbot.waitUntil(b.object_actions.delete_selected().done, timeout=10000)
    assert "a delete marker is added; Undelete brings it back" in asked[-1]

    window.set_connection(Connection(profile_for(moto_endpoint, "plain")))
    qtbot.waitUntil(lambda: window.browser.versions.state == "never" and "p.txt" in rows(b), timeout=10000)
    assert window.versioning_label.text() == "Versioning: off"
    assert b.versions.versioning_action.text() == "Enable bucket versioning…"
    select(b, "p.txt")
    qtbot.waitUntil(b.object_actions.delete_selected().done, timeout=10000)
    assert "the delete is permanent" in asked[-1] and "delete marker" not in asked[-1]


def test_enabling_and_suspending_versioning_asks_first(qtbot, window, lake, moto_endpoint):
    s3, ids, conn = lake
    s3.create_bucket(Bucket="plain")
    b = connected(qtbot, window, Connection(profile_for(moto_endpoint, "plain")))
    assert b.versions.state == "never"
    asked = []
    b.versions.confirm = lambda title, text, yes: asked.append((title, yes)) or False
    qtbot.waitUntil(b.versions.change_versioning().done, timeout=5000)
    assert asked[-1] == ("Enable bucket versioning", "Enable versioning")
    assert "Status" not in s3.get_bucket_versioning(Bucket="plain")
    b.versions.confirm = lambda title, text, yes: asked.append((title, yes)) or True
    with qtbot.waitSignal(b.versions.state_changed, timeout=5000):
        b.versions.versioning_action.trigger()
    assert s3.get_bucket_versioning(Bucket="plain")["Status"] == "Enabled"
    assert window.versioning_label.text() == "Versioning: on"
    assert b.versions.versioning_action.text() == "Suspend bucket versioning…"
    with qtbot.waitSignal(b.versions.state_changed, timeout=5000):
        b.versions.versioning_action.trigger()
    assert asked[-1] == ("Suspend bucket versioning", "Suspend versioning")
    assert s3.get_bucket_versioning(Bucket="plain")["Status"] == "Suspended"
    assert window.versioning_label.text() == "Versioning: suspended"


def test_properties_show_the_version_id_and_the_number_of_versions(qtbot, window, lake):
    from PySide6.QtWidgets import QLabel

    from lakegui.ui.dialogs.properties import PropertiesDialog

    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    select(b, "a.txt")
    seen = {}

    def edit(props, tags, unavailable):
        seen["props"] = props
        return None  # Close

    b.object_actions.edit_properties = edit
    task = b.object_actions.properties()
    qtbot.waitUntil(task.done, timeout=10000)
    props = seen["props"]
    assert props.version_id == ids["a.txt"][-1] and props.version_count == 3
    dialog = PropertiesDialog(props, tags={})
    qtbot.addWidget(dialog)
    labels = {w.accessibleName(): w.text() for w in dialog.findChildren(QLabel) if w.accessibleName()}
    assert labels["Version"] == f"{ids['a.txt'][-1]} · 3 versions of this key"


def test_the_status_bar_counts_the_deleted_rows(qtbot, window, lake):
    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    assert window.statusBar().currentMessage() == "2 items"
    show_versions(qtbot, b)
    assert window.statusBar().currentMessage() == "3 items, 1 of them deleted"


def test_a_deleted_folder_opens_on_its_deleted_objects(qtbot, window, seaweed_lake):
    s3, BUCKET, ids, conn = seaweed_lake
    b = connected(qtbot, window, conn)
    show_versions(qtbot, b)
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        b.navigate("old/")
    assert set(rows(b)) == {"x.txt", "y.txt"} and all(b.model.is_deleted(e) for e in rows(b).values())
    assert "Everything here is deleted" in b.state_label.text() and b.state_label.isVisible()
    select(b, "y.txt")
    assert b.versions.pane.deleted and b.versions.pane.model.rowCount() == 2


def test_undelete_in_the_tables_context_menu_for_a_deleted_row(qtbot, window, lake):
    s3, ids, conn = lake
    b = connected(qtbot, window, conn)
    select(b, "a.txt")
    assert b.versions.pane.undelete_action not in b.context_menu().actions()  # Show versions is off
    show_versions(qtbot, b)
    select(b, "a.txt")
    assert b.versions.pane.undelete_action not in b.context_menu().actions()  # a live row
    select(b, "b.txt")
    menu = b.context_menu()
    undelete = menu.actions()[0]
    assert undelete is b.versions.pane.undelete_action  # the pane's own action and handler
    assert undelete.text() == "Undelete" and undelete.isEnabled()
    menu.close()
    with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
        with qtbot.waitSignal(b.versions.done, timeout=10000) as done:
            undelete.trigger()
    assert done.args[0] == f"Undeleted s3://{BUCKET}/b.txt"
    assert s3.get_object(Bucket=BUCKET, Key="b.txt")["Body"].read() == b"bee"
