"""Copy, move and delete benchmark (issue 20; not copy.py, which would shadow the standard
library): `lakegui-cli cp/mv/rm` against s5cmd's Go binary and `aws s3`, in the same run, on a
loopback SeaweedFS.

    .venv/bin/python bench/copying.py --files 1000 --big-mib 1024 --many 10000 --rounds 3

Each round, for each tool (in a shuffled order): copy FILES objects of 100 KB from one prefix to
another, copy one BIG-MIB object, then move a prefix of MANY keys (MANY-KB each; laid out untimed
by s5cmd for every tool) to another prefix, and delete the moved keys. Every result is checked
(count of keys at the target and, for the big object, its size). Medians are printed, and the
ratios the issue sets targets for (lakegui / s5cmd, lakegui / aws, and for the big copy lakegui
over the faster of the two).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import s5cmd_binary, seaweedfs, timed, tool  # noqa: E402

SIZE = 100 * 1024
BUCKET = "bench-copy"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=1000)
    p.add_argument("--big-mib", type=int, default=1024)
    p.add_argument("--many", type=int, default=10000, help="keys moved and deleted")
    p.add_argument("--many-kb", type=int, default=10, help="size of each of those keys")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tools", default="lakegui,s5cmd,aws")
    args = p.parse_args()
    tools = args.tools.split(",")
    with seaweedfs("lakegui-bench-copy-") as (work, sw):
        url = sw.endpoint_url
        env = dict(os.environ, AWS_ACCESS_KEY_ID="benchkey", AWS_SECRET_ACCESS_KEY="benchsecret",
                   AWS_DEFAULT_REGION="us-east-1", LAKEGUI_DATA_DIR=str(work / "data"),
                   LAKEGUI_CONFIG_DIR=str(work / "config"), LAKEGUI_LOG_DIR=str(work / "log"))
        c = sw.client()
        c.create_bucket(Bucket=BUCKET)
        from concurrent.futures import ThreadPoolExecutor

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

        def count(prefix: str) -> int:
            return sum(len(pg.get("Contents", [])) for pg in
                       c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix))

        def lay_out(d: str) -> None:  # the keys a tool moves, copied server-side, untimed
            timed(s5 + ["cp", f"s3://{BUCKET}/many/*", f"s3://{BUCKET}/{d}-m/"], env)
            assert count(f"{d}-m/") == args.many

        results: dict[str, dict[str, list[float]]] = {t: {} for t in tools}
        order = random.Random(20)
        for r in range(args.rounds):
            for t in order.sample(tools, len(tools)):
                d = f"{t}{r}"
                for step in ("copy_small", "copy_big", "move", "delete"):
                    if step == "move":
                        lay_out(d)
                    seconds = timed(cmds[t][step](d), env)
                    results[t].setdefault(step, []).append(seconds)
                    print(f"round {r} {t} {step}: {seconds:.2f} s", file=sys.stderr, flush=True)
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
               "many_kb": args.many_kb, "rounds": args.rounds, "median_seconds": medians}
        if "lakegui" in medians:
            for other in ("s5cmd", "aws"):
                if other in medians:
                    doc[f"lakegui_over_{other}"] = {s: round(medians["lakegui"][s] / medians[other][s], 2)
                                                    for s in medians["lakegui"]}
            peers = [medians[o]["copy_big"] for o in ("s5cmd", "aws") if o in medians]
            if peers:
                doc["copy_big_over_the_faster"] = round(medians["lakegui"]["copy_big"] / min(peers), 2)
        print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
