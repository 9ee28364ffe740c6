"""Planning the window's reorganising (rename, cut/copy and paste, drag onto a folder,
duplicate) as copy and move jobs of the queue.

Each action is a list of placements: a source (an object's key, or a folder prefix ending in
'/') and where it goes (a key, or a prefix for a folder). A folder is planned by copy.py's
plan_copy, every key under it to the same relative key under the target; an object listed in
the browser needs no HEAD, its size, ETag and class are the listing's. What already exists at
the targets is found here once per plan, so the window can ask about it once for the batch.
No Qt: the browser asks these, off its thread, then enqueues copy_jobs().
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..listing import PrefixLister, parent_prefix
from .copy import CopyItem, copy_jobs, mark_absent_targets, plan_copy
from .jobs import OverwritePolicy
from .store import NewJob

HEAD_AT_MOST = 20  # object targets checked by HEAD each; more are checked by listing their folder


@dataclass(frozen=True)
class Source:
    """What is placed: an object's key, or a folder prefix (ending in '/'). `listed` says that size,
    ETag and class come from a listing (else the object is HEADed when planned)."""

    key: str
    size: int = 0
    etag: str = ""
    storage_class: str = ""
    listed: bool = False

    @property
    def folder(self) -> bool:
        return self.key.endswith("/")

    @property
    def name(self) -> str:
        """The last part of the key, without a folder's '/'."""
        return (self.key[:-1] if self.folder else self.key).rsplit("/", 1)[-1]


@dataclass
class ReorganisePlan:
    """The objects to copy (or move), and those whose target exists already."""

    items: list[CopyItem] = field(default_factory=list)
    conflicts: list[CopyItem] = field(default_factory=list)

    def jobs(self, src_bucket: str, bucket: str, *, move: bool, policy: OverwritePolicy,
             source_profile: dict | None = None) -> list[NewJob]:
        return copy_jobs(self.items, src_bucket, bucket, move=move, policy=policy, source_profile=source_profile)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an object's or folder's new name, or None."""
    if not name.strip():
        return "The name is empty."
    if "/" in name:
        return "A name cannot contain '/': to put it in another folder, cut and paste it or drag it there."
    if name in (".", ".."):
        return f"'{name}' cannot be a name (some servers refuse it in a key)."
    return None


def renamed(source: Source, name: str) -> str:
    """The key (or a folder's prefix) `source` gets when renamed to `name` in its folder."""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    if name == source.name:
        raise ValueError(f"'{name}' is its name already: type another.")
    target = parent_prefix(source.key) + name + ("/" if source.folder else "")
    if len(target.encode("utf-8")) > 1024:
        raise ValueError("The new key would be longer than S3's 1,024 bytes.")
    return target


def duplicate_name(name: str, taken, *, folder: bool = False) -> str:
    """'name copy', then 'name copy 2', 'name copy 3', ... the first not in `taken` (names in the same
    folder). A file keeps its extension last ('ticks copy.parquet'), so it still opens as one."""
    stem, ext = name, ""
    if not folder and "." in name.lstrip("."):
        cut = name.rfind(".")
        stem, ext = name[:cut], name[cut:]
    n = 1
    while True:
        candidate = f"{stem} copy{'' if n == 1 else f' {n}'}{ext}"
        if candidate not in taken:
            return candidate
        n += 1


def into_folder(sources: list[Source], prefix: str) -> list[tuple[Source, str]]:
    """Each source placed under `prefix` with its own name (a paste, a drop)."""
    return [(s, prefix + s.name + ("/" if s.folder else "")) for s in sources]


def placement_problem(src_bucket: str, placements: list[tuple[Source, str]], bucket: str, *,
                      same_connection: bool = True) -> str | None:
    """Why the placements cannot be done at all, or None: every source already where it would go,
    or a folder put inside itself."""
    if not placements:
        return "Nothing to place."
    same_bucket = same_connection and src_bucket == bucket
    if same_bucket and all(s.key == target for s, target in placements):
        where = parent_prefix(placements[0][1])
        return (f"{'They are' if len(placements) > 1 else 'It is'} in s3://{bucket}/{where} already: "
                "paste into another folder, or use Duplicate for a copy here.")
    if same_bucket:
        for s, target in placements:
            if s.folder and target != s.key and target.startswith(s.key):
                return f"s3://{bucket}/{s.key} cannot go inside itself (s3://{bucket}/{target})."
    return None


def plan_placements(client, listing_client, src_bucket: str, placements: list[tuple[Source, str]],
                    target_client, target_listing_client, bucket: str, *, same_connection: bool = True,
                    raw: bool = False, verify: bool = True) -> ReorganisePlan:
    """Every object the placements copy, and which targets exist (asked once per folder).

    Placements whose source is its own target (a paste of several items where some are already
    there) are left out. `client`/`listing_client` read the source bucket; `target_*` the target."""
    items: list[CopyItem] = []
    folders: list[list[CopyItem]] = []
    singles: list[CopyItem] = []
    for source, target in placements:
        if same_connection and src_bucket == bucket and source.key == target:
            continue
        if source.folder:
            planned = plan_copy(None, src_bucket, source.key, target, listing_client=listing_client,
                                raw=raw, verify=verify)
            folders.append(planned)
            items += planned
            continue
        if source.listed:
            planned = [CopyItem(source.key, target, source.size, source.etag, source.storage_class)]
        else:
            planned = plan_copy(client, src_bucket, source.key, target)
        singles += planned
        items += planned
    absent: dict[tuple[str, str], bool] = {}
    for group in folders:
        for it in mark_absent_targets(target_listing_client, bucket, group, raw=raw, verify=verify):
            absent[(it.src_key, it.key)] = it.target_absent
    present = _present_keys(target_client, target_listing_client, bucket, [it.key for it in singles],
                            raw=raw, verify=verify)
    for it in singles:
        absent[(it.src_key, it.key)] = it.key not in present
    items = [replace(it, target_absent=absent.get((it.src_key, it.key), False)) for it in items]
    return ReorganisePlan(items, [it for it in items if not it.target_absent])


def _present_keys(client, listing_client, bucket: str, keys: list[str], *, raw: bool, verify: bool) -> set[str]:
    """Which of `keys` exist: a HEAD each for a few, else one delimited listing per folder."""
    if not keys:
        return set()
    if len(keys) <= HEAD_AT_MOST:
        present = set()
        for key in keys:
            try:
                client.head_object(Bucket=bucket, Key=key)
            except Exception as exc:
                if not any(code in str(exc) for code in ("404", "NoSuchKey", "Not Found", "NotFound")):
                    raise
                continue
            present.add(key)
        return present
    wanted = set(keys)
    present = set()
    for folder in sorted({parent_prefix(k) for k in keys}):
        lister = PrefixLister(listing_client, bucket, folder, raw=raw, verify=verify)
        present |= {o.key for page in lister for o in page.objects if o.key in wanted}
    return present
