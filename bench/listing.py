"""Listing benchmark (issue 3): 100,000 keys under one prefix of a loopback SeaweedFS; the GUI's
browser and `lakegui-cli ls --recursive` against `s5cmd ls`, in the same run, rounds interleaved.

    .venv/bin/python bench/listing.py --keys 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import timed, tool  # noqa: E402
from tests.support.endpoints import SeaweedFS  # noqa: E402

PREFIX = "data/ticks/minute/ALL/"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keys", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lakegui-listbench-"))
    (work / "seaweedfs").mkdir()
    sw = SeaweedFS(work / "seaweedfs", "benchkey", "benchsecret")
    sw.start()
    try:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                   AWS_DEFAULT_REGION="us-east-1", QT_QPA_PLATFORM="offscreen",
                   LAKEGUI_CONFIG_DIR=str(work / "config"), LAKEGUI_DATA_DIR=str(work / "data"))
        s5cmd, cli, url = tool("s5cmd"), tool("lakegui-cli"), sw.endpoint_url
        sw.client().create_bucket(Bucket="bench")
        seed = work / "seed"
        seed.mkdir()
        for i in range(args.keys):
            (seed / f"{i:07d}.parquet").touch()
        t = time.perf_counter()
        subprocess.run([s5cmd, "--endpoint-url", url, "--numworkers", "64", "cp", f"{seed}/*",
                        f"s3://bench/{PREFIX}"], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"seeded {args.keys:,} keys in {time.perf_counter() - t:.0f} s", flush=True)
        tools = {
            "s5cmd": [s5cmd, "--endpoint-url", url, "ls", f"s3://bench/{PREFIX}*"],
            "lakegui-cli": [cli, "ls", f"s3://bench/{PREFIX}", "--recursive", "--endpoint-url", url],
        }
        times: dict[str, list[float]] = {k: [] for k in tools}
        gui_runs = []
        for r in range(args.rounds):
            for name in random.sample(list(tools), len(tools)):
                times[name].append(timed(tools[name], env))
                print(f"round {r + 1} {name:<12} {times[name][-1]:.2f} s", flush=True)
            out = subprocess.run([sys.executable, str(ROOT / "bench" / "gui_listing.py"), "--endpoint-url", url,
                                  "--bucket", "bench", "--prefix", PREFIX], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(out.stderr[-800:])
            gui_runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} gui          {gui_runs[-1]}", flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        gui_full = statistics.median(g["full_s"] for g in gui_runs)
        print(f"\nlisting {args.keys:,} keys: s5cmd {med['s5cmd']:.2f} s, lakegui-cli {med['lakegui-cli']:.2f} s "
              f"({med['lakegui-cli'] / med['s5cmd']:.2f}×), GUI {gui_full:.2f} s ({gui_full / med['s5cmd']:.2f}×); "
              f"GUI first rows {statistics.median(g['first_rows_ms'] for g in gui_runs):.0f} ms, memory growth "
              f"{max(g['rss_growth_mb'] for g in gui_runs):.0f} MB, longest UI gap "
              f"{max(g['max_gap_ms'] for g in gui_runs):.0f} ms")
        if args.json:
            Path(args.json).write_text(json.dumps({"times": times, "gui": gui_runs}, indent=2))
    finally:
        sw.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
