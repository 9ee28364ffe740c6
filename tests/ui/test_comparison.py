"""Compare with local folder (issue 21.5) on a real endpoint (moto's server): counts per class as
filter buttons, a same-size edit found by content, each plan shown (every deletion counted) before
anything moves, the copies through the window's queue with rows following them, Mirror deleting
only after the copies."""

from __future__ import annotations

import os

import boto3
from botocore.config import Config

from lakegui.core.connection import Connection
from lakegui.core.sync.plan import DOWNLOAD, UPLOAD

from .conftest import profile_for
from .test_main_window import connect_and_wait

B = "sync-ui"


def client(url):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def test_compare_filter_and_run_plans(qtbot, window, moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    for key, body in {"p/same.csv": b"1,2,3", "p/differ.csv": b"AAAA", "p/remote-only.csv": b"r"}.items():
        s3.put_object(Bucket=B, Key=key, Body=body)
    folder = tmp_path / "local"
    folder.mkdir()
    for name, body in {"same.csv": b"1,2,3", "differ.csv": b"BBBB", "local-only.csv": b"l"}.items():
        (folder / name).write_bytes(body)
    connect_and_wait(qtbot, window, Connection(profile_for(moto_endpoint, B)))
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.browser.navigate("p/")

    view = window.comparison_window()
    with qtbot.waitSignal(view.compared, timeout=15000):
        window.open_comparison(str(folder))
    assert view.target_label.text() == f"s3://{B}/p/"
    assert [b.text() for b in view.filter_buttons.values()] == [
        "All (4)", "Same (1)", "Differ (1)", "Only local (1)", "Only remote (1)"]
    view.filter_buttons["differ"].click()
    m = view.model
    assert m.rowCount() == 1 and m.relative_at(0) == "differ.csv"
    assert m.index(0, 5).data() == "differs: content"  # same size: found by its ETag
    assert m.index(0, 1).data() == m.index(0, 3).data() == "4 B"
    view.filter_buttons[None].click()
    assert m.rowCount() == 4

    shown = []
    view.confirm_plan = lambda plan: shown.append(plan) or False  # declined: nothing moves
    assert not view.run_plan(UPLOAD)
    assert s3.get_object(Bucket=B, Key="p/differ.csv")["Body"].read() == b"AAAA"

    view.confirm_plan = lambda plan: shown.append(plan) or True
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        view.upload_button.click()
    assert done.args[0] == {"copied": 2, "deleted": 0, "failed": 0}
    assert [(a.action, a.key, a.reason) for a in shown[-1].actions] == [
        ("upload", "p/differ.csv", "content"), ("upload", "p/local-only.csv", "only-local")]
    assert s3.get_object(Bucket=B, Key="p/differ.csv")["Body"].read() == b"BBBB"
    # The comparison was made again once the plan ended: counts and rows are what is there now.
    statuses = {m.relative_at(r): m.index(r, 5).data() for r in range(m.rowCount())}
    assert statuses == {"differ.csv": "same · last run: copied", "local-only.csv": "same · last run: copied",
                        "remote-only.csv": "only remote", "same.csv": "same"}
    assert view.filter_buttons["same"].text() == "Same (3)" and view.upload_button.isEnabled()
    assert "Compared again: 4 paths compared: 3 same" in view.summary.text()
    from lakegui.ui.sync.view import describe_plan

    text, details = describe_plan(view.plan(UPLOAD, delete=True), B)
    assert text.startswith(f"This will delete 1 object that exists only in s3://{B}/p/")
    assert details == "delete p/remote-only.csv (only-remote)"
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        view.mirror_up_action.trigger()
    assert done.args[0] == {"copied": 0, "deleted": 1, "failed": 0}
    assert "p/remote-only.csv" not in [o["Key"] for o in s3.list_objects_v2(Bucket=B)["Contents"]]
    assert view.model.comparison.entry("remote-only.csv") is None and view.filter_buttons[None].text() == "All (3)"

    # The other way: an object changed in the lake comes down through the queue's temp-and-rename.
    s3.put_object(Bucket=B, Key="p/same.csv", Body=b"3,2,1")
    with qtbot.waitSignal(view.compared, timeout=15000):
        view.compare()
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        assert view.run_plan(DOWNLOAD)
    assert done.args[0]["copied"] == 1 and (folder / "same.csv").read_bytes() == b"3,2,1"
    assert not [n for n in os.listdir(folder) if n.startswith(".")]


def test_mirror_deletes_go_through_the_queue_and_survive_a_restart(qtbot, window, moto_endpoint, tmp_path):
    """Mirror's deletes in the lake are the queue's delete jobs (as `sync --delete`), made only after
    the copies: they show in the queue, and a queue started afresh finishes what the last one left."""
    from lakegui.core.settings import TransferSettings
    from lakegui.core.transfers.jobs import Direction
    from lakegui.ui.queue.controller import TransferQueue

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B + "-del")
    for key in ("m/keep.csv", "m/gone1.csv", "m/sub/gone 2.csv", "m-old/untouched.csv"):
        s3.put_object(Bucket=B + "-del", Key=key, Body=b"x")
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "keep.csv").write_bytes(b"x")
    (folder / "new.csv").write_bytes(b"new")
    conn = Connection(profile_for(moto_endpoint, B + "-del"))
    connect_and_wait(qtbot, window, conn)
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.browser.navigate("m/")
    view = window.comparison_window()
    with qtbot.waitSignal(view.compared, timeout=15000):
        window.open_comparison(str(folder))
    view.confirm_plan = lambda plan: True
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        view.mirror_up_action.trigger()
    assert done.args[0] == {"copied": 1, "deleted": 2, "failed": 0}
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=B + "-del")["Contents"])
    assert keys == ["m-old/untouched.csv", "m/keep.csv", "m/new.csv"]
    service = window.transfers.service
    deletes = [j for j in service.jobs() if j.direction is Direction.DELETE]
    assert len(deletes) == 1 and deletes[0].state == "done" and deletes[0].bucket == B + "-del"
    shown = [window.transfers.model.row(i) for i in range(window.transfers.model.rowCount())]
    assert any(r.job_id == deletes[0].id for r in shown)  # in the window's queue
    assert view.model.outcomes() == {}  # compared again: the deleted rows are gone, the new file is same
    assert [view.model.relative_at(r) for r in range(view.model.rowCount())] == ["keep.csv", "new.csv"]
    assert view.model.status_of("new.csv") == "same · last run: copied"

    # Deletes stored but not run when the app stops (paused here, as a kill would leave them queued):
    # the next session's queue makes them.
    s3.put_object(Bucket=B + "-del", Key="m/later.csv", Body=b"x")
    with qtbot.waitSignal(view.compared, timeout=15000):
        view.compare()
    shown_stored = window.transfers.show_stored

    def stored_paused(batch, rows):
        window.transfers.pause(batch_id=batch)
        return shown_stored(batch, rows)

    window.transfers.show_stored = stored_paused
    with qtbot.waitSignal(window.transfers.jobs_added, timeout=10000):
        view.mirror_up_action.trigger()
    assert "m/later.csv" in [o["Key"] for o in s3.list_objects_v2(Bucket=B + "-del")["Contents"]]
    window.transfers.shutdown()
    again = TransferQueue(TransferSettings())
    try:
        again.set_connection(conn)
        again.start()
        again.resume()
        qtbot.waitUntil(lambda: "m/later.csv" not in [o["Key"] for o in
                                                     s3.list_objects_v2(Bucket=B + "-del")["Contents"]],
                        timeout=20000)
        qtbot.waitUntil(lambda: again.running_count == 0, timeout=10000)
    finally:
        again.shutdown()


