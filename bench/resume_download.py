"""Resume benchmark, download half (issue 19, item 2), on a loopback SeaweedFS.

    .venv/bin/python bench/resume_download.py --mib 1024 --rounds 3

- pause and resume: the engine downloads the file in one go, or is paused at about 50% and run
  again at once (the next run keeps the `.part` file's ranges and fetches the rest); interleaved
  rounds, the extra wall time is the cost of the pause (target: under 2 s for 1 GiB);
- kill: `lakegui-cli download` SIGKILLed once 60% of the file is written (the temp file's
  allocated blocks), then `lakegui-cli queue resume` through a counting proxy: the bytes it
  fetches again (target: at most 45%), its time, and that the file is exact.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import make_file, seaweedfs, tool, tool_env  # noqa: E402

MIB = 1024 * 1024



def engine_download(url: str, key: str, size: int, target: Path, pause_at: float | None) -> dict:
    """One download by the CRT engine (in this process); with `pause_at`, paused there and run again."""
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.settings import TransferSettings
    from lakegui.core.transfers.backends import make_engine
    from lakegui.core.transfers.engine import JobControl, Progress
    from lakegui.core.transfers.jobs import Direction, Job, JobState
    from lakegui.core.transfers.ranges import kept_bytes

    engine = make_engine(Connection(ConnectionProfile(name="b", endpoint_url=url, addressing_style="path")),
                         TransferSettings(engine="awscrt"))
    _ = engine.client  # built before the clock starts, as a warm process has it
    job = Job(id=random.randrange(1 << 30), batch_id=1, direction=Direction.DOWNLOAD, bucket="bench", key=key,
              local_path=str(target), size=size)
    start = time.perf_counter()
    kept = stopped = 0.0
    if pause_at is not None:
        control, progress, first = JobControl(), Progress(), {}
        t = threading.Thread(target=lambda: first.update(out=engine.run(job, control, progress)))
        t.start()
        while progress.done < pause_at * size and t.is_alive():
            time.sleep(0.005)
        asked = time.perf_counter()
        control.stop(JobState.PAUSED)
        t.join()
        stopped = time.perf_counter() - asked
        kept = kept_bytes(job.resume) / size
        assert first["out"].state is JobState.PAUSED, first["out"]
    again = time.perf_counter()
    out = engine.run(job, JobControl(), Progress())
    second = time.perf_counter() - again
    seconds = time.perf_counter() - start
    engine.close()
    if out.state is not JobState.DONE:
        raise RuntimeError(f"download failed: {out.error}")
    target.unlink()
    return {"seconds": seconds, "kept": kept, "stop_seconds": stopped, "second_run_seconds": second}


def pause_rounds(args, sw, size: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"straight": [], "paused": []}
    for r in range(args.rounds):
        order = list(out)
        random.shuffle(order)
        for name in order:
            res = engine_download(sw.endpoint_url, "big.bin", size, Path(args.work) / f"down-{name}-{r}.bin",
                                  0.5 if name == "paused" else None)
            out[name].append(res)
            print(f"  round {r + 1} {name:<8} {res['seconds']:6.2f} s  kept {res['kept']:.0%}, stop "
                  f"{res['stop_seconds']:.2f} s, last run {res['second_run_seconds']:.2f} s", flush=True)
    return out


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(8 * MIB):
            h.update(block)
    return h.hexdigest()


def written(path: Path) -> int:
    try:
        return os.stat(path).st_blocks * 512
    except OSError:
        return 0


def killed_download(work: Path, sw, env: dict, size: int, digest: str, tag: str) -> dict:
    """Download, SIGKILL at 60% written, resume through a counting proxy."""
    from lakegui.core.transfers.ranges import kept_bytes
    from tests.support.faultproxy import FaultProxy

    cli = tool("lakegui-cli")
    out, q = work / tag, str(work / f"{tag}.sqlite3")
    temp = out / ".big.bin.lakegui-1.part"
    proc = subprocess.Popen([cli, "download", "s3://bench/big.bin", str(out), "--endpoint-url", sw.endpoint_url,
                             "--queue", q], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while (at := written(temp)) < 0.6 * size:
            if proc.poll() is not None:
                raise RuntimeError(f"the download ended (exit {proc.returncode}) before 60% was written")
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    import sqlite3

    with sqlite3.connect(q) as c:
        recorded = kept_bytes(json.loads(c.execute("SELECT resume FROM jobs").fetchone()[0]))
    with FaultProxy(sw.endpoint_url) as proxy:
        start = time.perf_counter()
        subprocess.run([cli, "queue", "resume", "--queue", q, "--endpoint-url", proxy.url, "--json"], env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        again = proxy.bytes_out
    exact = md5_of(out / "big.bin") == digest
    (out / "big.bin").unlink()
    return {"written_at_kill": at / size, "recorded_at_kill": recorded / size, "fetched_again": again / size,
            "resume_seconds": seconds, "exact": exact}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mib", type=int, default=1024, help="size of the file (MiB)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--kills", type=int, default=2, help="kill-and-resume runs")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-resume-down-") as (work, sw):
        args.work = str(work)
        env = tool_env(work, sw)
        os.environ.update(env)  # the in-process engine's credentials and folders too
        s3 = sw.client()
        s3.create_bucket(Bucket="bench")
        big = work / "big.bin"
        make_file(big, args.mib)
        size = big.stat().st_size
        digest = md5_of(big)
        s3.upload_file(str(big), "bench", "big.bin")
        big.unlink()
        print(f"download of {args.mib} MiB, {args.rounds} rounds, straight or paused at 50% (SeaweedFS on loopback)")
        pauses = pause_rounds(args, sw, size)
        kills = []
        for k in range(args.kills):
            kills.append(killed_download(work, sw, env, size, digest, f"kill-{k}"))
            print(f"  kill {k + 1}: {kills[-1]}", flush=True)
    med = {n: statistics.median(r["seconds"] for r in v) for n, v in pauses.items()}
    print("\n| download | median | runs |")
    print("|---|---|---|")
    for n, v in pauses.items():
        runs = ", ".join(f"{r['seconds']:.2f}" for r in v)
        print(f"| {n} | {med[n]:.2f} s | {runs} |")
    print(f"\npause and resume cost {med['paused'] - med['straight']:+.2f} s (median paused - median straight)")
    print("\n| written at kill | recorded at kill | fetched again on resume | resume time | exact |")
    print("|---|---|---|---|---|")
    for k in kills:
        print(f"| {k['written_at_kill']:.0%} | {k['recorded_at_kill']:.0%} | {k['fetched_again']:.1%} | "
              f"{k['resume_seconds']:.2f} s | {k['exact']} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"pause": pauses, "kills": kills}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
