"""Comparing a local folder with an S3 prefix, path by path.

What the prefix holds is learned from one paginated listing, run in a thread while the folder is
walked, never from a HEAD per file. Content is compared by ETag, not by time stamps: a single-part
ETag is the body's MD5; a multipart one is rebuilt with the part size the object was written with
(its part count is in the ETag, so only sizes that give that count are tried, and where several
fit, one HEAD of part 1 names it). A file our own sync recorded with the same size, mtime, ctime
and inode is known without hashing.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue

from ..listing import PrefixLister
from ..transfers.localpaths import UnsafeKey, download_target
from . import records as sync_records
from .pages import list_rows
from .records import Record, Stat

SAME, DIFFER, ONLY_LOCAL, ONLY_REMOTE = "same", "differ", "only-local", "only-remote"
STATUSES = (SAME, DIFFER, ONLY_LOCAL, ONLY_REMOTE)
CONTENT, SIZE, MTIME = "content", "size", "mtime"
MODES = (CONTENT, SIZE, MTIME)
MIB = 1024 * 1024
# Part sizes other tools write with: s3transfer/aws cli 8 MiB, rclone and minio 5 and 16 MiB,
# s5cmd 50 MiB, and a few round ones. Only those giving the ETag's part count are tried.
COMMON_PART_SIZES = (8 * MIB, 5 * MIB, 16 * MIB, 10 * MIB, 15 * MIB, 50 * MIB, 64 * MIB, 100 * MIB, 128 * MIB)
# Our downloads' temp files (localpaths.temp_path_for): a sync must never upload or delete one.
_TEMP = re.compile(r"^\..*\.lakegui-\d+\.part$")


# While the listing's thread waits on the server, this thread walks the folder and reads the records:
# each page that arrives waits for the GIL until the walk lets go of it, by default every 5 ms, and
# a page needs it several times (reads, parsing). 1 ms made a no-change sync of 10,000 files about
# a sixth quicker under load (medians of 12 interleaved runs: 0.79 s at 5 ms, 0.67 s at 1 ms).
SWITCH_INTERVAL = 0.001
_switch_lock = threading.Lock()
_switch_depth = 0
_switch_was = 0.005


@contextmanager
def quick_switches():
    """Python's thread switch interval at SWITCH_INTERVAL while the block runs (nested and
    concurrent uses share it; the interval found before the first comes back after the last)."""
    global _switch_depth, _switch_was
    with _switch_lock:
        if _switch_depth == 0:
            _switch_was = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_was, SWITCH_INTERVAL))
        _switch_depth += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_depth -= 1
            if _switch_depth == 0:
                sys.setswitchinterval(_switch_was)


@dataclass(slots=True)  # not frozen: frozen ones cost three times as much to make, by the ten thousand
class LocalFile:
    path: str
    stat: Stat


@dataclass(slots=True)
class RemoteObject:
    key: str
    size: int
    etag: str
    modified: float  # LastModified, seconds since the epoch (0 when the server gave none)


@dataclass(slots=True)
class Entry:
    """One relative path and what the two sides hold there."""

    relative: str
    status: str
    reason: str = ""  # for differ: size, content or mtime; for same: how it was known
    local: LocalFile | None = None
    remote: RemoteObject | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A local file that cannot be read, or a key that cannot be a local path: reported, never followed."""

    path: str
    reason: str
    side: str  # "local" or "remote"


@dataclass
class Comparison:
    root: Path
    bucket: str
    prefix: str
    mode: str
    entries: list[Entry]
    problems: list[Problem] = field(default_factory=list)
    listed: int = 0  # objects the listing returned
    hashed: int = 0  # files whose content had to be read
    _index: dict | None = field(default=None, repr=False, compare=False)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for e in self.entries:
            out[e.status] += 1
        return out

    def of(self, status: str) -> list[Entry]:
        return [e for e in self.entries if e.status == status]

    @property
    def identical(self) -> bool:
        return not self.problems and all(e.status == SAME for e in self.entries)

    def key_of(self, relative: str) -> str:
        return self.prefix + relative

    def entry(self, relative: str) -> Entry | None:
        if self._index is None or len(self._index) != len(self.entries):
            self._index = {e.relative: e for e in self.entries}
        return self._index.get(relative)


class Filters:
    """--exclude / --include globs, in the order given, the last one matching a path deciding it
    (as `aws s3 sync`: `--exclude '*' --include '*.csv'`). A glob's `*` crosses '/'. The same
    filters are applied to local relative paths and to keys below the prefix."""

    def __init__(self, rules: Iterable[tuple[str, str]] = ()):
        self.rules = [(kind == "include", re.compile(fnmatch.translate(glob))) for kind, glob in rules]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def included(self, relative: str) -> bool:
        keep = True
        for include, pattern in self.rules:
            if pattern.match(relative):
                keep = include
        return keep


