"""Transfers under injected faults (issue 7): a fault proxy in front of SeaweedFS answers about one
request in ten with 503 SlowDown, 500, a reset or truncated body, or a stall past the read timeout.
A 1,000-file backfill with multipart files must still land every object exactly once with the right
bytes, leave no multipart upload open, and leave the queue agreeing with the bucket; downloads must
come out identical, with no partial files."""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from lakegui.core.layouts import DAILY_TICKS
from lakegui.core.settings import MB
from tests.integration.test_cli_transfers import cli
from tests.support.faultproxy import FAULTS, FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FILES, MULTIPART = 1000, 4


def write_settings(**transfer):
    cfg = os.environ["LAKEGUI_CONFIG_DIR"]
    os.makedirs(cfg, exist_ok=True)
    with open(os.path.join(cfg, "settings.json"), "w") as f:
        json.dump({"transfer": transfer}, f)


def make_backfill(root: Path) -> dict[str, bytes]:
    """FILES files named for the daily-ticks layout; MULTIPART of them 12 MB (three 5 MB parts)."""
    rng = random.Random(7)
    root.mkdir()
    bodies = {}
    for i in range(FILES):
        symbol = "S" + "".join(chr(65 + (i // 26 ** k) % 26) for k in range(3))
        year = 2010 + i % 15
        size = 12 * MB if i < MULTIPART else rng.randint(0, 20_000)
        body = rng.randbytes(size)
        (root / f"{symbol}_{year}.parquet").write_bytes(body)
        bodies[DAILY_TICKS.key(symbol=symbol, year=year)] = body
    return bodies


def digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(params=[("auto", 11), ("s3transfer", 12)], ids=["awscrt", "s3transfer"])
def faulty(request, seaweedfs):
    """The fault proxy in front of SeaweedFS: 10% of requests fail, stalls outlast a 2 s read
    timeout. Once per engine: the CRT's retries and watchdog, and botocore's."""
    engine, seed = request.param
    write_settings(read_timeout=2, multipart_threshold=5 * MB, multipart_chunksize=5 * MB, engine=engine)
    with FaultProxy(seaweedfs.endpoint_url, rate=0.10, seed=seed, stall_seconds=4) as proxy:
        yield proxy


def all_keys(s3, bucket):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def test_backfill_and_download_under_faults_lose_nothing(faulty, seaweedfs, tmp_path):
    s3 = seaweedfs.client()  # the checks go straight to the server, not through the faults
    bucket = f"faults-{os.getpid()}-{random.randrange(10**6)}"
    s3.create_bucket(Bucket=bucket)
    bodies = make_backfill(tmp_path / "local")
    queue_db = str(tmp_path / "queue.sqlite3")

    proc, doc = cli("backfill", str(tmp_path / "local"), f"s3://{bucket}/", "--endpoint-url", faulty.url,
                    "--template", "daily-ticks", "--queue", queue_db, "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert doc["done"] == FILES and doc["failed"] == 0
    assert all(faulty.injected[f] > 0 for f in FAULTS), faulty.injected
    assert sum(faulty.injected.values()) >= 0.05 * faulty.requests

    keys = all_keys(s3, bucket)
    assert sorted(keys) == sorted(bodies)  # every object exactly once, nothing else
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    for key, body in bodies.items():
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert digest(got) == digest(body), key
    _, status = cli("queue", "status", "--queue", queue_db, "--json")
    assert status["states"] == {"done": {"jobs": FILES, "bytes": sum(len(b) for b in bodies.values())}}

    out = tmp_path / "out"
    faulty.injected.clear()
    proc, doc = cli("download", f"s3://{bucket}/data/", str(out), "--endpoint-url", faulty.url,
                    "--queue", queue_db, "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert doc["done"] == FILES and sum(faulty.injected.values()) > 0
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(k[len("data/"):] for k in bodies)  # no temp or partial files
    for key, body in bodies.items():
        assert digest(files[key[len("data/"):]].read_bytes()) == digest(body), key
