"""The floor under lakegui's big download (issue 19): s5cmd's Go binary, `aws s3 cp`, a bare awscrt GET
(bench/crt_get.py: recv_filepath, with and without the CRT's own full-object CRC check, and
through a Python on_body callback as lakegui's engine does) and `lakegui-cli download`, each its
own process, the same object, rounds interleaved and shuffled, on a loopback SeaweedFS.

    .venv/bin/python bench/crt_floor.py --mib 1024 --rounds 5
    .venv/bin/python bench/crt_floor.py --mib 1024 --rounds 3 --grid 8x4,16x8,32x8,64x8

What a bare CRT GET takes against s5cmd is what the native client itself allows; what
lakegui-cli takes over the bare verified GET is lakegui's own cost. `--grid PARTxCONNECTIONS,...`
adds bare verified GETs with those part sizes (MiB) and connection counts.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bigfiles import timed  # noqa: E402
from bench.transfers import make_file, s5cmd_binary, seaweedfs, tool, tool_env  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--grid", default="", help="PARTxCONNECTIONS,... for extra bare verified GETs")
    p.add_argument("--py", default="", help="PARTxTHREADS,... for ranged GETs on Python threads (bench/py_get.py), "
                   "each part's CRC64NVME taken as it arrives")
    args = p.parse_args()
    with seaweedfs("lakegui-crt-floor-") as (work, sw):
        env = tool_env(work, sw)
        url, cli = sw.endpoint_url, tool("lakegui-cli")
        sw.client().create_bucket(Bucket="bench")
        big = work / "big.bin"
        make_file(big, args.mib)
        subprocess.run([cli, "upload", str(big), "s3://bench/", "--endpoint-url", url, "--queue",
                        str(work / "setup.sqlite3")], env=env, check=True, stdout=subprocess.DEVNULL)
        big.unlink()  # the page cache holds what is downloaded, not the source
        # the queue exists before the first timed run, as a user's default queue does
        subprocess.run([cli, "queue", "status", "--queue", str(work / "lakegui.sqlite3")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        get = [sys.executable, str(ROOT / "bench" / "crt_get.py"), url, "bench", "big.bin"]
        tools = {
            "s5cmd": lambda out: [s5cmd_binary(), "--endpoint-url", url, "cp", "s3://bench/big.bin", out],
            "aws": lambda out: [tool("aws"), "--endpoint-url", url, "s3", "cp", "--quiet", "s3://bench/big.bin", out],
            "crt": lambda out: [*get, out],
            "crt-verified": lambda out: [*get, out, "--verify"],
            "crt-on-body": lambda out: [*get, out, "--on-body"],
            # lakegui-cli download names a folder: the object lands in it under its own name
            "lakegui": lambda out: [cli, "download", "s3://bench/big.bin", out, "--endpoint-url", url,
                                    "--queue", str(work / "lakegui.sqlite3")],
        }
        for cell in filter(None, args.grid.split(",")):
            part, conns = cell.split("x")
            tools[f"crt-verified {part}MiBx{conns}"] = (
                lambda out, part=part, conns=conns: [*get, out, "--verify", "--part-mib", part, "--connections", conns])
        if args.py:
            signed = sw.client().generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "big.bin"},
                                                        ExpiresIn=3600)
            pyget = [sys.executable, str(ROOT / "bench" / "py_get.py"), signed, str(args.mib * 1024 * 1024)]
        for cell in filter(None, args.py.split(",")):
            part, threads = cell.split("x")
            tools[f"py-threads {part}MiBx{threads}"] = (
                lambda out, part=part, threads=threads: [*pyget, out, "--verify", "--part-mib", part,
                                                         "--threads", threads])
        results: dict[str, list[tuple[float, float, float]]] = {t: [] for t in tools}
        for r in range(args.rounds):
            order = list(tools)
            random.shuffle(order)
            for name in order:
                out = work / "out"
                figures = timed(tools[name](str(out)), env)
                shutil.rmtree(out) if out.is_dir() else out.unlink()
                results[name].append(figures)
                print(f"round {r + 1} {name:<26} {figures[0]:6.2f} s {figures[1]:6.0f} MB {figures[2]:5.2f} s CPU",
                      flush=True)
        base = statistics.median(s for s, _, _ in results["s5cmd"])
        print(f"\n{args.mib} MiB download, medians of {args.rounds} rounds\n")
        aws = statistics.median(s for s, _, _ in results["aws"])
        print("| tool | median s | median CPU s | peak RSS MB | / s5cmd | / aws |")
        print("|---|---|---|---|---|---|")
        for name, v in results.items():
            m = statistics.median(s for s, _, _ in v)
            print(f"| {name} | {m:.2f} | {statistics.median(c for _, _, c in v):.2f} | "
                  f"{max(x for _, x, _ in v):.0f} | {m / base:.2f}× | {m / aws:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
