"""`lakegui-cli sync` and `check` as a user runs them (issue 21.2-4), against moto's server and SeaweedFS:
both directions, a same-size edit with its mtime put back, --delete and its cap, --dry-run writing
nothing, excludes, keys that would escape the folder (on moto: SeaweedFS folds `//` and rejects `..`),
check's exit codes, and a kill -9 in the middle of a sync continued by `queue resume`."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from tests.integration.test_cli_transfers import cli, client, kill_9_when, row_of, slow_settings, start_cli

pytestmark = pytest.mark.integration
B = "sync-test"
KEYS = ("compared", "same", "differ", "only_local", "only_remote", "uploaded", "downloaded", "deleted", "failed",
        "bytes", "seconds", "actions")


def tree(root, files: dict[str, bytes]):
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)


def remote(s3, prefix: str = "") -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=B, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=B, Key=o["Key"])["Body"].read()
    return out


def local(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def edit_keeping_size_and_mtime(path, body: bytes):
    st = path.stat()
    assert len(body) == st.st_size
    path.write_bytes(body)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def sync(endpoint, q, *args):
    proc, doc = cli("sync", *args, "--endpoint-url", endpoint, "--queue", str(q), "--json", timeout=120)
    assert doc is not None and tuple(doc) == KEYS, proc.stderr
    return proc, doc


def round_trip(endpoint, tmp_path):
    """Both directions, edits found by content, deletes, a second run that does nothing."""
    s3 = client(endpoint)
    src, q = tmp_path / "src", tmp_path / "queue.sqlite3"
    files = {f"d{i % 3}/f{i:02d}.csv": os.urandom(1000 + i) for i in range(11)}
    files["sp ace+é/a=b&c~(1).csv"] = os.urandom(1011)  # the listing's own signing, with odd characters
    tree(src, files)
    proc, doc = sync(endpoint, q, str(src), f"s3://{B}/lake/")
    assert proc.returncode == 0, proc.stderr
    assert (doc["uploaded"], doc["only_local"], doc["failed"]) == (12, 12, 0)
    assert remote(s3, "lake/") == {f"lake/{k}": v for k, v in files.items()}
    proc, doc = sync(endpoint, q, str(src), f"s3://{B}/lake/")  # a second run does nothing
    assert (proc.returncode, doc["same"], doc["uploaded"], doc["actions"]) == (0, 12, 0, [])

    edited = src / "d0/f00.csv"
    edit_keeping_size_and_mtime(edited, bytes(b ^ 0xFF for b in files["d0/f00.csv"]))
    (src / "d1/f01.csv").unlink()
    proc, doc = sync(endpoint, q, str(src), f"s3://{B}/lake/", "--delete")
    assert proc.returncode == 0, proc.stderr
    assert {(a["action"], a["key"], a["reason"]) for a in doc["actions"]} == {
        ("upload", "lake/d0/f00.csv", "content"), ("delete", "lake/d1/f01.csv", "only-remote")}
    assert (doc["uploaded"], doc["deleted"], doc["differ"]) == (1, 1, 1)
    assert remote(s3, "lake/") == {f"lake/{k}": v for k, v in local(src).items()}

    # Download: into an empty folder, then remote changes come back, --delete removes local extras.
    dst = tmp_path / "dst"
    proc, doc = sync(endpoint, q, f"s3://{B}/lake/", str(dst))
    assert (proc.returncode, doc["downloaded"]) == (0, 11), proc.stderr
    assert local(dst) == local(src)
    s3.put_object(Bucket=B, Key="lake/d2/f02.csv", Body=os.urandom(len(files["d2/f02.csv"])))  # same size
    (dst / "extra.txt").write_bytes(b"only here")
    proc, doc = sync(endpoint, q, f"s3://{B}/lake/", str(dst), "--delete")
    assert proc.returncode == 0, proc.stderr
    assert {(a["action"], a["reason"]) for a in doc["actions"]} == {("download", "content"), ("delete", "only-local")}
    assert local(dst) == {k[len("lake/"):]: v for k, v in remote(s3, "lake/").items()}
    assert not [p for p in dst.rglob(".*")]  # no temp file left
    proc, doc = sync(endpoint, q, f"s3://{B}/lake/", str(dst))
    assert (proc.returncode, doc["downloaded"], doc["actions"], doc["same"]) == (0, 0, [], 11)
    proc, doc = cli("check", str(dst / "sp ace+é"), f"s3://{B}/lake/sp ace+é/", "--endpoint-url", endpoint, "--json")
    assert (proc.returncode, doc["same"]) == (0, 1), proc.stderr  # a prefix that needs encoding, signed


def test_both_directions_on_moto(moto_endpoint, tmp_path):
    client(moto_endpoint).create_bucket(Bucket=B)
    round_trip(moto_endpoint, tmp_path)


def test_both_directions_on_seaweedfs(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket=B)
    try:
        round_trip(seaweedfs.endpoint_url, tmp_path)
    finally:
        for key in remote(client(seaweedfs.endpoint_url)):
            s3.delete_object(Bucket=B, Key=key)
        s3.delete_bucket(Bucket=B)


def test_delete_cap_dry_run_and_excludes(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    for i in range(5):
        s3.put_object(Bucket=B, Key=f"p/old{i}.csv", Body=b"old")
    s3.put_object(Bucket=B, Key="p/keep.tmp", Body=b"excluded remote")
    src, q = tmp_path / "src", tmp_path / "q.sqlite3"
    tree(src, {"new.csv": b"new", "skip.tmp": b"excluded local"})
    before = remote(s3)

    proc, doc = sync(moto_endpoint, q, str(src), f"s3://{B}/p/", "--delete", "--max-delete", "4",
                     "--exclude", "*.tmp")
    assert proc.returncode == 1 and "would delete 5 objects, more than --max-delete 4" in proc.stderr
    assert remote(s3) == before and doc["uploaded"] == 0  # refused before anything changed

    proc, doc = sync(moto_endpoint, q, str(src), f"s3://{B}/p/", "--delete", "--dry-run", "--exclude", "*.tmp")
    assert proc.returncode == 0, proc.stderr
    assert sorted((a["action"], a["key"], a["reason"]) for a in doc["actions"]) == [
        ("delete", f"p/old{i}.csv", "only-remote") for i in range(5)] + [("upload", "p/new.csv", "only-local")]
    assert remote(s3) == before and not q.exists()  # a dry run writes nothing, not even the queue
    proc, _ = cli("sync", str(src), f"s3://{B}/p/", "--delete", "--dry-run", "--endpoint-url", moto_endpoint,
                  "--queue", str(q))
    assert proc.returncode == 0 and "(dry run) delete: s3://sync-test/p/old0.csv (only-remote)" in proc.stdout

    proc, doc = sync(moto_endpoint, q, str(src), f"s3://{B}/p/", "--delete", "--max-delete", "5",
                     "--exclude", "*.tmp")
    assert proc.returncode == 0 and (doc["uploaded"], doc["deleted"]) == (1, 5), proc.stderr
    assert remote(s3) == {"p/new.csv": b"new", "p/keep.tmp": b"excluded remote"}  # excludes hold on both sides

    for i in range(3):
        s3.put_object(Bucket=B, Key=f"p/more{i}", Body=b"m")
    proc, doc = sync(moto_endpoint, q, str(src), f"s3://{B}/p/", "--delete", "--max-delete", "0", "--yes")
    assert proc.returncode == 0 and doc["deleted"] == 4, proc.stderr  # --yes accepts any count

    proc, _ = cli("sync", str(src), str(tmp_path), "--endpoint-url", moto_endpoint)
    assert proc.returncode == 2 and "exactly one of the two sides" in proc.stderr


def test_keys_that_would_escape_the_folder_are_never_followed(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    for key in ("p/../escape.txt", "p//double.txt", "p/ok.txt", "p/sub/../../up.txt"):
        s3.put_object(Bucket=B, Key=key, Body=b"x")
    dst, q = tmp_path / "work" / "dst", tmp_path / "q.sqlite3"
    proc, doc = sync(moto_endpoint, q, f"s3://{B}/p/", str(dst), "--delete")
    assert proc.returncode == 1 and doc["downloaded"] == 1 and doc["failed"] == 3
    assert "p/../escape.txt" in proc.stderr and "p//double.txt" in proc.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.txt")) == ["work/dst/ok.txt"]
    proc, doc = cli("check", str(dst), f"s3://{B}/p/", "--endpoint-url", moto_endpoint, "--json")
    assert proc.returncode == 1 and doc["same"] == 1
    assert sorted(p["path"] for p in doc["problems"]) == ["p/../escape.txt", "p//double.txt", "p/sub/../../up.txt"]


def test_check_exit_codes(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    src = tmp_path / "src"
    tree(src, {"a.csv": b"1234", "b/c.csv": b"x"})
    s3.put_object(Bucket=B, Key="c/a.csv", Body=b"1234")
    s3.put_object(Bucket=B, Key="c/b/c.csv", Body=b"x")
    common = ("--endpoint-url", moto_endpoint)
    proc, doc = cli("check", str(src), f"s3://{B}/c/", *common, "--json")
    assert proc.returncode == 0 and doc["identical"] and doc["same"] == 2 and doc["paths"]["same"] == ["a.csv", "b/c.csv"]
    proc, _ = cli("check", f"s3://{B}/c/", str(src), *common)  # either order
    assert proc.returncode == 0 and "2 compared: 2 same" in proc.stdout
    assert "a.csv" not in proc.stdout  # what is the same is counted, not listed (292 lines on every run)
    proc, _ = cli("check", f"s3://{B}/c/", str(src), *common, "--list-same")
    assert proc.returncode == 0 and "same (2):\n  a.csv\n  b/c.csv" in proc.stdout
    edit_keeping_size_and_mtime(src / "a.csv", b"4321")
    (src / "new.csv").write_bytes(b"n")
    proc, doc = cli("check", str(src), f"s3://{B}/c/", *common, "--json")
    assert proc.returncode == 1 and not doc["identical"]
    assert doc["paths"]["differ"] == [{"path": "a.csv", "reason": "content"}] and doc["paths"]["only_local"] == ["new.csv"]
    proc, _ = cli("check", str(src), f"s3://{B}/c/", *common)
    assert proc.returncode == 1 and "differ (1):\n  a.csv  (content)" in proc.stdout
    proc, _ = cli("check", str(src), f"s3://{B}/c/", *common, "--compare", "size", "--exclude", "new.csv")
    assert proc.returncode == 0  # size alone misses the edit
    proc, _ = cli("check", str(src), str(src), *common)
    assert proc.returncode == 2


def test_kill_9_mid_sync_then_queue_resume(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    slow_settings()  # 3 MB/s: a kill lands mid-sync
    src, q = tmp_path / "src", tmp_path / "q.sqlite3"
    files = {f"f{i}.bin": os.urandom(1_500_000) for i in range(8)}
    tree(src, files)
    s3.put_object(Bucket=B, Key="s/stale.bin", Body=b"to delete")
    proc = start_cli("sync", str(src), f"s3://{B}/s/", "--delete", "--endpoint-url", moto_endpoint,
                     "--queue", str(q))
    kill_9_when(proc, lambda: (row_of(str(q), "SELECT count(*) FROM jobs WHERE state = 'done'") or (0,))[0] >= 1,
                "one file of the sync uploaded")
    left = row_of(str(q), "SELECT count(*) FROM jobs WHERE state != 'done'")[0]
    assert left > 0, "the sync finished before the kill"
    assert "s/stale.bin" in remote(s3)  # deletes wait for every copy
    proc, doc = cli("queue", "resume", "--queue", str(q), "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(q) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    proc, doc = sync(moto_endpoint, q, str(src), f"s3://{B}/s/", "--delete")
    assert proc.returncode == 0, proc.stderr
    assert (doc["uploaded"], doc["deleted"], doc["same"]) == (0, 1, 8)  # nothing sent twice
    assert remote(s3) == {f"s/{k}": v for k, v in files.items()}
    start = time.monotonic()
    proc, doc = sync(moto_endpoint, q, str(src), f"s3://{B}/s/", "--delete")
    assert (doc["actions"], doc["uploaded"], doc["deleted"]) == ([], 0, 0) and time.monotonic() - start < 30


def test_the_listing_signs_its_own_requests_and_seaweedfs_checks_them(seaweedfs, tmp_path, monkeypatch):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="sync-signing")
    try:
        s3.put_object(Bucket="sync-signing", Key="a b/ü+x.csv", Body=b"1")
        (tmp_path / "ü+x.csv").write_bytes(b"1")
        args = ("check", str(tmp_path), "s3://sync-signing/a b/", "--endpoint-url", seaweedfs.endpoint_url)
        proc, _ = cli(*args)
        assert proc.returncode == 0, proc.stderr
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        proc, _ = cli(*args)
        assert proc.returncode == 1 and "lakegui-cli:" in proc.stderr  # refused, not "identical"
    finally:
        s3.delete_object(Bucket="sync-signing", Key="a b/ü+x.csv")
        s3.delete_bucket(Bucket="sync-signing")


NO_CHANGE_RUN = """
import sys
from lakegui.cli import main
code = main(sys.argv[1:])
heavy = ("boto3", "botocore", "s3transfer", "awscrt", "pyarrow", "pandas", "urllib3", "lakegui.core.transfers.store",
         "logging.handlers")
