"""The backfill wizard against a real HTTP endpoint (moto's server) holding the demo lake:
the plan shown before anything is sent, invalid files listed and never queued, the policy for
objects that differ, lineage metadata on what lands, bad inputs, drops and saved layouts."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from lakegui.core.demo import DEMO_BUCKET, _parquet, daily_table

from .test_main_window import connect_and_wait


def lake_folder(tmp_path):
    """AAPL 2024 as the lake has it, MSFT 2024 changed, a new symbol, and three bad names."""
    local = tmp_path / "local"
    local.mkdir()
    (local / "AAPL_2024.parquet").write_bytes(_parquet(daily_table("AAPL", 2024)))
    (local / "MSFT_2024.parquet").write_bytes(b"not the lake's MSFT")
    (local / "ZZZZ_2024.parquet").write_bytes(b"a new symbol")
    (local / "aapl_2023.parquet").write_bytes(b"lower case")
    (local / "AAPL_1800.parquet").write_bytes(b"too old")
    (local / "notes.txt").write_text("not data")
    return local


def open_wizard(qtbot, window, conn, **kw):
    connect_and_wait(qtbot, window, conn)
    wizard = window.open_backfill_wizard(**kw)
    assert wizard is not None and wizard.isVisible()
    if kw.get("folder"):
        qtbot.waitUntil(lambda: wizard.plan is not None, timeout=15000)
    return wizard


def rows(wizard):
    m = wizard.model
    return {m.index(r, 1).data(): (m.index(r, 0).data(), m.index(r, 2).data(), m.index(r, 5).data())
            for r in range(m.rowCount())}


def wait_finished(qtbot, window, timeout=30000):
    q = window.transfers
    qtbot.waitUntil(lambda: q.running_count == 0 and q.model.rowCount() > 0 and all(
        q.model.row(i).state not in ("queued", "running") for i in range(q.model.rowCount())), timeout=timeout)


def test_plan_is_shown_before_anything_is_sent_and_only_valid_files_are_queued(qtbot, window, demo_connection,
                                                                                tmp_path):
    client = demo_connection.client()
    before = client.list_objects_v2(Bucket=DEMO_BUCKET)["KeyCount"]
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)))
    got = rows(w)
    assert got["AAPL_2024.parquet"][:2] == ("exists-same", "data/ticks/daily/AAPL/2024/ticks.parquet")
    assert got["MSFT_2024.parquet"][0] == "exists-different"
    assert got["ZZZZ_2024.parquet"][:2] == ("new", "data/ticks/daily/ZZZZ/2024/ticks.parquet")
    assert "not a ticker in capitals" in got["aapl_2023.parquet"][2]
    assert "not a year between 1900" in got["AAPL_1800.parquet"][2]
    assert "does not match the pattern" in got["notes.txt"][2]
    meta = w.model.index(list(got).index("ZZZZ_2024.parquet"), 3).data()
    assert meta == "symbol=ZZZZ, year=2024, data-type=daily-ticks, source=lakegui"
    assert w.summary.text().startswith("1 new, 1 already there (same), 1 already there (different), "
                                       "0 schema differs, 3 invalid")
    assert client.list_objects_v2(Bucket=DEMO_BUCKET)["KeyCount"] == before  # planning wrote nothing

    w.status_box.setCurrentIndex(4)
    assert sorted(rows(w)) == ["AAPL_1800.parquet", "aapl_2023.parquet", "notes.txt"]
    assert w.status_box.currentText() == "Invalid (3)"

    assert w.keep_radio.isChecked() and w.queue_button.text() == "Queue 1 file"
    msft = client.head_object(Bucket=DEMO_BUCKET, Key="data/ticks/daily/MSFT/2024/ticks.parquet")["ETag"]
    with qtbot.waitSignal(w.enqueued, timeout=10000) as sent:
        w.queue_button.click()
    batch, jobs = sent.args
    assert jobs == 3  # one upload, two recorded as skipped; the invalid ones are not jobs
    wait_finished(qtbot, window)
    head = client.head_object(Bucket=DEMO_BUCKET, Key="data/ticks/daily/ZZZZ/2024/ticks.parquet")
    assert head["Metadata"] == {"symbol": "ZZZZ", "year": "2024", "data-type": "daily-ticks", "source": "lakegui"}
    assert client.head_object(Bucket=DEMO_BUCKET, Key="data/ticks/daily/MSFT/2024/ticks.parquet")["ETag"] == msft
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=DEMO_BUCKET, Prefix="data/ticks/daily/")["Contents"]]
    assert not [k for k in keys if "/aapl/" in k or "/1800/" in k]  # invalid files were never sent
    qtbot.waitUntil(lambda: {j.key.split("/")[3]: str(j.state) for j in window.transfers.service.jobs(batch_id=batch)}
                    == {"AAPL": "skipped", "MSFT": "skipped", "ZZZZ": "done"}, timeout=5000)  # ends are written in batches
    assert not w.isVisible() and window.backfills is not None and window.backfills.isVisible()


def test_overwrite_replaces_objects_that_differ(qtbot, window, demo_connection, tmp_path):
    client = demo_connection.client()
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)))
    w.overwrite_radio.setChecked(True)
    assert w.queue_button.text() == "Queue 2 files" and "(1 object)" in w.overwrite_radio.text()
    # The demo lake keeps no versions: replacing is for good, so the wizard warns and asks (issue 22).
    assert w.overwrite_warning.isVisible() and "cannot be rolled back" in w.overwrite_warning.text()
    w.confirm_overwrite = lambda text: True
    with qtbot.waitSignal(w.enqueued, timeout=10000):
        w.queue_button.click()
    wait_finished(qtbot, window)
    body = client.get_object(Bucket=DEMO_BUCKET, Key="data/ticks/daily/MSFT/2024/ticks.parquet")["Body"].read()
    assert body == b"not the lake's MSFT"


def test_bad_inputs_say_what_is_wrong_and_queue_nothing(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)))
    cases = [
        (w.folder_edit, str(tmp_path / "missing"), "is not a folder."),
        (w.target_edit, "us-equity-datalake", "is not an S3 URI"),
        (w.key_edit, "data/{symbol/x", "its key template is not valid"),
        (w.pattern_edit, "{symbol}.parquet", "its local pattern lacks year"),
    ]
    for edit, bad, message in cases:
        good = edit.text()
        with qtbot.waitSignal(w.plan_failed, timeout=10000) as failed:
            edit.setText(bad)
            w.replan()
        assert message in failed.args[0] and message in w.summary.text()
        assert w.model.rowCount() == 0 and not w.queue_button.isEnabled()
        with qtbot.waitSignal(w.planned, timeout=10000):
            edit.setText(good)
            w.replan()
    w.name_edit.setText("")
    w.enqueue()
    assert "Give the backfill a name" in w.summary.text()
    assert window.transfers.model.rowCount() == 0


def test_cells_from_the_coverage_view_restrict_the_plan(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)),
                    cells=[{"symbol": "ZZZZ", "year": "2024"}, {"symbol": "MSFT", "year": "2024"}])
    assert sorted(rows(w)) == ["MSFT_2024.parquet", "ZZZZ_2024.parquet"]
    assert "2 cells chosen in the coverage view" in w.findChild(type(w.summary), "backfillCells").text()


def test_a_dropped_folder_is_planned(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection)
    assert w.summary.text() == "Choose a local folder to backfill from."
    folder = lake_folder(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    # Shift makes the source propose Move: the folder is only read, so the source is told Copy.
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier)
    with qtbot.waitSignal(w.planned, timeout=10000):
        w.dropEvent(event)
    assert w.folder_edit.text() == str(folder) and w.model.rowCount() == 6
    assert event.isAccepted() and event.dropAction() == Qt.DropAction.CopyAction
    # Objects dragged over from the browser are not a folder; nothing is downloaded to find out.
    from lakegui.ui.browser.drag import ObjectDragData

    asked = []
    dragged = ObjectDragData("b", ["data/x/"], fetch=lambda: asked.append(1) or [str(folder)])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, dragged, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    assert not event.isAccepted() and asked == []


def test_a_hive_layout_is_saved_and_offered_again(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)))
    w.key_edit.setText("hive/symbol={symbol}/year={year}/ticks.parquet")
    w._schedule_replan()
    assert w.save_layout_button.isEnabled()
    assert "built-in layout" in w.save_layout("daily-ticks")
    with qtbot.waitSignal(w.planned, timeout=10000):
        assert w.save_layout("hive-daily") == ""
    assert w.layout_box.currentText() == "hive-daily"
    assert rows(w)["ZZZZ_2024.parquet"][:2] == ("new", "hive/symbol=ZZZZ/year=2024/ticks.parquet")
    w.close()
    again = window.open_backfill_wizard()
    assert "hive-daily" in [again.layout_box.itemText(i) for i in range(again.layout_box.count())]


def test_a_backfill_that_ends_in_the_background_is_notified(qtbot, window, demo_connection, tmp_path):
    w = open_wizard(qtbot, window, demo_connection, folder=str(lake_folder(tmp_path)))
    window.notifier.in_background = lambda: True  # the user is in another window
    with qtbot.waitSignal(window.notifier.notified, timeout=30000) as shown:
        w.queue_button.click()
    title, text = shown.args
    assert title.startswith("Backfill finished: daily-ticks ") and text == "1 file uploaded, 2 already there"
