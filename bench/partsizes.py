"""Part sizes and connections per file size (issue 19, item 4): the engine alone, in this one
process (a CLI's start-up would drown the differences), uploading and downloading 100 MiB and
1 GiB files (5 GiB with `--sizes …,5120`, on `--big-grid`'s few candidates) to a loopback
SeaweedFS, over a grid of part sizes × connections. Rounds interleaved, every (size, direction,
candidate) shuffled within a round; medians of wall time, CPU time (this process, every thread:
the native client's too) and SeaweedFS's CPU; peak RSS per run (VmHWM, reset before each run
through /proc/self/clear_refs after a malloc_trim). "The run's MB" is that peak above the RSS at
the reset: what one transfer adds. The absolute peak is not a CLI's: each run's fresh engine
leaves ~10 MB behind, so the RSS at the reset grows through a run of this bench.

    .venv/bin/python bench/partsizes.py                # the full grid, 100 MiB and 1 GiB
    .venv/bin/python bench/partsizes.py --sizes 5120 --rounds 2   # 5 GiB, --big-grid's candidates
    .venv/bin/python bench/partsizes.py --quick        # 2 part sizes x 2 connections, 100 MiB

Uploads go through parts.py (what every multipart upload uses), downloads through the native
client with verification on (the CRC64NVME the source object carries). A candidate is forced as
tuning.py's only row, without its memory cap; a download's part size is also the native client's
(multipart_chunksize) and its connections the engine's `_per_file`, so the candidate applies
whether or not download() asks tuning.py yet. The row `table` is tuning.plan's own choice with
the default settings (run once: not again as a candidate). `before` is 10 MiB x 4, the fixed
values before tuning.py.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import random
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import make_file, seaweedfs, tool_env  # noqa: E402

MIB = 1024 * 1024



def hwm_mb() -> float:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def reset_hwm() -> float:
    """Return what earlier runs freed to the system, then start VmHWM again from the current RSS
    (returned, in MB): the peak of the next run is then its own, on top of that."""
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)  # glibc keeps freed heap (big parts' buffers) otherwise
    Path("/proc/self/clear_refs").write_text("5")
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def cpu_of(pid: int) -> float:
    """User + system seconds of a process (every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vacuum(sw) -> None:
    """Ask SeaweedFS to reclaim deleted objects' space (the grid writes tens of GB)."""
    port = next(a.split("=", 1)[1] for a in sw.proc.args if a.startswith("-master.port="))
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/vol/vacuum?garbageThreshold=0.01", timeout=120).read()
    except OSError as exc:
        print(f"  (vacuum failed: {exc})", flush=True)


def one_run(url: str, direction: str, mib: int, part: int | None, conns: int | None, src: Path, work: Path,
            weed_pid: int, tag: str) -> dict:
    """One transfer by a fresh engine (built before the clock starts); its figures."""
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.settings import TransferSettings
    from lakegui.core.transfers import tuning
    from lakegui.core.transfers.backends import make_engine

    size = mib * MIB
    saved = tuning._TABLE, tuning.MEMORY_BUDGET
    if part is not None:  # the candidate as tuning.py's only row, without its memory cap
        row = ((None, part * MIB, conns),)
        tuning._TABLE, tuning.MEMORY_BUDGET = {tuning.UPLOAD: row, tuning.DOWNLOAD: row}, 1 << 62
    try:
        plan = tuning.plan(size, direction)
        # The native client's part size for GETs is its client's (multipart_chunksize), its
        # connections per transfer `_per_file`: both set to the plan, as download() would ask it.
        settings = TransferSettings(engine="awscrt", **({"multipart_chunksize": plan.part_size}
                                                        if direction == tuning.DOWNLOAD else {}))
        engine = make_engine(Connection(ConnectionProfile(name="b", endpoint_url=url, addressing_style="path"),
                                        concurrency=max(plan.connections, settings.max_concurrency)), settings)
        if hasattr(engine, "_per_file") and direction == tuning.DOWNLOAD:
            engine._per_file = plan.connections
        return _timed(engine, plan, direction, mib, src, work, weed_pid, tag)
    finally:
        tuning._TABLE, tuning.MEMORY_BUDGET = saved


def _timed(engine, plan, direction: str, mib: int, src: Path, work: Path, weed_pid: int, tag: str) -> dict:
    from lakegui.core.transfers.engine import JobControl, Progress
    from lakegui.core.transfers.jobs import Direction, Job, JobState

    size = mib * MIB
    _ = engine.client
    if direction == "upload":
        job = Job(id=random.randrange(1 << 30), batch_id=1, direction=Direction.UPLOAD, bucket="bench",
                  key=f"up/{tag}.bin", local_path=str(src), size=size)
    else:
        job = Job(id=random.randrange(1 << 30), batch_id=1, direction=Direction.DOWNLOAD, bucket="bench",
                  key=f"source/{mib}.bin", local_path=str(work / f"down-{tag}.bin"), size=size)
    base = reset_hwm()
    cpu, weed, start = time.process_time(), cpu_of(weed_pid), time.perf_counter()
    control = JobControl()
    out = engine.run(job, control, Progress())
    seconds = time.perf_counter() - start
    cpu, weed, peak = time.process_time() - cpu, cpu_of(weed_pid) - weed, hwm_mb()
    if out.state is not JobState.DONE:
        raise RuntimeError(f"{direction} {mib} MiB {plan} failed: {out.error}")
    if direction == "upload":
        engine.client.delete_object(Bucket="bench", Key=job.key)
    else:
        Path(job.local_path).unlink()
    # The download's request keeps its callbacks in C, and they reach the control that holds the
    # request: a cycle the collector cannot see, which would keep every run's native client alive.
    control._transfer = None
    native = getattr(engine, "_s3", None)
    gone = native.shutdown_event if native is not None else None
    del native
    engine.close()
    if gone is not None:
        gc.collect()
        gone.wait(5)  # the native client frees its buffers once shut down
    return {"seconds": seconds, "cpu": cpu, "weed_cpu": weed, "rss": peak, "rss_base": base,
            "part_mib": plan.part_size // MIB, "connections": plan.connections}


def parse_grid(text: str) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in c.split("x")) for c in text.split(",")]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sizes", default="100,1024", help="file sizes in MiB, comma-separated")
    p.add_argument("--parts", default="8,16,32,64", help="part sizes in MiB (files under 5 GiB)")
    p.add_argument("--conns", default="4,8,16", help="connections / parts in flight (files under 5 GiB)")
    p.add_argument("--big-grid", default="8x4,16x4,32x4", help="PARTxCONNS candidates for files of 5 GiB and more")
    p.add_argument("--only", default="upload,download")
    p.add_argument("--quick", action="store_true", help="100 MiB, parts 8,32 x connections 4,16, 2 rounds")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    if args.quick:
        args.sizes, args.parts, args.conns, args.rounds = "100", "8,32", "4,16", 2
    with seaweedfs("lakegui-partsizes-") as (work, sw):
        os.environ.update(tool_env(work, sw))  # the in-process engine's credentials and folders
        return run(args, work, sw)


