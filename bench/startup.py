"""Start-up figures of the foundation: seeding the demo lake, and `lakegui --demo --screenshot`.

Run: .venv/bin/python bench/startup.py [--rounds 3]
Prints medians; there is no peer for these, so they are absolute (noisy on shared machines).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def seed_seconds() -> tuple[float, int]:
    from lakegui.core.demo import DemoServer

    with DemoServer() as server:
        return server.report.seconds, server.report.objects


def screenshot_seconds() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LAKEGUI_CONFIG_DIR": f"{tmp}/c",
               "LAKEGUI_DATA_DIR": f"{tmp}/d", "LAKEGUI_LOG_DIR": f"{tmp}/l"}
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "lakegui"), "--demo", "--screenshot", f"{tmp}/s.png"],
                       env=env, check=True, capture_output=True)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    rounds = ap.parse_args().rounds
    seeds, shots = [], []
    for _ in range(rounds):
        s, n = seed_seconds()
        seeds.append(s)
        shots.append(screenshot_seconds())
    print(f"demo seed ({n} objects): median {statistics.median(seeds):.2f} s  (target < 5 s)  runs {seeds}")
    print(f"lakegui --demo --screenshot: median {statistics.median(shots):.2f} s  (target < 20 s)  "
          f"runs {[round(x, 2) for x in shots]}")


if __name__ == "__main__":
    main()
