"""Secrets never reach disk or logs (issue 7): with a secret key and a session token in the
environment, a round of CLI commands (successes and failures, a backfill, a download, a crash) and
the GUI's saved settings leave neither in the settings, the log files, the queue database or
anything printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lakegui.core import settings as settings_store
from lakegui.core.connection import ConnectionProfile
from tests.conftest import TEST_SECRET
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
