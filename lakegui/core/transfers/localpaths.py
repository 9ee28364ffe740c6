"""Local side of transfers: where a key may be written, and which files a folder holds.

A key is data from the server, so it is never trusted as a path: `..`, absolute
paths, drive letters and names a file system cannot hold are refused, and the
final path must resolve inside the chosen folder (symlinks included).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]:")
_WINDOWS_ILLEGAL = re.compile(r'[<>:"|?*\x00-\x1f]')
MAX_NAME_BYTES = 255


class UnsafeKey(ValueError):
    """A key that cannot be written under the destination folder; the message says why."""


def folder_in_the_way(target: Path | str) -> str:
    """Why a download cannot be saved: a folder holds its file's name (keys `a` and `a/b` under one
    prefix). No policy helps, so the planner and the engine say the same."""
    return f"{target} is a folder; the object cannot be saved under that name"


def file_in_the_way(target: Path | str) -> str:
    """Why a download's folder cannot be made: a file holds one of its folders' names (the raw
    error named the hidden temp file, or said only 'File exists'). '' when no file is in the way."""
    target = Path(target)
    for folder in reversed(target.parents):  # from the root down, to the first that is not a folder
        if not folder.is_dir():
            if not folder.exists():
                return ""
            return (f"{folder} is a file, so the folder {folder}{os.sep} cannot be made for {target}: "
                    "rename or move that file, then retry")
    return ""


def absolute(path: Path | str) -> Path:
    """`path` against the current folder, as it is meant now: what a queued job records, so that
    a resume from another folder (or the window, whose folder is its own) finds the same files.
    The user's names are kept: neither symlinks nor `..` are resolved (abspath's folding of
    `link/..` would name another folder than the kernel does)."""
    return Path(path).absolute()


def download_target(dest_dir: Path | str, key: str, prefix: str = "") -> Path:
    """The local path for `key` under `dest_dir`, keeping the key's path below `prefix`."""
    dest = Path(dest_dir)
    rel = key[len(prefix):] if prefix and key.startswith(prefix) else key
    if not rel or rel.endswith("/"):
        raise UnsafeKey(f"'{key}' is a folder marker, not a file")
    if rel.startswith(("/", "\\")) or _DRIVE.match(rel):
        raise UnsafeKey(f"'{key}' is an absolute path; it would be written outside {dest}")
    parts = rel.split("/")
    for part in parts:
        pieces = part.split("\\")
        if any(p in ("..", ".") for p in pieces) or part in ("..", "."):
            raise UnsafeKey(f"'{key}' contains '..' or '.'; it would be written outside {dest}")
        if part == "":
            raise UnsafeKey(f"'{key}' contains an empty folder name ('//'), which no local file system holds")
        if "\x00" in part:
            raise UnsafeKey(f"'{key}' contains a NUL character, which no local file system holds")
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise UnsafeKey(f"'{key}' has a name longer than {MAX_NAME_BYTES} bytes, which the file system "
                            "cannot hold")
        if os.name == "nt" and (_WINDOWS_ILLEGAL.search(part) or part.endswith((" ", "."))):
            raise UnsafeKey(f"'{key}' has characters Windows file names cannot hold")
    target = dest.joinpath(*parts)
    # A symlink inside the folder could still lead out of it.
    root = os.path.realpath(dest)
    real = os.path.realpath(target)
    if os.path.commonpath([root, real]) != root:
        raise UnsafeKey(f"'{key}' would be written outside {dest} (through a symbolic link)")
    return target


def temp_path_for(target: Path | str, job_id: int) -> Path:
    """Where a download is written before it is renamed; named by job so a crash can be cleaned up."""
    target = Path(target)
    return target.with_name(f".{target.name[:200]}.lakegui-{job_id}.part")


@dataclass(frozen=True)
class LocalFile:
    path: Path
    key: str
    size: int
    mtime: float


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def _relative_key(rel: Path) -> str:
    return "/".join(rel.parts)


def collect_uploads(sources: list[Path | str], prefix: str, *, keep_folder_name: bool = False
                    ) -> tuple[list[LocalFile], list[Skipped]]:
    """Files to upload from `sources` (files and folders) to keys under `prefix`.

    A single file goes to PREFIX/NAME (or exactly PREFIX when it does not end in '/').
    A folder's files keep their paths relative to it; with `keep_folder_name` (drag and
    drop) the folder's own name is kept too. Symlinked folders are not followed, so a
    loop cannot trap the walk; unreadable entries are reported, not dropped silently.
    """
    files: list[LocalFile] = []
    skipped: list[Skipped] = []
    base = prefix if (not prefix or prefix.endswith("/")) else prefix + "/"
    for source in map(Path, sources):
        try:
            st = source.stat()
        except FileNotFoundError:
            skipped.append(Skipped(str(source), "does not exist"))
            continue
        except OSError as exc:
            skipped.append(Skipped(str(source), exc.strerror or str(exc)))
            continue
        if stat.S_ISREG(st.st_mode):
            if len(sources) == 1 and prefix and not prefix.endswith("/") and not keep_folder_name:
                key = prefix
            else:
                key = base + source.name
            files.append(LocalFile(source, key, st.st_size, st.st_mtime))
            continue
        if not stat.S_ISDIR(st.st_mode):
            skipped.append(Skipped(str(source), "is not a regular file or folder"))
            continue
        top = base + (source.name + "/" if keep_folder_name else "")

        def on_error(exc: OSError) -> None:
            skipped.append(Skipped(str(exc.filename), f"cannot be read: {exc.strerror or exc}"))

        for folder, dirnames, filenames in os.walk(source, onerror=on_error, followlinks=False):
            folder_path = Path(folder)
            for d in list(dirnames):
                if (folder_path / d).is_symlink():
                    dirnames.remove(d)
                    skipped.append(Skipped(str(folder_path / d), "is a symbolic link to a folder (not followed)"))
            dirnames.sort()
            for name in sorted(filenames):
                path = folder_path / name
                try:
                    fst = path.stat()
                except OSError as exc:
                    skipped.append(Skipped(str(path), f"cannot be read: {exc.strerror or exc}"))
                    continue
                if not stat.S_ISREG(fst.st_mode):
                    skipped.append(Skipped(str(path), "is not a regular file"))
                    continue
                if not os.access(path, os.R_OK):
                    skipped.append(Skipped(str(path), "cannot be read: Permission denied"))
                    continue
                files.append(LocalFile(path, top + _relative_key(path.relative_to(source)), fst.st_size,
                                       fst.st_mtime))
    return files, skipped
