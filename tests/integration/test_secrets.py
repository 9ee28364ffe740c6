"""Secrets never reach disk or logs (issue 7): with a secret key and a session token in the
environment, a round of CLI commands (successes and failures, a backfill, a download, a crash) and
the GUI's saved settings leave neither in the settings, the log files, the queue database or
anything printed. Keys typed into the Connect dialog go to the keychain and nowhere else
(issue 18, item 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lakegui.core import settings as settings_store
from lakegui.core.connection import ConnectionProfile
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.integration.test_cli_transfers import cli, client

pytestmark = pytest.mark.integration
TOKEN = "lakegui-test-session-token-7f3a9c"


def test_no_secret_in_settings_logs_queue_or_output(moto_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    client(moto_endpoint).create_bucket(Bucket="secrets")
    local = tmp_path / "local"
    local.mkdir()
    for name in ("AAPL_2024.parquet", "bad name.parquet"):
        (local / name).write_bytes(b"x" * 2000)
    url = ["--endpoint-url", moto_endpoint]
    outputs = []
    for args in (["upload", str(local), "s3://secrets/up/", *url, "--json"],
                 ["upload", str(local), "s3://no-such-bucket-x/", *url],
                 ["backfill", str(local), "s3://secrets/", "--template", "daily-ticks", *url, "--json"],
                 ["download", "s3://secrets/up/", str(tmp_path / "down"), *url, "--json"],
                 ["ls", "s3://secrets/", "--recursive", *url],
                 ["coverage", "s3://secrets/", *url, "--json"],
                 ["ls", "s3://secrets/", "--endpoint-url", "http://127.0.0.1:9"]):
        proc, _ = cli(*args, check_json=False)
        outputs += [proc.stdout, proc.stderr]

    # A crash: the engine killed mid-run leaves whatever it leaves.
    (local / "big.parquet").write_bytes(os.urandom(8 << 20))
    proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", "upload", str(local / "big.parquet"),
                             "s3://secrets/crash/", *url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.wait(0.7)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    outputs += [out.decode(errors="replace"), err.decode(errors="replace")]

    # What the GUI saves for a profile the user connected with.
    s = settings_store.load()
    s.upsert_profile(ConnectionProfile(name="lake", endpoint_url=moto_endpoint, bucket="secrets"))
    settings_store.save(s)

    root = Path(os.environ["LAKEGUI_CONFIG_DIR"]).parent
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".log") for p in files) and any("queue" in p.name for p in files)
    assert any(p.name == "settings.json" for p in files)
    for secret in (TEST_SECRET, TOKEN):
        for p in files:
            assert secret.encode() not in p.read_bytes(), f"{secret!r} written to {p}"
        for text in outputs:
            assert secret not in text


def test_keychain_keys_reach_only_the_keychain(qtbot, qloop, memory_keyring, seaweedfs, tmp_path, monkeypatch,
                                               capfd):
    """SeaweedFS checks signatures, and the environment's keys are wrong: the connection works only
    with the keys typed into the Connect dialog, which must then be in the keychain and in none
    of the settings, logs, queue database or output."""
    import logging

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from lakegui.app import LakeApp, LaunchOptions
    from lakegui.core import logs
    from lakegui.core.transfers.jobs import Direction, OverwritePolicy
    from lakegui.core.transfers.store import NewJob
    from lakegui.ui.dialogs.connection import KEYCHAIN_ROUTE, ConnectionDialog
    from tests.ui.test_transfers import wait_idle

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key-not-for-this-endpoint")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-not-for-this-endpoint")
    seaweedfs.client().create_bucket(Bucket="keychain-secrets")
    local = tmp_path / "up.parquet"
    local.write_bytes(b"x" * 5000)
    logs.setup(logging.DEBUG, console_level=logging.DEBUG)
    app = LakeApp(LaunchOptions())
    qtbot.addWidget(app.window)
    tested = []
    try:
        def fill_test_and_connect():
            d = QApplication.activeModalWidget()
            assert isinstance(d, ConnectionDialog)
            d.name_edit.setText("sw")
            d.endpoint_edit.setText(seaweedfs.endpoint_url)
            d.style_combo.setCurrentText("path")
            d.bucket_edit.setText("keychain-secrets")
            d.route_combo.setCurrentText(KEYCHAIN_ROUTE)
            d.access_key_edit.setText(TEST_KEY)
            d.secret_key_edit.setText(TEST_SECRET)
            with qtbot.waitSignal(d.tested, timeout=15000) as blocker:
                d.test_button.click()
            tested.append(blocker.args)
            d.accept()

        QTimer.singleShot(0, fill_test_and_connect)
        with qtbot.waitSignal(app.window.browser.listing_finished, timeout=15000):
            app.window.connect_action.trigger()
        assert tested and tested[0][0] is True, tested
        conn = app.window.connection
        assert conn.profile.keychain == "lakegui:sw"
        job = NewJob(Direction.UPLOAD, "keychain-secrets", "up/up.parquet", str(local), size=5000,
                     policy=OverwritePolicy.OVERWRITE)
        app.window.transfers.enqueue("keychain upload", "upload", conn.profile.to_dict(), [job])
        wait_idle(qtbot, app.window.transfers)
        assert seaweedfs.client().head_object(Bucket="keychain-secrets", Key="up/up.parquet")["ContentLength"] == 5000
    finally:
        app.close()
        app.executor.shutdown(wait=True)
        logs.reset()

    assert TEST_SECRET in memory_keyring.entries[("lakegui", "sw")]  # the keys went this way
    root = Path(os.environ["LAKEGUI_CONFIG_DIR"]).parent
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".log") for p in files) and any("queue" in p.name for p in files)
    assert any(p.name == "settings.json" for p in files)
    settings_text = settings_store.settings_path().read_text()
    assert '"keychain": "lakegui:sw"' in settings_text and TEST_KEY not in settings_text
    out, err = capfd.readouterr()
    for p in files:
        assert TEST_SECRET.encode() not in p.read_bytes(), f"the keychain secret was written to {p}"
    assert TEST_SECRET not in out and TEST_SECRET not in err
