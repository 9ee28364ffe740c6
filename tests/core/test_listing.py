import pytest

from lakegui.core.listing import PrefixLister, parent_prefix, parse_s3_uri

WEIRD = ["a b/c.txt", "plus+sign.txt", "pct%2Fname.txt", "ünïcødé/ß.parquet", "emoji-📈.csv",
         "double//slash.txt", "trailing space ", "dir-marker/"]


@pytest.fixture
def bucket(s3):
    s3.create_bucket(Bucket="lake")
    for i in range(5):
        s3.put_object(Bucket="lake", Key=f"data/ticks/daily/SYM{i}/2024/ticks.parquet", Body=b"x" * i)
    s3.put_object(Bucket="lake", Key="data/readme.txt", Body=b"hello")
    return s3


def test_delimited_listing_pages(bucket):
    lister = PrefixLister(bucket, "lake", "data/ticks/daily/", page_size=2)
    pages = list(lister)
    assert len(pages) == 3 and pages[-1].is_last and not pages[0].is_last
    assert [p.prefix for page in pages for p in page.prefixes] == [f"data/ticks/daily/SYM{i}/" for i in range(5)]
    assert lister.next_page() is None


def test_folders_and_objects_at_one_level(bucket):
    (page,) = list(PrefixLister(bucket, "lake", "data/"))
    assert [p.prefix for p in page.prefixes] == ["data/ticks/"]
    (obj,) = page.objects
    assert obj.key == "data/readme.txt" and obj.size == 5 and obj.etag and obj.storage_class == "STANDARD"
    assert obj.name("data/") == "readme.txt"
    assert obj.to_json()["last_modified"]


def test_recursive_lists_every_object(bucket):
    keys = [o.key for page in PrefixLister(bucket, "lake", "data/", recursive=True) for o in page.objects]
    assert len(keys) == 6 and all(k.startswith("data/") for k in keys)


def test_weird_keys_round_trip(s3):
    s3.create_bucket(Bucket="odd")
    for k in WEIRD:
        s3.put_object(Bucket="odd", Key=k, Body=k.encode())
    keys = {o.key for page in PrefixLister(s3, "odd", recursive=True) for o in page.objects}
    assert keys == set(WEIRD)
    for k in keys:  # what the listing gives can be fetched back exactly
        assert s3.get_object(Bucket="odd", Key=k)["Body"].read() == k.encode()


def test_uri_and_parent_helpers():
    assert parse_s3_uri("s3://b/a/b/") == ("b", "a/b/")
    assert parse_s3_uri("s3://b") == ("b", "")
    with pytest.raises(ValueError, match="must start with s3://"):
        parse_s3_uri("https://b/x")
    with pytest.raises(ValueError, match="names no bucket"):
        parse_s3_uri("s3:///x")
    assert parent_prefix("a/b/") == "a/" and parent_prefix("a/") == "" and parent_prefix("") == ""


def test_gc_pause_nests_and_restores():
    import gc

    from lakegui.core.gcpause import gc_paused

    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer listing still streams
    assert gc.isenabled()
    try:
        with gc_paused():
            raise RuntimeError("a failed listing")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_gc_pause_keeps_what_was_frozen_on_purpose():
    """A listing's end files its entries with the oldest generation by freeze+unfreeze; the
    unfreeze used to thaw what the process had frozen itself (the test suite's heap, a worker's
    imports), so every later full collection walked all of it again."""
    import gc

    from lakegui.core.gcpause import gc_paused

    was = gc.get_freeze_count()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            entries = [[str(i)] for i in range(1000)]
        assert gc.get_freeze_count() >= frozen + len(entries)  # nothing thawed; the entries filed
    finally:
        if not was:
            gc.unfreeze()
