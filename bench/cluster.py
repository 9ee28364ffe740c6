"""Cluster benchmark (issue 24), on a loopback SeaweedFS: a 2,000-file backfill run by the local
runner (`lakegui-cli backfill`) and by a `distributed.LocalCluster` of 2 worker processes
(`lakegui-cli backfill --cluster`), alternately, each into an empty bucket with a fresh queue.

Targets on a 2-core machine (the server shares the cores, so no speed-up is possible here):
the cluster run takes at most 1.15x the local runner's time, and each chunk's results are in the
queue (its jobs' `updated` in SQLite) within 1 s of the chunk ending on its worker.

    .venv/bin/pip install '.[bench,cluster]'
    .venv/bin/python bench/cluster.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.backfill import symbols  # noqa: E402
from bench.transfers import seaweedfs, tool  # noqa: E402


def make_files(folder: Path, n: int) -> int:
    """n SYMBOL_2024.parquet files of 20-200 KB (random bytes); their total size."""
    rng = random.Random(24)
    folder.mkdir(parents=True)
    total = 0
    for s in symbols(n):
        body = rng.randbytes(rng.randint(20_000, 200_000))
        (folder / f"{s}_2024.parquet").write_bytes(body)
        total += len(body)
    return total


def backfill(cli: str, local: Path, bucket: str, url: str, queue: Path, env: dict, extra: list[str]) -> tuple:
    cmd = [cli, "backfill", str(local), f"s3://{bucket}/", "--endpoint-url", url, "--template", "daily-ticks",
           "--queue", str(queue), "--json", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"backfill {extra} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def chunk_lags(queue: Path) -> list[tuple[str, int, float]]:
    """(worker, files, seconds from the chunk's end on its worker to its last job's end in the queue)."""
    with sqlite3.connect(queue) as db:
        out = []
        for worker, ended, jobs in db.execute("SELECT worker, ended, jobs FROM cluster_chunks"):
            ids = json.loads(jobs)
            recorded = db.execute(f"SELECT MAX(updated) FROM jobs WHERE id IN ({','.join('?' * len(ids))})",
                                  ids).fetchone()[0]
            out.append((worker, len(ids), recorded - ended))
        return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    import distributed

    with seaweedfs("lakegui-cluster-bench-") as (work, sw):
        creds = {"AWS_ACCESS_KEY_ID": sw.access_key, "AWS_SECRET_ACCESS_KEY": sw.secret_key,
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
        env = dict(os.environ, **creds, LAKEGUI_CONFIG_DIR=str(work / "config"), LAKEGUI_DATA_DIR=str(work / "data"))
        cluster = distributed.LocalCluster(processes=True, n_workers=args.workers, threads_per_worker=1, env=creds,
                                           dashboard_address=":0", local_directory=str(work / "dask"))
        try:
            return run(args, work, sw, env, cluster.scheduler_address)
        finally:
            cluster.close()


def run(args, work: Path, sw, env: dict, address: str) -> int:
    cli, url, c = tool("lakegui-cli"), sw.endpoint_url, sw.client()
    total = make_files(work / "local", args.files)
    print(f"{args.files:,} files, {total / 1e6:.0f} MB; LocalCluster of {args.workers} worker processes at {address}",
          flush=True)
    local, clustered, lags = [], [], []
    for r in range(args.rounds):
        order = [("local", []), ("cluster", ["--cluster", address])]
        if r % 2:
            order.reverse()
        for name, extra in order:
            bucket = f"{name}-{r}"
            c.create_bucket(Bucket=bucket)
            queue = work / f"{bucket}.sqlite3"
            seconds, doc = backfill(cli, work / "local", bucket, url, queue, env, extra)
            assert doc["done"] == args.files and doc["failed"] == 0, doc
            (local if name == "local" else clustered).append(seconds)
            if name == "cluster":
                lags += chunk_lags(queue)
            print(f"round {r + 1}: {name} {seconds:.2f} s", flush=True)
    med = statistics.median
    print()
    print(f"local runner: median {med(local):.2f} s ({', '.join(f'{x:.2f}' for x in local)})")
    print(f"cluster ({args.workers} workers): median {med(clustered):.2f} s "
          f"({', '.join(f'{x:.2f}' for x in clustered)})")
    print(f"cluster / local = {med(clustered) / med(local):.2f}; target <= 1.15")
    by_worker: dict[str, list[float]] = {}
    for worker, _, lag in lags:
        by_worker.setdefault(worker, []).append(lag)
    print(f"{len(lags)} chunks of {min(n for _, n, _ in lags)}-{max(n for _, n, _ in lags)} files; "
          f"chunk end on its worker -> its results in the queue: max {max(g for *_, g in lags):.3f} s, "
          f"median {med([g for *_, g in lags]):.3f} s; target <= 1 s")
    for worker, got in sorted(by_worker.items()):
        print(f"  {worker}: {len(got)} chunks, max {max(got):.3f} s")
    print(f"per worker (cluster median): {args.files / med(clustered) / args.workers:.0f} files/s, "
          f"{total / med(clustered) / args.workers / 1e6:.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