def test_mirror_into_the_folder_keeps_a_file_changed_since_the_comparison(qtbot, window, moto_endpoint, tmp_path):
    """Local deletes are made by the window (no queue job deletes local files), and only of files
    still as they were compared: one written since is kept and its row says why."""
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B + "-down")
    s3.put_object(Bucket=B + "-down", Key="d/a.csv", Body=b"a")
    folder = tmp_path / "local"
    folder.mkdir()
    for name in ("a.csv", "extra.csv", "edited.csv"):
        (folder / name).write_bytes(b"a")
    connect_and_wait(qtbot, window, Connection(profile_for(moto_endpoint, B + "-down")))
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.browser.navigate("d/")
    view = window.comparison_window()
    with qtbot.waitSignal(view.compared, timeout=15000):
        window.open_comparison(str(folder))
    (folder / "edited.csv").write_bytes(b"written after the comparison")
    view.confirm_plan = lambda plan: True
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        view.mirror_down_action.trigger()
    assert done.args[0] == {"copied": 0, "deleted": 1, "failed": 1}
    assert sorted(os.listdir(folder)) == ["a.csv", "edited.csv"]
    assert view.model.status_of("edited.csv") == "only local · last run: failed: changed since it was compared; kept"
    assert view.model.comparison.entry("extra.csv") is None


