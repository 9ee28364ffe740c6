"""lakegui-cli upload/download/queue as a user runs them: a subprocess against a real HTTP endpoint,
including a kill -9 in the middle of a multipart transfer and `queue resume` afterwards."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config

from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
BUCKET = "cli-transfers"
MB = 1024 * 1024


def client(url):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


def cli(*args, check_json=True, timeout=60):
    proc = subprocess.run([sys.executable, "-m", "lakegui.cli", *args], capture_output=True, text=True,
                          timeout=timeout)
    doc = json.loads(proc.stdout.strip().splitlines()[-1]) if check_json and "--json" in args else None
    return proc, doc


def start_cli(*args):
    return subprocess.Popen([sys.executable, "-m", "lakegui.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def bucket(moto_endpoint):
    client(moto_endpoint).create_bucket(Bucket=BUCKET)
    return moto_endpoint


def slow_settings():
    """Throttle transfers so a kill lands mid-transfer."""
    cfg = os.environ["LAKEGUI_CONFIG_DIR"]
    os.makedirs(cfg, exist_ok=True)
    with open(os.path.join(cfg, "settings.json"), "w") as f:
        json.dump({"transfer": {"max_bandwidth": 3 * MB}}, f)


def row_of(db, sql):
    """The first row `sql` finds in the queue another process writes, or None for now."""
    try:
        with sqlite3.connect(db) as c:
            return c.execute(sql).fetchone()
    except sqlite3.Error:  # the CLI may not have created it yet
        return None


def kill_9_when(proc, condition, what):
    """SIGKILL the CLI once `condition` holds, as a crash or the OOM killer would."""
    try:
        wait_until(condition, what=what)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_upload_folder_then_download_it(bucket, tmp_path):
    src = tmp_path / "src"
    (src / "AAPL" / "2024").mkdir(parents=True)
    (src / "AAPL" / "2024" / "ticks.parquet").write_bytes(os.urandom(3000))
    (src / "notes.txt").write_text("hello")
    q = str(tmp_path / "q.sqlite3")
    proc, doc = cli("upload", str(src), f"s3://{BUCKET}/data/", "--endpoint-url", bucket, "--queue", q,
                    "--metadata", "source=test", "--json")
    assert proc.returncode == 0, proc.stderr
    assert (doc["done"], doc["failed"], doc["jobs"]) == (2, 0, 2)
    head = client(bucket).head_object(Bucket=BUCKET, Key="data/AAPL/2024/ticks.parquet")
    assert head["Metadata"] == {"source": "test"}
    proc, doc = cli("download", f"s3://{BUCKET}/data/", str(tmp_path / "out"), "--endpoint-url", bucket,
                    "--queue", q, "--json")
    assert proc.returncode == 0 and doc["done"] == 2
    assert (tmp_path / "out" / "AAPL" / "2024" / "ticks.parquet").read_bytes() == \
        (src / "AAPL" / "2024" / "ticks.parquet").read_bytes()
    # A single key lands as LOCALDIR/NAME; the same file again is skipped, a changed one is kept.
    proc, doc = cli("download", f"s3://{BUCKET}/data/notes.txt", str(tmp_path / "one"), "--endpoint-url", bucket,
                    "--queue", q, "--json")
    assert doc["done"] == 1 and (tmp_path / "one" / "notes.txt").read_text() == "hello"
    proc, doc = cli("download", f"s3://{BUCKET}/data/notes.txt", str(tmp_path / "one"), "--endpoint-url", bucket,
                    "--queue", q, "--json")
    assert proc.returncode == 0 and (doc["done"], doc["skipped"]) == (0, 1)
    (tmp_path / "one" / "notes.txt").write_text("my edits")
    proc, doc = cli("download", f"s3://{BUCKET}/data/notes.txt", str(tmp_path / "one"), "--endpoint-url", bucket,
                    "--queue", q, "--json")
    assert proc.returncode == 1 and "exists with different content" in doc["failures"][0]["error"]
    assert (tmp_path / "one" / "notes.txt").read_text() == "my edits"
    proc, doc = cli("queue", "status", "--queue", q, "--json")
    assert doc["states"]["done"]["jobs"] == 5 and doc["states"]["failed"]["jobs"] == 1


def test_usage_errors_exit_2_and_failures_exit_1(bucket, tmp_path):
    proc, _ = cli("upload", str(tmp_path), "not-a-uri")
    assert proc.returncode == 2 and "must start with s3://" in proc.stderr
    proc, _ = cli("download", f"s3://{BUCKET}/x", str(tmp_path), "--concurrency", "0")
    assert proc.returncode == 2
    proc, _ = cli("upload", str(tmp_path / "missing.parquet"), f"s3://{BUCKET}/x/", "--endpoint-url", bucket,
                  "--json", check_json=False)
    assert proc.returncode == 2 and f"{tmp_path / 'missing.parquet'} does not exist" in proc.stderr
    proc, _ = cli("upload", str(tmp_path), "s3://no-such-bucket-anywhere/x/", "--endpoint-url", bucket)
    assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_kill_9_mid_multipart_upload_then_resume(bucket, tmp_path):
    slow_settings()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(24 * MB))
    q = str(tmp_path / "q.sqlite3")
    proc = start_cli("upload", str(big), f"s3://{BUCKET}/big/", "--endpoint-url", bucket, "--queue", q)
    s3 = client(bucket)
    kill_9_when(proc, lambda: row_of(q, "SELECT upload_id FROM jobs WHERE upload_id != ''") and
                s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads"), "a multipart upload in flight")
    assert len(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])) == 1  # the killed one
    _, status = cli("queue", "status", "--queue", q, "--json")
    assert status["states"] == {"queued": {"jobs": 1, "bytes": 24 * MB}}  # shown as it was, back in line
    proc, doc = cli("queue", "resume", "--queue", q, "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert doc["done"] == 1
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []  # no orphan
    body = s3.get_object(Bucket=BUCKET, Key="big/big.bin")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(big.read_bytes()).digest()


def test_kill_9_mid_download_then_resume(bucket, tmp_path):
    data = os.urandom(24 * MB)
    client(bucket).put_object(Bucket=BUCKET, Key="d/big.bin", Body=data)
    slow_settings()
    q = str(tmp_path / "q.sqlite3")
    out = tmp_path / "out"
    proc = start_cli("download", f"s3://{BUCKET}/d/", str(out), "--endpoint-url", bucket, "--queue", q)
    kill_9_when(proc, lambda: any(p.name.endswith(".part") and p.stat().st_size > 0 for p in out.glob(".*")),
                "part of the download written")
    assert not (out / "big.bin").exists()  # never a partial file under the final name
    proc, doc = cli("queue", "resume", "--queue", q, "--json", timeout=120)
    assert proc.returncode == 0 and doc["done"] == 1
    assert (out / "big.bin").read_bytes() == data
    assert [p.name for p in out.iterdir()] == ["big.bin"]  # the killed run's temp file is gone


def test_retry_failed_queues_failed_jobs_only_and_clear_finished_keeps_backfills(tmp_path):
    """Issue 18.3: `queue retry-failed` re-queued jobs the user had cancelled."""
    from lakegui.core.transfers.jobs import Direction, JobState
    from lakegui.core.transfers.store import JobStore, NewJob

    q = str(tmp_path / "q.sqlite3")
    store = JobStore(q)
    try:
        up = store.create_batch("up", "upload", {})
        store.add_jobs(up, [NewJob(Direction.UPLOAD, BUCKET, f"k/{s}", f"/f/{s}", size=1, state=JobState(s))
                            for s in ("failed", "cancelled", "done")])
        fill = store.create_batch("fill", "backfill", {})
        store.add_jobs(fill, [NewJob(Direction.UPLOAD, BUCKET, "b/done", "/f/b", size=1, state=JobState.DONE)])
    finally:
        store.close()
    proc, doc = cli("queue", "retry-failed", "--queue", q, "--json")
    assert proc.returncode == 0 and doc == {"requeued": 1, "left": []}
    proc, doc = cli("queue", "status", "--queue", q, "--json")
    assert {s: v["jobs"] for s, v in doc["states"].items()} == {"queued": 1, "cancelled": 1, "done": 2}
    proc, doc = cli("queue", "clear", "--finished", "--queue", q, "--json")
    assert proc.returncode == 0 and doc == {"removed": 3}
    proc, doc = cli("backfill", "status", "fill", "--queue", q, "--json")
    assert proc.returncode == 0 and doc["backfills"][0]["files"]["done"] == 1  # its records stay
