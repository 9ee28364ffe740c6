"""Reorganising the lake headless (issue 20): cp, mv, rm, tag, restore and mb as a user runs
them, a subprocess against moto's HTTP server (odd keys, `//` included) and SeaweedFS, with
a multipart copy under a lowered threshold, a copy streamed between two endpoints and a kill -9
in the middle of a move followed by `queue resume`."""

from __future__ import annotations

import hashlib
import random

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from tests.integration.test_cli_transfers import cli, start_cli
from tests.integration.test_crash import batches, integrity, run_and_kill
from tests.integration.test_faults import write_settings
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
MB = 1024 * 1024
ODD = ["data/2024/a b.parquet", "data/2024/plus+sign.csv", "data/2024/pct%20x.txt", "data/2024/ünï/cödé.json",
       "data/2024/deep/", "data/2024/x//y.bin"]  # `//` only on moto: SeaweedFS folds it


def client(url):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


def body(key: str, n: int = 2000) -> bytes:
    return hashlib.sha256(key.encode()).digest() * (n // 32)


def keys(c, bucket, prefix=""):
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.update({o["Key"]: o for o in page.get("Contents", [])})
    return out


@pytest.fixture
def lake(moto_endpoint):
    c = client(moto_endpoint)
    for b in ("src", "dst"):
        c.create_bucket(Bucket=b)
    return moto_endpoint, c


def test_cp_keeps_metadata_content_type_tags_and_storage_class(lake):
    url, c = lake
    c.put_object(Bucket="src", Key="a/ticks.parquet", Body=body("t"), Metadata={"vendor": "acme"},
                 ContentType="application/vnd.apache.parquet", Tagging="desk=rates&checked=yes",
                 StorageClass="STANDARD_IA")
    proc, doc = cli("cp", "s3://src/a/ticks.parquet", "s3://dst/b/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert {"jobs", "done", "failed", "skipped", "bytes", "seconds", "failures"} <= set(doc)
    assert (doc["jobs"], doc["done"], doc["failed"], doc["bytes"]) == (1, 1, 0, len(body("t")))
    h = c.head_object(Bucket="dst", Key="b/ticks.parquet")
    assert h["Metadata"] == {"vendor": "acme"} and h["ContentType"] == "application/vnd.apache.parquet"
    assert h.get("StorageClass") == "STANDARD_IA"
    assert h["ETag"] == c.head_object(Bucket="src", Key="a/ticks.parquet")["ETag"]
    tags = {t["Key"]: t["Value"] for t in c.get_object_tagging(Bucket="dst", Key="b/ticks.parquet")["TagSet"]}
    assert tags == {"desk": "rates", "checked": "yes"}
    assert "a/ticks.parquet" in keys(c, "src")  # a copy leaves the source


def test_cp_prefix_with_odd_keys_keeps_relative_keys_and_the_prefix_boundary(lake):
    url, c = lake
    for k in [*ODD, "data/2024-old/keep.csv"]:
        c.put_object(Bucket="src", Key=k, Body=body(k))
    proc, doc = cli("cp", "s3://src/data/2024/", "s3://dst/copy/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert doc["done"] == len(ODD)
    got = keys(c, "dst")
    assert set(got) == {"copy/" + k[len("data/2024/"):] for k in ODD}  # 2024-old stayed out
    for k in ODD:
        assert c.get_object(Bucket="dst", Key="copy/" + k[len("data/2024/"):])["Body"].read() == body(k)
    # again: every target is there with the same bytes, so every copy is skipped
    proc, doc = cli("cp", "s3://src/data/2024/", "s3://dst/copy/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and (doc["done"], doc["skipped"]) == (0, len(ODD)), proc.stderr
    c.put_object(Bucket="dst", Key="copy/a b.parquet", Body=b"changed")  # one target now differs
    proc, doc = cli("cp", "s3://src/data/2024/", "s3://dst/copy/", "--endpoint-url", url, "--json")
    assert proc.returncode == 1 and [f["key"] for f in doc["failures"]] == ["copy/a b.parquet"]
    assert c.get_object(Bucket="dst", Key="copy/a b.parquet")["Body"].read() == b"changed"
    # within one bucket too, and a dry run lists without copying
    proc, doc = cli("cp", "s3://src/data/2024/", "s3://src/stage/", "--endpoint-url", url, "--json", "--dry-run")
    assert proc.returncode == 0 and doc["jobs"] == len(ODD) and not keys(c, "src", "stage/")
    assert {k["target"] for k in doc["keys"]} == {"s3://src/stage/" + k[len("data/2024/"):] for k in ODD}


def test_multipart_copy_under_a_lowered_threshold_keeps_etag_tags_and_metadata(lake):
    url, c = lake
    write_settings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    data = random.Random(1).randbytes(12 * MB)
    import io

    c.upload_fileobj(io.BytesIO(data), "src", "big/parts.bin",
                     ExtraArgs={"Metadata": {"k": "v"}, "Tagging": "t=1", "ContentType": "application/x-test"},
                     Config=TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB))
    c.put_object(Bucket="src", Key="big/single.bin", Body=data)  # one part, copied in parts
    src_etag = c.head_object(Bucket="src", Key="big/parts.bin")["ETag"]
    assert src_etag.endswith('-3"')
    proc, doc = cli("cp", "s3://src/big/", "s3://dst/big/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert doc["done"] == 2 and doc["bytes"] == 2 * len(data)
    h = c.head_object(Bucket="dst", Key="big/parts.bin")
    assert h["ETag"] == src_etag  # copied in the source's own part size: the same ETag, verified
    assert h["Metadata"] == {"k": "v"} and h["ContentType"] == "application/x-test"
    assert c.get_object_tagging(Bucket="dst", Key="big/parts.bin")["TagSet"] == [{"Key": "t", "Value": "1"}]
    single = c.head_object(Bucket="dst", Key="big/single.bin")
    assert single["ETag"].endswith('-3"')  # UploadPartCopy in parts, not CopyObject
    for k in ("big/parts.bin", "big/single.bin"):
        assert c.get_object(Bucket="dst", Key=k)["Body"].read() == data
    assert not c.list_multipart_uploads(Bucket="dst").get("Uploads")


def test_mv_prefix_and_rename_leave_each_object_in_one_place(lake):
    url, c = lake
    for k in ODD:
        c.put_object(Bucket="src", Key=k, Body=body(k))
    proc, doc = cli("mv", "s3://src/data/2024/", "s3://dst/moved/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert doc["done"] == len(ODD) and not keys(c, "src")
    assert set(keys(c, "dst")) == {"moved/" + k[len("data/2024/"):] for k in ODD}
    # rename within a bucket
    proc, _ = cli("mv", "s3://dst/moved/a b.parquet", "s3://dst/moved/renamed.parquet", "--endpoint-url", url)
    assert proc.returncode == 0, proc.stderr
    names = set(keys(c, "dst"))
    assert "moved/renamed.parquet" in names and "moved/a b.parquet" not in names
    assert c.get_object(Bucket="dst", Key="moved/renamed.parquet")["Body"].read() == body(ODD[0])
    proc, _ = cli("mv", "s3://dst/moved/renamed.parquet", "s3://dst/moved/renamed.parquet", "--endpoint-url", url)
    assert proc.returncode == 2  # onto itself: usage


def test_mv_onto_an_existing_key_follows_the_overwrite_policy(lake):
    url, c = lake
    c.put_object(Bucket="src", Key="k", Body=b"new")
    c.put_object(Bucket="dst", Key="k", Body=b"old")
    proc, doc = cli("mv", "s3://src/k", "s3://dst/k", "--endpoint-url", url, "--json")
    assert proc.returncode == 1 and doc["failed"] == 1 and "exists" in doc["failures"][0]["error"]
    assert c.get_object(Bucket="src", Key="k")["Body"].read() == b"new"  # never deleted
    proc, doc = cli("mv", "s3://src/k", "s3://dst/k", "--endpoint-url", url, "--json", "--skip-existing")
    assert proc.returncode == 0 and doc["skipped"] == 1
    assert c.get_object(Bucket="dst", Key="k")["Body"].read() == b"old" and "k" in keys(c, "src")
    proc, doc = cli("mv", "s3://src/k", "s3://dst/k", "--endpoint-url", url, "--json", "--overwrite")
    assert proc.returncode == 0 and doc["done"] == 1
    assert c.get_object(Bucket="dst", Key="k")["Body"].read() == b"new" and "k" not in keys(c, "src")
    # the same bytes already there: a move just removes the source
    c.put_object(Bucket="src", Key="same", Body=b"x")
    c.put_object(Bucket="dst", Key="same", Body=b"x")
    proc, doc = cli("mv", "s3://src/same", "s3://dst/same", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and "same" not in keys(c, "src")


def test_kill_9_mid_move_then_queue_resume_leaves_every_object_in_exactly_one_place(lake, tmp_path):
    url, c = lake
    names = [f"p/{i:04d} x.bin" for i in range(400)]
    for k in names:
        c.put_object(Bucket="src", Key=k, Body=body(k, 3200))
    db = str(tmp_path / "q.sqlite3")
    rng = random.Random(5)
    kills = 0
    first = ["mv", "s3://src/p/", "s3://dst/p/", "--endpoint-url", url, "--queue", db, "--concurrency", "2"]
    for _ in range(8):
        queued = batches(db) > 0  # a kill before the move was queued leaves nothing to resume
        if not run_and_kill(first if not queued else ["queue", "resume", "--queue", db], rng.uniform(0.3, 1.2),
                            queued_in=db):
            break
        if batches(db):
            kills += 1
            assert integrity(db) == "ok"
            assert set(keys(c, "src")) | set(keys(c, "dst")) == set(names)  # nothing in neither place
    assert kills >= 1  # at least one run was killed with the move under way
    proc, _ = cli("queue", "resume", "--queue", db, timeout=120)
    assert proc.returncode == 0, proc.stderr
    src, dst = keys(c, "src"), keys(c, "dst")
    assert not src and set(dst) == set(names)
    for k in names[::37]:
        assert c.get_object(Bucket="dst", Key=k)["Body"].read() == body(k, 3200)


def test_rm_counts_confirms_and_keeps_to_the_prefix(lake):
    url, c = lake
    for i in range(1005):
        c.put_object(Bucket="src", Key=f"data/2024/{i}", Body=b"")
    c.put_object(Bucket="src", Key="data/2024-old/keep", Body=b"")
    proc, doc = cli("rm", "s3://src/data/2024/", "--recursive", "--dry-run", "--json", "--endpoint-url", url)
    assert proc.returncode == 0 and doc["jobs"] == 1005 and len(doc["keys"]) == 1005 and doc["deleted"] == 0
    assert "data/2024-old/keep" not in doc["keys"]
    proc, _ = cli("rm", "s3://src/data/2024/", "--recursive", "--endpoint-url", url)
    assert proc.returncode == 2 and "--yes" in proc.stderr and "1,005 keys" in proc.stdout
    assert len(keys(c, "src")) == 1006
    proc, doc = cli("rm", "s3://src/data/2024/", "--recursive", "--yes", "--json", "--endpoint-url", url)
    assert proc.returncode == 0, proc.stderr
    assert (doc["jobs"], doc["deleted"], doc["failed"]) == (1005, 1005, 0)
    assert set(keys(c, "src")) == {"data/2024-old/keep"}
    proc, doc = cli("rm", "s3://src/data/2024-old/keep", "--json", "--endpoint-url", url)
    assert proc.returncode == 0 and doc["deleted"] == 1 and not keys(c, "src")
    proc, _ = cli("rm", "s3://src/data/", "--endpoint-url", url)
    assert proc.returncode == 2  # a prefix without --recursive


def test_tag_restore_and_mb(lake):
    url, c = lake
    c.put_object(Bucket="src", Key="t.csv", Body=b"1")
    proc, doc = cli("tag", "s3://src/t.csv", "a=1", "b=two words", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and doc["done"] == 1
    assert {t["Key"]: t["Value"] for t in c.get_object_tagging(Bucket="src", Key="t.csv")["TagSet"]} == \
        {"a": "1", "b": "two words"}
    proc, _ = cli("tag", "s3://src/t.csv", "--endpoint-url", url)
    assert proc.returncode == 0 and "b=two words" in proc.stdout
    c.put_object(Bucket="src", Key="cold.parquet", Body=b"z", StorageClass="GLACIER")
    proc, doc = cli("restore", "s3://src/cold.parquet", "--days", "3", "--tier", "Bulk", "--endpoint-url", url,
                    "--json")
    assert proc.returncode == 0 and doc["done"] == 1, proc.stderr
    assert "ongoing-request" in c.head_object(Bucket="src", Key="cold.parquet").get("Restore", "")
    proc, _ = cli("restore", "s3://src/t.csv", "--days", "3", "--endpoint-url", url)
    assert proc.returncode == 1 and "not archived" in proc.stderr
    proc, _ = cli("restore", "s3://src/t.csv", "--days", "3", "--tier", "Slow", "--endpoint-url", url)
    assert proc.returncode == 2
    proc, _ = cli("mb", "s3://Bad_Name", "--endpoint-url", url)
    assert proc.returncode == 2 and "only lowercase letters" in proc.stderr
    proc, doc = cli("mb", "s3://fresh-bucket", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and doc["done"] == 1
    assert "fresh-bucket" in {b["Name"] for b in c.list_buckets()["Buckets"]}


def test_storage_class_changes_in_place(lake):
    url, c = lake
    c.put_object(Bucket="src", Key="k.bin", Body=b"abc", Metadata={"m": "1"}, Tagging="t=1")
    proc, doc = cli("cp", "s3://src/k.bin", "s3://src/k.bin", "--storage-class", "STANDARD_IA",
                    "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and doc["done"] == 1, proc.stderr
    h = c.head_object(Bucket="src", Key="k.bin")
    assert h.get("StorageClass") == "STANDARD_IA" and h["Metadata"] == {"m": "1"}
    assert c.get_object_tagging(Bucket="src", Key="k.bin")["TagSet"] == [{"Key": "t", "Value": "1"}]
    proc, _ = cli("cp", "s3://src/k.bin", "s3://src/k.bin", "--endpoint-url", url)
    assert proc.returncode == 2 and "--storage-class" in proc.stderr


def test_archived_object_download_says_why(lake, tmp_path):
    url, c = lake
    c.put_object(Bucket="src", Key="cold.bin", Body=b"z", StorageClass="GLACIER")
    proc, doc = cli("download", "s3://src/cold.bin", str(tmp_path / "out"), "--endpoint-url", url, "--json")
    assert proc.returncode == 1
    assert "archived" in doc["failures"][0]["error"] and "restore" in doc["failures"][0]["error"]


# SeaweedFS

@pytest.fixture
def weed(seaweedfs):
    c = seaweedfs.client()
    for b in ("wsrc", "wdst"):
        try:
            c.create_bucket(Bucket=b)
        except c.exceptions.BucketAlreadyOwnedByYou:
            pass
        for k in keys(c, b):
            c.delete_object(Bucket=b, Key=k)
    return seaweedfs.endpoint_url, c


def test_seaweedfs_copy_move_within_and_across_buckets(weed):
    url, c = weed
    names = [k for k in ODD if "//" not in k]
    for k in names:  # SeaweedFS keeps a key ending in '/' only as an empty folder marker
        c.put_object(Bucket="wsrc", Key=k, Body=b"" if k.endswith("/") else body(k),
                     **({} if k.endswith("/") else {"Metadata": {"v": "1"}}))
    proc, doc = cli("cp", "s3://wsrc/data/2024/", "s3://wdst/c/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and doc["done"] == len(names), (proc.stderr, doc)
    proc, doc = cli("mv", "s3://wsrc/data/2024/", "s3://wsrc/moved/", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and doc["done"] == len(names), (proc.stderr, doc)
    assert set(keys(c, "wsrc")) == {"moved/" + k[len("data/2024/"):] for k in names}
    assert set(keys(c, "wdst")) == {"c/" + k[len("data/2024/"):] for k in names}
    for k in names:
        rel, want = k[len("data/2024/"):], b"" if k.endswith("/") else body(k)
        assert c.get_object(Bucket="wdst", Key="c/" + rel)["Body"].read() == want
        assert c.get_object(Bucket="wsrc", Key="moved/" + rel)["Body"].read() == want
    assert c.head_object(Bucket="wsrc", Key="moved/a b.parquet")["Metadata"] == {"v": "1"}


def test_seaweedfs_multipart_copy(weed):
    url, c = weed
    write_settings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    data = random.Random(2).randbytes(11 * MB)
    c.put_object(Bucket="wsrc", Key="big.bin", Body=data)
    proc, doc = cli("cp", "s3://wsrc/big.bin", "s3://wdst/big.bin", "--endpoint-url", url, "--json")
    assert proc.returncode == 0 and doc["done"] == 1, (proc.stderr, doc)
    assert c.get_object(Bucket="wdst", Key="big.bin")["Body"].read() == data


def test_copy_streams_between_two_endpoints(weed, moto_endpoint):
    url, c = weed
    m = client(moto_endpoint)
    m.create_bucket(Bucket="msrc")
    write_settings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    data = random.Random(3).randbytes(7 * MB)
    m.put_object(Bucket="msrc", Key="x/big.bin", Body=data, Metadata={"from": "moto"}, Tagging="a=b")
    m.put_object(Bucket="msrc", Key="x/small.txt", Body=b"hello", ContentType="text/plain")
    proc, doc = cli("cp", "s3://msrc/x/", "s3://wdst/y/", "--endpoint-url", url,
                    "--source-endpoint-url", moto_endpoint, "--json")
    assert proc.returncode == 0 and doc["done"] == 2, (proc.stderr, doc)
    assert c.get_object(Bucket="wdst", Key="y/big.bin")["Body"].read() == data
    h = c.head_object(Bucket="wdst", Key="y/big.bin")
    assert h["Metadata"] == {"from": "moto"}
    assert c.head_object(Bucket="wdst", Key="y/small.txt")["ContentType"] == "text/plain"


def test_kill_9_mid_rm_then_queue_resume_deletes_the_rest(lake, tmp_path):
    """rm --recursive runs a job per 1,000 keys through the queue: killed while its second
    DeleteObjects hangs, `queue resume` deletes what is left, and only that."""
    url, c = lake
    from concurrent.futures import ThreadPoolExecutor

    names = [f"data/2024/{i:04d}" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: c.put_object(Bucket="src", Key=k, Body=b"x"), names))
    c.put_object(Bucket="src", Key="data/2024-old/keep", Body=b"")
    db = str(tmp_path / "q.sqlite3")
    seen = iter(range(10**6))
    # the first DeleteObjects passes, the next hangs (no answer) until the proxy stops
    with FaultProxy(url, rate=1.0, faults=("stall",), stall_seconds=120,
                    when=lambda m, p: m == "POST" and "delete" in p and next(seen) >= 1) as proxy:
        proc = start_cli("rm", "s3://src/data/2024/", "--recursive", "--yes", "--threads", "1",
                         "--endpoint-url", proxy.url, "--queue", db)
        try:
            wait_until(lambda: _states(db).get("done") == 1 and _states(db).get("running") == 1,
                       timeout=60, interval=0.1)
        finally:
            proc.kill()
            proc.communicate(timeout=10)
    assert integrity(db) == "ok"
    assert len(keys(c, "src", "data/2024/")) == 5  # the second batch, not yet deleted
    proc, doc = cli("queue", "resume", "--queue", db, "--endpoint-url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert doc["done"] == 1 and doc["failed"] == 0
    assert set(keys(c, "src")) == {"data/2024-old/keep"}
    proc, doc = cli("queue", "status", "--queue", db, "--json")
    assert [b["kind"] for b in doc["batches"]] == ["delete"] and doc["states"]["done"]["jobs"] == 2


@pytest.mark.slow  # 1,003 keys to lay out and a 2 s stall: 5-15 s
def test_rm_yes_deletes_a_listed_page_while_the_next_is_listed(lake, tmp_path):
    """rm --yes of several pages queues each page's DeleteObjects as soon as it is listed: the
    first page's request goes out while the second page's listing is held by the proxy. The
    count line and the summary are those of an rm that listed first."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    url, c = lake
    names = [f"data/2024/{i:04d}" for i in range(1003)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: c.put_object(Bucket="src", Key=k, Body=b"x"), names))
    seen: list[tuple[float, str, str]] = []

    def when(method: str, path: str) -> bool:  # hold the second page's listing (one with a token)
        seen.append((time.monotonic(), method, path))
        return method == "GET" and "continuation-token" in path

    with FaultProxy(url, rate=1.0, faults=("stall",), stall_seconds=2.0, when=when, limit=1) as proxy:
        proc, doc = cli("rm", "s3://src/data/2024/", "--recursive", "--yes", "--endpoint-url", proxy.url,
                        "--queue", str(tmp_path / "q.sqlite3"), "--json")
    held = next(t for t, m, p in seen if m == "GET" and "continuation-token" in p)
    deletes = [t for t, m, p in seen if m == "POST" and "delete" in p]
    assert deletes and held < deletes[0] < held + 2.0  # the first page went while the second was listed
    assert "1,003 keys to delete from s3://src/data/2024/" in proc.stderr  # --json: the count on stderr
    left = keys(c, "src", "data/2024/")
    if proc.returncode == 0:  # the listing asked again after the stall: every key is gone
        assert not left and doc["deleted"] == doc["jobs"] == 1003 and doc["failures"] == []
    else:  # it gave up on the page: what was listed is deleted, the rest is named
        assert len(left) == 3 and doc["deleted"] == 1000 and doc["failures"][0]["key"] == "s3://src/data/2024/"


def _states(db: str) -> dict[str, int]:
    import sqlite3

    try:
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
    except sqlite3.Error:
        return {}


def test_rm_of_odd_keys_deletes_each_through_the_native_client(lake):
    url, c = lake
    odd = [k.replace("data/2024/", "odd/") for k in ODD] + ["odd/a&b<c>'\".txt", "odd/ sp ace "]
    for k in odd:
        c.put_object(Bucket="src", Key=k, Body=b"1")
    c.put_object(Bucket="src", Key="odd-not/kept", Body=b"")
    proc, doc = cli("rm", "s3://src/odd/", "--recursive", "--json", "--endpoint-url", url)
    assert proc.returncode == 0, proc.stderr
    assert (doc["deleted"], doc["failed"], doc["bytes"]) == (len(odd), 0, len(odd))
    assert set(keys(c, "src")) == {"odd-not/kept"}
