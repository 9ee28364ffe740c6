"""Backfill benchmark (issue 6), on a loopback SeaweedFS, in one run:

1. Planning the seeds' backfill, 5,000 symbols x 15 years = 75,000 files, against a bucket that
   already holds all 75,000 objects: template matching, one listing, and the same/different check
   (same size, so ETags are compared). `lakegui-cli backfill --dry-run` end to end.
2. A rerun of a completed 10,000-file backfill: it must upload nothing. Compared with one listing
   of the prefix by s5cmd and by `lakegui-cli ls --recursive`, in the same run.

    .venv/bin/pip install '.[bench]'
    .venv/bin/python bench/backfill.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import seaweedfs, timed, tool  # noqa: E402

YEARS = range(2010, 2025)


def symbols(n: int) -> list[str]:
    """n distinct tickers in capitals: AAAA, AAAB, ..."""
    out = []
    for i in range(n):
        s, x = "", i
        for _ in range(4):
            s = chr(65 + x % 26) + s
            x //= 26
        out.append(s)
    return out


def make_files(folder: Path, mirror: Path | None, syms: list[str]) -> int:
    """SYMBOL_YEAR.parquet files of ~200 bytes each, and optionally the same bytes laid out as the
    lake's keys (for s5cmd to seed the bucket)."""
    count = 0
    folder.mkdir(parents=True)
    for s in syms:
        for y in YEARS:
            body = f"{s},{y}\n".encode() * 20
            (folder / f"{s}_{y}.parquet").write_bytes(body)
            if mirror is not None:
                key = mirror / "data" / "ticks" / "daily" / s / str(y)
                key.mkdir(parents=True, exist_ok=True)
                (key / "ticks.parquet").write_bytes(body)
            count += 1
    return count


def run_json(cmd: list[str], env: dict) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:3]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--symbols", type=int, default=5000, help="symbols of the planning test (x 15 years)")
    p.add_argument("--rerun-symbols", type=int, default=667, help="symbols of the rerun test (x 15 years)")
    args = p.parse_args()
    with seaweedfs("lakegui-backfill-bench-") as (work, sw):
        return run(args, work, sw)


def run(args, work: Path, sw) -> int:
    env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
               AWS_DEFAULT_REGION="us-east-1", LAKEGUI_CONFIG_DIR=str(work / "config"),
               LAKEGUI_DATA_DIR=str(work / "data"))
    s5cmd, cli, url = tool("s5cmd"), tool("lakegui-cli"), sw.endpoint_url
    c = sw.client()
    for b in ("plan-bench", "rerun-bench"):
        c.create_bucket(Bucket=b)

    t0 = time.perf_counter()
    syms = symbols(args.symbols)
    n = make_files(work / "local", work / "mirror", syms)
    subprocess.run([s5cmd, "--endpoint-url", url, "--numworkers", "64", "cp", f"{work / 'mirror'}/",
                    "s3://plan-bench/"], env=env, check=True, capture_output=True)
    print(f"{n:,} files made and {n:,} objects seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    seeded = timed([s5cmd, "--endpoint-url", url, "ls", "s3://plan-bench/data/ticks/daily/*"], env)
    print(f"one s5cmd ls of the {n:,} seeded keys: {seeded:.2f} s", flush=True)
    rerun_n = make_files(work / "rerun", None, syms[: args.rerun_symbols])
    seconds, first = run_json([cli, "backfill", str(work / "rerun"), "s3://rerun-bench/", "--endpoint-url", url,
                               "--template", "daily-ticks", "--name", "first", "--json"], env)
    assert first["done"] == rerun_n, first
    print(f"rerun set: {rerun_n:,} files backfilled once in {seconds:.1f} s", flush=True)

    plan, plan_ls, rerun, s5ls, ourls = [], [], [], [], []
    for r in range(args.rounds):
        seconds, doc = run_json([cli, "backfill", str(work / "local"), "s3://plan-bench/", "--endpoint-url", url,
                                 "--template", "daily-ticks", "--dry-run", "--json"], env)
        assert doc["counts"]["exists-same"] == n, doc["counts"]
        plan.append(seconds)
        plan_ls.append(timed([s5cmd, "--endpoint-url", url, "ls", "s3://plan-bench/data/ticks/daily/*"], env))
        seconds, doc = run_json([cli, "backfill", str(work / "rerun"), "s3://rerun-bench/", "--endpoint-url", url,
                                 "--template", "daily-ticks", "--name", f"rerun {r}", "--json"], env)
        assert doc["done"] == 0 and doc["bytes"] == 0 and doc["skipped"] == rerun_n, doc
        rerun.append(seconds)
        s5ls.append(timed([s5cmd, "--endpoint-url", url, "ls", "s3://rerun-bench/data/ticks/daily/*"], env))
        ourls.append(timed([cli, "ls", "s3://rerun-bench/data/ticks/daily/", "--recursive", "--endpoint-url", url,
                            "--json"], env))
        print(f"round {r + 1}: plan {plan[-1]:.2f} s, rerun {rerun[-1]:.2f} s, s5cmd ls {s5ls[-1]:.2f} s, "
              f"lakegui-cli ls {ourls[-1]:.2f} s", flush=True)

    med = statistics.median
    print()
    print(f"planning {n:,} files against {n:,} existing objects (dry run, end to end): "
          f"median {med(plan):.2f} s ({', '.join(f'{x:.2f}' for x in plan)}); target <= 10 s")
    print(f"one s5cmd ls of those 75,000 keys: median {med(plan_ls):.2f} s ({', '.join(f'{x:.2f}' for x in plan_ls)});"
          f" planning / s5cmd ls = {med(plan) / med(plan_ls):.2f}")
    print(f"rerun of a completed {rerun_n:,}-file backfill: median {med(rerun):.2f} s "
          f"({', '.join(f'{x:.2f}' for x in rerun)}), uploads nothing")
    print(f"one listing of its prefix: s5cmd ls {med(s5ls):.2f} s ({', '.join(f'{x:.2f}' for x in s5ls)}), "
          f"lakegui-cli ls --recursive {med(ourls):.2f} s ({', '.join(f'{x:.2f}' for x in ourls)})")
    print(f"rerun / s5cmd ls = {med(rerun) / med(s5ls):.2f}; rerun / lakegui-cli ls = {med(rerun) / med(ourls):.2f}"
          "; target <= 1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
