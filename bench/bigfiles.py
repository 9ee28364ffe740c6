"""Big files (issue 19): one 1 GiB (and optionally 5 GiB) file up and down, lakegui-cli
against s5cmd's Go binary and `aws s3 cp`, in the same run, on a loopback SeaweedFS, with
each process's peak RSS (VmHWM). Rounds interleaved, tools shuffled within a
round; medians and ratios are what count on a shared 2-core machine. Each lakegui keeps one
queue across the rounds, made before the first timed run, as a user's default queue is (a new
queue file costs its first run about 0.1 s of syncs here).

    .venv/bin/python bench/bigfiles.py --rounds 3 --sizes 1024,5120

The source object of the downloads is uploaded by lakegui-cli, so it has the full-object
CRC64NVME parts.py gives it and its downloads are checked by that CRC. `--etag-source` also
uploads it with `aws s3 cp` without checksums (a multipart ETag only, which lakegui must
MD5-hash to check) and times lakegui's download of that as `lakegui-etag`, in the same rounds.
What the server states for each source (HEAD with ChecksumMode=ENABLED) is printed first.

`--tree NAME=DIR` adds a lakegui variant run from another source tree (`python -m
lakegui.cli` with DIR first on PYTHONPATH), e.g. `git archive COMMIT lakegui | tar -x -C
DIR` to compare a change against the commit before it in the same run.
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

from bench.transfers import make_file, s5cmd_binary, seaweedfs, tool, tool_env  # noqa: E402

MIB = 1024 * 1024


def timed(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(seconds, peak RSS in MB, CPU seconds) of one command, which must succeed. The peak is
    the process's VmHWM, sampled every 20 ms until it exits (wait4's ru_maxrss counts the forking
    parent's pages for a small child); the CPU time (user + system, wait4's) is what a loaded
    machine disturbs least."""
    errors = tempfile.TemporaryFile()  # a pipe could fill and block the child
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while True:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(code)
    errors.seek(0)
    err = errors.read().decode(errors="replace")
    errors.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}… failed ({proc.returncode}): {err[-800:]}")
    return seconds, peak / 1024, usage.ru_utime + usage.ru_stime



def command(base: list[str], name: str, direction: str, big: Path, src: str, work: Path, tag: str,
            url: str) -> list[str]:
    """One tool's command line copying `big` up to s3://bench/TAG/ or `src` down into work/TAG/."""
    if name in ("s5cmd", "aws"):
        return [*base, str(big), f"s3://bench/{tag}/b.bin"] if direction == "up" else \
            [*base, src, str(work / tag / "b.bin")]
    queue = ["--endpoint-url", url, "--queue", str(work / f"{name}.sqlite3")]  # one a tool, as a user's
    return [*base, str(big), f"s3://bench/{tag}/", *queue] if direction == "up" else \
        [*base, src, str(work / tag), *queue]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sizes", default="1024", help="file sizes in MiB, comma-separated")
    p.add_argument("--only", default="up,down", help="directions: up, down or both")
    p.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                   help="another lakegui source tree to time as NAME")
    p.add_argument("--no-peers", action="store_true", help="time lakegui variants only")
    p.add_argument("--etag-source", action="store_true",
                   help="also time lakegui downloading a copy uploaded without checksums (multipart ETag)")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-bigfiles-") as (work, sw):
        return run(args, work, sw)


