"""Downloads never write outside the chosen folder; folders expand into upload keys."""

from __future__ import annotations

import os

import pytest

from lakegui.core.transfers.localpaths import UnsafeKey, collect_uploads, download_target, temp_path_for

HOSTILE = ["../escape.txt", "a/../../escape.txt", "..", ".", "a/./b", "..\\escape.txt", "a\\..\\..\\x",
           "/etc/passwd", "\\windows\\x", "C:/Windows/x", "c:evil", "a//b", "dir/", "nul\x00byte",
           "x" * 300]


@pytest.mark.parametrize("key", HOSTILE)
def test_hostile_keys_are_refused(tmp_path, key):
    with pytest.raises(UnsafeKey):
        download_target(tmp_path / "dest", key)


@pytest.mark.parametrize("key", ["with space.txt", "plus+sign.csv", "100%.json", "ünïcødé/📈.parquet",
                                 "trailing space ", "a..b/c..d.txt", "...dots"])
def test_odd_but_safe_keys_map_inside(tmp_path, key):
    target = download_target(tmp_path, key)
    assert os.path.commonpath([tmp_path, target]) == str(tmp_path)
    assert target.relative_to(tmp_path).as_posix() == key


def test_prefix_is_stripped(tmp_path):
    assert download_target(tmp_path, "data/ticks/AAPL/2024/t.parquet", "data/ticks/") == \
        tmp_path / "AAPL" / "2024" / "t.parquet"


def test_symlink_inside_destination_cannot_lead_out(tmp_path):
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "link").symlink_to(outside)
    with pytest.raises(UnsafeKey, match="symbolic link"):
        download_target(dest, "link/file.txt")


def test_temp_path_is_beside_target_and_hidden(tmp_path):
    t = temp_path_for(tmp_path / "a.parquet", 7)
    assert t.parent == tmp_path and t.name.startswith(".a.parquet") and t.name.endswith(".part")


def test_collect_single_file_and_folder(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.parquet").write_bytes(b"a")
    (src / "sub" / "b.json").write_bytes(b"{}")
    (src / "empty.bin").write_bytes(b"")
    files, skipped = collect_uploads([src], "lake/")
    assert sorted(f.key for f in files) == ["lake/a.parquet", "lake/empty.bin", "lake/sub/b.json"]
    assert skipped == []
    files, _ = collect_uploads([src], "lake", keep_folder_name=True)
    assert "lake/src/sub/b.json" in {f.key for f in files}
    files, _ = collect_uploads([src / "a.parquet"], "lake/renamed.parquet")
    assert [f.key for f in files] == ["lake/renamed.parquet"]
    files, _ = collect_uploads([src / "a.parquet"], "lake/")
    assert [f.key for f in files] == ["lake/a.parquet"]


def test_symlink_loop_is_not_followed_and_missing_is_reported(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.txt").write_text("x")
    (src / "loop").symlink_to(src)
    files, skipped = collect_uploads([src, tmp_path / "gone"], "")
    assert [f.key for f in files] == ["f.txt"]
    reasons = {os.path.basename(s.path): s.reason for s in skipped}
    assert "not followed" in reasons["loop"] and reasons["gone"] == "does not exist"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_reported(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    secret = src / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    files, skipped = collect_uploads([src], "")
    assert files == [] and "Permission denied" in skipped[0].reason
