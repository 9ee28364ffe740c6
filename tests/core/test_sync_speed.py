"""core/sync/compare.quick_switches: the comparison's walk lets the listing's thread have the GIL
every millisecond, not every 5, and gives back whatever interval it found."""

from __future__ import annotations

import sys
import threading

from lakegui.core.sync import compare


def test_quick_switches_nest_and_restore():
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.004)
        with compare.quick_switches():
            assert sys.getswitchinterval() == compare.SWITCH_INTERVAL
            with compare.quick_switches():
                assert sys.getswitchinterval() == compare.SWITCH_INTERVAL
            assert sys.getswitchinterval() == compare.SWITCH_INTERVAL  # the outer block still runs
        assert sys.getswitchinterval() == 0.004
    finally:
        sys.setswitchinterval(before)


def test_overlapping_uses_from_two_threads_restore_the_first_interval():
    before = sys.getswitchinterval()
    entered, leave = threading.Event(), threading.Event()

    def other():
        with compare.quick_switches():
            entered.set()
            leave.wait(10)

    try:
        sys.setswitchinterval(0.004)
        t = threading.Thread(target=other)
        t.start()
        assert entered.wait(10)
        with compare.quick_switches():
            pass
        assert sys.getswitchinterval() == compare.SWITCH_INTERVAL  # the other thread's block goes on
        leave.set()
        t.join(10)
        assert sys.getswitchinterval() == 0.004
    finally:
        leave.set()
        sys.setswitchinterval(before)


def test_the_comparison_runs_with_quick_switches(tmp_path, monkeypatch):
    seen = []

    def lister(*args, **kwargs):
        seen.append(sys.getswitchinterval())
        return {}, 0

    monkeypatch.setattr(compare, "list_prefix", lister)
    (tmp_path / "a.txt").write_text("a")
    before = sys.getswitchinterval()
    cmp = compare.compare_folder(None, "bkt", "p/", tmp_path)
    assert seen == [compare.SWITCH_INTERVAL] and sys.getswitchinterval() == before
    assert [(e.relative, e.status) for e in cmp.entries] == [("a.txt", compare.ONLY_LOCAL)]


def test_records_load_only_the_prefix_and_the_folder_asked_for(tmp_path):
    from lakegui.core.sync.records import Record, Stat, load, save

    db = tmp_path / "q.sqlite3"
    st = Stat(1, 2, 3, 4)
    save(db, "bkt", [Record(k, f"{root}/{k}", st, "e") for root in ("/data/a", "/data/ab")
                     for k in ("up/x", "up/\U0010ffff", "up0", "uq/x", "u")])
    save(db, "other", [Record("up/x", "/data/a/up/x", st, "e")])
    assert set(load(db, "bkt", "up/", "/data/a")) == {("up/x", "/data/a/up/x"), ("up/\U0010ffff", "/data/a/up/\U0010ffff")}
    assert len(load(db, "bkt", "up/")) == 4 and len(load(db, "bkt", "", "/data/ab/")) == 5
    assert len(load(db, "bkt", "u\U0010ffff")) == 0 and len(load(db, "bkt")) == 10
    assert load(db, "bkt", "up/x", "/data/a")[("up/x", "/data/a/up/x")] == ((1, 2, 3, 4), "e")


def test_pages_are_classed_while_the_listing_still_runs(tmp_path, monkeypatch):
    # Each page is classed as it arrives, so little is left once the last one is in: here the
    # listing waits, after its first page, until that page's only-remote key has been looked at.
    looked = threading.Event()
    real_problem = compare.remote_problem

    def remote_problem(root, key, prefix):
        looked.set()
        return real_problem(root, key, prefix)

    seen_while_listing = []

    def lister(client, bucket, prefix, filters=None, *, sink=None, **kwargs):
        first = {"r.txt": compare.RemoteObject(prefix + "r.txt", 1, "e", 0.0)}
        sink(first)
        seen_while_listing.append(looked.wait(10))
        return first, 1

    monkeypatch.setattr(compare, "remote_problem", remote_problem)
    monkeypatch.setattr(compare, "list_prefix", lister)
    (tmp_path / "a.txt").write_text("a")
    cmp = compare.compare_folder(None, "bkt", "p/", tmp_path)
    assert seen_while_listing == [True]
    assert [(e.relative, e.status) for e in cmp.entries] == [("a.txt", compare.ONLY_LOCAL), ("r.txt", compare.ONLY_REMOTE)]


