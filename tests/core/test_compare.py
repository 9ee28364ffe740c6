"""Compare in core (issue 21.1): one listing classes every path; content by ETag (single-part and
multipart), records of our own syncs spare hashing unless size, mtime, ctime or inode moved;
filters on both sides; keys that cannot be paths are reported; the sync plan and its delete cap."""

from __future__ import annotations

import os

import pytest
from boto3.s3.transfer import TransferConfig

from lakegui.core.sync import records
from lakegui.core.sync.compare import (
    DIFFER,
    ONLY_LOCAL,
    ONLY_REMOTE,
    SAME,
    Filters,
    compare_folder,
    part_sizes,
    records_of_same,
)
from lakegui.core.sync.plan import DOWNLOAD, UPLOAD, DeleteCapExceeded, check_delete_cap, jobs_for, plan_sync
from lakegui.core.transfers.jobs import Direction, OverwritePolicy

B = "compare-test"
MIB = 1024 * 1024


@pytest.fixture
def s3b(s3):
    s3.create_bucket(Bucket=B)
    return s3


def calls(client, op: str) -> list:
    seen = []
    client.meta.events.register(f"provide-client-params.s3.{op}", lambda **kw: seen.append(kw.get("params")))
    return seen


def tree(root, files: dict[str, bytes]):
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)


def test_classes_each_path_with_one_listing_and_no_head(s3b, tmp_path):
    tree(tmp_path, {"same.csv": b"a,b\n1,2\n", "sub/size.csv": b"12345", "sub/content.csv": b"AAAA",
                    "local-only.csv": b"x"})
    for key, body in {"same.csv": b"a,b\n1,2\n", "sub/size.csv": b"123", "sub/content.csv": b"BBBB",
                      "remote-only.csv": b"y", "sub/": b""}.items():
        s3b.put_object(Bucket=B, Key=f"p/{key}", Body=body)
    heads, lists = calls(s3b, "HeadObject"), calls(s3b, "ListObjectsV2")
    cmp = compare_folder(s3b, B, "p", tmp_path)
    got = {e.relative: (e.status, e.reason) for e in cmp.entries}
    assert got == {"same.csv": (SAME, "etag"), "sub/size.csv": (DIFFER, "size"),
                   "sub/content.csv": (DIFFER, "content"), "local-only.csv": (ONLY_LOCAL, ""),
                   "remote-only.csv": (ONLY_REMOTE, "")}  # the folder marker p/sub/ is no path
    assert cmp.counts() == {SAME: 1, DIFFER: 2, ONLY_LOCAL: 1, ONLY_REMOTE: 1}
    assert not cmp.identical and heads == [] and len(lists) == 1


def test_a_same_size_edit_with_mtime_restored_is_found_although_recorded(s3b, tmp_path):
    body = os.urandom(4000)
    tree(tmp_path, {"f.bin": body, "g.bin": body[:100]})
    s3b.put_object(Bucket=B, Key="f.bin", Body=body)
    s3b.put_object(Bucket=B, Key="g.bin", Body=body[:100])
    db = tmp_path.parent / "queue.sqlite3"
    first = compare_folder(s3b, B, "", tmp_path)
    assert first.identical and first.hashed == 2
    records.save(db, B, records_of_same(first))
    again = compare_folder(s3b, B, "", tmp_path, known=records.load(db, B))
    assert again.identical and again.hashed == 0  # the records spared the hashing
    assert {e.reason for e in again.entries} == {"recorded"}

    f = tmp_path / "f.bin"
    st = f.stat()
    f.write_bytes(bytes(reversed(body)))  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime: only ctime tells
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    edited = compare_folder(s3b, B, "", tmp_path, known=records.load(db, B))
    assert {e.relative: (e.status, e.reason) for e in edited.entries} == {
        "f.bin": (DIFFER, "content"), "g.bin": (SAME, "recorded")}
    assert edited.hashed == 1
    # Size-only and time-stamp comparisons miss that edit, as peers do.
    assert compare_folder(s3b, B, "", tmp_path, mode="size").identical
    assert compare_folder(s3b, B, "", tmp_path, mode="mtime").identical
    later = st.st_mtime + 10
    os.utime(f, (later, later))  # now newer than the object
    assert compare_folder(s3b, B, "", tmp_path, mode="mtime").of(DIFFER)[0].reason == "mtime"


