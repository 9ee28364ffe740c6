"""Cluster benchmark (issue 24), on a loopback SeaweedFS: a 2,000-file backfill run by the local
runner (`lakegui-cli backfill`) and by a `distributed.LocalCluster` of 2 worker processes
(`lakegui-cli backfill --cluster`), alternately, each into an empty bucket with a fresh queue.

Targets on a 2-core machine (the server shares the cores, so no speed-up is possible here):
the cluster run takes at most 1.15x the local runner's time, and each chunk's results are in the
queue (its jobs' `updated` in SQLite) within 1 s of the chunk ending on its worker.

What is timed, on both sides: the `lakegui-cli backfill` command's wall time, from its start to
its exit (imports, planning, queueing, the transfers, the queue's last writes). The cluster side's
command also imports `distributed`, connects and checks the workers' version. The cluster itself
(scheduler and worker processes) is started once before the rounds and is not timed, as a
standing cluster would be; its workers import botocore and awscrt at their first chunk, so the
first cluster round pays that. Besides the time, each run's CPU seconds are summed per process
group (the command, the Dask workers and nannies, this process with the scheduler, SeaweedFS):
on 2 busy cores the cluster's extra CPU is its extra time.

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


TRACER = [sys.executable, str(ROOT / "bench" / "cluster_trace.py")]


def backfill(cli, local: Path, bucket: str, url: str, queue: Path, env: dict, extra: list[str]) -> tuple:
    """(seconds, the command's --json summary, the wall-clock time it started, its stderr)."""
    cmd = [*cli, "backfill", str(local), f"s3://{bucket}/", "--endpoint-url", url, "--template", "daily-ticks",
           "--queue", str(queue), "--json", *extra]
    began = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"backfill {extra} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1]), began, proc.stderr


def timeline(queue: Path, began: float, stderr: str, seconds: float) -> str:
    """One run's steps as seconds from the command's start (from bench/cluster_trace.py's notes,
    and the queue's and the chunks' times): when each began and ended, and the CPU its thread
    spent in it."""
    line = next((x for x in stderr.splitlines() if x.startswith("TRACE ")), "")
    if not line:
        return "  (no trace)"
    doc = json.loads(line[6:])
    opened: dict[str, tuple] = {}
    rows = []
    for what, wall, cpu, thread in doc["notes"]:
        step, _, edge = what.rpartition(" ")
        if edge == "begin":
            opened[step] = (wall, cpu)
        elif edge == "end" and step in opened:
            w0, c0 = opened.pop(step)
            rows.append((w0 - began, f"{step} +{w0 - began:.2f} -> +{wall - began:.2f} s "
                                     f"(CPU {cpu - c0:.2f} s, {thread})"))
        else:
            rows.append((wall - began, f"{what} +{wall - began:.2f} s"))
    with sqlite3.connect(queue) as db:
        first_end, last_end = db.execute("SELECT MIN(updated), MAX(updated) FROM jobs").fetchone()
        try:
            first_chunk, last_chunk = db.execute("SELECT MIN(started), MAX(ended) FROM cluster_chunks").fetchone()
        except sqlite3.OperationalError:  # the local runner's queue
            first_chunk = last_chunk = None
    rows.append((first_end - began, f"first job ended +{first_end - began:.2f} s"))
    rows.append((last_end - began, f"last job ended +{last_end - began:.2f} s"))
    if first_chunk:
        rows.append((first_chunk - began, f"first chunk began on its worker +{first_chunk - began:.2f} s"))
        rows.append((last_chunk - began, f"last chunk ended on its worker +{last_chunk - began:.2f} s"))
    rows.append((seconds, f"exited +{seconds:.2f} s (the command's CPU {doc['cpu']:.2f} s)"))
    if first_chunk:
        with sqlite3.connect(queue) as db:
            chunks = db.execute("SELECT worker, started, ended, jobs FROM cluster_chunks ORDER BY started")
            by_worker: dict[str, list[str]] = {}
            for worker, started, ended, jobs in chunks:
                by_worker.setdefault(worker, []).append(
                    f"{len(json.loads(jobs))} +{started - began:.2f}->{ended - began:.2f}")
        for worker, spans in sorted(by_worker.items()):
            rows.append((seconds + 1, f"chunks of {worker}: " + ", ".join(spans)))
    return "\n".join("  " + text for _, text in sorted(rows, key=lambda r: r[0]))


class CpuMeter:
    """CPU seconds (user + system) per process group since `start`: the finished command, this
    process's children (the cluster's worker processes and nannies, SeaweedFS) and this process."""

    def __init__(self):
        import psutil  # distributed's dependency

        self.me = psutil.Process()
        self.kids = self.me.children(recursive=True)

    def sample(self) -> dict[str, float]:
        import resource

        out = {"command": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]), "dask workers": 0.0,
               "seaweedfs": 0.0, "scheduler + bench": sum(self.me.cpu_times()[:2])}
        for p in self.kids:
            try:
                name = "seaweedfs" if "weed" in " ".join(p.cmdline()) else "dask workers"
                out[name] += sum(p.cpu_times()[:2])
            except Exception:  # a process gone
                pass
        return out