print(" ".join(m for m in heavy if m in sys.modules) or "none", file=sys.stderr)
sys.exit(code)
"""


def test_a_no_change_sync_imports_no_sdk_and_writes_nothing_to_the_queue(moto_endpoint, tmp_path):
    # Nothing to do is learned from one listing, the walk and the records: no boto3 client, no
    # queue module, and the queue database (which holds the records) is read, not written.
    import subprocess
    import sys

    from lakegui.core.sync.records import Record, Stat, save

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="sync-quiet")
    src, q = tmp_path / "src", tmp_path / "queue.sqlite3"
    files = {"a.csv": b"1", "d/b.csv": b"22"}
    tree(src, files)
    # As a finished sync leaves them: the objects, and the records of the files' stat and ETag.
    etags = {k: s3.put_object(Bucket="sync-quiet", Key=f"p/{k}", Body=v)["ETag"].strip('"') for k, v in files.items()}
    save(q, "sync-quiet", [Record(f"p/{k}", str(src / k), Stat.of(os.stat(src / k)), etags[k]) for k in files])
    args = ["sync", str(src), "s3://sync-quiet/p/", "--delete", "--endpoint-url", moto_endpoint, "--queue", str(q)]
    before = (q.stat().st_mtime_ns, q.read_bytes())
    proc = subprocess.run([sys.executable, "-c", NO_CHANGE_RUN, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "2 same" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "none"
    wal = tmp_path / "queue.sqlite3-wal"  # a reader of a WAL database may leave an empty one
    assert (q.stat().st_mtime_ns, q.read_bytes()) == before and (not wal.exists() or wal.stat().st_size == 0)