def test_records_of_another_path_or_bucket_do_not_count(s3b, tmp_path):
    tree(tmp_path, {"a.bin": b"hello"})
    s3b.put_object(Bucket=B, Key="a.bin", Body=b"hello")
    db = tmp_path.parent / "q.sqlite3"
    cmp = compare_folder(s3b, B, "", tmp_path)
    rec = records_of_same(cmp)[0]
    records.save(db, "other-bucket", [rec])
    assert records.load(db, B) == {}
    assert records.load(tmp_path.parent / "missing.sqlite3", B) == {}
    assert not (tmp_path.parent / "missing.sqlite3").exists()
    records.save(db, B, [records.Record(rec.key, "/elsewhere/a.bin", rec.stat, rec.etag)])
    assert compare_folder(s3b, B, "", tmp_path, known=records.load(db, B)).hashed == 1
    records.forget(db, B, [(rec.key, "/elsewhere/a.bin")])
    assert records.load(db, B) == {}


def test_multipart_etag_rebuilt_with_the_part_size_it_was_written_with(s3b, tmp_path):
    body = os.urandom(11 * MIB)
    tree(tmp_path, {"big.bin": body, "other.bin": body[:-1] + bytes([body[-1] ^ 1])})
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3b.upload_file(str(tmp_path / "big.bin"), B, "big.bin", Config=cfg)
    s3b.upload_file(str(tmp_path / "big.bin"), B, "other.bin", Config=cfg)
    etag = s3b.head_object(Bucket=B, Key="big.bin")["ETag"].strip('"')
    assert etag.endswith("-3")
    assert 5 * MIB in part_sizes(11 * MIB, 3, 10 * MIB) and 10 * MIB not in part_sizes(11 * MIB, 3, 10 * MIB)
    heads = calls(s3b, "HeadObject")
    cmp = compare_folder(s3b, B, "", tmp_path, chunksize=10 * MIB)
    got = {e.relative: (e.status, e.reason) for e in cmp.entries}
    assert got == {"big.bin": (SAME, "etag"), "other.bin": (DIFFER, "content")}
    # Several part sizes give 3 parts of 11 MiB, so one HEAD of part 1 per multipart object.
    assert sorted(h["Key"] for h in heads) == ["big.bin", "other.bin"]
    assert all(h["PartNumber"] == 1 for h in heads)


def test_filters_apply_to_both_sides_last_match_wins(s3b, tmp_path):
    tree(tmp_path, {"a.csv": b"1", "b.tmp": b"2", "logs/x.log": b"3", "logs/keep.csv": b"4"})
    for key in ("c.tmp", "logs/y.log"):
        s3b.put_object(Bucket=B, Key=key, Body=b"z")
    f = Filters([("exclude", "*.tmp"), ("exclude", "logs/*"), ("include", "logs/*.csv")])
    assert [f.included(p) for p in ("a.csv", "b.tmp", "d/e.tmp", "logs/x.log", "logs/keep.csv")] == \
        [True, False, False, False, True]
    cmp = compare_folder(s3b, B, "", tmp_path, filters=f)
    assert {e.relative: e.status for e in cmp.entries} == {"a.csv": ONLY_LOCAL, "logs/keep.csv": ONLY_LOCAL}


