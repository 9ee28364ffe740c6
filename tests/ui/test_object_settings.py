"""Object settings in the window against a real HTTP endpoint (moto's server): tags in Properties,
storage class changes queued as copies in place, Glacier restores and their state, archived
objects that cannot be read yet, and creating and deleting buckets from the bucket switcher."""

from __future__ import annotations

import boto3
import pytest

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
