"""Search by name below a prefix (core/search.py): streamed page by page, counted, case-insensitive."""

from __future__ import annotations

from lakegui.core.search import NameSearch


def test_search_streams_matches_page_by_page_with_counts(s3):
    s3.create_bucket(Bucket="lake")
    keys = ["data/AAPL/2024/ticks.parquet", "data/aapl-notes.txt", "data/MSFT/2024/ticks.parquet",
            "data/AAPL/", "other/AAPL.csv"]
    for k in keys:
        s3.put_object(Bucket="lake", Key=k, Body=b"" if k.endswith("/") else b"x")
    search = NameSearch(s3, "lake", "data/", "aapl", page_size=2)
    pages = []
    while not search.done:
        pages.append(search.next_page())
    assert len(pages) == 2 and [p.keys_seen for p in pages] == [2, 4] and pages[-1].done
    found = [o.key for p in pages for o in p.matches]
    # below the prefix only, case-insensitive, the folder's marker left out
    assert sorted(found) == ["data/AAPL/2024/ticks.parquet", "data/aapl-notes.txt"]
    assert (search.matches, search.keys_seen) == (2, 4)
    assert search.next_page().matches == []  # after the end: nothing more, no error


def test_search_matches_the_path_below_the_prefix_not_the_prefix_itself(s3):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="ticks/daily/x.parquet", Body=b"x")
    assert NameSearch(s3, "lake", "ticks/", "ticks").next_page().matches == []
    assert [o.key for o in NameSearch(s3, "lake", "ticks/", "DAILY").next_page().matches] == ["ticks/daily/x.parquet"]
