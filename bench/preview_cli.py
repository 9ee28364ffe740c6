"""`lakegui-cli preview --json` on a 1 GiB Parquet file (issue 17): what it read against the preview
pane's targets (at most 2 + visible columns GETs, the HEAD included, and at most 2% of the bytes),
and how long it took, on a loopback SeaweedFS.

    .venv/bin/python bench/preview_cli.py [--rounds 3] [--mib 1024]

The file is bench/preview.py's 20-column tick table (pyarrow's writer, row groups of 1 Mi rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.preview import write_file  # noqa: E402
from bench.transfers import seaweedfs, tool  # noqa: E402

BUCKET, KEY, MIB = "preview-cli-bench", "wide.parquet", 1 << 20


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--mib", type=int, default=1024, help="size of the file (MiB)")
    p.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = p.parse_args()
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with seaweedfs("lakegui-preview-cli-bench-") as (work, sw):
        from boto3.s3.transfer import TransferConfig

        client = sw.client()
        client.create_bucket(Bucket=BUCKET)
        path = work / KEY
        fact = write_file(path, columns=20, target_bytes=args.mib * MIB, row_group=1_048_576)
        client.upload_file(str(path), BUCKET, KEY, Config=TransferConfig(multipart_chunksize=64 * MIB))
        path.unlink()
        print(f"{KEY}: {fact['bytes'] / MIB:,.0f} MiB, {fact['rows']:,} rows, {fact['row_groups']} row groups, "
              f"{fact['columns']} columns ({fact['created_by']})", flush=True)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                   AWS_DEFAULT_REGION="us-east-1", LAKEGUI_CONFIG_DIR=str(work / "config"),
                   LAKEGUI_DATA_DIR=str(work / "data"), LAKEGUI_LOG_DIR=str(work / "log"))
        cmd = [tool("lakegui-cli"), "preview", f"s3://{BUCKET}/{KEY}", "--json", "--endpoint-url", sw.endpoint_url]
        runs = []
        for r in range(args.rounds):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - t0
            doc = json.loads(proc.stdout)
            visible = len(doc["head"][0]) if doc["head"] else 0
            runs.append({"seconds": seconds, "requests": doc["requests"], "bytes_read": doc["bytes_read"],
                         "visible_columns": visible, "size": doc["size"]})
            print(f"round {r + 1}: {json.dumps(runs[-1])}", flush=True)
    last = runs[-1]
    share = last["bytes_read"] / last["size"]
    ok_requests = last["requests"] <= 2 + last["visible_columns"]
    print(f"\nlakegui-cli preview --json: {last['requests']} requests (target ≤ 2 + {last['visible_columns']} = "
          f"{2 + last['visible_columns']}: {'met' if ok_requests else 'MISSED'}), "
          f"{last['bytes_read'] / MIB:.2f} MiB = {share:.2%} of the file (target ≤ 2%: "
          f"{'met' if share <= 0.02 else 'MISSED'}), {statistics.median(r['seconds'] for r in runs):.2f} s wall "
          "(median)")
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps({"file": fact, "runs": runs}, indent=1))
    return 0 if ok_requests and share <= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
