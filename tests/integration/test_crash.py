"""Crash recovery (issue 7): the headless engine is killed with SIGKILL at random points, five times,
during a backfill with multipart files and during a download; after each kill the queue database
passes SQLite's integrity check, and `queue resume` ends with every object and file complete and
correct, no multipart upload open and no partial file anywhere."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys

import pytest

from lakegui.core.settings import MB
from tests.integration.test_cli_transfers import cli
from tests.integration.test_faults import write_settings
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KILLS = 5


def integrity(db: str) -> str:
    with sqlite3.connect(db) as c:
        return c.execute("PRAGMA integrity_check").fetchone()[0]


def batches(db: str) -> int:
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM batches").fetchone()[0]
    except sqlite3.Error:
        return 0


def run_and_kill(args: list[str], after: float, queued_in: str | None = None) -> bool:
    """Run lakegui-cli and SIGKILL it `after` seconds in (with `queued_in`, seconds after its batch
    is stored there: on a loaded machine start-up alone outlasted a fixed delay); True when it was
    killed, not finished."""
    proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        if queued_in is not None:  # the condition is in another process: its database, polled
            wait_until(lambda: batches(queued_in) or proc.poll() is not None, 120, "the batch to be stored", 0.02)
        proc.wait(after)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return True


def crash_repeatedly(first: list[str], db: str, seed: int) -> int:
    """Start with `first`, then `queue resume`, killing each run at a random moment; returns kills."""
    rng = random.Random(seed)
    kills = 0
    for _ in range(KILLS * 3):
        args = first if not batches(db) else ["queue", "resume", "--queue", db]
        if not run_and_kill(args, rng.uniform(0.8, 3.0)):
            break  # it finished before the kill
        kills += 1
        assert integrity(db) == "ok"
        if kills == KILLS:
            break
    return kills


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_kill_9_five_times_during_a_backfill_and_a_download(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    bucket = f"crash-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    # Slow enough that kills land mid-transfer; s3transfer, which honours the bandwidth limit.
    write_settings(max_bandwidth=3 * MB, multipart_threshold=5 * MB, multipart_chunksize=5 * MB,
                   concurrent_files=4, engine="s3transfer")
    local = tmp_path / "local"
    local.mkdir()
    rng = random.Random(3)
    bodies = {}
    for i, symbol in enumerate(["AAA", "BBB", "CCC"] + [f"S{n:03d}" for n in range(40)]):
        body = rng.randbytes(11 * MB if i < 3 else rng.randint(1000, 300_000))
        (local / f"{symbol}_2024.parquet").write_bytes(body)
        bodies[f"data/ticks/daily/{symbol}/2024/ticks.parquet"] = body
    db = str(tmp_path / "queue.sqlite3")
    common = ["--endpoint-url", seaweedfs.endpoint_url, "--queue", db]

    kills = crash_repeatedly(["backfill", str(local), f"s3://{bucket}/", "--template", "daily-ticks",
                              "--name", "crashy", *common], db, seed=1)
    assert kills == KILLS, "the backfill finished before five kills landed"
    proc, doc = cli("queue", "resume", "--queue", db, "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, status = cli("queue", "status", "--queue", db, "--json")
    assert set(status["states"]) == {"done"} and status["states"]["done"]["jobs"] == len(bodies)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert sorted(keys) == sorted(bodies)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    for key, body in bodies.items():
        assert sha(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha(body), key

    out = tmp_path / "out"
    db2 = str(tmp_path / "queue2.sqlite3")
    kills = crash_repeatedly(["download", f"s3://{bucket}/data/", str(out), "--endpoint-url",
                              seaweedfs.endpoint_url, "--queue", db2], db2, seed=2)
    assert kills == KILLS, "the download finished before five kills landed"
    proc, doc = cli("queue", "resume", "--queue", db2, "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(k[len("data/"):] for k in bodies)  # no temp files left behind
    for key, body in bodies.items():
        assert sha(files[key[len("data/"):]].read_bytes()) == sha(body), key
    assert integrity(db) == integrity(db2) == "ok"
