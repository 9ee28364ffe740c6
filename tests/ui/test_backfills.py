"""The backfill dashboard: totals, roll-up by a template field, failures and retry, manifest export,
and a backfill run by lakegui-cli in another process showing up live."""

from __future__ import annotations

import json
import subprocess
import sys

from lakegui.core.transfers.jobs import BACKFILL, Direction, JobState
from lakegui.core.transfers.store import JobStore, NewJob


def add_backfill(queue, name="daily 2024", n=6):
    """A backfill as a CLI run leaves it, written by another connection to the window's queue."""
    store = JobStore(queue.service.path)
    try:
        return _add_backfill(store, name, n)
    finally:
        store.close()


def _add_backfill(store, name, n):
    batch = store.create_batch(name, BACKFILL, {}, runner="cli")
    jobs = [NewJob(Direction.UPLOAD, "lake", f"data/ticks/daily/{sym}/{year}/ticks.parquet", f"/tmp/{sym}_{year}",
                   size=1000, metadata={"symbol": sym, "year": str(year), "data-type": "daily-ticks", "source": "t"},
                   state=JobState.SKIPPED if sym == "MSFT" and year == 2023 else JobState.QUEUED)
            for sym in ("AAPL", "MSFT") for year in range(2023, 2023 + n // 2)]
    ids = store.add_jobs(batch, jobs)
    store.finish_many([(ids[0], JobState.DONE, "", 1000, "e1"), (ids[1], JobState.FAILED, "AccessDenied: no", 0, None)])
    return batch, ids


def open_dashboard(qtbot, window):
    dashboard = window.backfill_dashboard()
    with qtbot.waitSignal(dashboard.refreshed, timeout=10000):
        window.open_backfills()
    return dashboard


def test_dashboard_totals_rollup_failures_and_manifest(qtbot, window, tmp_path, monkeypatch):
    batch, ids = add_backfill(window.transfers)
    d = open_dashboard(qtbot, window)
    assert d.isVisible() and d.current_batch() == batch
    assert d.summary.text().startswith("2 of 6 files done (1 uploaded, 1 already there), 1 failed, 3 to go · 2.0 KB of 5.9 KB")
    assert [d.field_box.itemText(i) for i in range(d.field_box.count())] == ["symbol", "year"]
    rows = [[d.rollup.index(r, c).data() for c in range(6)] for r in range(d.rollup.rowCount())]
    # Skipped files are in the lake: done, as in the summary (issue 18.5).
    assert rows == [["AAPL", "3", "1", "1", "2.9 KB", "33%"], ["MSFT", "3", "1", "0", "2.9 KB", "33%"]]
    with qtbot.waitSignal(d.refreshed, timeout=5000):
        d.field_box.setCurrentIndex(1)
    assert [d.rollup.index(r, 0).data() for r in range(d.rollup.rowCount())] == ["2023", "2024", "2025"]
    assert d.failures.rowCount() == 1 and d.failures.index(0, 1).data() == "AccessDenied: no"
    assert d.failures_label.text() == "Failures (1)" and d.retry_button.isEnabled()
    d.refresh()  # the timer's tick with nothing changed: no re-read
    assert not d._slot.running
    with qtbot.waitSignal(d.refreshed, timeout=5000):
        d.refresh(force=True)
    assert d.chart.series is not None and d.chart.columns.close == "throughput (MB/s)"  # two readings: a rate

    retried = []
    monkeypatch.setattr(window.transfers, "retry", retried.append)
    d.retry_button.click()
    assert retried == [[ids[1]]]

    d.choose_manifest_path = lambda: str(tmp_path / "manifest.json")
    with qtbot.waitSignal(d.manifest_written, timeout=5000):
        d.export_button.click()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [r["state"] for r in manifest] == ["done", "failed", "queued", "skipped", "queued", "queued"]
    assert manifest[0]["etag"] == "e1" and manifest[1]["error"] == "AccessDenied: no"


def test_a_cli_backfill_in_another_process_shows_live(qtbot, window, moto_endpoint, tmp_path):
    import boto3
    from botocore.config import Config

    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"})).create_bucket(Bucket="live-lake")
    d = open_dashboard(qtbot, window)
    assert d.summary.text().startswith("No backfills in the queue")
    local = tmp_path / "local"
    local.mkdir()
    for sym in ("AAPL", "NVDA"):
        (local / f"{sym}_2024.parquet").write_bytes(sym.encode() * 500)
    proc = subprocess.run([sys.executable, "-m", "lakegui.cli", "backfill", str(local), "s3://live-lake/",
                           "--endpoint-url", moto_endpoint, "--template", "daily-ticks", "--name", "from the cli",
                           "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    qtbot.waitUntil(lambda: d.batch_box.count() == 1 and "2 of 2 files done (2 uploaded" in d.summary.text(),
                    timeout=10000)
    assert d.batch_box.currentText().startswith("from the cli") and d.bar.value() == 1000


def test_remove_finished_keeps_a_backfills_records_until_the_dashboard_clears_them(qtbot, window, tmp_path):
    q = window.transfers
    batch, _ = add_backfill(q, n=2)  # AAPL 2023 done, MSFT 2023 failed
    q._on_sync_timer_timeout()
    qtbot.waitUntil(lambda: q.model.rowCount() == 2)
    q.remove_finished()  # issue 18.5: this deleted the backfill's history
    assert q.model.rowCount() == 1 and q.model.row(0).state == "failed"
    d = open_dashboard(qtbot, window)
    assert d.current_batch() == batch and d.summary.text().startswith("1 of 2 files done (1 uploaded, 0 already there), 1 failed")
    d.choose_manifest_path = lambda: str(tmp_path / "manifest.json")
    with qtbot.waitSignal(d.manifest_written, timeout=5000):
        d.export_button.click()
    assert [r["state"] for r in json.loads((tmp_path / "manifest.json").read_text())] == ["done", "failed"]
    assert d.remove_button.isEnabled()
    d.confirm_remove = lambda name: name == "daily 2024"
    with qtbot.waitSignal(d.refreshed, timeout=5000):
        d.remove_button.click()
    assert q.service.batches(BACKFILL) == [] and d.batch_box.count() == 0
    assert d.summary.text().startswith("No backfills in the queue")