def test_keys_that_cannot_be_paths_are_reported_never_followed(s3b, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", root / "link")
    for key in ("p/../escape.txt", "p//double.txt", "p/a/./b.txt", "p/link/through.txt", "p/ok.txt"):
        s3b.put_object(Bucket=B, Key=key, Body=b"x")
    cmp = compare_folder(s3b, B, "p/", root)
    assert [e.relative for e in cmp.entries] == ["ok.txt"]
    remote = sorted((p.path, p.reason) for p in cmp.problems if p.side == "remote")
    assert [k for k, _ in remote] == ["p/../escape.txt", "p//double.txt", "p/a/./b.txt", "p/link/through.txt"]
    assert "outside" in remote[0][1] and "symbolic link" in remote[3][1]
    assert [(p.path, p.reason) for p in cmp.problems if p.side == "local"] == [
        (str(root / "link"), "is a symbolic link to a folder (not followed)")]
    assert not (tmp_path / "escape.txt").exists()
    down = plan_sync(cmp, DOWNLOAD)
    assert [a.key for a in down.copies] == ["p/ok.txt"] and len(down.problems) == 4
    up = plan_sync(cmp, UPLOAD)
    assert [p.side for p in up.problems] == ["local"]  # unsafe keys do not keep an upload from being in sync
    assert len(plan_sync(cmp, UPLOAD, delete=True).problems) == 5  # but with --delete they would stay behind


def test_sync_plan_both_directions_and_the_delete_cap(s3b, tmp_path):
    tree(tmp_path, {"new.csv": b"n", "both.csv": b"AAA"})
    s3b.put_object(Bucket=B, Key="d/both.csv", Body=b"BBB")
    s3b.put_object(Bucket=B, Key="d/gone.csv", Body=b"g")
    cmp = compare_folder(s3b, B, "d", tmp_path)
    up = plan_sync(cmp, UPLOAD, delete=True)
    assert [(a.action, a.key, a.reason) for a in up.actions] == [
        ("upload", "d/both.csv", "content"), ("upload", "d/new.csv", "only-local"), ("delete", "d/gone.csv", "only-remote")]
    jobs = jobs_for(up)
    assert [(j.direction, j.key, j.policy) for j in jobs] == [(Direction.UPLOAD, "d/both.csv", OverwritePolicy.OVERWRITE),
                                                              (Direction.UPLOAD, "d/new.csv", OverwritePolicy.OVERWRITE)]
    down = plan_sync(cmp, DOWNLOAD, delete=True)
    assert [(a.action, a.path, a.reason) for a in down.actions] == [
        ("download", str(tmp_path / "both.csv"), "content"), ("download", str(tmp_path / "gone.csv"), "only-remote"),
        ("delete", str(tmp_path / "new.csv"), "only-local")]
    assert jobs_for(down)[1].etag == s3b.head_object(Bucket=B, Key="d/gone.csv")["ETag"].strip('"')
    check_delete_cap(down, 1)
    with pytest.raises(DeleteCapExceeded, match="would delete 1 local file, more than --max-delete 0"):
        check_delete_cap(down, 0)
    check_delete_cap(down, 0, accept_any=True)
    assert plan_sync(cmp, UPLOAD).deletes == []


def test_a_delete_under_what_the_source_could_not_show_is_held(s3b, tmp_path, monkeypatch):
    """A review's finding: with a source subfolder unreadable (or a symlink to a folder, not followed),
    sync --delete deleted that subfolder's objects, though the files were there. They are held, each
    named as a problem; deletes elsewhere go on."""
    for k in ("p/top.csv", "p/gone.csv", "p/sub/a.csv", "p/sub/b.csv", "p/link/c.csv", "p/subway.csv"):
        s3b.put_object(Bucket=B, Key=k, Body=b"x")
    tree(tmp_path, {"top.csv": b"x", "sub/a.csv": b"x", "elsewhere/c.csv": b"x"})
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    real = os.scandir

    def scandir(path):
        if os.path.basename(str(path)) == "sub":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    cmp = compare_folder(s3b, B, "p/", tmp_path, filters=Filters([("exclude", "elsewhere/*")]))
    plan = plan_sync(cmp, UPLOAD, delete=True)
    assert sorted(a.key for a in plan.deletes) == ["p/gone.csv", "p/subway.csv"]
    held = sorted(p.path for p in plan.problems if p.reason.startswith("not deleted: "))
    assert held == ["p/link/c.csv", "p/sub/a.csv", "p/sub/b.csv"]
    assert "Permission denied" in next(p.reason for p in plan.problems if p.path == "p/sub/a.csv")