def test_a_listing_that_gives_no_pages_is_classed_from_its_result(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "list_prefix", lambda *a, **k: ({"a.txt": compare.RemoteObject("p/a.txt", 1, "e", 0.0)}, 1))
    (tmp_path / "a.txt").write_text("ab")
    cmp = compare.compare_folder(None, "bkt", "p/", tmp_path)
    assert [(e.relative, e.status, e.reason) for e in cmp.entries] == [("a.txt", compare.DIFFER, compare.SIZE)]


def test_sync_freezes_the_collector_at_exit_once(monkeypatch):
    import atexit
    import gc

    from lakegui.cli import sync as cli_sync

    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(cli_sync, "_exit_hooked", False)
    cli_sync._quick_exit()
    cli_sync._quick_exit()
    assert registered == [gc.freeze]


def test_a_file_to_hash_is_hashed_while_the_listing_still_runs(tmp_path, monkeypatch):
    hashing = threading.Event()
    real_same = compare.same_content

    def same_content(*args, **kwargs):
        hashing.set()
        return real_same(*args, **kwargs)

    hashed_while_listing = []

    def lister(client, bucket, prefix, filters=None, *, sink=None, **kwargs):
        part = {"a.txt": compare.RemoteObject(prefix + "a.txt", 1, "0cc175b9c0f1b6a831c399e269772661", 0.0)}  # md5("a")
        sink(part)
        hashed_while_listing.append(hashing.wait(10))
        return part, 1

    monkeypatch.setattr(compare, "same_content", same_content)
    monkeypatch.setattr(compare, "list_prefix", lister)
    (tmp_path / "a.txt").write_text("a")
    cmp = compare.compare_folder(None, "bkt", "p/", tmp_path)
    assert hashed_while_listing == [True]
    assert [(e.relative, e.status, e.reason) for e in cmp.entries] == [("a.txt", compare.SAME, "etag")] and cmp.hashed == 1


def test_on_work_is_called_once_when_a_page_shows_something_to_do(tmp_path, monkeypatch):
    def lister(client, bucket, prefix, filters=None, *, sink=None, **kwargs):
        pages = [{"a.txt": compare.RemoteObject(prefix + "a.txt", 1, "e", 0.0),
                  "b.txt": compare.RemoteObject(prefix + "b.txt", 5, "e", 0.0)},
                 {"c.txt": compare.RemoteObject(prefix + "c.txt", 1, "e", 0.0)}]
        for page in pages:
            sink(page)
        return {k: v for page in pages for k, v in page.items()}, 3

    for name, body in (("a.txt", "a"), ("b.txt", "b")):
        (tmp_path / name).write_text(body)
    calls = []
    monkeypatch.setattr(compare, "list_prefix", lister)
    cmp = compare.compare_folder(None, "bkt", "p/", tmp_path, mode="size", on_work=lambda: calls.append("work"))
    assert calls == ["work"]  # a size change on page 1, an only-remote key on page 2: once
    assert [(e.relative, e.status) for e in cmp.entries] == [
        ("a.txt", compare.SAME), ("b.txt", compare.DIFFER), ("c.txt", compare.ONLY_REMOTE)]

    (tmp_path / "b.txt").write_text("bbbbb")
    (tmp_path / "c.txt").write_text("c")
    cmp = compare.compare_folder(None, "bkt", "p/", tmp_path, mode="size", on_work=lambda: calls.append("again"))
    assert cmp.identical and calls == ["work"]  # nothing to do: never called
