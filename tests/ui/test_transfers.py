"""The GUI transfer queue against a real HTTP endpoint (moto's server): drops, downloads, controls,
limits, throttled progress, and a queue that is there again after a restart."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from lakegui.core.demo import YEARS
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.jobs import Direction, OverwritePolicy
from lakegui.core.transfers.store import JobStore, NewJob
from lakegui.ui.queue.controller import TransferQueue

BUCKET = "us-equity-datalake"


def wait_listed(qtbot, browser, action):
    with qtbot.waitSignal(browser.listing_finished, timeout=10000):
        action()


def wait_idle(qtbot, queue, timeout=30000):
    qtbot.waitUntil(lambda: queue.running_count == 0 and all(
        queue.model.row(i).state not in ("queued", "running") for i in range(queue.model.rowCount())),
        timeout=timeout)


@pytest.fixture
def make_queue(qtbot, qloop, demo_connection):
    made = []

    def make(**settings):
        q = TransferQueue(TransferSettings(**settings))
        q.set_connection(demo_connection)
        q.start()
        made.append(q)
        return q

    yield make
    for q in made:
        q.shutdown()


def enqueue_upload(queue, conn, paths_keys, name="test"):
    jobs = [NewJob(Direction.UPLOAD, BUCKET, key, str(p), size=p.stat().st_size, policy=OverwritePolicy.OVERWRITE)
            for p, key in paths_keys]
    return queue.enqueue(name, "upload", conn.profile.to_dict(), jobs)


def drop(widget, paths, pos=QPointF(30, 30)):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event


def start_paced_upload(qtbot, window, tmp_path, mib: int):
    """Drop a `mib` MiB file on the browser with the bandwidth held at 256 KB/s, and wait until its
    upload runs (it then runs for a while): the model's first row is it."""
    from dataclasses import replace

    window.transfers.apply_settings(replace(window.transfers.settings, max_bandwidth=256 * 1024))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(mib * MB))
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        assert drop(window.browser.table, [big]).isAccepted()
    model = window.transfers.model
    qtbot.waitUntil(lambda: model.row(0).state == "running", timeout=10000)
    return model


def test_dropping_a_folder_uploads_it_under_the_current_prefix(qtbot, window, demo_connection, tmp_path):
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    wait_listed(qtbot, b, lambda: b.navigate("data/reference/"))
    folder = tmp_path / "new batch"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text('{"a": 1}')
    (folder / "sub" / "b.csv").write_text("x,y\n1,2\n")
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000) as blocker:
        assert drop(b.table, [folder]).isAccepted()
    assert blocker.args[1] == 2
    model = window.transfers.model
    assert model.rowCount() == 2  # in the queue at once
    with qtbot.waitSignal(b.listing_finished, timeout=20000):  # the open folder refreshes when done
        wait_idle(qtbot, window.transfers)
    assert {model.row(i).state for i in range(2)} == {"done"}
    assert all(model.row(i).fraction == 1.0 for i in range(2))
    s3 = demo_connection.client()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="data/reference/new batch/")["Contents"]}
    assert keys == {"data/reference/new batch/a.json", "data/reference/new batch/sub/b.csv"}
    assert "new batch/" in [b.model.index(r, 0).data() for r in range(b.model.rowCount())]


def test_drop_is_refused_when_not_connected(qtbot, window, tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("x")
    assert not drop(window.browser.table, [f]).isAccepted()
    assert window.transfers.model.rowCount() == 0


def test_download_selection_to_a_folder(qtbot, window, demo_connection, tmp_path):
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    wait_listed(qtbot, b, lambda: b.navigate("data/ticks/daily/"))
    names = [b.model.index(r, 0).data() for r in range(b.model.rowCount())]
    b.table.selectRow(names.index("AAPL/"))
    window.choose_download_folder = lambda: str(tmp_path / "dl")
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        b.download_action.trigger()
    wait_idle(qtbot, window.transfers)
    got = sorted(p.relative_to(tmp_path / "dl").as_posix() for p in (tmp_path / "dl").rglob("*.parquet"))
    assert got == [f"AAPL/{y}/ticks.parquet" for y in YEARS]
    # The same again: every file exists, so the user is asked; skipping leaves them as they are.
    asked = []
    window.transfer_actions.choose_policy = lambda plan, where: asked.append(len(plan.conflicts)) or OverwritePolicy.SKIP
    with qtbot.waitSignal(window.transfer_actions.enqueued, timeout=10000):
        b.download_action.trigger()
    wait_idle(qtbot, window.transfers)
    assert asked == [len(YEARS)]
    states = [window.transfers.model.row(i).state for i in range(window.transfers.model.rowCount())]
    assert states == ["done"] * len(YEARS) + ["skipped"] * len(YEARS)


def test_pause_resume_and_cancel_leave_no_orphan_upload(qtbot, make_queue, demo_connection, tmp_path):
    q = make_queue(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2, max_bandwidth=3 * MB)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(15 * MB))
    enqueue_upload(q, demo_connection, [(big, "tmp/big.bin")])
    row = q.model.row(0)
    qtbot.waitUntil(lambda: row.state == "running" and row.bytes_done > 1 * MB, timeout=15000)
    asked = time.monotonic()
    q.pause()
    qtbot.waitUntil(lambda: row.state == "paused", timeout=5000)
    assert time.monotonic() - asked < 2.0
    s3 = demo_connection.client()
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    q.resume()
    qtbot.waitUntil(lambda: row.state == "running" and row.bytes_done > 1 * MB, timeout=15000)
    q.cancel([row.job_id])
    qtbot.waitUntil(lambda: row.state == "cancelled", timeout=5000)
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    q.retry()  # "Retry failed" leaves a job the user cancelled alone (issue 18.3)
    assert row.state == "cancelled" and q.running_count == 0
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="tmp/big.bin")["KeyCount"] == 0