def walk_folder(root: Path | str, filters: Filters | None = None) -> tuple[dict[str, LocalFile], list[Problem]]:
    """{relative posix path: LocalFile} of the regular files under `root`, and what cannot be read.
    Symlinked folders are not followed (no loops); scandir and plain strings, for speed."""
    files: dict[str, LocalFile] = {}
    problems: list[Problem] = []
    stack = [(str(root), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            problems.append(Problem(folder, exc.strerror or str(exc), "local"))
            continue
        for entry in entries:
            relative = rel + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, relative + "/"))
                    continue
                if entry.name[0] == "." and _TEMP.match(entry.name):
                    continue
                if filters and not filters.included(relative):
                    continue
                st = entry.stat()
            except OSError as exc:
                problems.append(Problem(entry.path, exc.strerror or str(exc), "local"))
                continue
            if not stat.S_ISREG(st.st_mode):
                what = "is a symbolic link to a folder (not followed)" if stat.S_ISDIR(st.st_mode) \
                    else "is not a regular file"
                problems.append(Problem(entry.path, what, "local"))
                continue
            if not relative.isascii():
                try:
                    relative.encode("utf-8")
                except UnicodeEncodeError:  # os.fsdecode's surrogates: bytes that are no UTF-8
                    problems.append(Problem(entry.path, "its name is not valid UTF-8, so it cannot be a key",
                                            "local"))
                    continue
            files[relative] = LocalFile(entry.path, Stat.of(st))
    return files, problems


def list_prefix(client, bucket: str, prefix: str, filters: Filters | None = None, *, raw: bool = False,
                verify: bool = True, stop: threading.Event | None = None,
                sink: Callable[[dict[str, RemoteObject]], None] | None = None) -> tuple[dict[str, RemoteObject], int]:
    """{relative path: RemoteObject} under `prefix` (folder markers left out), and how many
    objects were listed. `client` may be a callable that makes it (then made in this thread).
    `sink` is given each page's part of the result as soon as that page is parsed."""
    if callable(client) and not hasattr(client, "generate_presigned_url"):
        client = client()
    out: dict[str, RemoteObject] = {}
    listed = 0
    cut = len(prefix)
    for rows in _row_pages(client, bucket, prefix, raw, verify):
        part: dict[str, RemoteObject] = {}
        for key, size, etag, modified in rows:
            listed += 1
            relative = key[cut:]
            if not relative or (relative.endswith("/") and size == 0):
                continue  # the prefix itself, or a folder marker: its folder shows through its children
            if filters and not filters.included(relative):
                continue
            part[relative] = RemoteObject(key, size, etag, modified)
        out.update(part)
        if sink is not None:
            sink(part)
        if stop is not None and stop.is_set():
            break
    return out, listed


def _row_pages(client, bucket: str, prefix: str, raw: bool, verify) -> Iterator[list[tuple[str, int, str, float]]]:
    """The listing's pages as (key, size, etag, modified) rows: read from the XML by core/sync/pages
    on the raw path (the sync's own parse, half of ElementTree's time), else from PrefixLister."""
    if raw and hasattr(client, "generate_presigned_url"):
        yield from list_rows(client, bucket, prefix, verify)
        return
    for page in PrefixLister(client, bucket, prefix, recursive=True, raw=raw, verify=verify):
        yield [(o.key, o.size, o.etag, o.last_modified.timestamp() if o.last_modified else 0.0) for o in page.objects]


