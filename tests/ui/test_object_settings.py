"""Object settings in the window against a real HTTP endpoint (moto's server): tags in Properties,
storage class changes queued as copies in place, Glacier restores and their state, archived
objects that cannot be read yet, and creating and deleting buckets from the bucket switcher."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from lakegui.core.connection import Connection
from tests.ui.conftest import profile_for

BUCKET = "settings"


@pytest.fixture
def lake(moto_endpoint):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="data/a.csv", Body=b"a,b\n1,2\n", ContentType="text/csv",
                  Metadata={"source": "vendor"}, Tagging="owner=desk&stage=raw")
    s3.put_object(Bucket=BUCKET, Key="data/b.csv", Body=b"x\n1\n", Tagging="owner=desk")
    s3.put_object(Bucket=BUCKET, Key="cold/old.csv", Body=b"old,rows\n", StorageClass="GLACIER")
    s3.put_object(Bucket=BUCKET, Key="cold/older.csv", Body=b"older\n", StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket=BUCKET, Key="cold/warm.csv", Body=b"warm\n")
    return s3, Connection(profile_for(moto_endpoint, BUCKET))


def names(b):
    return [b.model.index(r, 0).data() for r in range(b.model.rowCount())]


def row_of(b, name):
    return names(b).index(name)


def select(b, *wanted):
    b.table.clearSelection()
    for name in wanted:
        b.table.selectionModel().select(
            b.model.index(row_of(b, name), 0),
            b.table.selectionModel().SelectionFlag.Select | b.table.selectionModel().SelectionFlag.Rows)


def open_at(qtbot, window, conn, prefix):
    b = window.browser
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        window.set_connection(conn)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate(prefix)
    return b


def tags_of(s3, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


# tags


def test_properties_shows_tags_and_saves_edits(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "data/")
    select(b, "a.csv")
    seen = {}

    def edit(props, tags, unavailable):
        from lakegui.ui.dialogs.properties import PropertiesDialog

        dialog = PropertiesDialog(props, window, tags=tags, tags_unavailable=unavailable)
        qtbot.addWidget(dialog)
        seen["tab"] = dialog.tabs.tabText(1)
        seen["shown"] = dialog.tags.tags()
        dialog.tags.add_row("quality", "checked")
        row = [k for k, _ in dialog.tags.pairs()].index("stage")
        dialog.tags.table.item(row, 1).setText("clean")
        dialog._on_buttons_accepted()
        assert dialog.result() == dialog.DialogCode.Accepted
        return dialog.changes()

    b.object_actions.edit_properties = edit
    b.object_actions.confirm = lambda *a: pytest.fail("a tags-only change rewrites nothing: no question")
    with qtbot.waitSignal(b.object_actions.done, timeout=10000) as blocker:
        b.properties_action.trigger()
    assert seen == {"tab": "Tags (2)", "shown": {"owner": "desk", "stage": "raw"}}
    assert blocker.args[0] == f"Saved the tags of s3://{BUCKET}/data/a.csv"
    assert tags_of(s3, "data/a.csv") == {"owner": "desk", "stage": "clean", "quality": "checked"}
    assert s3.head_object(Bucket=BUCKET, Key="data/a.csv")["Metadata"] == {"source": "vendor"}


def test_a_metadata_edit_keeps_the_tags(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "data/")
    select(b, "a.csv")
    b.object_actions.edit_properties = lambda props, tags, _: dict(props.metadata, source="corrected")
    b.object_actions.confirm = lambda *a: True
    with qtbot.waitSignal(b.object_actions.done, timeout=10000):
        b.properties_action.trigger()
    assert s3.head_object(Bucket=BUCKET, Key="data/a.csv")["Metadata"] == {"source": "corrected"}
    assert tags_of(s3, "data/a.csv") == {"owner": "desk", "stage": "raw"}


@pytest.mark.parametrize("pairs, message", [
    ([(f"k{i}", "v") for i in range(11)], "at most 10 tags"),
    ([("k" * 129, "v")], "has 129 characters; S3 takes 128"),
    ([("k", "v" * 257)], "The value of 'k' has 257 characters; S3 takes 256"),
    ([("", "orphan")], "needs a key"),
    ([("aws:owner", "me")], "reserved for AWS"),
    ([("owner", "a&b")], "'&'"),
    ([("owner", "a"), ("owner", "b")], "appears twice"),
])
def test_tag_rules_are_explained_and_nothing_is_saved(qtbot, lake, pairs, message):
    from lakegui.core.objects import head
    from lakegui.ui.dialogs.properties import PropertiesDialog

    s3, conn = lake
    props = head(conn.client(), BUCKET, "data/b.csv")
    dialog = PropertiesDialog(props, tags={"owner": "desk"})
    qtbot.addWidget(dialog)
    dialog.tags.table.setRowCount(0)
    for k, v in pairs:
        dialog.tags.add_row(k, v)
    assert message in dialog.tags.problem.text()  # shown as typed
    dialog._on_buttons_accepted()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert message in dialog.problem.text() and dialog.tabs.currentWidget() is dialog.tags


def test_unreadable_tags_are_not_offered_for_editing(qtbot, lake):
    from lakegui.core.objects import head
    from lakegui.ui.dialogs.properties import PropertiesDialog

    props = head(lake[1].client(), BUCKET, "data/b.csv")
    dialog = PropertiesDialog(props, tags=None, tags_unavailable="The tags could not be read: no tagging here")
    qtbot.addWidget(dialog)
    assert not dialog.tags.table.isEnabled() and "no tagging here" in dialog.tags.problem.text()
    assert dialog.changes().tags is None


# storage class


def wait_idle(qtbot, queue, timeout=30000):
    qtbot.waitUntil(lambda: queue.running_count == 0 and all(
        queue.model.row(i).state not in ("queued", "running") for i in range(queue.model.rowCount())),
        timeout=timeout)


def test_storage_class_change_is_queued_in_place_and_keeps_metadata_and_tags(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "data/")
    select(b, "a.csv", "b.csv")
    settings = b.object_settings
    asked = []
    settings.ask_storage_class = lambda what, current: asked.append((what, current)) or "STANDARD_IA"
    before = s3.get_object(Bucket=BUCKET, Key="data/a.csv")["Body"].read()
    with qtbot.waitSignal(settings.queued, timeout=10000) as queued:
        settings.storage_class_action.trigger()
    assert asked == [(f"2 objects in s3://{BUCKET}/data/", "STANDARD")]
    assert queued.args[1] == 2
    with qtbot.waitSignal(b.listing_finished, timeout=30000):  # listed again when the batch ends
        with qtbot.waitSignal(settings.done, timeout=30000) as done:
            pass
    assert done.args[0] == "Changed the storage class of 2 objects to STANDARD_IA"
    head = s3.head_object(Bucket=BUCKET, Key="data/a.csv")
    assert head["StorageClass"] == "STANDARD_IA" and head["Metadata"] == {"source": "vendor"}
    assert head["ContentType"] == "text/csv"
    assert tags_of(s3, "data/a.csv") == {"owner": "desk", "stage": "raw"}
    assert tags_of(s3, "data/b.csv") == {"owner": "desk"}
    assert s3.get_object(Bucket=BUCKET, Key="data/a.csv")["Body"].read() == before
    assert b.model.index(row_of(b, "a.csv"), 3).data() == "STANDARD_IA"
    assert [k["Key"] for k in s3.list_objects_v2(Bucket=BUCKET, Prefix="data/")["Contents"]] == \
        ["data/a.csv", "data/b.csv"]  # in place: no other key appeared


def test_storage_class_of_a_folder_and_objects_already_there(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "")
    select(b, "data/")
    settings = b.object_settings
    settings.ask_storage_class = lambda what, current: "GLACIER_IR"
    with qtbot.waitSignal(settings.queued, timeout=10000) as queued:
        settings.change_storage_class()
    assert queued.args[1] == 2
    wait_idle(qtbot, window.transfers)
    assert {s3.head_object(Bucket=BUCKET, Key=k)["StorageClass"] for k in ("data/a.csv", "data/b.csv")} == \
        {"GLACIER_IR"}
    qtbot.waitUntil(lambda: not settings._batches, timeout=10000)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.refresh()
    select(b, "data/")
    with qtbot.waitSignal(settings.done, timeout=10000) as done:
        settings.change_storage_class()
    assert done.args[0] == "Nothing to change: the selection is in GLACIER_IR already."


# Glacier and Deep Archive


def test_restore_column_heads_only_archived_rows(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "data/")
    column = b.model.RESTORE_COLUMN
    assert b.model.headerData(column, Qt.Orientation.Horizontal) == "Restore"
    assert b.table.isColumnHidden(column)  # nothing archived here: no empty column
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.navigate("cold/")
    assert not b.table.isColumnHidden(column)

    def shown():
        return {n: b.model.index(row_of(b, n), column).data() for n in names(b)}

    qtbot.waitUntil(lambda: "…" not in shown().values(), timeout=10000)
    assert shown() == {"old.csv": "not restored", "older.csv": "not restored", "warm.csv": ""}
    assert set(b.object_settings.restore_column._states) == {"cold/old.csv", "cold/older.csv"}  # no HEAD of warm


def test_a_head_sent_before_a_restore_does_not_stick_after_it(qtbot, window, lake):
    """CI saw the column stay "not restored": a HEAD from the listing answered after the restore
    had forgotten the key, and its stale state was kept for good."""
    from lakegui.core.tagging import RestoreState

    s3, conn = lake
    b = open_at(qtbot, window, conn, "cold/")
    column = b.object_settings.restore_column
    qtbot.waitUntil(lambda: not column.busy and column.state("cold/old.csv") is not None, timeout=10000)
    sent_before = column._generation
    stale = RestoreState(requested=True, ongoing=True)  # what no HEAD here says: it can only be the stale one
    column.forget(["cold/old.csv"])
    column._answered.emit(sent_before, {"cold/old.csv": stale})  # the HEAD sent before lands now
    qtbot.waitUntil(lambda: not column.busy and column.state("cold/old.csv") is not None, timeout=10000)
    assert column.state("cold/old.csv") == RestoreState(requested=False)


def test_restore_asks_tier_and_days_and_the_state_shows(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "cold/")
    select(b, "old.csv", "older.csv", "warm.csv")
    settings = b.object_settings
    asked = []
    settings.ask_restore = lambda what, deep, already: asked.append((what, deep, already)) or ("Bulk", 3)
    with qtbot.waitSignal(settings.queued, timeout=10000) as queued:
        settings.restore_action.trigger()
    assert asked == [("2 archived objects", True, "")]  # the STANDARD one is not asked about
    assert queued.args[1] == 2  # restore jobs in the queue, like the CLI's
    rows = [window.transfers.model.row(i) for i in range(window.transfers.model.rowCount())]
    assert {r.direction for r in rows} == {"restore"}
    with qtbot.waitSignal(settings.done, timeout=30000) as done:
        pass
    assert done.args[0] == "Restore (Bulk, 3 days): 2 objects started"
    head = s3.head_object(Bucket=BUCKET, Key="cold/old.csv")
    assert 'ongoing-request="false"' in head["Restore"]  # moto restores at once
    column = b.model.RESTORE_COLUMN
    qtbot.waitUntil(lambda: str(b.model.index(row_of(b, "old.csv"), column).data()).startswith("until "),
                    timeout=10000)
    state = settings.restore_column.state("cold/old.csv")
    assert state.readable and state.expiry is not None
    days_left = (state.expiry - datetime.now(timezone.utc)).total_seconds() / 86400
    assert 2 < days_left <= 3.01  # the days asked for reached S3

    # Properties shows it too
    seen = {}

    def edit(props, tags, unavailable):
        from lakegui.ui.dialogs.properties import restore_text

        seen["text"] = restore_text(props)
        seen["class"] = props.storage_class
        return None

    select(b, "old.csv")
    b.object_actions.edit_properties = edit
    task = b.object_actions.properties()
    qtbot.waitUntil(task.done, timeout=10000)
    assert seen["class"] == "GLACIER" and seen["text"].startswith("available until ")

    # asked again: the dialog says it is restored already, and the days are updated
    select(b, "old.csv")
    with qtbot.waitSignal(settings.queued, timeout=10000):
        settings.restore_action.trigger()
    assert asked[-1][2].startswith("It is already restored until ") and "counted from now" in asked[-1][2]
    with qtbot.waitSignal(settings.done, timeout=30000) as done:
        pass
    assert done.args[0] == "Restore (Bulk, 3 days): 1 object already restored (days updated)"


def test_an_expedited_restore_of_deep_archive_fails_with_the_reason_without_asking_s3(qtbot, window, lake):
    """Deep Archive has no Expedited tier; the window's jobs knew the class from the listing but
    did not pass it, so each asked S3 (which refuses it: moto accepts it, and said "started")."""
    s3, conn = lake
    b = open_at(qtbot, window, conn, "cold/")
    select(b, "old.csv", "older.csv")
    settings = b.object_settings
    settings.ask_restore = lambda what, deep, already: ("Expedited", 1)
    with qtbot.waitSignal(settings.queued, timeout=10000):
        settings.restore_action.trigger()
    with qtbot.waitSignal(settings.failed, timeout=30000) as failed:
        pass
    assert "1 object started" in failed.args[0] and "1 could not be restored" in failed.args[0]
    assert "cold/older.csv: Deep Archive has no Expedited tier" in failed.args[0]
    assert "Restore" not in s3.head_object(Bucket=BUCKET, Key="cold/older.csv")  # never asked


def test_restore_text_of_each_state():
    from lakegui.core.objects import ObjectProperties
    from lakegui.core.tagging import parse_restore
    from lakegui.ui.browser.restore_column import short_text
    from lakegui.ui.dialogs.properties import restore_text

    def props(cls, restore=""):
        return ObjectProperties("b", "k", 1, "", "e", None, cls, "", restore=restore)

    done = 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"'
    assert restore_text(props("STANDARD")) == ""
    assert restore_text(props("GLACIER")).startswith("archived, not restored")
    assert restore_text(props("DEEP_ARCHIVE", 'ongoing-request="true"')) == "restore in progress"
    assert restore_text(props("GLACIER", done)) == "available until 2012-12-21 00:00 UTC"
    assert short_text(parse_restore('ongoing-request="true"')) == "in progress"
    assert short_text(parse_restore(done)) == "until 2012-12-21"


@pytest.mark.parametrize("engine", ["awscrt", "s3transfer"])
def test_archived_objects_say_why_they_cannot_be_previewed_or_downloaded(qtbot, window, lake, tmp_path, engine):
    from dataclasses import replace

    s3, conn = lake
    window.transfers.apply_settings(replace(window.transfers.settings, engine=engine))
    b = open_at(qtbot, window, conn, "cold/")
    select(b, "old.csv")
    with qtbot.waitSignal(window.preview.preview_failed, timeout=10000) as failed:
        pass
    assert "has not been restored" in failed.args[1] and "Restore…" in failed.args[1]
    assert "InvalidObjectState" not in window.preview.message.text()
    assert "has not been restored" in window.preview.message.text()
    with qtbot.waitSignal(window.preview.properties_loaded, timeout=10000):
        window.preview.tabs.setCurrentWidget(window.preview.properties)
    assert window.preview.properties.items()["Restore"].text(1).startswith("archived, not restored")

    window.choose_download_folder = lambda: str(tmp_path / "dl")
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        b.download_action.trigger()
    wait_idle(qtbot, window.transfers)
    rows = [window.transfers.model.row(i) for i in range(window.transfers.model.rowCount())]
    assert [r.state for r in rows] == ["failed"]
    assert "archived" in rows[0].error and "Restore… in the browser" in rows[0].error
    assert "InvalidObjectState" not in rows[0].error
    assert not (tmp_path / "dl" / "old.csv").exists()


# buckets


def test_new_bucket_dialog_gives_the_reason_as_the_name_is_typed(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from lakegui.ui.dialogs.new_bucket import NewBucketDialog

    dialog = NewBucketDialog("http://lake", "eu-west-1")
    qtbot.addWidget(dialog)
    create = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not create.isEnabled() and dialog.problem.text() == "" and dialog.region() == "eu-west-1"
    for typed, reason in (("ab", "3–63 characters long (it has 2)"), ("Ticks_2024", "(it has 'T', '_')"),
                          ("-ticks", "start and end with a letter or digit"), ("ticks..2024", "'..'"),
                          ("192.168.1.10", "IP address")):
        dialog.name_edit.setText(typed)
        assert reason in dialog.problem.text(), (typed, dialog.problem.text())
        assert not create.isEnabled()
        dialog._on_buttons_accepted()
        assert dialog.result() != dialog.DialogCode.Accepted
    dialog.name_edit.setText("ticks-2024")
    assert dialog.problem.text() == "" and create.isEnabled()


def test_create_bucket_from_the_switcher(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "")
    settings = b.object_settings
    assert settings.create_bucket_action in settings.bucket_button.menu().actions()
    settings.ask_new_bucket = lambda: ("Bad_Name", "")
    with qtbot.waitSignal(settings.failed, timeout=10000) as failed:
        settings.create_bucket_action.trigger()
    assert "not a valid bucket name" in failed.args[0] and "'B', 'N', '_'" in failed.args[0]
    assert "Bad_Name" not in [x["Name"] for x in s3.list_buckets()["Buckets"]]

    settings.ask_new_bucket = lambda: ("fresh-bucket", "us-east-1")
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        with qtbot.waitSignal(settings.done, timeout=10000) as done:
            settings.create_bucket_action.trigger()
    assert done.args[0] == "Created the bucket s3://fresh-bucket"
    assert "fresh-bucket" in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    assert b.bucket == "fresh-bucket" and b.bucket_box.currentText() == "fresh-bucket"

    settings.ask_new_bucket = lambda: ("fresh-bucket", "")
    with qtbot.waitSignal(settings.failed, timeout=10000) as failed:
        settings.create_bucket_action.trigger()
    assert "exists already" in failed.args[0]


def test_delete_bucket_refuses_a_non_empty_one_with_the_count(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "")
    settings = b.object_settings
    settings.confirm = lambda *a: pytest.fail("a non-empty bucket is refused before asking")
    with qtbot.waitSignal(settings.failed, timeout=10000) as failed:
        settings.delete_bucket_action.trigger()
    assert failed.args[0] == f"s3://{BUCKET} holds 5 objects: only an empty bucket can be deleted."
    assert BUCKET in [x["Name"] for x in s3.list_buckets()["Buckets"]]


def test_delete_an_empty_bucket_after_confirmation(qtbot, window, lake):
    s3, conn = lake
    s3.create_bucket(Bucket="empty-one")
    b = open_at(qtbot, window, conn, "")
    qtbot.waitUntil(lambda: b.bucket_box.findText("empty-one") >= 0, timeout=10000)
    with qtbot.waitSignal(b.listing_finished, timeout=10000):
        b.switch_bucket("empty-one")
    settings = b.object_settings
    asked = []
    settings.confirm = lambda title, text: asked.append(text) or False
    task = settings.delete_bucket()
    qtbot.waitUntil(task.done, timeout=10000)
    assert asked == ["Delete the empty bucket s3://empty-one?\nIts name may be taken by anyone afterwards."]
    assert "empty-one" in [x["Name"] for x in s3.list_buckets()["Buckets"]]  # No: kept

    settings.confirm = lambda title, text: True
    with qtbot.waitSignal(b.listing_finished, timeout=10000):  # the switcher moves to another bucket
        with qtbot.waitSignal(settings.done, timeout=10000) as done:
            settings.delete_bucket_action.trigger()
    assert done.args[0] == "Deleted the bucket s3://empty-one"
    assert "empty-one" not in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    assert b.bucket_box.findText("empty-one") < 0 and b.bucket != "empty-one"


def test_a_versioned_bucket_with_only_old_versions_is_refused(qtbot, lake):
    from lakegui.core.buckets import bucket_contents

    s3, _ = lake
    s3.create_bucket(Bucket="kept")
    s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="kept", Key="k", Body=b"1")
    s3.delete_object(Bucket="kept", Key="k")  # a delete marker over the version
    assert "keeps 2 old versions or delete markers" in bucket_contents(s3, "kept")
    assert bucket_contents(s3, BUCKET, up_to=3) == \
        f"s3://{BUCKET} holds at least 3 objects: only an empty bucket can be deleted."


def test_storage_class_change_of_a_multipart_object_keeps_metadata_and_tags(qtbot, window, lake):
    from dataclasses import replace

    s3, conn = lake
    body = bytes(range(256)) * (6 * 1024 * 4)  # 6 MiB: above the lowered threshold, copied in parts
    s3.put_object(Bucket=BUCKET, Key="big/blob.bin", Body=body, ContentType="application/x-test",
                  Metadata={"source": "vendor"}, Tagging="owner=desk")
    window.transfers.apply_settings(replace(window.transfers.settings, multipart_threshold=5 * 1024 * 1024,
                                            multipart_chunksize=5 * 1024 * 1024))
    b = open_at(qtbot, window, conn, "big/")
    select(b, "blob.bin")
    settings = b.object_settings
    settings.ask_storage_class = lambda what, current: "STANDARD_IA"
    with qtbot.waitSignal(settings.queued, timeout=10000):
        settings.storage_class_action.trigger()
    with qtbot.waitSignal(settings.done, timeout=60000) as done:
        pass
    assert done.args[0] == "Changed the storage class of 1 object to STANDARD_IA"
    head = s3.head_object(Bucket=BUCKET, Key="big/blob.bin")
    assert head["StorageClass"] == "STANDARD_IA" and head["Metadata"] == {"source": "vendor"}
    assert head["ContentType"] == "application/x-test" and head["ContentLength"] == len(body)
    assert tags_of(s3, "big/blob.bin") == {"owner": "desk"}
    assert s3.get_object(Bucket=BUCKET, Key="big/blob.bin")["Body"].read() == body


def test_context_menu_offers_storage_class_and_restore_where_they_apply(qtbot, window, lake):
    s3, conn = lake
    b = open_at(qtbot, window, conn, "cold/")

    def offered():
        menu = b.context_menu()
        try:
            return {a.text(): a.isEnabled() for a in menu.actions() if a.text() in
                    ("Change storage class…", "Restore…")}
        finally:
            menu.aboutToHide.emit()  # gives the shared actions back their state (on the next event turn)
            QApplication.processEvents()

    select(b, "warm.csv")
    assert offered() == {"Change storage class…": True, "Restore…": False}  # nothing archived
    select(b, "warm.csv", "older.csv")
    assert offered() == {"Change storage class…": True, "Restore…": True}
    b.table.clearSelection()
    assert offered() == {"Change storage class…": False, "Restore…": False}
