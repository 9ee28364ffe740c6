"""Rolling back a backfill (issue 22): a --files-file backfill into a versioned bucket on a loopback
SeaweedFS, undone by `lakegui-cli backfill rollback NAME` (delete markers on what it created), against
the DeleteObjects calls that same undo needs (1,000 keys a call, sent one after another from a warm
botocore client, on a second bucket holding the same keys), interleaved, --runs times each.

Run: .venv/bin/python bench/rollback.py [--files 10000] [--runs 3]
Target: the rollback takes at most 1.5x the time of its DeleteObjects calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import seaweedfs  # noqa: E402


def versioned(client, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def cli(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lakegui.cli", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"lakegui-cli {args[0]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    ours, calls = [], []
    with seaweedfs("bench-rollback-") as (work, sw):
        client = sw.client()
        local = work / "daily"
        local.mkdir()
        for i in range(args.files):
            (local / f"S{i:05d}_2024.parquet").write_bytes(b"%d" % i)
        env = dict(os.environ, AWS_ACCESS_KEY_ID="benchkey", AWS_SECRET_ACCESS_KEY="benchsecret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                   LAKEGUI_CONFIG_DIR=str(work / "config"), LAKEGUI_DATA_DIR=str(work / "data"),
                   LAKEGUI_LOG_DIR=str(work / "log"),
                   PYTHONPYCACHEPREFIX=str(work / "pycache"))  # the bytecode cache, as an install has
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        url = ["--endpoint-url", sw.endpoint_url]
        for run in range(args.runs):
            bucket, twin, queue = f"rollback{run}", f"deletes{run}", str(work / f"q{run}.sqlite3")
            versioned(client, bucket)
            versioned(client, twin)
            cli(["backfill", str(local), f"s3://{bucket}/", "--template", "daily-ticks", "--allow-schema-drift",
                 "--name", f"bf{run}", "--queue", queue, *url], env)
            keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                    for o in page.get("Contents", [])]
            if len(keys) != args.files:
                raise RuntimeError(f"the backfill wrote {len(keys):,} objects, expected {args.files:,}")
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda k, b=twin: client.put_object(Bucket=b, Key=k, Body=b"x"), keys))
            ours.append(cli(["backfill", "rollback", f"bf{run}", "--queue", queue, "--json", *url], env))
            left = sum(page.get("KeyCount", 0) for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket))
            if left:
                raise RuntimeError(f"{left:,} objects left after the rollback")
            start = time.perf_counter()
            for i in range(0, len(keys), 1000):
                client.delete_objects(Bucket=twin, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]],
                                                           "Quiet": True})
            calls.append(time.perf_counter() - start)
            print(f"run {run + 1}: rollback {ours[-1]:.2f} s, its DeleteObjects calls {calls[-1]:.2f} s", flush=True)
    med = statistics.median
    print(f"lakegui-cli backfill rollback of {args.files:,} files: {med(ours):.2f} s (median of {args.runs})")
    print(f"the DeleteObjects calls it needs: {med(calls):.2f} s")
    print(f"ratio: {med(ours) / med(calls):.2f}x  (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
