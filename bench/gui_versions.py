"""Show versions in the real browser, offscreen (issue 22): one folder of --keys keys with
--versions versions each (every tenth key deleted) on a loopback SeaweedFS. Times the folder's
plain listing, then the same folder with Show versions on: the first rows, the first page of
versions in, and both listings ended (deleted rows added), with the UI thread's longest gap; and
`aws s3api list-object-versions` of the same folder, interleaved, --runs times each. Prints medians.

Run: .venv/bin/python bench/gui_versions.py [--keys 10000] [--versions 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.transfers import seaweedfs, tool  # noqa: E402

BUCKET, PREFIX = "versions-gui", "ticks/daily/"


def seed(client, keys: int, versions: int) -> None:
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def put(i: int) -> None:
        key = f"{PREFIX}k{i:06d}.parquet"
        for v in range(versions):
            client.put_object(Bucket=BUCKET, Key=key, Body=b"v%d" % v)
        if i % 10 == 0:
            client.delete_object(Bucket=BUCKET, Key=key)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(keys)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keys", type=int, default=10_000)
    p.add_argument("--versions", type=int, default=3)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()

    from bench.qtbench import GapTimer, app_and_loop
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.ui.browser.widget import PrefixBrowser

    with seaweedfs("lakegui-gui-versions-") as (work, sw):
        started = time.perf_counter()
        seed(sw.client(), args.keys, args.versions)
        print(f"seeded {args.keys:,} keys x {args.versions} versions in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        os.environ.update(AWS_ACCESS_KEY_ID=sw.access_key, AWS_SECRET_ACCESS_KEY=sw.secret_key,
                          AWS_DEFAULT_REGION="us-east-1")
        conn = Connection(ConnectionProfile(name="bench", endpoint_url=sw.endpoint_url, bucket=BUCKET,
                                            addressing_style="path"))
        aws = [tool("aws"), "s3api", "list-object-versions", "--bucket", BUCKET, "--prefix", PREFIX,
               "--delimiter", "/", "--endpoint-url", sw.endpoint_url, "--output", "json"]
        app, loop = app_and_loop()
        executor = ThreadPoolExecutor(4)
        conn.client()
        browser = PrefixBrowser(executor)
        browser.resize(900, 700)
        browser.show()
        browser._connection, browser._bucket = conn, BUCKET  # connected, without listing the root
        v = browser.versions

        async def listing(versions_on: bool) -> dict:
            marks: dict[str, float] = {}
            lp = asyncio.get_event_loop()
            done = lp.create_future()
            add = v.index.add

            def added(page):
                marks.setdefault("first_versions", time.perf_counter())
                return add(page)

            v.index.add = added
            first = browser.model.rowsInserted.connect(
                lambda *a: marks.setdefault("first_rows", time.perf_counter()))
            signal = v.versions_listed if versions_on else browser.listing_finished
            ended = signal.connect(lambda *a: done.done() or done.set_result(time.perf_counter()))
            gaps = GapTimer()
            gaps.start()
            start = time.perf_counter()
            browser.navigate(PREFIX)  # the same folder each time: listed afresh
            end = await done
            gaps.stop()
            browser.model.rowsInserted.disconnect(first)
            signal.disconnect(ended)
            v.index.add = add
            out = {"first_rows_ms": (marks["first_rows"] - start) * 1000, "full_s": end - start,
                   "rows": browser.model.loaded, "max_gap_ms": gaps.max * 1000}
            if versions_on:
                out["first_versions_ms"] = (marks["first_versions"] - start) * 1000
                out["deleted_rows"] = browser.model.deleted_rows
                out["entries"] = v.index.entries
            return out

        async def run() -> dict:
            with_v, plain, peer = [], [], []
            v.toggle_action.blockSignals(True)  # no refresh of its own: each run refreshes once
            for _ in range(args.runs):
                v.toggle_action.setChecked(False)
                v.pane.hide()
                plain.append(await listing(False))
                v.toggle_action.setChecked(True)
                v.pane.show()
                with_v.append(await listing(True))
                t0 = time.perf_counter()
                subprocess.run(aws, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                peer.append(time.perf_counter() - t0)

            def med(rows, name):
                return round(statistics.median(r[name] for r in rows), 3)

            return {"keys": args.keys, "versions": args.versions, "runs": args.runs,
                    "plain": {n: med(plain, n) for n in ("first_rows_ms", "full_s", "max_gap_ms")},
                    "show_versions": {n: med(with_v, n) for n in ("first_rows_ms", "first_versions_ms", "full_s",
                                                                  "max_gap_ms", "deleted_rows", "entries")},
                    "aws_list_object_versions_s": round(statistics.median(peer), 3),
                    "ratio_full_vs_aws": round(med(with_v, "full_s") / statistics.median(peer), 2)}

        try:
            with loop:
                result = loop.run_until_complete(run())
        finally:
            browser.cancel()
            executor.shutdown()
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
