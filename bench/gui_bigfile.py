"""One big file through the real window against `lakegui-cli` (issue 19, item 4: the GUI's path
for one big file is at most 1.05x the CLI's), in the same run, on a loopback SeaweedFS.

    .venv/bin/python bench/gui_bigfile.py --rounds 3 --mib 1024

The window is the app's own (LakeApp: MainWindow, its TransferQueue and QtPoolExecutor, the
main-thread collector), offscreen, connected once as the app connects (the engine is warmed then,
before the first action). Each round, in random order: the window uploads the file as a drop does
(the browser's upload_requested), then downloads it with Download to… (the row selected, the
browser's download action), each timed from the action to the job's end as the window announces it
(job_finished); and `lakegui-cli upload` / `download --json` of the same file, timed from spawn
to exit. CPU seconds are user + system: the window's process over the action (getrusage), the
CLI's from wait4 (its start-up included). The CLI's in-engine time is its --json `seconds` (the
queue's run: claim, transfer, verification, rename, the end written), without start-up and planning;
the window's is its job's run on the worker, and each round also prints the window's other phases
(the action to the batch stored, to the job's start, and its end to the window announcing it).

`--service` also times the CLI's path (planner, QueueService.run on a ThreadExecutor) inside this
process, warm, with the window idle: the window's path against the same queue without Qt.

`--profile DIR` also writes a cProfile of every thread of the window's process per action
(in each thread's CPU time), for finding where the window spends it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.transfers import make_file, seaweedfs, tool, tool_env  # noqa: E402

BUCKET = "bench-gui-bigfile"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--mib", type=int, default=1024, help="size of the file (MiB)")
    p.add_argument("--only", default="up,down", help="directions: up, down or both")
    p.add_argument("--no-cli", action="store_true", help="time the window only")
    p.add_argument("--service", action="store_true",
                   help="also time the CLI's path (planner, QueueService.run) in this process, warm")
    p.add_argument("--profile", metavar="DIR", help="cProfile every thread of the window per action, into DIR")
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = p.parse_args()
    with seaweedfs("lakegui-bench-gui-bigfile-") as (work, sw):
        env = tool_env(work, sw)
        os.environ.update({k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"})  # the window's, as the CLI's
        return run(args, work, sw, env)


def cli_timed(cmd: list[str], env: dict) -> dict:
    """Wall seconds, CPU seconds (wait4: user + system) and the --json document of one CLI run."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    text, errors = out.read().decode(), err.read().decode(errors="replace")
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}… failed ({code}): {errors[-800:]} {text[-800:]}")
    doc = json.loads(text.strip().splitlines()[-1])
    return {"seconds": round(seconds, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "engine_s": doc["seconds"]}


def parts_of(client, key: str) -> dict:
    """How an uploaded object was sent: its parts and part size (HEAD PartNumber=1), which must be
    the same for the window and the CLI, or the comparison is of different uploads."""
    head = client.head_object(Bucket=BUCKET, Key=key, PartNumber=1)
    return {"parts": head.get("PartsCount", 1), "part_mib": round(head["ContentLength"] / 2**20, 2)}


def run(args, work: Path, sw, env: dict) -> int:
    from lakegui.app import LakeApp, LaunchOptions
    from lakegui.core.connection import ConnectionProfile

    cli = tool("lakegui-cli")
    url = sw.endpoint_url
    client = sw.client()
    client.create_bucket(Bucket=BUCKET)
    big = work / "big.bin"
    make_file(big, args.mib)
    subprocess.run([cli, "upload", str(big), f"s3://{BUCKET}/source/", "--endpoint-url", url, "--queue",
                    str(work / "setup.sqlite3")], env=env, check=True, stdout=subprocess.DEVNULL)

    from bench.qtbench import app_and_loop
    from lakegui.ui.gc_main_thread import MainThreadCollector

    app, loop = app_and_loop()
    collector = MainThreadCollector(app)  # as the app runs
    profile = ConnectionProfile.from_options(endpoint_url=url, region="us-east-1", bucket=BUCKET)
    lake = LakeApp(LaunchOptions(profile=profile))
    window = lake.window
    window.show()
    browser, queue = window.browser, window.transfers
    results: dict[str, list[dict]] = {}
    directions = args.only.split(",")

    async def listed(action) -> None:
        done = asyncio.get_event_loop().create_future()

        def on_finished(*_):
            if not done.done():
                done.set_result(None)

        browser.listing_finished.connect(on_finished)
        action()
        await done
        browser.listing_finished.disconnect(on_finished)

    async def job_end(action) -> tuple[str, float, float, float]:
        """Run `action` and wait for the job it queues to end: (state, wall s, process CPU s,
        main-thread CPU s)."""
        ended = asyncio.get_event_loop().create_future()
        failed = []

        def on_finished(_job_id: int, state: str) -> None:
            if not ended.done():
                ended.set_result(state)

        def on_failed(text: str) -> None:
            failed.append(text)
            if not ended.done():
                ended.set_result("failed: " + text)

        marks.clear()
        queue.job_finished.connect(on_finished)
        window.transfer_actions.failed.connect(on_failed)
        window.transfer_actions.enqueued.connect(on_enqueued)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start, main_cpu = time.perf_counter(), time.thread_time()
        marks["action"] = start
        action()
        state = await ended
        end, main_cpu = time.perf_counter(), time.thread_time() - main_cpu
        marks["announced"] = end
        after = resource.getrusage(resource.RUSAGE_SELF)
        queue.job_finished.disconnect(on_finished)
        window.transfer_actions.failed.disconnect(on_failed)
        window.transfer_actions.enqueued.disconnect(on_enqueued)
        cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        return state, end - start, cpu, main_cpu

    # Where the window's time goes: the action to the batch queued (planning, the jobs written),
    # to the job's start on a worker (the claim), its run there (the engine: what the CLI's
    # `seconds` also counts, less its claim), and its end to the window announcing it.
    marks: dict[str, float] = {}

    def on_enqueued(*_) -> None:
        marks["queued"] = time.perf_counter()

    service_work = queue.service.work

    def timed_work(running):
        marks["started"] = time.perf_counter()
        try:
            return service_work(running)
        finally:
            marks["ran"] = time.perf_counter()

    queue.service.work = timed_work  # what start_claimed hands the executor

    def phases() -> dict:
        order = ["action", "queued", "started", "ran", "announced"]
        return {f"{a}_to_{b}_s": round(marks[b] - marks[a], 3) for a, b in zip(order, order[1:])
                if a in marks and b in marks}

    def gui_up(tag: str) -> None:
        browser.upload_requested.emit([str(big)], f"{tag}/")  # what a drop on the table emits

    def gui_down(dest: Path) -> None:
        row = next(r for r in range(browser.model.rowCount()) if browser.model.entry(r).name("source/") == "big.bin")
        browser.table.selectRow(row)
        window.choose_download_folder = lambda: str(dest)
        browser.download_action.trigger()

    async def gui_round(r: int, direction: str) -> dict:
        tag = f"r{r}-gui-{direction}"
        profiler = Profiler(Path(args.profile) / f"{tag}.txt") if args.profile else None
        if direction == "down":
            await listed(lambda: browser.navigate("source/"))
            dest = work / tag
            action = lambda: gui_down(dest)  # noqa: E731
        else:
            action = lambda: gui_up(tag)  # noqa: E731
        if profiler:
            profiler.start()
        state, seconds, cpu, main_cpu = await job_end(action)
        if profiler:
            profiler.stop()
        await idle()
        shape = {}
        if direction == "down":
            assert (work / tag / "big.bin").stat().st_size == big.stat().st_size, tag
            shutil.rmtree(work / tag, ignore_errors=True)
        else:
            assert client.head_object(Bucket=BUCKET, Key=f"{tag}/big.bin")["ContentLength"] == big.stat().st_size
            shape = parts_of(client, f"{tag}/big.bin")
            client.delete_object(Bucket=BUCKET, Key=f"{tag}/big.bin")
        assert state == "done", state
        queue.clear()  # the next round's row only
        return {"seconds": round(seconds, 3), "cpu_s": round(cpu, 3), "ui_thread_cpu_s": round(main_cpu, 3),
                "engine_s": round(marks["ran"] - marks["started"], 3), **phases(), **shape}

    async def idle() -> None:
        while queue.running_count:  # the queue's last writes after the end it announced
            await asyncio.sleep(0.05)

    def cli_round(r: int, direction: str) -> dict:
        tag = f"r{r}-cli-{direction}"
        q = ["--endpoint-url", url, "--queue", str(work / f"{tag}.sqlite3"), "--json"]
        shape = {}
        if direction == "up":
            got = cli_timed([cli, "upload", str(big), f"s3://{BUCKET}/{tag}/", *q], env)
            shape = parts_of(client, f"{tag}/big.bin")
            client.delete_object(Bucket=BUCKET, Key=f"{tag}/big.bin")
        else:
            got = cli_timed([cli, "download", f"s3://{BUCKET}/source/big.bin", str(work / tag), *q], env)
            shutil.rmtree(work / tag, ignore_errors=True)
        return {**got, **shape}

    service = None  # the headless queue in this process, made on its first round and kept (warm)

    def service_round(r: int, direction: str) -> dict:
        """The CLI's path (planner, QueueService.run on a ThreadExecutor) in this process, with the
        window open and idle: what the window's own path costs, without the CLI's start-up."""
        nonlocal service
        from lakegui.core import settings as settings_store
        from lakegui.core.transfers.jobs import OverwritePolicy
        from lakegui.core.transfers.planner import plan_download_uri, plan_upload, to_jobs
        from lakegui.core.transfers.service import QueueService

        settings = settings_store.load().transfer
        if service is None:
            service = QueueService(work / "service.sqlite3", settings, known=[window.connection])
        tag = f"r{r}-service-{direction}"
        conn = window.connection
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        if direction == "up":
            plan = plan_upload(conn.client(), BUCKET, f"{tag}/", [big])
        else:
            plan = plan_download_uri(conn.client(), BUCKET, "source/big.bin", work / tag)
        jobs = to_jobs(plan, OverwritePolicy.ASK, chunksize=settings.multipart_chunksize)
        batch, _ = service.add_batch(tag, "upload" if direction == "up" else "download", conn.profile.to_dict(), jobs)
        ran = time.perf_counter()
        summary = service.run([batch])
        end = time.perf_counter()
        after = resource.getrusage(resource.RUSAGE_SELF)
        assert summary.done == 1, summary
        shape = {}
        if direction == "up":
            shape = parts_of(client, f"{tag}/big.bin")
            client.delete_object(Bucket=BUCKET, Key=f"{tag}/big.bin")
        else:
            shutil.rmtree(work / tag, ignore_errors=True)
        return {"seconds": round(end - start, 3),
                "cpu_s": round(after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime, 3),
                "engine_s": round(end - ran, 3), **shape}

    async def all_rounds() -> None:
        await listed(lambda: asyncio.ensure_future(lake.start()))
        queue.pool.waitForDone()  # the engine warmed on connecting, as it is long before a first drop
        for r in range(args.rounds):
            for direction in directions:
                order = ["gui"] + ([] if args.no_cli else ["cli"]) + (["service"] if args.service else [])
                random.shuffle(order)
                for who in order:
                    got = await gui_round(r, direction) if who == "gui" else \
                        cli_round(r, direction) if who == "cli" else service_round(r, direction)
                    got["load"] = round(os.getloadavg()[0], 1)
                    results.setdefault(f"{direction} {who}", []).append(got)
                    print(json.dumps({"round": r + 1, "direction": direction, "tool": who, **got}), flush=True)

    try:
        with loop:
            loop.run_until_complete(all_rounds())
    finally:
        if service is not None:
            service.close()
        lake.close()
        collector.stop()
    print(f"\n| {args.mib} MiB | median wall s | median CPU s | median in-engine s | window / CLI wall | "
          "window / CLI in-engine |")
    print("|---|---|---|---|---|---|")
    med = {k: {f: statistics.median(x[f] for x in v) for f in v[0] if f not in ("load", "parts", "part_mib")} for k, v in results.items()}
    for direction in directions:
        g, c = med[f"{direction} gui"], med.get(f"{direction} cli")
        if c:
            print(f"| {direction}, CLI | {c['seconds']:.2f} | {c['cpu_s']:.2f} | {c['engine_s']:.2f} | | |")
        if sv := med.get(f"{direction} service"):
            print(f"| {direction}, service in-process | {sv['seconds']:.2f} | {sv['cpu_s']:.2f} | {sv['engine_s']:.2f} "
                  f"| window / service {g['seconds'] / sv['seconds']:.2f}× | {g['engine_s'] / sv['engine_s']:.2f}× |")
        ratios = f"{g['seconds'] / c['seconds']:.2f}× | {g['engine_s'] / c['engine_s']:.2f}×" if c else " |"
        print(f"| {direction}, window | {g['seconds']:.2f} | {g['cpu_s']:.2f} (UI thread {g['ui_thread_cpu_s']:.2f}) "
              f"| {g['engine_s']:.2f} | {ratios} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds": results, "medians": med}, indent=2))
    return 0


class Profiler:
    """cProfile, in each thread's CPU time, of the main thread and of every thread started during
    an action (threading.setprofile: not the pool's QThreads, nor the CRT's), for `--profile`."""

    def __init__(self, path: Path):
        self.path = path
        self.profiles: dict[str, object] = {}

    def start(self) -> None:
        import cProfile
        import threading

        def per_thread(*_):
            name = threading.current_thread().name
            prof = self.profiles.setdefault(name + f"#{threading.get_ident()}", cProfile.Profile(time.thread_time))
            sys.setprofile(None)
            prof.enable()

        main = cProfile.Profile(time.thread_time)  # CPU time, which load inflates less than wall time
        self.profiles["MainThread"] = main
        threading.setprofile(per_thread)
        main.enable()

    def stop(self) -> None:
        import io
        import pstats
        import threading

        threading.setprofile(None)
        for prof in self.profiles.values():
            prof.disable()  # threads still running keep theirs on until they end; what came is reported
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w") as f:
            for name, prof in self.profiles.items():
                s = io.StringIO()
                try:
                    pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
                except TypeError:  # no calls recorded
                    continue
                f.write(f"==== {name}\n{s.getvalue()}\n")


if __name__ == "__main__":
    sys.exit(main())