def run(args, work: Path, sw) -> int:
    url = sw.endpoint_url
    env = tool_env(work, sw)
    s5cmd, aws, cli = s5cmd_binary(), tool("aws"), tool("lakegui-cli")
    sw.client().create_bucket(Bucket="bench")
    lakeguis = {"lakegui": ([cli], env)}
    for spec in args.tree:
        name, _, tree = spec.partition("=")
        # -P: `python -m` would put the working directory (this tree, when run from it) before PYTHONPATH
        lakeguis[name] = ([sys.executable, "-P", "-m", "lakegui.cli"],
                          dict(env, PYTHONPATH=os.pathsep.join([tree, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)))
    sizes = [int(s) for s in args.sizes.split(",")]
    directions = args.only.split(",")
    for mib in sizes:
        make_file(work / f"big{mib}.bin", mib)
        subprocess.run([cli, "upload", str(work / f"big{mib}.bin"), "s3://bench/source/", "--endpoint-url", url,
                        "--queue", str(work / "setup.sqlite3")], env=env, check=True, stdout=subprocess.DEVNULL)
        if args.etag_source:
            subprocess.run([aws, "--endpoint-url", url, "s3", "cp", "--quiet", str(work / f"big{mib}.bin"),
                            f"s3://bench/source-etag/big{mib}.bin"], env=env, check=True, stdout=subprocess.DEVNULL)
        for prefix in ("source", "source-etag") if args.etag_source else ("source",):
            head = sw.client().head_object(Bucket="bench", Key=f"{prefix}/big{mib}.bin", ChecksumMode="ENABLED")
            stated = {k: v for k, v in head.items() if k.startswith("Checksum")}
            print(f"{prefix}/big{mib}.bin: ETag {head['ETag']}, {stated or 'no checksum'}", flush=True)

    for name, (base, lenv) in [*lakeguis.items(), *([("lakegui-etag", ([cli], env))] if args.etag_source else [])]:
        # each lakegui's queue exists before its first timed run, as a user's default queue does
        subprocess.run([*base, "queue", "status", "--queue", str(work / f"{name}.sqlite3")], env=lenv, check=True,
                       stdout=subprocess.DEVNULL)
    results: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for r in range(args.rounds):
        for mib in sizes:
            big = work / f"big{mib}.bin"
            src = f"s3://bench/source/big{mib}.bin"
            for direction in directions:
                tools: dict = {}
                if not args.no_peers:
                    tools["s5cmd"] = ([s5cmd, "--endpoint-url", url, "cp"], env)
                    tools["aws"] = ([aws, "--endpoint-url", url, "s3", "cp", "--quiet"], env)
                for name, (base, lenv) in lakeguis.items():
                    tools[name] = ([*base, "upload" if direction == "up" else "download"], lenv)
                if args.etag_source and direction == "down":
                    tools["lakegui-etag"] = ([cli, "download"], env)
                order = list(tools)
                random.shuffle(order)
                workload = f"{direction} {mib} MiB"
                for name in order:
                    tag = f"r{r}-{direction}{mib}-{name}"
                    base, tenv = tools[name]
                    source = src.replace("/source/", "/source-etag/") if name == "lakegui-etag" else src
                    seconds, rss, cpu = timed(command(base, name, direction, big, source, work, tag, url), tenv)
                    results.setdefault(workload, {}).setdefault(name, []).append((seconds, rss, cpu))
                    print(f"round {r + 1} {workload:<14} {name:<12} {seconds:7.2f} s  {rss:6.0f} MB  "
                          f"{cpu:6.2f} s CPU", flush=True)
                    shutil.rmtree(work / tag, ignore_errors=True)
                    if direction == "up":
                        bucket = sw.client()
                        for o in bucket.list_objects_v2(Bucket="bench", Prefix=f"{tag}/").get("Contents", []):
                            bucket.delete_object(Bucket="bench", Key=o["Key"])

    print("\n| workload | tool | median s | peak RSS MB | median CPU s | / s5cmd | / aws |")
    print("|---|---|---|---|---|---|---|")
    med: dict = {}
    for workload, tools in results.items():
        m = {t: statistics.median(s for s, _, _ in v) for t, v in tools.items()}
        med[workload] = m
        for t, v in tools.items():
            vs5 = f"{m[t] / m['s5cmd']:.2f}×" if "s5cmd" in m else "-"
            vaws = f"{m[t] / m['aws']:.2f}×" if "aws" in m else "-"
            cpu = statistics.median(c for _, _, c in v)
            print(f"| {workload} | {t} | {m[t]:.2f} | {max(x for _, x, _ in v):.0f} | {cpu:.2f} | {vs5} | {vaws} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds": results, "medians": med}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
