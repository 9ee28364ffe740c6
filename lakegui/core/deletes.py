"""Deleting at scale: DeleteObjects in batches of 1,000, a few batches in parallel, with the
count known up front, progress as batches end, and every key's failure reported."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

BATCH = 1000  # S3's limit per DeleteObjects request
THREADS = 4


@dataclass
class DeleteReport:
    requested: int = 0
    deleted: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, why)


def keys_to_delete(client, bucket: str, target: str, *, recursive: bool, raw: bool = False,
                   verify: bool = True) -> list[str]:
    """What `rm s3://B/TARGET` deletes: the one key, or with `recursive` every key under the
    prefix TARGET (a prefix ends in '/': 'data/2024/' never reaches 'data/2024-old/')."""
    from .listing import PrefixLister

    if not recursive:
        return [target]
    prefix = target if not target or target.endswith("/") else target + "/"
    lister = PrefixLister(client, bucket, prefix, recursive=True, raw=raw, verify=verify)
    return [o.key for page in lister for o in page.objects]


def delete_many(client, bucket: str, keys: Iterable[str], *, threads: int = THREADS, batch: int = BATCH,
                on_progress: Callable[[int, int], None] | None = None) -> DeleteReport:
    """Delete `keys` with DeleteObjects, `batch` keys a request and `threads` requests at once.
    `on_progress(done, total)` is called (from worker threads) as each batch ends. A batch whose
    request fails reports each of its keys with the reason; nothing is swallowed."""
    from .errors import classify

    keys = list(keys)
    report = DeleteReport(requested=len(keys))
    lock = threading.Lock()
    done = [0]

    def one(chunk: list[str]) -> None:
        try:
            resp = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk],
                                                                "Quiet": False})
            deleted = [d["Key"] for d in resp.get("Deleted", [])]
            errors = [(e.get("Key", ""), f"{e.get('Code', '')}: {e.get('Message', '')}".strip(": "))
                      for e in resp.get("Errors", [])]
        except Exception as exc:
            deleted, errors = [], [(k, classify(exc, bucket=bucket, key=k).message) for k in chunk]
        with lock:
            report.deleted += deleted
            report.failures += errors
            done[0] += len(chunk)
            n = done[0]
        if on_progress:
            on_progress(n, len(keys))

    chunks = [keys[i:i + batch] for i in range(0, len(keys), batch)]
    if len(chunks) <= 1:
        for c in chunks:
            one(c)
    else:
        with ThreadPoolExecutor(max(1, min(threads, len(chunks))), thread_name_prefix="lakegui-delete") as pool:
            list(pool.map(one, chunks))
    return report
