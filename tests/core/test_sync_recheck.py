"""A plan checked again before it runs (trial A of session 11, finding 1): every delete or replace of
an object that is no longer as it was compared is left alone and named; an empty source is seen."""

from __future__ import annotations

import os

import pytest

from lakegui.core.sync.compare import compare_folder
from lakegui.core.sync.plan import DOWNLOAD, UPLOAD, plan_sync, source_is_empty
from lakegui.core.sync.recheck import (
    CHANGED_LOCAL,
    CHANGED_REMOTE,
    GONE_REMOTE,
    WRITTEN_LOCAL,
    WRITTEN_REMOTE,
    describe_left,
    objects_now,
    still_as_compared,
)

B = "recheck"


@pytest.fixture
def lake(s3, tmp_path):
    s3.create_bucket(Bucket=B)
    for key, body in {"p/differ.csv": b"AAAA", "p/changed.csv": b"old!", "p/remote-only.csv": b"r",
                      "p/gone.csv": b"g", "p/removed.csv": b"x", "p/steady-only.csv": b"s"}.items():
        s3.put_object(Bucket=B, Key=key, Body=body)
    folder = tmp_path / "local"
    folder.mkdir()
    for name, body in {"differ.csv": b"BBBB", "changed.csv": b"new!", "removed.csv": b"yy",
                       "local-only.csv": b"l", "taken.csv": b"t"}.items():
        (folder / name).write_bytes(body)
    return s3, folder


@pytest.mark.parametrize("listed", [0, 50_000])  # one listing (one page), or a HEAD each (fewer keys than pages)
def test_a_mirror_leaves_alone_what_changed_in_the_lake_since_the_comparison(lake, listed):
    s3, folder = lake
    cmp = compare_folder(s3, B, "p/", folder)
    plan = plan_sync(cmp, UPLOAD, delete=True)
    assert {a.key for a in plan.deletes} == {"p/remote-only.csv", "p/gone.csv", "p/steady-only.csv"}
    # Written from elsewhere after the comparison:
    s3.put_object(Bucket=B, Key="p/remote-only.csv", Body=b"a newer version")  # would have been deleted
    s3.put_object(Bucket=B, Key="p/changed.csv", Body=b"theirs")  # would have been replaced
    s3.put_object(Bucket=B, Key="p/taken.csv", Body=b"someone else's")  # would have been overwritten
    s3.delete_object(Bucket=B, Key="p/removed.csv")  # would have been written back
    s3.delete_object(Bucket=B, Key="p/gone.csv")  # a delete already done
    keys = [a.key for a in plan.actions]
    now = objects_now(s3, B, "p/", keys, listed=listed)
    assert now["p/gone.csv"] is None and now["p/taken.csv"].size == len(b"someone else's")
    checked = still_as_compared(plan, now)
    assert sorted((a.key, why) for a, why in checked.left) == [
        ("p/changed.csv", CHANGED_REMOTE), ("p/remote-only.csv", CHANGED_REMOTE), ("p/removed.csv", GONE_REMOTE),
        ("p/taken.csv", WRITTEN_REMOTE)]
    assert [a.key for a in checked.gone] == ["p/gone.csv"]
    assert sorted(a.key for a in checked.plan.actions) == ["p/differ.csv", "p/local-only.csv", "p/steady-only.csv"]
    text = describe_left(checked.left, B, shown=2)
    assert text.startswith("4 left alone, changed in the lake since the comparison") and text.endswith("and 2 more")

    deletes_only = still_as_compared(plan, now, deletes_only=True)  # just before the deletes: copies ran
    assert [a.key for a, _ in deletes_only.left] == ["p/remote-only.csv"]
    assert len(deletes_only.plan.copies) == len(plan.copies)


def test_a_download_leaves_alone_a_local_file_changed_or_written_since(lake):
    s3, folder = lake
    cmp = compare_folder(s3, B, "p/", folder)
    plan = plan_sync(cmp, DOWNLOAD)
    (folder / "differ.csv").write_bytes(b"edited after the comparison")
    (folder / "remote-only.csv").write_bytes(b"written here since")
    checked = still_as_compared(plan, {})
    assert sorted((os.path.basename(a.path), why) for a, why in checked.left) == [
        ("differ.csv", CHANGED_LOCAL), ("remote-only.csv", WRITTEN_LOCAL)]
    assert "changed in the folder" in describe_left(checked.left, B)
    assert "p/changed.csv" in [a.key for a in checked.plan.copies]


def test_an_empty_source_is_seen_on_either_side(s3, tmp_path):
    s3.create_bucket(Bucket=B)
    s3.put_object(Bucket=B, Key="p/a.csv", Body=b"a")
    empty = tmp_path / "empty"
    empty.mkdir()
    cmp = compare_folder(s3, B, "p/", empty)
    assert source_is_empty(cmp, UPLOAD) and not source_is_empty(cmp, DOWNLOAD)
    (empty / "a.csv").write_bytes(b"a")
    cmp = compare_folder(s3, B, "typo/", empty)
    assert source_is_empty(cmp, DOWNLOAD) and not source_is_empty(cmp, UPLOAD)


def test_heads_the_credentials_refuse_fall_back_to_the_listing(s3):
    """A write-only credential's 403 on HEAD (or SSE-C's 400) made every check of a few keys fail."""
    from tests.support.clients import NoHead

    s3.create_bucket(Bucket="nohead-r")
    s3.put_object(Bucket="nohead-r", Key="p/a", Body=b"x")

    now = objects_now(NoHead(s3), "nohead-r", "p/", ["p/a", "p/b"], listed=5000)  # HEADs first
    assert now["p/b"] is None and now["p/a"].size == 1
