"""Copy, move and delete benchmark (issue 20; not copy.py, which would shadow the standard
library): `lakegui-cli cp/mv/rm` against s5cmd's Go binary and `aws s3`, in the same run, on a
loopback SeaweedFS.

    .venv/bin/python bench/copying.py --files 1000 --big-mib 1024 --many 10000 --rounds 3

Each round, for each tool (in a shuffled order): copy FILES objects of 100 KB from one prefix to
another, copy one BIG-MIB object, then move a prefix of MANY keys (MANY-KB each; laid out untimed
by s5cmd for every tool) to another prefix, and delete the moved keys. Every result is checked
(count of keys at the target and, for the big object, its size). Medians are printed, and the
ratios the issue sets targets for (lakegui / s5cmd, lakegui / aws, and for the big copy lakegui
over the faster of the two), and each run's CPU seconds (user + system: the tool's process tree,
and the SeaweedFS server's).

`--steps move,delete` times only those steps; `--base DIR` adds the tool "base": lakegui from
another tree (say `git archive HEAD | tar -x -C DIR`), to measure a change against the code before
it in the same run, alternated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import s5cmd_binary, seaweedfs, timed, tool, tool_env  # noqa: E402

SIZE = 100 * 1024
BUCKET = "bench-copy"
STEPS = ("copy_small", "copy_big", "move", "delete")


def server_cpu(pid: int) -> float:
    """CPU seconds the server process has used so far (0 where /proc is not there)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_cpu(cmd: list[str], env: dict, cwd: str | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command, run in `cwd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}… failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=1000)
    p.add_argument("--big-mib", type=int, default=1024)
    p.add_argument("--many", type=int, default=10000, help="keys moved and deleted")
    p.add_argument("--many-kb", type=int, default=10, help="size of each of those keys")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tools", default="lakegui,s5cmd,aws")
    p.add_argument("--steps", default=",".join(STEPS), help="which of " + ", ".join(STEPS))
    p.add_argument("--base", metavar="DIR", help="also time lakegui from this tree, as the tool 'base'")
    args = p.parse_args()
    args.base = os.path.abspath(args.base) if args.base else None
    tools = args.tools.split(",") + (["base"] if args.base else [])
    steps = [s for s in STEPS if s in args.steps.split(",")]
    with seaweedfs("lakegui-bench-copy-") as (work, sw):
        url = sw.endpoint_url
        env = tool_env(work, sw)
        # run in its own tree: `python -m` puts the working directory first on the path
        base_env = dict(env, PYTHONPATH=os.path.abspath(args.base)) if args.base else env
        c = sw.client()
        c.create_bucket(Bucket=BUCKET)
        from concurrent.futures import ThreadPoolExecutor

        if "copy_big" not in steps:
            args.big_mib = 0
        body = os.urandom(SIZE)
        small = os.urandom(args.many_kb * 1024)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: c.put_object(Bucket=BUCKET, Key=f"src/f{i:05d}.bin", Body=body),
                          range(args.files)))
            list(pool.map(lambda i: c.put_object(Bucket=BUCKET, Key=f"many/d{i % 10}/f{i:06d}.bin", Body=small),
                          range(args.many)))
        big = work / "big.bin"
        with open(big, "wb") as f:
            for _ in range(args.big_mib):
                f.write(os.urandom(1024 * 1024))
        if args.big_mib:
            c.upload_file(str(big), BUCKET, "big/one.bin")
        big.unlink()
        lake = [sys.executable, "-m", "lakegui.cli"]
        s5 = [s5cmd_binary(), "--endpoint-url", url]
        aws = [tool("aws"), "--endpoint-url", url]
        ep = ["--endpoint-url", url]
        cmds = {
            "lakegui": {"copy_small": lambda d: lake + ["cp", f"s3://{BUCKET}/src/", f"s3://{BUCKET}/{d}/", *ep],
                        "copy_big": lambda d: lake + ["cp", f"s3://{BUCKET}/big/one.bin", f"s3://{BUCKET}/{d}big.bin",
                                                      *ep],
                        "move": lambda d: lake + ["mv", f"s3://{BUCKET}/{d}-m/", f"s3://{BUCKET}/{d}-moved/", *ep],
                        "delete": lambda d: lake + ["rm", f"s3://{BUCKET}/{d}-moved/", "--recursive", "--yes", *ep]},
            "s5cmd": {"copy_small": lambda d: s5 + ["cp", f"s3://{BUCKET}/src/*", f"s3://{BUCKET}/{d}/"],
                      "copy_big": lambda d: s5 + ["cp", f"s3://{BUCKET}/big/one.bin", f"s3://{BUCKET}/{d}big.bin"],
                      "move": lambda d: s5 + ["mv", f"s3://{BUCKET}/{d}-m/*", f"s3://{BUCKET}/{d}-moved/"],
                      "delete": lambda d: s5 + ["rm", f"s3://{BUCKET}/{d}-moved/*"]},
            "aws": {"copy_small": lambda d: aws + ["s3", "cp", "--recursive", "--quiet", f"s3://{BUCKET}/src/",
                                                   f"s3://{BUCKET}/{d}/"],
                    "copy_big": lambda d: aws + ["s3", "cp", "--quiet", f"s3://{BUCKET}/big/one.bin",
                                                 f"s3://{BUCKET}/{d}big.bin"],
                    "move": lambda d: aws + ["s3", "mv", "--recursive", "--quiet", f"s3://{BUCKET}/{d}-m/",
                                             f"s3://{BUCKET}/{d}-moved/"],
                    "delete": lambda d: aws + ["s3", "rm", "--recursive", "--quiet", f"s3://{BUCKET}/{d}-moved/"]},
        }
        cmds["base"] = cmds["lakegui"]

        def count(prefix: str) -> int:
            return sum(len(pg.get("Contents", [])) for pg in
                       c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix))

        def lay_out(d: str) -> None:  # the keys a tool moves, copied server-side, untimed
            timed(s5 + ["cp", f"s3://{BUCKET}/many/*", f"s3://{BUCKET}/{d}-m/"], env)
            assert count(f"{d}-m/") == args.many

        results: dict[str, dict[str, list[float]]] = {t: {} for t in tools}
        cpu: dict[str, dict[str, list[float]]] = {t: {} for t in tools}
        server: dict[str, dict[str, list[float]]] = {t: {} for t in tools}  # SeaweedFS's CPU seconds
        order = random.Random(20)
        for r in range(args.rounds):
            for t in order.sample(tools, len(tools)):
                d = f"{t}{r}"
                for step in steps:
                    if step == "move" or (step == "delete" and "move" not in steps):
                        lay_out(d)
                    if step == "delete" and "move" not in steps:  # the keys a move would have left
                        timed(s5 + ["mv", f"s3://{BUCKET}/{d}-m/*", f"s3://{BUCKET}/{d}-moved/"], env)
                    served = server_cpu(sw.proc.pid)
                    seconds, used = timed_cpu(cmds[t][step](d), *((base_env, args.base) if t == "base" else (env,)))
                    served = server_cpu(sw.proc.pid) - served
                    results[t].setdefault(step, []).append(seconds)
                    cpu[t].setdefault(step, []).append(round(used, 2))
                    server[t].setdefault(step, []).append(round(served, 2))
                    print(f"round {r} {t} {step}: {seconds:.2f} s, {used:.2f} s CPU, server {served:.2f} s CPU",
                          file=sys.stderr, flush=True)
                    if step == "copy_small":
                        assert count(f"{d}/") == args.files, (t, step)
                        c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": f"{d}/f{i:05d}.bin"}
                                                                            for i in range(args.files)]})
                    elif step == "copy_big":
                        assert c.head_object(Bucket=BUCKET, Key=f"{d}big.bin")["ContentLength"] == \
                            args.big_mib * 1024 * 1024, (t, step)
                        c.delete_object(Bucket=BUCKET, Key=f"{d}big.bin")
                    elif step == "move":
                        assert count(f"{d}-m/") == 0 and count(f"{d}-moved/") == args.many, (t, step)
                    else:
                        assert count(f"{d}-moved/") == 0, (t, step)
        medians = {t: {s: round(statistics.median(v), 3) for s, v in steps.items()} for t, steps in results.items()}
        doc = {"files": args.files, "size": SIZE, "big_mib": args.big_mib, "many": args.many,
               "many_kb": args.many_kb, "rounds": args.rounds, "median_seconds": medians,
               "seconds": {t: {s: [round(x, 2) for x in v] for s, v in steps.items()} for t, steps in results.items()},
               "cpu_seconds": cpu, "server_cpu_seconds": server}
        if "lakegui" in medians:
            for other in ("s5cmd", "aws", "base"):
                if other in medians:
                    doc[f"lakegui_over_{other}"] = {s: round(medians["lakegui"][s] / medians[other][s], 2)
                                                    for s in medians["lakegui"]}
            peers = [medians[o]["copy_big"] for o in ("s5cmd", "aws") if "copy_big" in medians.get(o, {})]
            if peers:
                doc["copy_big_over_the_faster"] = round(medians["lakegui"]["copy_big"] / min(peers), 2)
        print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