def test_the_mirror_question_says_when_deletes_pass_the_headless_cap():
    from types import SimpleNamespace

    from lakegui.core.sync.plan import Action, SyncPlan
    from lakegui.ui.sync.view import describe_plan

    cmp = SimpleNamespace(prefix="p/", root="/data/local")
    deletes = [Action("delete", "", f"p/{i}.csv", "only-remote", 1) for i in range(1001)]
    text, details = describe_plan(SyncPlan(UPLOAD, cmp, deletes=deletes), B)
    assert text.startswith(f"This will delete 1,001 objects that exist only in s3://{B}/p/")
    assert "more than 1,000 deletes" in text and details.count("\n") == 1000
    text, _ = describe_plan(SyncPlan(UPLOAD, cmp, deletes=deletes[:1000]), B)
    assert "more than" not in text


def test_plans_say_what_they_replace_and_enter_does_not_run_them(qtbot, window):
    from types import SimpleNamespace

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from lakegui.core.sync.plan import Action, SyncPlan
    from lakegui.core.versions import ENABLED, NEVER
    from lakegui.ui.sync.view import describe_plan

    cmp = SimpleNamespace(prefix="p/", root="/data/local")
    up = SyncPlan(UPLOAD, cmp, copies=[Action("upload", "/data/local/a.csv", "p/a.csv", "content", 4),
                                       Action("upload", "/data/local/b.csv", "p/b.csv", "only-local", 1)])
    assert describe_plan(up, B, NEVER)[0] == (f"This will upload 2 files (5 B) to s3://{B}/p/, replacing 1 object "
                                              "that differs (permanently: the bucket keeps no versions).")
    assert describe_plan(up, B, ENABLED)[0].endswith("(the bucket keeps versions: the earlier ones remain).")
    down = SyncPlan(DOWNLOAD, cmp, copies=[Action("download", "/data/local/a.csv", "p/a.csv", "size", 4),
                                           Action("download", "/data/local/c.csv", "p/c.csv", "mtime", 2)])
    assert describe_plan(down, B, NEVER)[0] == ("This will download 2 objects (6 B) into /data/local, replacing "
                                                "2 local files that differ.")
    mirror = SyncPlan(UPLOAD, cmp, deletes=[Action("delete", "", "p/old.csv", "only-remote", 1)])
    assert describe_plan(mirror, B, NEVER)[0].startswith(
        f"This will delete 1 object that exists only in s3://{B}/p/ (permanently: the bucket keeps no versions).")
    adds = SyncPlan(UPLOAD, cmp, copies=[up.copies[1]])
    assert describe_plan(adds, B, NEVER)[0] == f"This will upload 1 file (1 B) to s3://{B}/p/."

    view = window.comparison_window()
    view.bucket, view.versioning = B, NEVER
    asked = []

    def answer() -> None:  # the question as Enter would meet it; then closed without an answer
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):  # not shown yet: look again on the next turn
            QTimer.singleShot(10, answer)
            return
        asked.append((box.text(), box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)))
        box.reject()

    for plan in (up, down, adds):
        QTimer.singleShot(0, answer)
        assert not view.confirm_plan(plan)
    assert [cancel for _, cancel in asked] == [True, True, False]  # only a plan that replaces nothing runs on Enter
    assert "replacing 1 object that differs (permanently" in asked[0][0]


