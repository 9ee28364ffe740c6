"""What our own syncs left on disk: per (bucket, key, local path) the file's size, mtime, ctime and
inode as they were when its content was known to equal the object's ETag.

A file whose four stat fields still match needs no hashing: size and mtime alone are not enough,
since an edit can put both back (os.utime), but the kernel moves ctime on every change and no
user call can set it. The table lives in the queue's database file, beside the jobs (whose
records of uploads keep only size and mtime), in a table of its own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

_TABLE = """
CREATE TABLE IF NOT EXISTS sync_files (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    local_path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    etag TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (bucket, key, local_path)
) WITHOUT ROWID
"""


class Stat(NamedTuple):
    """The stat fields a record matches on (a tuple: tens of thousands are made and compared)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, st) -> Stat:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass(frozen=True, slots=True)
class Record:
    key: str
    local_path: str
    stat: Stat
    etag: str


def load(db_path: Path | str, bucket: str, prefix: str = "",
         local_root: Path | str = "") -> dict[tuple[str, str], tuple[tuple, str]]:
    """{(key, local_path): ((size, mtime_ns, ctime_ns, inode), etag)} under `prefix` of `bucket`
    (plain tuples, equal to a Stat of the same fields), and with `local_root` only the files under
    that folder (records of other folders synced with the same prefix are never asked for). Read-only:
    a missing database or table is an empty record, and nothing is created."""
    path = Path(db_path)
    if not path.exists():
        return {}
    query = ("SELECT key, local_path, size, mtime_ns, ctime_ns, inode, etag FROM sync_files "
             "WHERE bucket = ? AND substr(key, 1, ?) = ?")
    params: list = [bucket, len(prefix), prefix]
    if prefix and ord(prefix[-1]) < 0x10FFFF:
        # The same keys as a range of the primary key (bucket, key), so SQLite reads only those rows:
        # UTF-8 sorts as code points, so every key starting with `prefix` sorts below its successor.
        query += " AND key >= ? AND key < ?"
        params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    if local_root:
        folder = str(local_root).rstrip("/") + "/"
        query += " AND substr(local_path, 1, ?) = ?"
        params += [len(folder), folder]
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return {}
    try:
        rows = db.execute(query, params).fetchall()
    except sqlite3.Error:  # no table yet (no sync ran against this queue), or an unreadable file
        return {}
    finally:
        db.close()
    return {(k, p): ((s, m, c, i), e) for k, p, s, m, c, i, e in rows}


def _open(db_path: Path | str) -> sqlite3.Connection:
    path = Path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")  # as the queue itself: readers never wait on us
    db.execute(_TABLE)
    return db


def save(db_path: Path | str, bucket: str, records: Iterable[Record]) -> int:
    """Write (or replace) records in one transaction; returns how many."""
    now = time.time()
    rows = [(bucket, r.key, r.local_path, r.stat.size, r.stat.mtime_ns, r.stat.ctime_ns, r.stat.inode, r.etag, now)
            for r in records]
    if not rows:
        return 0
    db = _open(db_path)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR REPLACE INTO sync_files(bucket, key, local_path, size, mtime_ns, ctime_ns, inode, "
                       "etag, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    finally:
        db.close()
    return len(rows)


def forget(db_path: Path | str, bucket: str, pairs: Iterable[tuple[str, str]]) -> None:
    """Drop the records of (key, local_path) pairs that a sync deleted on either side."""
    rows = [(bucket, k, p) for k, p in pairs]
    if not rows or not Path(db_path).exists():
        return
    db = _open(db_path)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("DELETE FROM sync_files WHERE bucket = ? AND key = ? AND local_path = ?", rows)
        db.execute("COMMIT")
    finally:
        db.close()
