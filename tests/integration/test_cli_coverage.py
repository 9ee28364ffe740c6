"""lakegui-cli coverage, as a user runs it, against real HTTP endpoints (moto's server and SeaweedFS):
the matrix and missing cells as JSON, CSV and text, stray keys, and bad input."""

from __future__ import annotations

import csv
import io

import pytest

from lakegui.core.layouts import DAILY_TICKS
from tests.integration.test_cli_transfers import cli, client

pytestmark = pytest.mark.integration
PRESENT = [("AAPL", 2022), ("AAPL", 2024), ("MSFT", 2022), ("MSFT", 2023), ("MSFT", 2024)]
STRAY = "data/ticks/daily/AAPL/2023/ticks.parquet.tmp"


def seed(c, bucket):
    c.create_bucket(Bucket=bucket)
    for sym, year in PRESENT:
        c.put_object(Bucket=bucket, Key=DAILY_TICKS.key(symbol=sym, year=year), Body=sym.encode() * 10)
    c.put_object(Bucket=bucket, Key=STRAY, Body=b"half")


def check_json(doc):
    assert doc["rows"] == ["AAPL", "MSFT"] and doc["cols"] == ["2022", "2023", "2024"]
    assert doc["missing"] == [{"symbol": "AAPL", "year": "2023"}]
    assert doc["present"] == 5 and doc["objects"] == 5 and doc["bytes"] == 5 * 40
    assert doc["unmatched"] == {"count": 1, "keys": [{"key": STRAY, "reason": doc["unmatched"]["keys"][0]["reason"]}]}
    assert doc["unmatched"]["keys"][0]["reason"].startswith("does not match")


def test_json_csv_and_text(moto_endpoint):
    seed(client(moto_endpoint), "cov")
    args = ["coverage", "s3://cov/", "--endpoint-url", moto_endpoint, "--template", "daily-ticks"]
    proc, doc = cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    check_json(doc)

    proc, _ = cli(*args, "--csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["symbol"], r["year"], r["present"]) for r in rows if r["present"] == "0"] == [("AAPL", "2023", "0")]
    assert len(rows) == 6 and "1 key not in the layout" in proc.stderr

    proc, _ = cli(*args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["symbol", "2022", "2023", "2024"]
    assert lines[1].split() == ["AAPL", "#", ".", "#"] and lines[2].split() == ["MSFT", "#", "#", "#"]
    assert "missing (1):" in lines and "AAPL 2023" in lines
    assert f"not in the layout: {STRAY}" in proc.stderr


def test_bad_input_is_a_usage_error(moto_endpoint):
    proc, _ = cli("coverage", "cov", "--endpoint-url", moto_endpoint)
    assert proc.returncode == 2 and "is not an S3 URI" in proc.stderr
    proc, _ = cli("coverage", "s3://cov/", "--endpoint-url", moto_endpoint, "--template", "nope")
    assert proc.returncode == 2 and "no layout named 'nope'" in proc.stderr
    proc, _ = cli("coverage", "s3://cov/", "--endpoint-url", moto_endpoint, "--cols", "month")
    assert proc.returncode == 2 and "has no field 'month'" in proc.stderr
    proc, _ = cli("coverage", "s3://no-such-bucket/", "--endpoint-url", moto_endpoint, "--json", check_json=False)
    assert proc.returncode == 1 and "no-such-bucket" in proc.stderr


@pytest.mark.slow
def test_json_on_seaweedfs(seaweedfs, monkeypatch):
    seed(seaweedfs.client(), "cov-sw")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs.secret_key)
    proc, doc = cli("coverage", "s3://cov-sw/", "--endpoint-url", seaweedfs.endpoint_url, "--json")
    assert proc.returncode == 0, proc.stderr
    check_json(doc)
