"""Coverage benchmark (issue 9), on a loopback SeaweedFS, in one run: the seeds' 75,000 daily-ticks
keys (5,000 symbols x 15 years), with gaps.

1. `lakegui-cli coverage --json` end to end against one `s5cmd ls` of the same prefix, per round.
2. The coverage window, offscreen (bench/gui_coverage.py in a fresh process): time to the grid,
   memory with it shown, and the UI thread's longest stall while listing and while scrolling.

    .venv/bin/pip install '.[bench]'
    .venv/bin/python bench/coverage.py --rounds 3
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

from bench.backfill import YEARS, run_json, symbols  # noqa: E402
from bench.transfers import seaweedfs, timed, tool  # noqa: E402

BUCKET = "coverage-bench"


def mirror(folder: Path, syms: list[str], every: int) -> tuple[int, int]:
    """The lake's keys as files for s5cmd to upload, leaving out every `every`-th cell."""
    n = gaps = 0
    for i, s in enumerate(syms):
        for y in YEARS:
            if (i * len(YEARS) + y) % every == 0:
                gaps += 1
                continue
            key = folder / "data" / "ticks" / "daily" / s / str(y)
            key.mkdir(parents=True, exist_ok=True)
            (key / "ticks.parquet").write_bytes(f"{s},{y}\n".encode() * 20)
            n += 1
    return n, gaps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--symbols", type=int, default=5000)
    p.add_argument("--gap-every", type=int, default=97, help="leave out one cell in this many")
    args = p.parse_args()
    with seaweedfs("lakegui-coverage-bench-") as (work, sw):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                   AWS_DEFAULT_REGION="us-east-1", LAKEGUI_CONFIG_DIR=str(work / "config"),
                   LAKEGUI_DATA_DIR=str(work / "data"), QT_QPA_PLATFORM="offscreen")
        s5cmd, cli, url = tool("s5cmd"), tool("lakegui-cli"), sw.endpoint_url
        sw.client().create_bucket(Bucket=BUCKET)
        t0 = time.perf_counter()
        n, gaps = mirror(work / "mirror", symbols(args.symbols), args.gap_every)
        subprocess.run([s5cmd, "--endpoint-url", url, "--numworkers", "64", "cp", f"{work / 'mirror'}/",
                        f"s3://{BUCKET}/"], env=env, check=True, capture_output=True)
        print(f"{n:,} objects seeded ({gaps:,} cells left out) in {time.perf_counter() - t0:.0f} s", flush=True)

        ours, peer = [], []
        for r in range(args.rounds):
            seconds, doc = run_json([cli, "coverage", f"s3://{BUCKET}/", "--endpoint-url", url, "--template",
                                     "daily-ticks", "--json"], env)
            assert doc["objects"] == n and len(doc["missing"]) == gaps, (doc["objects"], len(doc["missing"]))
            ours.append(seconds)
            peer.append(timed([s5cmd, "--endpoint-url", url, "ls", f"s3://{BUCKET}/data/ticks/daily/*"], env))
            print(f"round {r + 1}: lakegui-cli coverage {ours[-1]:.2f} s, s5cmd ls {peer[-1]:.2f} s", flush=True)

        gui = subprocess.run([sys.executable, str(ROOT / "bench" / "gui_coverage.py"), "--endpoint-url", url,
                              "--bucket", BUCKET, "--prefix", ""], env=env, capture_output=True, text=True)
        if gui.returncode != 0:
            raise RuntimeError(gui.stderr[-2000:])
        window = json.loads(gui.stdout.strip().splitlines()[-1])

    med = statistics.median
    print()
    if ours:  # --rounds 0 measures the window only
        print(f"coverage of {n:,} keys ({gaps:,} missing cells): lakegui-cli coverage --json median {med(ours):.2f} s "
              f"({', '.join(f'{x:.2f}' for x in ours)}); s5cmd ls median {med(peer):.2f} s "
              f"({', '.join(f'{x:.2f}' for x in peer)}); ratio {med(ours) / med(peer):.2f} (target <= 1.3)")
    print(f"coverage window: {json.dumps(window)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
