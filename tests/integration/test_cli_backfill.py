"""lakegui-cli backfill and backfill status, as a user runs them, against a real HTTP endpoint."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from tests.integration.test_cli_transfers import cli, client

pytestmark = pytest.mark.integration
BUCKET = "cli-backfill"


@pytest.fixture
def lake(moto_endpoint, tmp_path):
    client(moto_endpoint).create_bucket(Bucket=BUCKET)
    root = tmp_path / "local"
    root.mkdir()
    for symbol, year in (("AAPL", 2023), ("AAPL", 2024), ("MSFT", 2024)):
        (root / f"{symbol}_{year}.parquet").write_bytes(f"{symbol}{year}".encode() * 1000)
    (root / "msft_2024.parquet").write_bytes(b"lower case")
    (root / "MSFT_99.parquet").write_bytes(b"bad year")
    return moto_endpoint, root


def test_dry_run_writes_nothing_then_backfill_then_rerun_skips_all(lake):
    url, root = lake
    queue_db = Path(os.environ["LAKEGUI_DATA_DIR"]) / "queue.sqlite"
    common = ["--endpoint-url", url, "--template", "daily-ticks", "--source", "sec-edgar", "--json"]
    proc, doc = cli("backfill", str(root), f"s3://{BUCKET}/", "--dry-run", *common)
    assert proc.returncode == 1, "invalid files make the exit code 1"
    assert doc["counts"] == {"new": 3, "exists-same": 0, "exists-different": 0, "invalid": 2}
    reasons = {i["local_path"].rsplit("/", 1)[-1]: i["reason"] for i in doc["items"] if i["status"] == "invalid"}
    assert reasons["msft_2024.parquet"].startswith("symbol 'msft' is not a ticker")
    assert reasons["MSFT_99.parquet"].startswith("year '99' is not a year")
    assert not queue_db.exists(), "a dry run writes no queue"
    assert client(url).list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0

    proc, doc = cli("backfill", str(root), f"s3://{BUCKET}/", "--name", "daily-2024", *common)
    assert proc.returncode == 1 and doc["done"] == 3 and doc["failed"] == 0 and len(doc["invalid"]) == 2
    head = client(url).head_object(Bucket=BUCKET, Key="data/ticks/daily/AAPL/2024/ticks.parquet")
    assert head["Metadata"] == {"symbol": "AAPL", "year": "2024", "data-type": "daily-ticks", "source": "sec-edgar"}

    (root / "msft_2024.parquet").unlink()
    (root / "MSFT_99.parquet").unlink()
    proc, doc = cli("backfill", str(root), f"s3://{BUCKET}/", "--name", "rerun", *common)
    assert proc.returncode == 0, proc.stderr
    assert doc["plan"]["exists-same"] == 3 and doc["done"] == 0 and doc["skipped"] == 3 and doc["bytes"] == 0

    proc, doc = cli("backfill", "status", "daily-2024", "--json")
    assert proc.returncode == 0
    [report] = doc["backfills"]
    assert report["files"]["done"] == 3 and report["files"]["total"] == 3
    assert report["bytes"]["done"] == report["bytes"]["total"] > 0
    manifest = root.parent / "daily-2024.csv"
    proc, _ = cli("backfill", "status", "daily-2024", "--manifest", str(manifest), check_json=False)
    assert proc.returncode == 0, proc.stderr
    with manifest.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and {r["state"] for r in rows} == {"done"} and all(r["etag"] for r in rows)
    assert rows[0]["key"] == "data/ticks/daily/AAPL/2023/ticks.parquet" and rows[0]["attempts"] == "1"
    assert "source=sec-edgar" in rows[0]["metadata"]
    as_json = root.parent / "daily-2024.json"
    cli("backfill", "status", "daily-2024", "--manifest", str(as_json), check_json=False)
    assert [r["key"] for r in json.loads(as_json.read_text())] == [r["key"] for r in rows]
    proc, _ = cli("backfill", "status", "--manifest", str(manifest), check_json=False)
    assert proc.returncode == 2 and "needs the NAME of one backfill" in proc.stderr
    proc, doc = cli("backfill", "status", "--json")
    assert [r["name"] for r in doc["backfills"]] == ["daily-2024", "rerun"]
    proc, _ = cli("backfill", "status", "nope", check_json=False)
    assert proc.returncode == 1 and "no backfill named 'nope'" in proc.stderr


def test_backfill_usage_errors(lake):
    url, root = lake
    proc, _ = cli("backfill", str(root), f"s3://{BUCKET}/", "--endpoint-url", url, check_json=False)
    assert proc.returncode == 2 and "--template is required" in proc.stderr
    proc, _ = cli("backfill", str(root), f"s3://{BUCKET}/", "--endpoint-url", url, "--template", "nope",
                  check_json=False)
    assert proc.returncode == 2 and "no layout named 'nope'" in proc.stderr
    proc, _ = cli("backfill", str(root / "missing"), f"s3://{BUCKET}/", "--template", "daily-ticks",
                  check_json=False)
    assert proc.returncode == 2 and "is not a folder" in proc.stderr
    proc, _ = cli("backfill", str(root), f"s3://{BUCKET}/", "--endpoint-url", url, "--template", "daily-ticks",
                  "--pattern", "{symbol}.parquet", check_json=False)
    assert proc.returncode == 2 and "gives no year" in proc.stderr