def test_concurrency_limit_holds_after_pause_resume_and_more_jobs(qtbot, make_queue, demo_connection, tmp_path):
    q = make_queue(concurrent_files=2, max_bandwidth=256 * 1024)
    files = []
    for i in range(8):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(os.urandom(64 * 1024))
        files.append((p, f"limit/f{i}.bin"))
    seen = []
    q.totals_changed.connect(lambda t: seen.append((t.running, q.pool.activeThreadCount())))
    enqueue_upload(q, demo_connection, files[:4])
    qtbot.waitUntil(lambda: q.running_count == 2, timeout=5000)
    q.pause()
    q.resume()
    enqueue_upload(q, demo_connection, files[4:])
    wait_idle(qtbot, q, timeout=60000)
    assert seen and max(r for r, _ in seen) == 2 and max(a for _, a in seen) <= 2
    assert {q.model.row(i).state for i in range(8)} == {"done"}


def test_progress_reaches_the_model_at_most_about_ten_times_a_second(qtbot, make_queue, demo_connection, tmp_path):
    q = make_queue(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_bandwidth=8 * MB)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MB))
    changes = []
    q.model.dataChanged.connect(lambda *a: changes.append(time.monotonic()))
    start = time.monotonic()
    enqueue_upload(q, demo_connection, [(big, "tick/big.bin")])
    wait_idle(qtbot, q, timeout=30000)
    elapsed = time.monotonic() - start
    # s3transfer reports every 256 KB (48+ callbacks); the model hears ~10 Hz plus start and end.
    assert len(changes) <= elapsed * 12 + 4
    assert q.model.row(0).fraction == 1.0


