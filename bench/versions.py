"""Version listing (issue 22): a prefix of --keys keys with --versions versions each on a loopback
SeaweedFS. Times `lakegui-cli ls --versions --recursive` to its first line (first rows shown) and
to its end, against `aws s3api list-object-versions` (which pages through every version before it
prints anything), interleaved, --runs times each; prints medians and the ratio.

Run: .venv/bin/python bench/versions.py [--keys 10000] [--versions 3] [--runs 5]
Targets: first rows <= 300 ms; the whole listing <= 1.2x the aws CLI's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfers import seaweedfs, tool  # noqa: E402

BUCKET, PREFIX = "versions", "ticks/"


def seed(client, keys: int, versions: int) -> None:
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def put(i: int) -> None:
        for v in range(versions):
            client.put_object(Bucket=BUCKET, Key=f"{PREFIX}{i // 100:03d}/k{i:06d}.parquet", Body=b"v%d" % v)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(keys)))


def first_line_and_total(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """Seconds to the first line on stdout, to the end, and the lines printed."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first, lines = None, 0
    for _ in proc.stdout:
        if first is None:
            first = time.perf_counter() - start
        lines += 1
    if proc.wait() != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… failed ({proc.returncode})")
    total = time.perf_counter() - start
    return first if first is not None else total, total, lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keys", type=int, default=10_000)
    p.add_argument("--versions", type=int, default=3)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    aws = tool("aws")
    with seaweedfs("bench-versions-") as (_work, sw):
        started = time.perf_counter()
        seed(sw.client(), args.keys, args.versions)
        print(f"seeded {args.keys:,} keys x {args.versions} versions in {time.perf_counter() - started:.1f} s")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="benchkey", AWS_SECRET_ACCESS_KEY="benchsecret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                   PYTHONPYCACHEPREFIX=str(_work / "pycache"))  # the bytecode cache, as an install has
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        ours_cmd = [sys.executable, "-m", "lakegui.cli", "ls", f"s3://{BUCKET}/{PREFIX}", "--versions",
                    "--recursive", "--endpoint-url", sw.endpoint_url]
        aws_cmd = [aws, "s3api", "list-object-versions", "--bucket", BUCKET, "--prefix", PREFIX,
                   "--endpoint-url", sw.endpoint_url, "--output", "text"]
        plain_cmd = [c for c in ours_cmd if c != "--versions"]  # the plain listing, for reference
        first_line_and_total(plain_cmd, env)  # untimed: writes the bytecode cache
        ours_first, ours_total, aws_first, aws_total, plain_first = [], [], [], [], []
        for _ in range(args.runs):
            plain_first.append(first_line_and_total(plain_cmd, env)[0])
            f, t, lines = first_line_and_total(ours_cmd, env)
            ours_first.append(f)
            ours_total.append(t)
            f, t, _ = first_line_and_total(aws_cmd, env)
            aws_first.append(f)
            aws_total.append(t)
        expected = args.keys * args.versions
        if lines != expected:
            raise RuntimeError(f"lakegui-cli printed {lines:,} versions, expected {expected:,}")
    med = statistics.median
    print(f"lakegui-cli ls --versions: first rows {med(ours_first) * 1000:.0f} ms, all {med(ours_total):.2f} s")
    print(f"lakegui-cli ls (no versions), for reference: first rows {med(plain_first) * 1000:.0f} ms")
    print(f"aws s3api list-object-versions: first rows {med(aws_first) * 1000:.0f} ms, all {med(aws_total):.2f} s")
    print(f"ratio (whole listing): {med(ours_total) / med(aws_total):.2f}x  (target <= 1.2x; first rows <= 300 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
