"""Resume benchmark (issue 19): a big transfer killed at about 60%, then `queue resume`, with the
bytes sent again counted by a proxy; and what resumability costs a first upload.

    .venv/bin/python bench/resume.py --mib 1024 --rounds 3

Upload half:
- first upload of the file, interleaved rounds: `lakegui-cli upload` (parts.py) and s5cmd's Go
  binary; and, in a process of its own each, the engine alone: the CRT's own multipart upload
  (what lakegui used before, which cannot be resumed) against parts.py's;
- `lakegui-cli upload` SIGKILLed once the server holds 60% of the file's parts (list_parts), then
  `lakegui-cli queue resume` through a counting proxy: the bytes it sends again, and its time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import make_file, s5cmd_binary, seaweedfs, timed, tool, tool_env  # noqa: E402

MIB = 1024 * 1024



def engine_upload(mode: str, path: str, url: str, bucket: str, key: str) -> None:
    """(In a process of its own) one upload by the engine alone; prints its seconds."""
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.settings import TransferSettings
    from lakegui.core.transfers.backends import make_engine
    from lakegui.core.transfers.engine import JobControl, Progress
    from lakegui.core.transfers.jobs import Direction, Job, JobState

    engine = make_engine(Connection(ConnectionProfile(name="b", endpoint_url=url, addressing_style="path")),
                         TransferSettings(engine="awscrt"))
    _ = engine.client  # built before the clock starts, as a warm CLI has it
    job = Job(id=1, batch_id=1, direction=Direction.UPLOAD, bucket=bucket, key=key, local_path=path,
              size=os.path.getsize(path))
    start = time.perf_counter()
    run = engine.upload_parts if mode == "parts" else engine._upload  # _upload: the CRT's own multipart
    out = run(job, JobControl(), Progress(), None)
    seconds = time.perf_counter() - start
    engine.close()
    if out.state is not JobState.DONE:
        sys.exit(f"{mode} upload failed: {out.error}")
    print(json.dumps({"seconds": seconds}))


def first_uploads(args, work: Path, sw, env: dict, big: Path) -> dict[str, list[float]]:
    url, s5 = sw.endpoint_url, s5cmd_binary()
    cli = tool("lakegui-cli")
    me = [sys.executable, str(Path(__file__).resolve())]
    times: dict[str, list[float]] = {"lakegui": [], "s5cmd": [], "engine_crt": [], "engine_parts": []}
    for r in range(args.rounds):
        runs = {
            "lakegui": lambda t: timed([cli, "upload", str(big), f"s3://bench/{t}/", "--endpoint-url", url,
                                        "--queue", str(work / f"{t}.sqlite3")], env),
            "s5cmd": lambda t: timed([s5, "--endpoint-url", url, "cp", str(big), f"s3://bench/{t}/big.bin"], env),
            "engine_crt": lambda t: engine_seconds(me, "native", big, url, t, env),
            "engine_parts": lambda t: engine_seconds(me, "parts", big, url, t, env),
        }
        order = list(runs)
        random.shuffle(order)
        for name in order:
            seconds = runs[name](f"up-{name}-{r}")
            times[name].append(seconds)
            print(f"  round {r + 1} {name:<13} {seconds:6.2f} s", flush=True)
    return times


def engine_seconds(me: list[str], mode: str, big: Path, url: str, tag: str, env: dict) -> float:
    proc = subprocess.run([*me, "--engine-upload", mode, str(big), url, "bench", f"{tag}/big.bin"], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def killed_upload(work: Path, sw, env: dict, big: Path, tag: str) -> dict:
    """Upload, SIGKILL at 60% on the server, resume through a counting proxy."""
    import sqlite3

    from tests.support.faultproxy import FaultProxy

    cli = tool("lakegui-cli")
    s3 = sw.client()
    size = big.stat().st_size
    q = str(work / f"{tag}.sqlite3")
    proc = subprocess.Popen([cli, "upload", str(big), f"s3://bench/{tag}/", "--endpoint-url", sw.endpoint_url,
                             "--queue", q], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def on_server() -> int:
        try:
            with sqlite3.connect(q) as c:
                row = c.execute("SELECT upload_id FROM jobs WHERE upload_id != ''").fetchone()
        except sqlite3.Error:
            return 0
        if not row:
            return 0
        listed = s3.list_parts(Bucket="bench", Key=f"{tag}/big.bin", UploadId=row[0]).get("Parts", [])
        return sum(p["Size"] for p in listed)

    try:
        while (held := on_server()) < 0.6 * size:
            if proc.poll() is not None:
                raise RuntimeError(f"the upload ended (exit {proc.returncode}) before 60% reached the server")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(1.0)  # parts the killed process had written to its sockets still arrive
    held = on_server()
    with FaultProxy(sw.endpoint_url) as proxy:
        start = time.perf_counter()
        subprocess.run([cli, "queue", "resume", "--queue", q, "--endpoint-url", proxy.url, "--json"], env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        resent = proxy.bytes_in
    left = s3.list_multipart_uploads(Bucket="bench").get("Uploads", [])
    return {"held_at_kill": held / size, "resent": resent / size, "resume_seconds": seconds,
            "orphans": len(left)}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--engine-upload":
        engine_upload(*sys.argv[2:7])
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mib", type=int, default=1024, help="size of the file (MiB)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--kills", type=int, default=2, help="kill-and-resume runs")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-resume-") as (work, sw):
        env = tool_env(work, sw)
        sw.client().create_bucket(Bucket="bench")
        big = work / "big.bin"
        make_file(big, args.mib)
        print(f"first upload of {args.mib} MiB, {args.rounds} rounds (SeaweedFS on loopback)")
        times = first_uploads(args, work, sw, env, big)
        kills = []
        for k in range(args.kills):
            kills.append(killed_upload(work, sw, env, big, f"kill-{k}"))
            print(f"  kill {k + 1}: {kills[-1]}", flush=True)
    med = {name: statistics.median(v) for name, v in times.items()}
    print("\n| first upload | median | runs |")
    print("|---|---|---|")
    for name, v in times.items():
        print(f"| {name} | {med[name]:.2f} s | {', '.join(f'{x:.2f}' for x in v)} |")
    print(f"\nlakegui / s5cmd {med['lakegui'] / med['s5cmd']:.2f}x; engine parts.py / CRT multipart "
          f"{med['engine_parts'] / med['engine_crt']:.2f}x")
    print("\n| killed at (on the server) | sent again on resume | resume time | uploads left open |")
    print("|---|---|---|---|")
    for k in kills:
        print(f"| {k['held_at_kill']:.0%} | {k['resent']:.1%} | {k['resume_seconds']:.2f} s | {k['orphans']} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"first_upload": times, "kills": kills}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