def test_queue_is_restored_after_a_restart_and_a_crash(qtbot, qloop, demo_connection, tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("hello")
    q1 = TransferQueue(TransferSettings())
    try:
        q1.set_connection(demo_connection)
        q1.pause()  # nothing runs: the jobs stay queued
        batch = enqueue_upload(q1, demo_connection, [(f, "restart/f.txt")])
        q1.pause()
        # A job a killed process left running, as the database holds it after kill -9.
        store = JobStore()
        store.add_jobs(batch, [NewJob(Direction.UPLOAD, BUCKET, "restart/crashed.txt", str(f), size=5)])
        store.claim(1, "somehost-that-is-gone:1", runner="gui")
        store.close()
    finally:
        q1.shutdown()
    q2 = TransferQueue(TransferSettings())
    try:
        states = [q2.model.row(i).state for i in range(q2.model.rowCount())]
        assert states == ["paused", "running"]  # another host's job is left alone
        store = JobStore()
        store.recover_orphans(alive=lambda owner: False)  # that host is known to be gone
        store.close()
        q2.set_connection(demo_connection)
        q2._on_sync_timer_timeout()
        qtbot.waitUntil(lambda: [q2.model.row(i).state for i in range(2)] == ["paused", "queued"])
        q2.start()
        q2.resume()
        wait_idle(qtbot, q2)
        assert [q2.model.row(i).state for i in range(2)] == ["done", "done"]
    finally:
        q2.shutdown()


def test_queue_model_passes_the_model_tester(qtmodeltester, make_queue, demo_connection, tmp_path):
    q = make_queue()
    q.pause()
    f = tmp_path / "f.txt"
    f.write_text("x")
    enqueue_upload(q, demo_connection, [(f, f"m/{i}.txt") for i in range(5)])
    qtmodeltester.check(q.model, force_py=True)


def test_settings_dialog_validates_applies_and_persists(qtbot, window, monkeypatch, tmp_path):
    from lakegui.core import settings as settings_store
    from lakegui.ui.dialogs.settings import SettingsDialog

    dialog = SettingsDialog(window.settings)
    qtbot.addWidget(dialog)
    assert dialog.files.accessibleName() == "Files at once"
    dialog.chunk.setValue(64)
    dialog.threshold.setValue(16)
    dialog._on_buttons_accepted()
    assert "at least the part size" in dialog.problem.text() and dialog.result() == 0
    dialog.threshold.setValue(64)
    dialog.folder_edit.setText(str(tmp_path / "missing"))
    dialog._on_buttons_accepted()
    assert "is not a folder" in dialog.problem.text() and dialog.result() == 0
    dialog.choose_folder = lambda: str(tmp_path)
    dialog._on_browse_clicked()
    dialog.files.setValue(3)
    dialog.bandwidth.setValue(512)
    dialog.overwrite.setCurrentIndex(dialog.overwrite.findData("skip"))
    dialog.cache.setValue(64)
    chosen = dialog.settings()
    t = chosen.transfer
    assert (t.concurrent_files, t.multipart_chunksize, t.max_bandwidth, t.overwrite) == (3, 64 * MB, 512 * 1024, "skip")
    assert chosen.preview.cache_mb == 64 and chosen.download_folder == str(tmp_path)

    def accept_with_changes(self):
        self.files.setValue(5)
        self.engine.setCurrentIndex(self.engine.findData("s3transfer"))
        self.text_limit.setValue(8)
        return SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", accept_with_changes)
    with qtbot.waitSignal(window.settings_chosen) as blocker:
        window.settings_action.trigger()
    assert blocker.args[0].transfer.concurrent_files == 5 and blocker.args[0].transfer.engine == "s3transfer"
    assert window.transfers.settings.concurrent_files == 5 and window.transfers.pool.maxThreadCount() == 5
    assert window.preview.limits.text_kb == 8
    settings_store.save(blocker.args[0])  # as the app does; and read back the same
    assert settings_store.load() == blocker.args[0]


def test_dragging_objects_out_downloads_them_for_the_drop(qtbot, window, demo_connection):
    b = window.browser
    wait_listed(qtbot, b, lambda: window.set_connection(demo_connection))
    wait_listed(qtbot, b, lambda: b.navigate("data/ticks/daily/"))
    names = [b.model.index(r, 0).data() for r in range(b.model.rowCount())]
    b.table.selectRow(names.index("AAPL/"))
    mime = b.drag_data()
    # s3:// URIs right away, for text targets; nothing is downloaded until a target asks for files.
    assert mime.text() == f"s3://{BUCKET}/data/ticks/daily/AAPL/"
    assert "text/uri-list" in mime.formats() and not mime.fetched
    assert window.transfers.model.rowCount() == 0
    urls = mime.urls()  # what a file manager does on the drop
    assert len(urls) == 1 and urls[0].isLocalFile()
    folder = Path(urls[0].toLocalFile())
    assert folder.name == "AAPL" and folder.is_dir()
    got = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert got == [f"{y}/ticks.parquet" for y in YEARS]
    s3 = demo_connection.client()
    key = f"data/ticks/daily/AAPL/{YEARS[0]}/ticks.parquet"
    assert (folder / str(YEARS[0]) / "ticks.parquet").read_bytes() == s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    # The jobs went through the queue, and asking again hands over the same files.
    assert {window.transfers.model.row(i).state for i in range(window.transfers.model.rowCount())} == {"done"}
    assert mime.urls() == urls and window.transfers.model.rowCount() == len(YEARS)
    # Dropping our own drag back on the browser is no upload (onto a folder row it is a move: test_reorganise.py).
    uploads = []
    b.upload_requested.connect(lambda *args: uploads.append(args))
    below_the_rows = QPointF(30, b.table.viewport().height() - 5)
    assert not b.table.indexAt(below_the_rows.toPoint()).isValid()
    assert not drop_mime(b.table, mime, below_the_rows).isAccepted() and uploads == []


def drop_mime(widget, mime, pos=QPointF(30, 30)):
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event


def test_staging_folders_of_old_drops_are_swept(tmp_path, monkeypatch):
    from lakegui.ui.queue import drop_downloads

    monkeypatch.setenv("LAKEGUI_DATA_DIR", str(tmp_path))
    root = drop_downloads.staging_root()
    old, new = root / "drop-old", root / "drop-new"
    (old / "sub").mkdir(parents=True)
    new.mkdir()
    (old / "sub" / "f.parquet").write_bytes(b"x")
    day_ago = time.time() - drop_downloads.KEEP_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    assert drop_downloads.sweep_staging() == 1
    assert not old.exists() and new.exists()
