"""Where `lakegui-cli download s3://B/BIG DIR` spends its time outside the bytes (issue 19, item 4):
a timeline of one run, against `s5cmd cp` of the same object, on a loopback SeaweedFS.

    .venv/bin/python bench/cli_timeline.py --rounds 3 --mib 1024
    .venv/bin/python bench/cli_timeline.py --tree before=DIR     # another source tree, same rounds

The CLI runs as `python -P bench/cli_timeline.py --child ARGV...`: this file, before it calls
`lakegui.cli.main`, wraps the functions a download passes through (as their modules load, so
nothing is imported earlier than the CLI imports it) and records, on the monotonic clock the
parent shares, when each began and ended and the main thread's CPU time then. The parent
prints the marks relative to its own Popen, with wait4's CPU seconds of the whole process, and
the same for s5cmd's Go binary. `--importtime` adds one run under `-X importtime` and lists the
top-level imports by cumulative time (that run is not timed).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

MIB = 1024 * 1024
MARKS_ENV = "LAKEGUI_TIMELINE_MARKS"


# --- the child: hooks around the CLI --------------------------------------------------------

_marks: list[tuple[str, float, float, str]] = []  # (what, monotonic, that thread's CPU, thread)


def _mark(what: str) -> None:
    import threading

    _marks.append((what, time.monotonic(), time.thread_time(), threading.current_thread().name))


def _around(owner, name: str, label: str | None = None, *, once: bool = False):
    """Wrap owner.name so that its calls mark 'label>' and 'label<' (the first call only, with once)."""
    original = getattr(owner, name)
    label = label or name
    seen = []

    def wrapper(*args, **kwargs):
        if once and seen:
            return original(*args, **kwargs)
        seen.append(1)
        _mark(label + " >")
        try:
            return original(*args, **kwargs)
        finally:
            _mark(label + " <")

    wrapper.__wrapped__ = original
    setattr(owner, name, wrapper)


def _patch_cli_transfers(m):
    for name in ("connection_for", "open_store", "run_queue", "report"):
        _around(m, name)
    _around(m, "download", "command")


def _patch_cli_common(m):
    if hasattr(m, "EngineImports"):  # a tree without it has nothing to mark
        original = m.EngineImports._run

        def run():
            _mark("engine imports >")
            try:
                original()
            finally:
                _mark("engine imports <")

        m.EngineImports._run = staticmethod(run)


def _patch_planner(m):
    _around(m, "plan_download_uri", "listing (plan)")


def _patch_connection(m):
    _around(m.Connection, "client", "botocore client", once=True)
    _around(m.Connection, "credentials", "credentials", once=True)


def _patch_service(m):
    _around(m.QueueService, "close", "queue close")
    _around(m.QueueService, "run", "queue run")
    _around(m.QueueService, "add_batch", "add_batch")
    _around(m.JobStore, "claim", "store claim")
    _around(m.JobStore, "finish_many", "store finish_many")
    _around(m.JobStore, "__init__", "store open")


def _patch_backends(m):
    _around(m, "make_engine", "make_engine")


def _patch_verify(m):
    _around(m, "expected_for", "expected_for (HEADs)")
    _around(m.Follower, "result", "verify result")


def _patch_engine(m):
    _around(m.EngineBase, "finish_download", "finish_download")
    _around(m.EngineBase, "cleanup", "cleanup")
    _around(m.EngineBase, "download_paths", "download_paths")


def _patch_crt(m):
    _around(m.CrtEngine, "__init__", "CrtEngine()")
    original = m.S3Client

    def client(*args, **kwargs):
        _mark("S3Client >")
        try:
            return original(*args, **kwargs)
        finally:
            _mark("S3Client <")

    m.S3Client = client


def _patch_botocore_client(m):
    original = m.BaseClient._make_api_call

    def call(self, operation, params):
        _mark(f"{operation} >")
        try:
            return original(self, operation, params)
        finally:
            _mark(f"{operation} <")

    m.BaseClient._make_api_call = call


def _patch_awscrt_s3(m):
    original = m.S3Client.make_request

    def make_request(self, **kwargs):
        state = {"body": 0, "headers": 0}
        on_body, on_headers = kwargs.get("on_body"), kwargs.get("on_headers")
        if on_body is not None:
            def body(chunk, offset, **kw):
                if not state["body"]:
                    _mark("first body byte")
                state["body"] += 1
                on_body(chunk, offset, **kw)
                state["last"] = time.monotonic()
            kwargs["on_body"] = body
        if on_headers is not None:
            def headers(status_code, headers, **kw):
                if not state["headers"]:
                    _mark("GET headers")
                state["headers"] += 1
                on_headers(status_code, headers, **kw)
            kwargs["on_headers"] = headers
        _mark("make_request")
        request = original(self, **kwargs)

        def ended(_):
            if "last" in state:
                _marks.append(("last body byte", state["last"], -1.0, "crt"))
            _mark("GET finished")

        request.finished_future.add_done_callback(ended)
        return request

    m.S3Client.make_request = make_request


def _patch_ranges(m):
    _around(m.Checkpoint, "close", "checkpoint close")
    _around(m.Checkpoint, "flush", "checkpoint flush")


def _patch_range_gets(m):
    original = m.RangeGets.__init__

    def init(self, **kwargs):
        state = {"body": 0}
        on_body, on_headers = kwargs["on_body"], kwargs.get("on_headers")
        lock = __import__("threading").Lock()

        def body(view, offset):
            with lock:
                if not state["body"]:
                    _mark("first body byte")
                state["body"] += 1
            on_body(view, offset)
            state["last"] = time.monotonic()

        def headers(status, got):
            _mark("GET headers")
            on_headers(status, got)

        kwargs["on_body"] = body
        if on_headers is not None:
            kwargs["on_headers"] = headers
        _mark("make_request")
        original(self, **kwargs)

        def ended(_):
            if "last" in state:
                _marks.append(("last body byte", state["last"], -1.0, "crt"))
            _mark("GET finished")

        self.finished_future.add_done_callback(ended)

    m.RangeGets.__init__ = init


_PATCHES = {"lakegui.cli.transfers": _patch_cli_transfers, "lakegui.cli.common": _patch_cli_common,
            "lakegui.core.transfers.planner": _patch_planner,
            "lakegui.core.transfers.range_gets": _patch_range_gets,
            "lakegui.core.transfers.ranges": _patch_ranges,
            "lakegui.core.connection": _patch_connection, "lakegui.core.transfers.service": _patch_service,
            "lakegui.core.transfers.backends": _patch_backends, "lakegui.core.transfers.verify": _patch_verify,
            "lakegui.core.transfers.engine": _patch_engine, "lakegui.core.transfers.crt_engine": _patch_crt,
            "botocore.client": _patch_botocore_client, "awscrt.s3": _patch_awscrt_s3}


def _install_hooks() -> None:
    """Patch each module of _PATCHES right after it executes, whoever imports it."""
    import importlib.machinery

    class Finder:  # a meta path finder (importlib.abc would cost an import of its own)
        def find_spec(self, name, path, target=None):
            if name not in _PATCHES:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            loader = spec.loader
            run = loader.exec_module

            def exec_module(module):
                run(module)
                if name == "lakegui.core.transfers.service":  # JobStore lives in store, used from here
                    module.JobStore = sys.modules["lakegui.core.transfers.store"].JobStore
                _PATCHES[name](module)

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())
    import os as os_module

    replace = os_module.replace

    def replaced(src, dst, *a, **kw):
        _mark("rename >")
        try:
            return replace(src, dst, *a, **kw)
        finally:
            _mark("rename <")

    os_module.replace = replaced
    import threading

    shutdown = threading._shutdown

    def joined():
        _mark("thread joins >")
        shutdown()
        _mark("thread joins <")

    threading._shutdown = joined


def _threads_cpu() -> dict[str, float]:
    """CPU seconds of the threads still alive, by name (/proc/self/task/*/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out


def child(argv: list[str]) -> int:
    _mark("interpreter ready")
    import atexit

    def write():
        _mark("atexit (end of finalisation we see)")
        Path(os.environ[MARKS_ENV]).write_text(json.dumps({"marks": _marks, "threads_cpu": _threads_cpu()}))

    atexit.register(write)  # registered first, so it runs last of the atexit handlers
    _install_hooks()
    from lakegui.cli import main

    _mark("lakegui.cli imported")
    code = main(argv)
    _mark("main returned")
    return code


# --- the parent ---------------------------------------------------------------------------


def popen_wait4(cmd: list[str], env: dict) -> tuple[float, float, float, int]:
    """(start, end, CPU seconds, exit code), the monotonic clock around the process."""
    import subprocess

    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err.decode(errors="replace")[-800:])
    return start, time.monotonic(), usage.ru_utime + usage.ru_stime, code


def timeline(python: list[str], argv: list[str], env: dict) -> dict:
    import tempfile

    marks_file = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    marks_file.close()
    start, end, cpu, code = popen_wait4([*python, "-P", __file__, "--child", *argv],
                                        dict(env, **{MARKS_ENV: marks_file.name}))
    if code != 0:
        raise RuntimeError(f"lakegui-cli failed ({code})")
    doc = json.loads(Path(marks_file.name).read_text())
    os.unlink(marks_file.name)
    return dict(doc, start=start, end=end, cpu=cpu)


def show(doc: dict) -> None:
    t0 = doc["start"]
    print(f"  {'s':>7} {'CPU':>8}  what (CPU: of the thread that marked it)")
    print(f"  {0:7.3f} {'':>8}  Popen (process start)")
    for what, when, cpu, thread in sorted(doc["marks"], key=lambda m: m[1]):
        where = "" if thread == "MainThread" else f"  [{thread}]"
        print(f"  {when - t0:7.3f} {cpu if cpu >= 0 else float('nan'):8.3f}  {what}{where}")
    print(f"  {doc['end'] - t0:7.3f} {'':>8}  exit seen by the parent (wait4); CPU {doc['cpu']:.2f} s")
    alive = ", ".join(f"{k} {v:.2f}" for k, v in sorted(doc["threads_cpu"].items(), key=lambda kv: -kv[1]) if v)
    print(f"  CPU s of threads alive at the end: {alive}")


def phases(doc: dict) -> dict[str, float]:
    """The gaps that matter, in seconds: before the first body byte, the body, after the last."""
    t0 = doc["start"]
    at = {}
    for what, when, _cpu, _thread in doc["marks"]:
        at.setdefault(what, when)
    first, last = at.get("first body byte"), max((m[1] for m in doc["marks"] if m[0] == "last body byte"),
                                                 default=None)
    # CPU before the bytes: each lakegui thread's own CPU at its last mark before the first byte
    before: dict[str, float] = {}
    for _what, when, cpu, thread in doc["marks"]:
        if when <= first and cpu >= 0 and (thread == "MainThread" or thread.startswith(("lakegui-", "lakegui-job"))):
            before[thread] = max(before.get(thread, 0.0), cpu)
    return {"to first byte": first - t0, "body": last - first, "after last byte": doc["end"] - last,
            "total": doc["end"] - t0, "cpu": doc["cpu"], "cpu before first byte": sum(before.values())}


def importtime(python: list[str], argv: list[str], env: dict, top: int = 25) -> None:
    import subprocess
    import tempfile

    marks_file = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    marks_file.close()
    proc = subprocess.run([*python, "-X", "importtime", "-P", __file__, "--child", *argv],
                          env=dict(env, **{MARKS_ENV: marks_file.name}), capture_output=True, text=True)
    os.unlink(marks_file.name)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|")
        depth = len(name) - len(name.lstrip())
        rows.append((int(cumulative), int(self_us), depth, name.strip()))
    top_level = sorted((r for r in rows if r[2] <= 1), reverse=True)[:top]
    print(f"\nimports under -X importtime (top-level, cumulative ms), total {sum(r[1] for r in rows) / 1000:.0f} ms "
          "of self time:")
    for cumulative, _self, _depth, name in top_level:
        print(f"  {cumulative / 1000:8.1f}  {name}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2:])
    import argparse
    import random
    import statistics
    import subprocess

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    from bench.transfers import s5cmd_binary, seaweedfs, tool, tool_env

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                   help="another lakegui source tree to time as NAME, alternating with this one")
    p.add_argument("--importtime", action="store_true", help="also list the imports of one run")
    p.add_argument("--quiet", action="store_true", help="phases only, no full timeline per run")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args()
    with seaweedfs("lakegui-timeline-") as (work, sw):
        env = tool_env(work, sw)
        url = sw.endpoint_url
        sw.client().create_bucket(Bucket="bench")
        big = work / "big.bin"
        block = os.urandom(8 * MIB)
        with open(big, "wb") as f:
            for i in range(args.mib // 8):
                f.write(block[i % 8:] + block[:i % 8])
        subprocess.run([tool("lakegui-cli"), "upload", str(big), "s3://bench/src/", "--endpoint-url", url,
                        "--queue", str(work / "setup.sqlite3")], env=env, check=True, stdout=subprocess.DEVNULL)
        big.unlink()
        variants = {"lakegui": ([sys.executable], env)}
        for spec in args.tree:
            name, _, tree = spec.partition("=")
            variants[name] = ([sys.executable], dict(env, PYTHONPATH=tree))
        s5cmd = s5cmd_binary()
        for name, (python, venv) in variants.items():  # not timed: compiles each tree's bytecode once
            timeline(python, ["download", "s3://bench/src/big.bin", str(work / "warm" / name), "--endpoint-url", url,
                              "--queue", str(work / f"warm-{name}.sqlite3")], venv)
        subprocess.run(["rm", "-rf", str(work / "warm")], check=False)
        results: dict[str, list[dict]] = {}
        for r in range(args.rounds):
            order = [*variants, "s5cmd"]
            random.shuffle(order)
            for name in order:
                tag = f"r{r}-{name}"
                if name == "s5cmd":
                    start, end, cpu, code = popen_wait4([s5cmd, "--endpoint-url", url, "cp", "s3://bench/src/big.bin",
                                                         str(work / tag / "big.bin")], env)
                    results.setdefault(name, []).append({"total": end - start, "cpu": cpu})
                    print(f"round {r + 1} s5cmd: {end - start:.2f} s, CPU {cpu:.2f} s", flush=True)
                else:
                    python, venv = variants[name]
                    doc = timeline(python, ["download", "s3://bench/src/big.bin", str(work / tag), "--endpoint-url",
                                            url, "--queue", str(work / f"{tag}.sqlite3")], venv)
                    ph = phases(doc)
                    results.setdefault(name, []).append(ph)
                    print(f"round {r + 1} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in ph.items()), flush=True)
                    if not args.quiet:
                        show(doc)
                subprocess.run(["rm", "-rf", str(work / tag)], check=False)
        print("\nmedians (s):")
        for name, runs in results.items():
            keys = runs[0].keys()
            print(f"  {name:<10} " + ", ".join(f"{k} {statistics.median(r[k] for r in runs):.3f}" for k in keys))
        if args.importtime:
            for name, (python, venv) in variants.items():
                print(f"\n[{name}]", end="")
                importtime(python, ["download", "s3://bench/src/big.bin", str(work / "it" / name), "--endpoint-url",
                                    url, "--queue", str(work / f"it-{name}.sqlite3")], venv)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
