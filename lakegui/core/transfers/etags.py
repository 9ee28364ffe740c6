"""S3 ETags computed locally, to verify uploads and to tell whether a file is already there.

S3's ETag of a single PUT is the MD5 of the body; of a multipart upload, the MD5 of the
parts' MD5 digests followed by "-N". Servers with SSE-KMS (or other schemes) return
other values; those cannot be compared and say so (None), rather than "different".
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

MIB = 1024 * 1024
_PLAIN = re.compile(r"^[0-9a-f]{32}$")
_MULTI = re.compile(r"^[0-9a-f]{32}-(\d+)$")
_READ = 1024 * 1024


def md5_etag(path: Path | str, part_size: int | None = None) -> str:
    """The ETag S3 gives `path` uploaded whole (part_size None) or in parts of `part_size`."""
    whole = hashlib.md5(usedforsecurity=False)
    digests: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            if part_size is None:
                whole.update(chunk)
                continue
            view = memoryview(chunk)
            while view:
                take = min(len(view), part_size - in_part)
                part.update(view[:take])
                in_part += take
                view = view[take:]
                if in_part == part_size:
                    digests.append(part.digest())
                    part, in_part = hashlib.md5(usedforsecurity=False), 0
    if part_size is None:
        return whole.hexdigest()
    if in_part or not digests:
        digests.append(part.digest())
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def upload_etag(path: Path | str, size: int, threshold: int, chunksize: int) -> str:
    """The ETag our own upload of `path` gets (s3transfer's part size rules)."""
    if size < threshold:
        return md5_etag(path)
    return md5_etag(path, s3transfer_part_size(chunksize, size))


def s3transfer_part_size(chunksize: int, size: int) -> int:
    """The part size s3transfer uploads `size` bytes in, asked for `chunksize` (within S3's limits)."""
    from s3transfer.utils import ChunksizeAdjuster  # loads botocore (~0.15 s): only when a part size is needed

    return ChunksizeAdjuster().adjust_chunksize(chunksize, size)


def comparable(etag: str) -> bool:
    return bool(_PLAIN.match(etag) or _MULTI.match(etag))


def same_content(path: Path | str, size: int, etag: str, chunksize: int) -> bool | None:
    """Whether the local file has the content of an object of `size` and `etag`.
    None when the ETag is not an MD5 form and so cannot tell."""
    etag = etag.strip('"').lower()
    if Path(path).stat().st_size != size:
        return False
    if _PLAIN.match(etag):
        return md5_etag(path) == etag
    m = _MULTI.match(etag)
    if not m:
        return None
    parts = int(m.group(1))
    # Try our own part sizes (parts.py's, tuning.py; the native and s3transfer engines'), then the
    # MiB-rounded size the part count implies (other tools).
    from .tuning import upload_part_size

    candidates = [upload_part_size(size, chunksize), s3transfer_part_size(chunksize, size)]
    if parts > 0:
        implied = -(-size // parts)
        candidates.append(-(-implied // MIB) * MIB)
    for part_size in dict.fromkeys(candidates):
        if -(-size // part_size) == parts and md5_etag(path, part_size) == etag:
            return True
    return False