def _compare_in_window(qtbot, window, moto_endpoint, bucket, prefix, folder):
    connect_and_wait(qtbot, window, Connection(profile_for(moto_endpoint, bucket)))
    with qtbot.waitSignal(window.browser.listing_finished, timeout=10000):
        window.browser.navigate(prefix)
    view = window.comparison_window()
    with qtbot.waitSignal(view.compared, timeout=15000):
        window.open_comparison(str(folder))
    return view


def test_mirror_leaves_alone_an_object_written_after_the_comparison(qtbot, window, moto_endpoint, tmp_path):
    """Trial A, finding 1: compared, then `remote only.txt` overwritten from elsewhere; Mirror deleted
    that newer version. The lake is asked again before anything runs: what changed is left alone."""
    s3 = client(moto_endpoint)
    bucket = B + "-stale"
    s3.create_bucket(Bucket=bucket)
    for key, body in {"lake/remote only.txt": b"old", "lake/differ.csv": b"AAAA", "lake/stale.csv": b"s"}.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    folder = tmp_path / "local"
    folder.mkdir()
    for name, body in {"differ.csv": b"BBBB", "new.csv": b"n", "taken.csv": b"mine"}.items():
        (folder / name).write_bytes(body)
    view = _compare_in_window(qtbot, window, moto_endpoint, bucket, "lake/", folder)
    s3.put_object(Bucket=bucket, Key="lake/remote only.txt", Body=b"a newer version, written from the CLI")
    s3.put_object(Bucket=bucket, Key="lake/differ.csv", Body=b"theirs")
    s3.put_object(Bucket=bucket, Key="lake/taken.csv", Body=b"someone else's")
    view.confirm_plan = lambda plan: True
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        assert view.run_plan(UPLOAD, delete=True)
    assert done.args[0] == {"copied": 1, "deleted": 1, "failed": 3}
    body = {k: s3.get_object(Bucket=bucket, Key=f"lake/{k}")["Body"].read()
            for k in ("remote only.txt", "differ.csv", "taken.csv", "new.csv")}
    assert body == {"remote only.txt": b"a newer version, written from the CLI", "differ.csv": b"theirs",
                    "taken.csv": b"someone else's", "new.csv": b"n"}
    assert "lake/stale.csv" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    text = view.summary.text()
    assert "3 left alone, changed in the lake since the comparison" in text and "remote only.txt" in text
    # Trial C, finding 7: "1 failed; 1 left alone" of one object: what was left alone is not a failure too
    assert text.startswith("1 copy made, 1 delete, 0 failed; 3 left alone"), text
    assert view.model.status_of("remote only.txt") == (
        "only remote · last run: failed: changed in the lake since it was compared; left alone")


