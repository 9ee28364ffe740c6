"""Sync benchmark (issue 21): `lakegui-cli sync` against `s5cmd sync` and `aws s3 sync`, in the same
run, on a loopback SeaweedFS.

    .venv/bin/python bench/sync.py --files 10000 --rounds 3

10,000 files of 20 KB are synced once by each tool (each to its own prefix, and down into its own
folder). Then, each round, the same changes are made for every tool: 100 files changed (half of
them keeping their size and their mtime, put back with os.utime; for the download direction, half
rewritten remotely with the same size), 50 added and 50 deleted. Timed: the sync with --delete,
then a sync with nothing to do, against one `s5cmd ls` of the prefix. Every tool's result is
checked: how many of the 100 changes reached the destination, and for the no-change run how many
objects (files) were sent again (LastModified and ETag, or inode and mtime, before and after).
s5cmd is timed through its Go binary, not PyPI's Python shim (0.13 s a call).

    .venv/bin/python bench/sync.py --files 10000 --no-change 7 [--tree DIR]

times only the no-change target: after one sync each way, `--no-change` runs of lakegui-cli's
no-change sync, each beside one `s5cmd ls` of the prefix, interleaved (with --tree DIR, lakegui-cli
from another source tree as well, for before/after figures in the same run).

Python runs with its bytecode cache (PYTHONPYCACHEPREFIX in the work folder), as an installed
package does: with PYTHONDONTWRITEBYTECODE set, every run would compile lakegui's modules afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import s5cmd_binary, seaweedfs, timed, tool, tool_env  # noqa: E402

SIZE = 20 * 1024
TOOLS = ("lakegui", "s5cmd", "aws")


def rel(i: int) -> str:
    return f"d{i % 100:02d}/f{i:06d}.bin"


def write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


class Changes:
    """One round's changes, the same bytes for every tool: {rel: body} changed (same size and
    mtime, or new size), added, and deleted rels."""

    def __init__(self, rng: random.Random, present: list[int], next_id: int, n_change=100, n_add=50, n_del=50):
        picked = rng.sample(present, n_change + n_del)
        self.same_size = {rel(i): rng.randbytes(SIZE) for i in picked[: n_change // 2]}
        self.new_size = {rel(i): rng.randbytes(SIZE + rng.randint(1, 999)) for i in picked[n_change // 2:n_change]}
        self.deleted = [rel(i) for i in picked[n_change:]]
        self.added = {rel(next_id + k): rng.randbytes(SIZE) for k in range(n_add)}
        self.gone_ids = set(picked[n_change:])
        self.new_ids = list(range(next_id, next_id + n_add))

    @property
    def changed(self) -> dict[str, bytes]:
        return {**self.same_size, **self.new_size}

    def apply_local(self, root: Path) -> None:
        for r, body in self.same_size.items():
            p = root / r
            st = p.stat()
            p.write_bytes(body)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # size and mtime as they were
        for r, body in {**self.new_size, **self.added}.items():
            write(root / r, body)
        for r in self.deleted:
            (root / r).unlink()

    def apply_remote(self, s3, bucket: str, prefix: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=prefix + kv[0], Body=kv[1]),
                          {**self.changed, **self.added}.items()))
        for i in range(0, len(self.deleted), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": prefix + r} for r in self.deleted[i:i + 1000]]})


def listing(s3, bucket: str, prefix: str) -> dict[str, tuple]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["ETag"], o["LastModified"], o["Size"])
    return out


def caught_remote(s3, bucket: str, prefix: str, ch: Changes) -> tuple[int, bool]:
    """How many of the changes the prefix holds, and whether adds and deletes all arrived."""
    got = sum(s3.get_object(Bucket=bucket, Key=prefix + r)["Body"].read() == body for r, body in ch.changed.items())
    keys = listing(s3, bucket, prefix)
    rest = all(prefix + r in keys for r in ch.added) and not any(prefix + r in keys for r in ch.deleted)
    return got, rest


def caught_local(root: Path, ch: Changes) -> tuple[int, bool]:
    got = sum((root / r).read_bytes() == body for r, body in ch.changed.items())
    rest = all((root / r).exists() for r in ch.added) and not any((root / r).exists() for r in ch.deleted)
    return got, rest


def local_state(root: Path) -> dict[str, tuple]:
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in root.rglob("*.bin")}


# lakegui-cli from a source tree given by --tree (as bench/startup.py): the editable install's finder out first.
FROM_TREE = ("import sys; tree = sys.argv.pop(1); "
             "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
             "sys.path.insert(0, tree); from lakegui.cli import main; sys.exit(main(sys.argv[1:]))")


def no_change_runs(args, work: Path, url: str, env: dict, s3, s5: str, cli: str, base: Path, q: str) -> int:
    """The no-change target alone: lakegui-cli's no-change sync, both directions, each beside one
    `s5cmd ls` of the prefix, interleaved; and nothing sent again (ETag and LastModified of every
    object, inode and mtime of every file, before and after)."""
    clis = {"lakegui": [cli]}
    if args.tree:
        clis["before"] = [sys.executable, "-c", FROM_TREE, args.tree]
    down = work / "down"
    timed([cli, "sync", str(base), "s3://bench/up/", "--endpoint-url", url, "--queue", q], env)
    timed([cli, "sync", "s3://bench/up/", str(down), "--endpoint-url", url, "--queue", q], env)
    for argv in clis.values():  # the first run of a tree writes its bytecode cache
        timed([*argv, "--version"], env)
    before_r, before_l = listing(s3, "bench", "up/"), local_state(down)
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}  # user + system seconds: what the load moves least

    def timed_cpu(cmd: list[str], env: dict, label: str) -> float:
        import resource

        start = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = timed(cmd, env)
        end = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.setdefault(label, []).append(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime)
        return seconds

    for r in range(args.no_change):
        for name, argv in clis.items():
            times.setdefault(f"up {name}", []).append(timed_cpu(
                [*argv, "sync", str(base), "s3://bench/up/", "--delete", "--endpoint-url", url, "--queue", q], env,
                f"up {name}"))
            times.setdefault("up s5cmd ls", []).append(timed_cpu([s5, "--endpoint-url", url, "ls", "s3://bench/up/*"], env,
                                                             "s5cmd ls"))
            times.setdefault(f"down {name}", []).append(timed_cpu(
                [*argv, "sync", "s3://bench/up/", str(down), "--delete", "--endpoint-url", url, "--queue", q], env,
                f"down {name}"))
            times.setdefault("down s5cmd ls", []).append(timed_cpu([s5, "--endpoint-url", url, "ls", "s3://bench/up/*"],
                                                               env, "s5cmd ls"))
        print(f"run {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    resent = sum(before_r[k] != v for k, v in listing(s3, "bench", "up/").items())
    refetched = sum(before_l[k] != v for k, v in local_state(down).items())
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nuptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    for direction in ("up", "down"):
        ls = med[f"{direction} s5cmd ls"]
        for name in clis:
            ours = med[f"{direction} {name}"]
            print(f"{direction:>4} no-change sync, {name}: {ours:.2f} s = {ours / ls:.2f}x one s5cmd ls ({ls:.2f} s)"
                  " (target <= 1.2x; medians)")
    print("CPU (user + system), medians: " + ", ".join(f"{k} {statistics.median(v) * 1000:.0f} ms"
                                                        for k, v in cpu.items()))
    print(f"sent again: {resent} objects (upload), {refetched} files (download)")
    print("runs (s):", json.dumps({k: [round(x, 3) for x in v] for k, v in times.items()}))
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": times, "medians": med, "cpu": cpu, "resent": resent,
                                               "refetched": refetched}, indent=2))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    p.add_argument("--no-change", type=int, default=0, metavar="N",
                   help="only the no-change runs: N of each direction, each beside one s5cmd ls")
    p.add_argument("--tree", metavar="DIR", help="with --no-change: also lakegui-cli from this source tree")
    args = p.parse_args()
    with seaweedfs("lakegui-bench-sync-") as (work, sw):
        return run(args, work, sw)


def run(args, work: Path, sw) -> int:
    url = sw.endpoint_url
    env = tool_env(work, sw)
    s5, aws, cli = s5cmd_binary(), tool("aws"), tool("lakegui-cli")
    s3 = sw.client()
    s3.create_bucket(Bucket="bench")
    rng = random.Random(21)
    present = list(range(args.files))
    base = work / "base"
    for i in present:
        write(base / rel(i), rng.randbytes(SIZE))
    q = str(work / "queue.sqlite3")
    if args.no_change:
        return no_change_runs(args, work, url, env, s3, s5, cli, base, q)

    def up(name: str, tree: Path, prefix: str) -> list[str]:
        return {"lakegui": [cli, "sync", str(tree), f"s3://bench/{prefix}", "--delete", "--endpoint-url", url,
                            "--queue", q],
                "s5cmd": [s5, "--endpoint-url", url, "sync", "--delete", f"{tree}/", f"s3://bench/{prefix}"],
                "aws": [aws, "--endpoint-url", url, "s3", "sync", "--delete", "--quiet", str(tree),
                        f"s3://bench/{prefix}"]}[name]

    def down(name: str, prefix: str, tree: Path) -> list[str]:
        return {"lakegui": [cli, "sync", f"s3://bench/{prefix}", str(tree), "--delete", "--endpoint-url", url,
                            "--queue", q],
                "s5cmd": [s5, "--endpoint-url", url, "sync", "--delete", f"s3://bench/{prefix}*", f"{tree}/"],
                "aws": [aws, "--endpoint-url", url, "s3", "sync", "--delete", "--quiet", f"s3://bench/{prefix}",
                        str(tree)]}[name]

    # Already synced: each tool's own copy of the tree, synced up by that tool; the download source
    # seeded once, and each tool's folder synced down from it by that tool.
    trees = {}
    for name in TOOLS:
        trees[name] = work / f"up-{name}"
        subprocess.run(["cp", "-a", str(base), str(trees[name])], check=True)
        s = timed(up(name, trees[name], f"up-{name}/"), env)
        print(f"initial upload sync {name:<8} {s:7.2f} s", flush=True)
    subprocess.run([s5, "--endpoint-url", url, "cp", f"{base}/", "s3://bench/dsrc/"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    dl = {name: work / f"down-{name}" for name in TOOLS}
    for name in TOOLS:
        s = timed(down(name, "dsrc/", dl[name]), env)
        print(f"initial download sync {name:<8} {s:7.2f} s", flush=True)

    res: dict[str, dict[str, list]] = {k: {t: [] for t in TOOLS} for k in
                                       ("up_changes", "up_nochange", "down_changes", "down_nochange")}
    caught: dict[str, dict[str, list]] = {"up": {t: [] for t in TOOLS}, "down": {t: [] for t in TOOLS}}
    ls_up, ls_down, resent = [], [], {"up": [], "down": []}
    next_id = args.files
    for r in range(args.rounds):
        # Upload direction
        ch = Changes(rng, present, next_id)
        for name in TOOLS:
            ch.apply_local(trees[name])
        order = list(TOOLS)
        random.shuffle(order)
        for name in order:
            s = timed(up(name, trees[name], f"up-{name}/"), env)
            res["up_changes"][name].append(s)
            got, rest = caught_remote(s3, "bench", f"up-{name}/", ch)
            caught["up"][name].append(got)
            print(f"round {r + 1} up   changes   {name:<8} {s:6.2f} s  caught {got}/100"
                  f"{'' if rest else '  (adds/deletes incomplete!)'}", flush=True)
        before = listing(s3, "bench", "up-lakegui/")
        random.shuffle(order)
        for name in order:
            s = timed(up(name, trees[name], f"up-{name}/"), env)
            res["up_nochange"][name].append(s)
            print(f"round {r + 1} up   no-change {name:<8} {s:6.2f} s", flush=True)
        after = listing(s3, "bench", "up-lakegui/")
        resent["up"].append(sum(before[k] != after.get(k) for k in before))
        ls_up.append(timed([s5, "--endpoint-url", url, "ls", "s3://bench/up-lakegui/*"], env))
        print(f"round {r + 1} up   s5cmd ls {ls_up[-1]:6.2f} s; lakegui re-sent {resent['up'][-1]} objects", flush=True)

        # Download direction: the same kind of changes, made remotely
        chd = Changes(rng, present, next_id)
        chd.apply_remote(s3, "bench", "dsrc/")
        time.sleep(1.1)  # LastModified has whole seconds: the next writes are newer, as in life
        random.shuffle(order)
        for name in order:
            s = timed(down(name, "dsrc/", dl[name]), env)
            res["down_changes"][name].append(s)
            got, rest = caught_local(dl[name], chd)
            caught["down"][name].append(got)
            print(f"round {r + 1} down changes   {name:<8} {s:6.2f} s  caught {got}/100"
                  f"{'' if rest else '  (adds/deletes incomplete!)'}", flush=True)
        before_l = local_state(dl["lakegui"])
        random.shuffle(order)
        for name in order:
            s = timed(down(name, "dsrc/", dl[name]), env)
            res["down_nochange"][name].append(s)
            print(f"round {r + 1} down no-change {name:<8} {s:6.2f} s", flush=True)
        after_l = local_state(dl["lakegui"])
        resent["down"].append(sum(before_l[k] != after_l.get(k) for k in before_l))
        ls_down.append(timed([s5, "--endpoint-url", url, "ls", "s3://bench/dsrc/*"], env))
        print(f"round {r + 1} down s5cmd ls {ls_down[-1]:6.2f} s; lakegui re-fetched {resent['down'][-1]} files",
              flush=True)
        # Both directions' changes are now the baseline of the next round.
        present = sorted((set(present) - ch.gone_ids - chd.gone_ids) | set(ch.new_ids) | set(chd.new_ids))
        next_id += 50

    med = {k: {t: statistics.median(v) for t, v in tools.items()} for k, tools in res.items()}
    mls_up, mls_down = statistics.median(ls_up), statistics.median(ls_down)
    print(f"\nuptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print("\n| run | lakegui-cli | s5cmd | aws cli | lakegui / s5cmd | lakegui / aws | changes caught (lakegui / s5cmd / aws) |")
    print("|---|---|---|---|---|---|---|")
    for k, label, d in (("up_changes", "upload, 100 changed + 50 added + 50 deleted", "up"),
                        ("down_changes", "download, the same remotely", "down")):
        m = med[k]
        c = "/".join(str(min(caught[d][t])) for t in TOOLS)
        print(f"| {label} | {m['lakegui']:.2f} s | {m['s5cmd']:.2f} s | {m['aws']:.2f} s | "
              f"{m['lakegui'] / m['s5cmd']:.2f}× | {m['lakegui'] / m['aws']:.2f}× | {c} of 100 |")
    for k, label, ls in (("up_nochange", "upload, nothing to do", mls_up), ("down_nochange", "download, nothing to do",
                                                                            mls_down)):
        m = med[k]
        print(f"| {label} | {m['lakegui']:.2f} s | {m['s5cmd']:.2f} s | {m['aws']:.2f} s | "
              f"{m['lakegui'] / m['s5cmd']:.2f}× | {m['lakegui'] / m['aws']:.2f}× | "
              f"{m['lakegui'] / ls:.2f}× one s5cmd ls ({ls:.2f} s) |")
    print(f"\nre-sent by lakegui's no-change runs: up {resent['up']} objects, down {resent['down']} files")
    print("runs (s):", json.dumps({k: {t: [round(x, 2) for x in v] for t, v in tools.items()} for k, tools in res.items()}))
    print("caught per round:", json.dumps(caught), "s5cmd ls:", [round(x, 2) for x in ls_up], [round(x, 2) for x in ls_down])
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": res, "medians": med, "caught": caught, "ls_up": ls_up,
                                               "ls_down": ls_down, "resent": resent}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