def phases(queue: Path, began: float) -> tuple[float, float]:
    """(seconds from the command's start to its batch being queued, to its last job's end)."""
    with sqlite3.connect(queue) as db:
        created = db.execute("SELECT MIN(created) FROM batches").fetchone()[0]
        last = db.execute("SELECT MAX(updated) FROM jobs").fetchone()[0]
    return created - began, last - began


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
    p.add_argument("--trace", action="store_true",
                   help="run the command through bench/cluster_trace.py and print each run's timeline "
                        "(its wrappers cost a little; time the figures without it)")
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
    cli, url, c = TRACER if args.trace else [tool("lakegui-cli")], sw.endpoint_url, sw.client()
    total = make_files(work / "local", args.files)
    print(f"{args.files:,} files, {total / 1e6:.0f} MB; LocalCluster of {args.workers} worker processes at {address}",
          flush=True)
    local, clustered, lags = [], [], []
    cpu: dict[str, list[dict]] = {"local": [], "cluster": []}
    starts: dict[str, list[tuple]] = {"local": [], "cluster": []}
    meter = CpuMeter()
    for r in range(args.rounds):
        order = [("local", []), ("cluster", ["--cluster", address])]
        if r % 2:
            order.reverse()
        for name, extra in order:
            bucket = f"{name}-{r}"
            c.create_bucket(Bucket=bucket)
            queue = work / f"{bucket}.sqlite3"
            before = meter.sample()
            seconds, doc, began, stderr = backfill(cli, work / "local", bucket, url, queue, env, extra)
            after = meter.sample()
            assert doc["done"] == args.files and doc["failed"] == 0, doc
            (local if name == "local" else clustered).append(seconds)
            used = {k: after[k] - before[k] for k in after}
            cpu[name].append(used)
            queued, last = phases(queue, began)
            first = ""
            if name == "cluster":
                lags += chunk_lags(queue)
                with sqlite3.connect(queue) as db:
                    started = db.execute("SELECT MIN(started) FROM cluster_chunks").fetchone()[0] - began
                first = f", first chunk began +{started:.2f} s"
            starts[name].append((queued, seconds - last))
            print(f"round {r + 1}: {name} {seconds:.2f} s (batch queued +{queued:.2f} s{first}, exit "
                  f"{seconds - last:.2f} s after the last job; CPU {sum(used.values()):.2f} s: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in used.items()) + ")", flush=True)
            if args.trace:
                print(timeline(queue, began, stderr, seconds), flush=True)
    med = statistics.median
    print()
    print(f"local runner: median {med(local):.2f} s ({', '.join(f'{x:.2f}' for x in local)})")
    print(f"cluster ({args.workers} workers): median {med(clustered):.2f} s "
          f"({', '.join(f'{x:.2f}' for x in clustered)})")
    print(f"cluster / local = {med(clustered) / med(local):.2f}; target <= 1.15")
    for name in ("local", "cluster"):
        groups = {k: med([u[k] for u in cpu[name]]) for k in cpu[name][0]}
        print(f"{name}: median CPU {med([sum(u.values()) for u in cpu[name]]):.2f} s ("
              + ", ".join(f"{k} {v:.2f}" for k, v in groups.items()) + f"); batch queued at "
              f"+{med([q for q, _ in starts[name]]):.2f} s, exit {med([e for _, e in starts[name]]):.2f} s "
              "after the last job (medians)")
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