def test_after_a_plan_the_comparison_is_made_again_and_a_stale_one_sends_nothing_twice(qtbot, window, moto_endpoint,
                                                                                      tmp_path):
    """Trial A, finding 1: after Upload changes, Mirror offered (and sent) the same files again, the
    counts never moved and the buttons stayed enabled."""
    s3 = client(moto_endpoint)
    bucket = B + "-twice"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="t/differ.csv", Body=b"AAAA")
    s3.put_object(Bucket=bucket, Key="t/extra.csv", Body=b"x")
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "differ.csv").write_bytes(b"BBBB")
    for i in range(3):
        (folder / f"f{i}.csv").write_bytes(b"%d" % i)
    view = _compare_in_window(qtbot, window, moto_endpoint, bucket, "t/", folder)
    stale = view.model.comparison
    view.confirm_plan = lambda plan: True
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        view.upload_button.click()
        assert not view.upload_button.isEnabled() and not view.mirror_button.isEnabled()  # one plan at a time
    assert done.args[0] == {"copied": 4, "deleted": 0, "failed": 0}
    assert [b.text() for b in view.filter_buttons.values()] == [
        "All (5)", "Same (4)", "Differ (0)", "Only local (0)", "Only remote (1)"]
    assert view.mirror_button.isEnabled()
    mirror = view.plan(UPLOAD, delete=True)
    assert (mirror.copies, [a.key for a in mirror.deletes]) == ([], ["t/extra.csv"])

    # A plan from the comparison made before the upload: the lake says those objects changed.
    versions = len(s3.list_object_versions(Bucket=bucket).get("Versions", []))
    view.model.set_comparison(stale)
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        assert view.run_plan(UPLOAD)
    assert done.args[0] == {"copied": 0, "deleted": 0, "failed": 4}
    assert len(s3.list_object_versions(Bucket=bucket).get("Versions", [])) == versions  # nothing sent twice


def test_mirror_from_an_empty_side_is_refused(qtbot, window, moto_endpoint, tmp_path):
    """Trial A, finding 2, in the window: mirroring an empty folder would delete every object."""
    s3 = client(moto_endpoint)
    bucket = B + "-empty"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="e/a.csv", Body=b"a")
    s3.put_object(Bucket=bucket, Key="e/b.csv", Body=b"b")
    folder = tmp_path / "empty"
    folder.mkdir()
    view = _compare_in_window(qtbot, window, moto_endpoint, bucket, "e/", folder)
    asked = []
    view.confirm_plan = lambda plan: asked.append(plan) or True
    assert not view.run_plan(UPLOAD, delete=True)
    assert not asked and len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 2
    assert view.summary.text().startswith(f"Mirror refused: {folder} has no files, so mirroring it would delete "
                                          f"all 2 objects in s3://{bucket}/e/. Nothing was changed.")
    # The other way: an empty prefix would empty the folder.
    (folder / "keep.csv").write_bytes(b"k")
    view.set_target(view.connection, bucket, "nothing-here/")
    with qtbot.waitSignal(view.compared, timeout=15000):
        view.compare()
    assert not view.run_plan(DOWNLOAD, delete=True)
    assert "has no objects" in view.summary.text() and (folder / "keep.csv").exists() and not asked


def test_download_changes_leave_alone_a_local_file_edited_after_the_comparison(qtbot, window, moto_endpoint,
                                                                               tmp_path):
    s3 = client(moto_endpoint)
    bucket = B + "-edit"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="d/a.csv", Body=b"lake")
    s3.put_object(Bucket=bucket, Key="d/b.csv", Body=b"lake")
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "a.csv").write_bytes(b"old")
    view = _compare_in_window(qtbot, window, moto_endpoint, bucket, "d/", folder)
    (folder / "a.csv").write_bytes(b"edited here after the comparison")
    view.confirm_plan = lambda plan: True
    with qtbot.waitSignal(view.plan_finished, timeout=20000) as done:
        assert view.run_plan(DOWNLOAD)
    assert done.args[0] == {"copied": 1, "deleted": 0, "failed": 1}
    assert (folder / "a.csv").read_bytes() == b"edited here after the comparison"
    assert (folder / "b.csv").read_bytes() == b"lake"
    assert "changed in the folder since the comparison" in view.summary.text()


def test_the_mirror_button_shows_its_whole_label(qtbot, window):
    """It read 'Mirror..': a tool button's menu arrow sat over its text. A push button with a menu, as
    its neighbours are, makes room for the arrow."""
    from PySide6.QtWidgets import QPushButton

    view = window.comparison_window()
    button = view.mirror_button
    assert isinstance(button, QPushButton) and button.menu() is not None
    assert button.sizeHint().width() > button.fontMetrics().horizontalAdvance(button.text()) + 16
    assert [a.text() for a in button.menu().actions()] == [view.mirror_up_action.text(), view.mirror_down_action.text()]