def run(args, work: Path, sw) -> int:
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.settings import TransferSettings
    from lakegui.core.transfers.backends import make_engine
    from lakegui.core.transfers.engine import JobControl, Progress
    from lakegui.core.transfers.jobs import Direction, Job

    url = sw.endpoint_url
    sw.client().create_bucket(Bucket="bench")
    sizes = [int(s) for s in args.sizes.split(",")]
    grid = [(pt, c) for pt in (int(x) for x in args.parts.split(",")) for c in (int(x) for x in args.conns.split(","))]
    big_grid = parse_grid(args.big_grid)
    directions = args.only.split(",")
    setup = make_engine(Connection(ConnectionProfile(name="b", endpoint_url=url, addressing_style="path")),
                        TransferSettings(engine="awscrt"))
    for mib in sizes:
        make_file(work / f"{mib}.bin", mib)
        job = Job(id=mib, batch_id=1, direction=Direction.UPLOAD, bucket="bench", key=f"source/{mib}.bin",
                  local_path=str(work / f"{mib}.bin"), size=mib * MIB)
        setup.run(job, JobControl(), Progress())  # parts.py: CRC64NVME, so downloads check that
    setup.close()
    from lakegui.core.transfers import tuning

    def table(d: str, mib: int) -> tuple[int, int]:
        p = tuning.plan(mib * MIB, d)
        return p.part_size // MIB, p.connections

    # the table's own choice runs once, as "table", not again as a candidate
    cases = [(d, mib, pc) for mib in sizes for d in directions
             for pc in [(None, None), *dict.fromkeys(c for c in [(10, 4), *(big_grid if mib >= 5120 else grid)]
                                                     if c != table(d, mib))]]
    print(f"{len(cases)} cases x {args.rounds} rounds; load {os.getloadavg()[0]:.1f}", flush=True)
    results: dict[tuple, list[dict]] = {c: [] for c in cases}
    started = time.perf_counter()
    for r in range(args.rounds):
        order = list(cases)
        random.shuffle(order)
        for n, (d, mib, (part, conns)) in enumerate(order):
            res = one_run(url, d, mib, part, conns, work / f"{mib}.bin", work, sw.proc.pid, f"{r}-{n}")
            results[(d, mib, (part, conns))].append(res)
            if mib >= 5120:  # slow enough to say how it goes, big enough to reclaim at once
                print(f"  {d} {mib} MiB {res['part_mib']} x {res['connections']}: {res['seconds']:.1f} s, "
                      f"CPU {res['cpu']:.1f} s, run's RSS {res['rss'] - res['rss_base']:.0f} MB", flush=True)
                if d == "upload":
                    vacuum(sw)
        vacuum(sw)
        print(f"round {r + 1} done at {time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}",
              flush=True)
    rows = report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def report(results: dict[tuple, list[dict]]) -> list[dict]:
    rows = []
    print("\n| size | direction | part MiB x connections | median s | MB/s | CPU s | weed CPU s | peak RSS MB "
          "| of which the run's MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (d, mib, (part, conns)), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2][0] or 0,
                                                                                  kv[0][2][1] or 0)):
        med = {k: statistics.median(x[k] for x in runs) for k in ("seconds", "cpu", "weed_cpu", "rss")}
        label = f"{runs[0]['part_mib']} x {runs[0]['connections']}"
        label += " (table)" if part is None else " (before)" if (part, conns) == (10, 4) else ""
        print(f"| {mib} MiB | {d} | {label} | {med['seconds']:.2f} | {mib * MIB / 1e6 / med['seconds']:.0f} | "
              f"{med['cpu']:.2f} | {med['weed_cpu']:.2f} | {max(x['rss'] for x in runs):.0f} | "
              f"{max(x['rss'] - x['rss_base'] for x in runs):.0f} |", flush=True)
        rows.append({"direction": d, "mib": mib, "part_mib": runs[0]["part_mib"],
                     "connections": runs[0]["connections"], "table": part is None, "runs": runs})
    return rows


if __name__ == "__main__":
    sys.exit(main())
