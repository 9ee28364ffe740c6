"""Backfills in the window after session 11's trial C: the wizard counts, filters and (unless
asked) leaves out files whose schema differs, and says how many files it really sends; the
dashboard's Retry all failed leaves a file held back for its schema and says why; its Remove
backfill… and the rollback dialog default to No/Cancel."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from lakegui.core.backfill import SCHEMA_DIFFERS, BackfillItem, BackfillPlan, backfill_jobs
from lakegui.core.demo import DEMO_BUCKET, _parquet, daily_table
from lakegui.core.layouts import DAILY_TICKS
from lakegui.core.rollback import RollbackPlan
from lakegui.core.transfers.jobs import BACKFILL, JobState
from lakegui.core.transfers.store import JobStore

from .test_backfill_wizard import open_wizard, rows, wait_finished
from .test_backfills import open_dashboard


def _drifted() -> bytes:
    t = daily_table("MSFT", 2024)
    i = t.schema.get_field_index("volume")
    sink = io.BytesIO()
    pq.write_table(t.set_column(i, "volume", t["volume"].cast(pa.float64())), sink)
    return sink.getvalue()


def test_the_wizard_counts_filters_and_leaves_out_files_whose_schema_differs(qtbot, window, demo_connection,
                                                                             tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    (local / "AAPL_2024.parquet").write_bytes(_parquet(daily_table("AAPL", 2024)))  # as the lake has it
    (local / "ZZZZ_2024.parquet").write_bytes(_parquet(daily_table("AMZN", 2024)))  # new, the lake's schema
    (local / "YYYY_2024.parquet").write_bytes(_drifted())                            # new, volume as double
    (local / "notes.txt").write_text("not data")
    client = demo_connection.client()
    w = open_wizard(qtbot, window, demo_connection, folder=str(local))
    assert rows(w)["YYYY_2024.parquet"][0] == SCHEMA_DIFFERS
    assert w.summary.text().startswith(
        "1 new, 1 already there (same), 0 already there (different), 1 schema differs, 1 invalid"), w.summary.text()
    assert "not queued unless you tick" in w.summary.text()
    titles = [w.status_box.itemText(i) for i in range(w.status_box.count())]
    assert "Schema differs (1)" in titles
    w.status_box.setCurrentIndex(titles.index("Schema differs (1)"))
    assert sorted(rows(w)) == ["YYYY_2024.parquet"]
    assert "--allow-schema-drift" not in rows(w)["YYYY_2024.parquet"][2]  # no CLI flag in the window

    assert w.drift_box.isVisible() and not w.drift_box.isChecked() and w.drift_box.text().endswith("(1)")
    assert w.queue_button.text() == "Queue 1 file"  # ZZZZ: the one really sent
    assert "1 file whose schema differs is not queued" in w.queue_button.toolTip()
    w.drift_box.setChecked(True)
    assert w.queue_button.text() == "Queue 2 files"
    w.drift_box.setChecked(False)
    w.name_edit.setText("drift in the window")
    with qtbot.waitSignal(w.enqueued, timeout=10000) as sent:
        w.queue_button.click()
    batch, jobs = sent.args
    assert jobs == 2  # ZZZZ sent, AAPL recorded as skipped; the drifted file is not a job doomed to fail
    wait_finished(qtbot, window)
    qtbot.waitUntil(lambda: sorted(str(j.state) for j in window.transfers.service.jobs(batch_id=batch))
                    == ["done", "skipped"], timeout=5000)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=DEMO_BUCKET, Prefix="data/ticks/daily/")["Contents"]]
    assert DAILY_TICKS.key(symbol="YYYY", year=2024) not in keys
    assert DAILY_TICKS.key(symbol="ZZZZ", year=2024) in keys


def test_retry_all_failed_leaves_a_file_held_back_for_its_schema_and_says_why(qtbot, window):
    plan = BackfillPlan(DAILY_TICKS, "lake", "", items=[BackfillItem(
        "/tmp/PEP_2025.parquet", "PEP_2025.parquet", SCHEMA_DIFFERS, DAILY_TICKS.key(symbol="PEP", year=2025),
        size=10, reason="its schema differs from the lake's (2 of 2 files read): column 'volume' is double")])
    store = JobStore(window.transfers.service.path)
    try:
        batch = store.create_batch("drift1", BACKFILL, {}, runner="cli")
        [held] = store.add_jobs(batch, backfill_jobs(plan))
    finally:
        store.close()
    d = open_dashboard(qtbot, window)
    assert d.failures.rowCount() == 1 and d.retry_button.isEnabled()
    with qtbot.waitSignal(d.refreshed, timeout=5000):
        d.retry_button.click()
    assert window.transfers.service.jobs(ids=[held])[0].state is JobState.FAILED  # not queued again, never sent
    note = d.retry_note.text()
    assert d.retry_note.isVisible() and note.startswith("1 file left as it was, retrying cannot help: s3://lake/")
    assert "was not sent: its schema differs" in note and "Send files whose schema differs" in note


def test_remove_backfill_and_roll_back_default_to_no(qtbot, window):
    from lakegui.ui.backfills.rollback import RollbackDialog

    d = window.backfill_dashboard()
    box = d.remove_box("fix2")
    qtbot.addWidget(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)  # a stray Enter removes nothing
    assert box.escapeButton() is box.button(QMessageBox.StandardButton.No)
    dialog = RollbackDialog("fix2", RollbackPlan("b", remove=[("k1", "v1")]))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).isDefault()
    assert not dialog.roll_button.isDefault() and not dialog.roll_button.autoDefault()
