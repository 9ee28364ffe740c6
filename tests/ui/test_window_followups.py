"""Window follow-ups against the demo lake: a Pause of an idle queue holds jobs queued after it;
folder dialogs open where the user last chose a folder; a Delete on a versioned bucket says it
added delete markers; Delete version permanently clears a preview of that version."""

from __future__ import annotations

import pytest

from lakegui.core.connection import Connection

from .conftest import profile_for
from .test_transfers import enqueue_upload
from .test_versions_browser import BUCKET, connected, fill, s3client, select, show_versions


@pytest.fixture
def versioned(moto_endpoint):
    s3 = s3client(moto_endpoint)
    return s3, fill(s3, BUCKET, deleted_folder=False), Connection(profile_for(moto_endpoint, BUCKET))


# 1. Pause with nothing running holds the queue: a job added later waits for Resume


def test_pause_on_an_idle_queue_holds_an_upload_queued_after_it(qtbot, window, demo_connection, tmp_path):
    q, view = window.transfers, window.queue
    q.set_connection(demo_connection)
    view.pause_action.trigger()  # nothing selected, nothing in the queue
    assert view.totals_label.text() == "Paused (Resume: Ctrl+R)"
    f = tmp_path / "f.txt"
    f.write_text("hello")
    enqueue_upload(q, demo_connection, [(f, "tmp/held/f.txt")])
    row = q.model.row(0)
    assert row.state == "paused" and q.running_count == 0
    assert view.totals_label.text().startswith("Paused (Resume: Ctrl+R) · 0/1 files")
    view.resume_action.trigger()
    qtbot.waitUntil(lambda: row.state == "done" and view.totals_label.text().startswith("1/1 files"), timeout=10000)


# 2. folder dialogs open where the user last chose a folder (for the same purpose), across runs


def test_folder_dialogs_open_where_the_user_last_chose(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from lakegui.ui.start_folder import ask_save_path, last_folder

    up, down, here = tmp_path / "up", tmp_path / "down", tmp_path / "here"
    for folder in (up, down, here):
        folder.mkdir()
    (here / "a.csv").write_text("a")
    starts, answers = [], [str(up), "", str(down)]
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda parent, title, start: starts.append(start) or answers.pop(0)))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda parent, title, start: (starts.append(start), ([str(here / "a.csv")], ""))[1]))
    window.settings.download_folder = ""
    assert window.choose_upload_folder() == str(up)
    assert window.choose_upload_folder() == ""  # cancelled: nothing new remembered
    assert window.choose_download_folder() == str(down)
    assert starts[1:] == [str(up), starts[0]]  # the upload folder's, then download's first (never chosen)
    assert window.choose_upload_files() == [str(here / "a.csv")]
    assert starts[-1] == str(up)
    answers[:] = ["", "", ""]
    window.choose_upload_folder()  # the files' folder is where uploads were last chosen from
    window.choose_download_folder()
    assert starts[-2:] == [str(here), str(down)]
    assert last_folder("download") == str(down)  # in the window's state file: the next run opens there too
    window.comparison_window().choose_folder()  # a dialog of its own purpose: not the others' folder
    assert starts[-1] != str(down)
    saves = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, title, start, filters: (saves.append(start), (str(up / "r.csv"), ""))[1]))
    for _ in range(2):
        ask_save_path(window, "Export rows", "rows.parquet", "Parquet (*.parquet)")
    assert saves[1] == str(up / "rows.parquet")  # the name proposed in the folder last written to


# 3. a Delete on a versioned bucket says it added delete markers, as rm does


def test_delete_on_a_versioned_bucket_says_it_added_delete_markers(qtbot, window, versioned):
    s3, ids, conn = versioned
    b = connected(qtbot, window, conn)
    b.object_actions.confirm = lambda title, text: True
    select(b, "a.txt")
    with qtbot.waitSignal(b.object_actions.done, timeout=15000) as done:
        b.delete_action.trigger()
    assert done.args[0] == "1 delete marker added (versions kept; Undelete brings it back)"
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix="a.txt")
    assert len(listed["DeleteMarkers"]) == 1 and len(listed["Versions"]) == 3


# 4. Delete version permanently clears a preview of that version


def test_deleting_the_previewed_version_clears_the_preview(qtbot, window, versioned):
    s3, ids, conn = versioned
    first, second, _latest = ids["a.txt"]
    b, p = connected(qtbot, window, conn), window.preview
    show_versions(qtbot, b)
    select(b, "a.txt")
    pane = b.versions.pane
    b.versions.confirm = lambda title, text, yes: True
    seen = []  # the preview when the delete is done, before the folder is listed again
    b.versions.done.connect(lambda _text: seen.append((p.version_id, p.message.text())))
    for deleted in (second, first):  # another version (the preview stays), then the one shown
        qtbot.waitUntil(lambda: pane.select_version(first), timeout=5000)
        with qtbot.waitSignal(p.preview_finished, timeout=10000):
            pane.preview_action.trigger()
        assert pane.select_version(deleted)
        with qtbot.waitSignal(b.versions.versions_listed, timeout=10000):
            pane.delete_action.trigger()
    assert seen[0][0] == first
    assert seen[1] == ("", f"Version {first} of s3://{BUCKET}/a.txt was deleted permanently.")
    assert p.version_id != first  # nor read again once the folder is listed: the latest is shown