def part_sizes(size: int, parts: int, chunksize: int) -> list[int]:
    """Part sizes that split `size` bytes into exactly `parts` parts: ours (parts.py's, then
    s3transfer's rules), the common ones, and the MiB-rounded size the part count implies."""
    from s3transfer.utils import ChunksizeAdjuster  # botocore's weight: only when something is hashed

    from ..transfers.tuning import upload_part_size  # parts.py's, per file size

    candidates = [upload_part_size(size, chunksize), ChunksizeAdjuster().adjust_chunksize(chunksize, size),
                  *COMMON_PART_SIZES]
    if parts > 0:
        implied = -(-size // parts)
        candidates += [-(-implied // MIB) * MIB, implied]
    return [c for c in dict.fromkeys(candidates) if c > 0 and -(-size // c) == parts]


def same_content(path: str, size: int, etag: str, chunksize: int,
                 first_part_size: Callable[[], int | None] | None = None) -> bool | None:
    """Whether the file holds the content of an object of `size` bytes and `etag`; None when the
    ETag is not an MD5 form (SSE-KMS, some servers) and so cannot tell. `first_part_size` asks
    the server the size of a multipart object's part 1 (a HEAD), when the part count leaves more
    than one part size possible or the only one did not match."""
    from ..transfers import etags

    etag = etag.strip('"').lower()
    if etags._PLAIN.match(etag):
        return etags.md5_etag(path) == etag
    m = etags._MULTI.match(etag)
    if not m:
        return None
    parts = int(m.group(1))
    candidates = part_sizes(size, parts, chunksize)
    tried = set()
    if len(candidates) == 1 or (candidates and first_part_size is None):
        for c in candidates:
            tried.add(c)
            if etags.md5_etag(path, c) == etag:
                return True
    if first_part_size is not None:
        told = first_part_size()
        if told and told not in tried and -(-size // told) == parts:
            return etags.md5_etag(path, told) == etag
        if not told:  # the server would not say: every candidate, then
            return any(etags.md5_etag(path, c) == etag for c in candidates if c not in tried)
    return False


def _head_part_size(client, bucket: str, key: str) -> Callable[[], int | None]:
    def ask() -> int | None:
        s3 = client() if callable(client) and not hasattr(client, "head_object") else client
        try:
            return int(s3.head_object(Bucket=bucket, Key=key, PartNumber=1)["ContentLength"])
        except Exception:  # a server without part HEADs: fall back to trying the candidates
            return None
    return ask


def remote_problem(root: Path, key: str, prefix: str) -> str:
    """Why `key` cannot be a file under `root` ('' when it can)."""
    try:
        download_target(root, key, prefix)
    except UnsafeKey as exc:
        return str(exc)
    return ""


def compare_folder(client, bucket: str, prefix: str, root: Path | str, *, mode: str = CONTENT,
                   source: str = "local", filters: Filters | None = None,
                   known: dict[tuple[str, str], tuple] | Callable[[], dict] | None = None,
                   chunksize: int = 10 * MIB,
                   raw: bool = False, verify: bool = True, hash_workers: int = 4,
                   missing_ok: bool = False, lister=None, on_work: Callable[[], None] | None = None) -> Comparison:
    """Class every relative path under `root` and under s3://bucket/prefix.

    `mode`: content (size, then ETag; the default), size (size only) or mtime (size, then the
    source side newer than the destination, as `aws s3 sync` decides; `source` is "local" or
    "remote"). `known`: records.load() of earlier syncs (or a callable that loads them while the
    listing runs), sparing the hashing of files unchanged since. `lister` lists instead of `client`
    (Connection.listing_client's presigner, or a callable making one in the listing's thread,
    where its making overlaps the walk); `client` may be a callable too, called only if a HEAD is needed.
    `raw`/`verify`: PrefixLister's fast listing path and its TLS check. With `missing_ok`
    a folder that does not exist yet (a download's destination) compares as empty. `on_work` is
    called once, in this thread, when a page first shows a path that is not the same on both
    sides (or must be hashed to tell), while the listing goes on: a sync readies its copies then."""
    if mode not in MODES:
        raise ValueError(f"--compare is one of {', '.join(MODES)}, not {mode!r}")
    root = Path(os.path.abspath(root))  # records name files by absolute path
    exists = root.is_dir()
    if not exists and not (missing_ok and not root.exists()):
        raise ValueError(f"{root} is not a folder")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    entries: list[Entry] = []
    to_hash: list[tuple[str, LocalFile, RemoteObject]] = []
    hashed: list = []  # futures of the hashing, started while the listing still runs
    hashers: list[ThreadPoolExecutor] = []
    pages: SimpleQueue = SimpleQueue()

    def check(item):
        relative, f, obj = item
        multipart = "-" in obj.etag
        try:
            same = same_content(f.path, obj.size, obj.etag, chunksize,
                                _head_part_size(client, bucket, obj.key) if multipart else None)
        except OSError as exc:
            return None, Problem(f.path, exc.strerror or str(exc), "local")
        if same:
            return Entry(relative, SAME, "etag", f, obj), None
        # An ETag that is no MD5 (SSE-KMS) cannot vouch for the file: it counts as changed content.
        return Entry(relative, DIFFER, CONTENT, f, obj), None

    def hash_later(item) -> None:
        to_hash.append(item)
        if hash_workers <= 1:
            return
        if not hashers:
            # hashlib lets go of the GIL on large updates, so a few threads read and hash in parallel,
            # beside the listing: a file found changed on the first page is hashed while the rest arrive.
            hashers.append(ThreadPoolExecutor(hash_workers, thread_name_prefix="sync-hash"))
        hashed.append(hashers[0].submit(check, item))

    def listing():
        try:
            return list_prefix(lister or client, bucket, prefix, filters, raw=raw, verify=verify, sink=pages.put)
        finally:
            pages.put(None)  # the end of the pages, whether the listing finished or failed

    def classify(part: dict[str, RemoteObject]) -> None:
        before = (len(entries), len(to_hash))
        _classify(part)
        if on_work is not None and not worked and (len(to_hash) > before[1] or any(
                e.status != SAME for e in entries[before[0]:])):
            worked.append(True)
            on_work()

    worked: list[bool] = []

    def _classify(part: dict[str, RemoteObject]) -> None:
        for relative, obj in part.items():
            f = local.get(relative)
            if f is None:
                # A key whose path the walk did not produce: never followed unless it is a plain path.
                why = remote_problem(root, obj.key, prefix)
                if why:
                    problems.append(Problem(obj.key, why, "remote"))
                else:
                    entries.append(Entry(relative, ONLY_REMOTE, remote=obj))
                continue
            st = f.stat
            if st.size != obj.size:
                entries.append(Entry(relative, DIFFER, SIZE, f, obj))
            elif mode == SIZE:
                entries.append(Entry(relative, SAME, SIZE, f, obj))
            elif mode == MTIME:
                # LastModified has whole seconds: compare at that resolution.
                local_s, remote_s = st.mtime_ns // 1_000_000_000, int(obj.modified)
                newer = local_s > remote_s if source == "local" else remote_s > local_s
                entries.append(Entry(relative, DIFFER if newer else SAME, MTIME, f, obj))
            else:
                rec = known.get((obj.key, f.path))
                if rec is not None and rec[0] == st and rec[1] == obj.etag:
                    entries.append(Entry(relative, SAME, "recorded", f, obj))
                else:
                    hash_later((relative, f, obj))

    try:
        with quick_switches(), ThreadPoolExecutor(1, thread_name_prefix="sync-listing") as pool:
            listed_future = pool.submit(listing)
            known = (known() if callable(known) else known) or {}
            local, problems = walk_folder(root, filters) if exists else ({}, [])
            # Each page is classed as it arrives (those that came during the walk first), so little
            # is left to do once the last one is in.
            classified = 0
            while (part := pages.get()) is not None:
                classify(part)
                classified += len(part)
            remote, listed = listed_future.result()
        if not classified and remote:  # a listing that gave its pages to no sink
            classify(remote)
        results = [f.result() for f in hashed] if hashers else [check(i) for i in to_hash]
    finally:
        for hasher in hashers:
            hasher.shutdown(cancel_futures=True)
    for relative, f in local.items():
        if relative not in remote:
            key = prefix + relative
            if len(key.encode("utf-8")) > 1024:
                problems.append(Problem(f.path, "its key would be longer than S3's 1,024 bytes", "local"))
            else:
                entries.append(Entry(relative, ONLY_LOCAL, local=f))

    if to_hash:
        for entry, problem in results:
            if entry is not None:
                entries.append(entry)
            else:
                problems.append(problem)
    entries.sort(key=lambda e: e.relative)
    return Comparison(root, bucket, prefix, mode, entries, problems, listed, len(to_hash))


def records_of_same(cmp: Comparison) -> list[Record]:
    """Records for files whose content was just found equal by hashing: the next run needs none."""
    return [Record(e.remote.key, e.local.path, e.local.stat, e.remote.etag)
            for e in cmp.entries if e.status == SAME and e.reason == "etag"]


load_records = sync_records.load


def compare_with(connection, direction: str, local: Path | str, bucket: str, prefix: str, *, mode: str = CONTENT,
                 filters: Filters | None = None, queue_path: Path | str | None = None, chunksize: int = 10 * MIB,
                 missing_ok: bool = False, on_work: Callable[[], None] | None = None) -> Comparison:
    """compare_folder over a Connection, with the records kept in the queue at `queue_path` (the
    default queue when None) and the listing's fast path where the profile allows it.
    `direction` "upload" makes the local side the source (it matters to --compare mtime)."""
    from ..gcpause import gc_paused

    def known() -> dict:  # called while the listing runs, so the queue's module is imported meanwhile
        if mode != CONTENT:
            return {}
        if queue_path is None:
            from ..transfers.store import default_queue_path
        return sync_records.load(queue_path or default_queue_path(), bucket, prefix, os.path.abspath(local))

    with gc_paused():  # tens of thousands of fresh entries and no cycles among them (see gcpause)
        return compare_folder(connection.client, bucket, prefix, local, mode=mode,
                              source="local" if direction == "upload" else "remote", filters=filters, known=known,
                              chunksize=chunksize, raw=connection.profile.raw_listing,
                              verify=connection.profile.verify_tls, missing_ok=missing_ok,
                              lister=connection.listing_client, on_work=on_work)
