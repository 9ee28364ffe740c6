"""SIGTERM (`timeout`, a service manager, `kill`) hands the running jobs back, as Ctrl+C does
(session 10's new-user trial: the command ended in silence, its download left "running")."""

from __future__ import annotations

import os
import signal

import pytest

from lakegui.core.settings import MB
from tests.integration.test_cli_transfers import BUCKET, bucket, client, row_of, slow_settings, start_cli  # noqa: F401
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_sigterm_mid_download_hands_the_job_back_and_says_so(bucket, tmp_path):  # noqa: F811
    slow_settings()  # 3 MB/s: the download is still running when the signal comes
    client(bucket).put_object(Bucket=BUCKET, Key="t/big.bin", Body=os.urandom(12 * MB))
    q = str(tmp_path / "q.sqlite3")
    proc = start_cli("download", f"s3://{BUCKET}/t/big.bin", str(tmp_path / "out"), "--endpoint-url", bucket,
                     "--queue", q)
    try:
        wait_until(lambda: row_of(q, "SELECT id FROM jobs WHERE state = 'running'"), what="the download running")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1 and "Interrupted: the unfinished jobs are back in the queue" in err, err
    assert row_of(q, "SELECT state FROM jobs") == ("queued",)
