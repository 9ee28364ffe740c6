"""Versions and backfills in the window (issue 22): a backfill queued by the wizard with Replace
remembers the versions it replaced, and Roll back… in the dashboard undoes it after a dry run,
leaving alone (and reporting) an object another writer changed since; on a bucket without
versions the wizard warns before replacing, and the dashboard says why it cannot roll back."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from lakegui.core.connection import Connection
from tests.ui.conftest import profile_for
from tests.ui.test_backfill_wizard import open_wizard, wait_finished

BUCKET = "versioned"


def key(symbol, year):
    return f"data/ticks/daily/{symbol}/{year}/ticks.parquet"


def s3client(url):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def body(s3, bucket, k):
    return s3.get_object(Bucket=bucket, Key=k)["Body"].read()


def local_files(tmp_path, files: dict[str, bytes]):
    root = tmp_path / "local"
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def queue_backfill(qtbot, window, conn, folder, *, overwrite: bool):
    w = open_wizard(qtbot, window, conn, folder=str(folder))
    w.overwrite_radio.setChecked(overwrite)
    w.name_edit.setText("bf")
    with qtbot.waitSignal(w.enqueued, timeout=10000):
        w.enqueue()
    wait_finished(qtbot, window)
    return w


def open_dashboard(qtbot, window):
    d = window.backfill_dashboard()
    with qtbot.waitSignal(d.refreshed, timeout=10000):
        window.open_backfills()
    qtbot.waitUntil(lambda: d.rollback_button.isEnabled(), timeout=10000)
    return d


@pytest.fixture
def versioned(moto_endpoint):
    s3 = s3client(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3, Connection(profile_for(moto_endpoint, BUCKET))


def test_roll_back_a_wizard_backfill_from_the_dashboard(qtbot, window, versioned, tmp_path):
    s3, conn = versioned
    old = s3.put_object(Bucket=BUCKET, Key=key("AAPL", 2023), Body=b"old AAPL 2023")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key=key("MSFT", 2024), Body=b"old MSFT 2024")
    folder = local_files(tmp_path, {"AAPL_2023.parquet": b"new AAPL 2023", "AAPL_2024.parquet": b"new AAPL 2024",
                                    "MSFT_2024.parquet": b"new MSFT 2024"})
    w = queue_backfill(qtbot, window, conn, folder, overwrite=True)
    assert w.versioning == "enabled" and w.overwrite_warning.isHidden()  # versions kept: no warning
    service = window.transfers.service
    # The ends reach the queue's database a moment after the view shows them.
    qtbot.waitUntil(lambda: all(j.version_id for j in service.jobs()), timeout=5000)
    jobs = {j.key: j for j in service.jobs()}
    assert jobs[key("AAPL", 2023)].replaced_version == old  # the wizard noted what it replaced
    assert jobs[key("AAPL", 2024)].replaced_version == "" and jobs[key("AAPL", 2024)].version_id
    assert body(s3, BUCKET, key("AAPL", 2023)) == b"new AAPL 2023"
    theirs = s3.put_object(Bucket=BUCKET, Key=key("MSFT", 2024), Body=b"another writer")["VersionId"]

    d = open_dashboard(qtbot, window)
    asked, reports = [], []
    d.rollback.report = lambda title, text: reports.append(text)
    d.rollback.ask = lambda name, plan: asked.append((name, plan)) or None  # the dry run, then Cancel
    with qtbot.waitSignal(d.rollback.planned, timeout=10000):
        d.rollback_button.click()
    qtbot.waitUntil(lambda: not d.rollback.running, timeout=5000)
    name, plan = asked[0]
    assert name == "bf" and [k for k, _ in plan.remove] == [key("AAPL", 2024)]
    assert [k for k, _, prev in plan.restore] == [key("AAPL", 2023)] and plan.restore[0][2] == old
    assert [(c["key"], c["latest_version"]) for c in plan.changed] == [(key("MSFT", 2024), theirs)]
    assert body(s3, BUCKET, key("AAPL", 2024)) == b"new AAPL 2024" and not reports  # nothing done

    d.rollback.ask = lambda name, plan: False  # delete markers, not permanent
    qtbot.waitUntil(d.rollback_button.isEnabled, timeout=5000)
    with qtbot.waitSignal(d.rollback.finished, timeout=10000):
        d.rollback_button.click()
    assert body(s3, BUCKET, key("AAPL", 2023)) == b"old AAPL 2023"
    assert body(s3, BUCKET, key("MSFT", 2024)) == b"another writer"
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=BUCKET, Key=key("AAPL", 2024))
    markers = s3.list_object_versions(Bucket=BUCKET, Prefix=key("AAPL", 2024)).get("DeleteMarkers", [])
    assert len(markers) == 1  # Undelete brings it back
    qtbot.waitUntil(lambda: bool(reports), timeout=5000)
    assert "Left alone: 1 object changed by someone else" in reports[0] and key("MSFT", 2024) in reports[0]


def test_the_rollback_dialog_offers_markers_or_permanent(qtbot):
    from lakegui.core.rollback import RollbackPlan
    from lakegui.ui.backfills.rollback import RollbackDialog

    plan = RollbackPlan("b", remove=[("k1", "v1")], restore=[("k2", "v2", "v0")],
                        changed=[{"key": "k3", "version_id": "v3", "latest_version": "v4"}])
    dialog = RollbackDialog("bf", plan)
    qtbot.addWidget(dialog)
    text = dialog.details.toPlainText()
    assert "Remove 1 object the backfill created:\n  s3://b/k1" in text
    assert "Bring back the previous version of 1 object it replaced:\n  s3://b/k2" in text
    assert "Left alone: 1 object changed by someone else" in text
    assert dialog.markers.isChecked() and not dialog.permanent.isChecked() and dialog.roll_button.isEnabled()
    empty = RollbackDialog("bf", RollbackPlan("b", changed=plan.changed))
    qtbot.addWidget(empty)
    assert not empty.roll_button.isEnabled()


def test_unversioned_bucket_wizard_warns_and_dashboard_explains(qtbot, window, moto_endpoint, tmp_path):
    s3 = s3client(moto_endpoint)
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key=key("AAPL", 2023), Body=b"old")
    conn = Connection(profile_for(moto_endpoint, "plain"))
    folder = local_files(tmp_path, {"AAPL_2023.parquet": b"new", "AAPL_2024.parquet": b"created"})
    w = open_wizard(qtbot, window, conn, folder=str(folder))
    assert w.versioning == "never" and w.overwrite_warning.isHidden()  # keeping them: nothing to warn of
    w.overwrite_radio.setChecked(True)
    assert w.overwrite_warning.isVisible() and "does not keep versions" in w.overwrite_warning.text()
    assert "cannot be rolled back" in w.overwrite_warning.text()
    asked = []
    w.confirm_overwrite = lambda text: asked.append(text) or False
    w.name_edit.setText("bf")
    w.enqueue()
    qtbot.waitUntil(lambda: bool(asked) and not w._enqueue_slot.running, timeout=5000)
    assert "Replace them anyway?" in asked[0] and window.transfers.service.jobs() == []
    assert body(s3, "plain", key("AAPL", 2023)) == b"old"

    w.confirm_overwrite = lambda text: True
    with qtbot.waitSignal(w.enqueued, timeout=10000):
        w.enqueue()
    wait_finished(qtbot, window)
    assert body(s3, "plain", key("AAPL", 2023)) == b"new"
    d = open_dashboard(qtbot, window)
    reports = []
    d.rollback.report = lambda title, text: reports.append((title, text))
    with qtbot.waitSignal(d.rollback.failed, timeout=10000):
        d.rollback_button.click()
    assert reports[0][0] == "Cannot roll back" and "does not keep versions" in reports[0][1]
    assert body(s3, "plain", key("AAPL", 2024)) == b"created"


def test_after_a_cli_rollback_the_dashboard_says_rolled_back_and_has_nothing_to_do(qtbot, window, versioned,
                                                                                  tmp_path):
    """Session 11 finding 8: after `backfill rollback` in a terminal, Roll back… in the window said
    "Left alone: 1 object changed by someone else" of that rollback's own delete marker, and the
    dashboard never said the backfill had been rolled back."""
    import contextlib
    import io

    from lakegui.cli import main

    s3, conn = versioned
    folder = local_files(tmp_path, {"AAPL_2024.parquet": b"new AAPL 2024"})
    queue_backfill(qtbot, window, conn, folder, overwrite=False)
    service = window.transfers.service
    qtbot.waitUntil(lambda: all(j.version_id for j in service.jobs()), timeout=5000)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["backfill", "rollback", "bf", "--queue", str(service.path)]) == 0  # another process's
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=BUCKET, Key=key("AAPL", 2024))

    d = open_dashboard(qtbot, window)
    qtbot.waitUntil(lambda: "\nRolled back " in d.summary.text(), timeout=5000)
    assert d.summary.text().startswith("1 of 1 files done (1 uploaded, 0 already there), 0 failed, 0 to go")
    assert d.summary.text().endswith(": 1 object (1 removed, 0 restored)")
    asked = []
    d.rollback.ask = lambda name, plan: asked.append(plan) or None
    with qtbot.waitSignal(d.rollback.planned, timeout=10000):
        d.rollback_button.click()
    qtbot.waitUntil(lambda: not d.rollback.running, timeout=5000)
    plan = asked[0]
    assert plan.changed == [] and plan.already == [key("AAPL", 2024)] and not plan.to_do
    from lakegui.ui.backfills.rollback import RollbackDialog, plan_text

    text = plan_text(plan)
    assert text.startswith("Nothing to do: this backfill was already rolled back.")
    assert "Already rolled back on " in text and "someone else" not in text
    dialog = RollbackDialog("bf", plan)
    qtbot.addWidget(dialog)
    assert not dialog.roll_button.isEnabled()
