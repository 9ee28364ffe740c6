"""Planning the window's rename, paste, drop and duplicate (core/transfers/reorganise.py): names,
refusals, and which targets exist, on moto in-process."""

from __future__ import annotations

import pytest

from lakegui.core.transfers import reorganise
from lakegui.core.transfers.jobs import Direction, OverwritePolicy
from lakegui.core.transfers.reorganise import (
    Source,
    duplicate_name,
    into_folder,
    name_problem,
    placement_problem,
    plan_placements,
    renamed,
)


def test_duplicate_names_count_up_and_keep_the_extension():
    assert duplicate_name("ticks.parquet", set()) == "ticks copy.parquet"
    assert duplicate_name("ticks.parquet", {"ticks copy.parquet"}) == "ticks copy 2.parquet"
    assert duplicate_name("ticks.parquet", {"ticks copy.parquet", "ticks copy 2.parquet"}) == "ticks copy 3.parquet"
    assert duplicate_name("README", set()) == "README copy"
    assert duplicate_name(".env", set()) == ".env copy"  # a dot file has no extension to keep
    assert duplicate_name("v1.2", {"v1.2 copy"}, folder=True) == "v1.2 copy 2"  # a folder's dots are its name


def test_rename_targets_and_bad_names():
    assert renamed(Source("a/b/x.json"), "y.json") == "a/b/y.json"
    assert renamed(Source("a/b/"), "c") == "a/c/"
    assert renamed(Source("top.txt"), "new name+%é.txt") == "new name+%é.txt"
    for bad, why in (("", "empty"), ("  ", "empty"), ("c/d", "cannot contain '/'"), ("..", "cannot be a name")):
        assert why in name_problem(bad)
        with pytest.raises(ValueError, match=why):
            renamed(Source("a/x"), bad)
    with pytest.raises(ValueError, match="is its name already"):
        renamed(Source("a/b/"), "b")
    with pytest.raises(ValueError, match="1,024 bytes"):
        renamed(Source("a/x"), "n" * 1100)


def test_placements_onto_themselves_or_inside_themselves_are_refused():
    sources = [Source("a/x.json"), Source("a/sub/")]
    assert "in s3://b/a/ already" in placement_problem("b", into_folder(sources, "a/"), "b")
    assert placement_problem("b", into_folder(sources, "a/"), "b2") is None  # another bucket
    assert placement_problem("b", into_folder(sources, "a/"), "b", same_connection=False) is None
    assert "cannot go inside itself" in placement_problem("b", into_folder(sources, "a/sub/deeper/"), "b")
    assert placement_problem("b", into_folder(sources, "c/"), "b") is None


def test_plan_finds_existing_targets_of_objects_and_folders(s3):
    s3.create_bucket(Bucket="bkt")
    for key in ("src/x.json", "src/y.json", "src/f/1", "src/f/2", "dst/x.json", "dst/f/2", "dst/other"):
        s3.put_object(Bucket="bkt", Key=key, Body=key.encode())
    sources = [Source("src/x.json"), Source("src/y.json", size=10, etag='"e"', listed=True), Source("src/f/")]
    plan = plan_placements(s3, s3, "bkt", into_folder(sources, "dst/"), s3, s3, "bkt")
    assert sorted((it.src_key, it.key) for it in plan.items) == [
        ("src/f/1", "dst/f/1"), ("src/f/2", "dst/f/2"), ("src/x.json", "dst/x.json"), ("src/y.json", "dst/y.json")]
    assert sorted(it.key for it in plan.conflicts) == ["dst/f/2", "dst/x.json"]
    listed = next(it for it in plan.items if it.key == "dst/y.json")
    assert (listed.size, listed.etag) == (10, '"e"')  # the listing's, not HEADed
    jobs = plan.jobs("bkt", "bkt", move=True, policy=OverwritePolicy.SKIP)
    assert {j.direction for j in jobs} == {Direction.MOVE} and {j.policy for j in jobs} == {OverwritePolicy.SKIP}


def test_many_objects_are_checked_by_one_listing_not_a_head_each(s3, monkeypatch):
    s3.create_bucket(Bucket="bkt")
    monkeypatch.setattr(reorganise, "HEAD_AT_MOST", 2)
    for i in range(5):
        s3.put_object(Bucket="bkt", Key=f"src/{i}", Body=b"x")
    s3.put_object(Bucket="bkt", Key="dst/3", Body=b"y")
    heads = []
    s3.meta.events.register("before-call.s3.HeadObject", lambda **kw: heads.append(kw))
    sources = [Source(f"src/{i}", 1, '"x"', listed=True) for i in range(5)]
    plan = plan_placements(s3, s3, "bkt", into_folder(sources, "dst/"), s3, s3, "bkt")
    assert [it.key for it in plan.conflicts] == ["dst/3"]
    assert heads == []
