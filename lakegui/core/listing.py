"""Paginated listing of a bucket: folders (common prefixes) and objects, page by page.

Pages are fetched one blocking call at a time, so a caller (a CLI loop or a
GUI coroutine running each call in an executor) can stop between any two pages.
Keys are kept exactly as stored: botocore asks for URL-encoded keys and decodes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator


@dataclass(frozen=True, slots=True)
class PrefixEntry:
    """A folder: a common prefix ending in the delimiter."""

    prefix: str

    def name(self, parent: str) -> str:
        return self.prefix[len(parent):] if self.prefix.startswith(parent) else self.prefix


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    key: str
    size: int
    last_modified: datetime | None
    etag: str
    storage_class: str

    def name(self, parent: str) -> str:
        return self.key[len(parent):] if self.key.startswith(parent) else self.key

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "size": self.size,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "etag": self.etag,
            "storage_class": self.storage_class,
        }


@dataclass
class ListingPage:
    number: int
    prefixes: list[PrefixEntry] = field(default_factory=list)
    objects: list[ObjectEntry] = field(default_factory=list)
    is_last: bool = False


def _object(item: dict) -> ObjectEntry:
    return ObjectEntry(
        key=item["Key"],
        size=int(item.get("Size", 0)),
        last_modified=item.get("LastModified"),
        etag=str(item.get("ETag", "")).strip('"'),
        storage_class=item.get("StorageClass", "STANDARD"),
    )


class PrefixLister:
    """Lists one prefix of a bucket with `list_objects_v2`, one page per call.

    With `recursive=False` the listing uses Delimiter='/' and yields folders and
    the objects directly in the prefix; with `recursive=True` it yields every
    object under the prefix.
    """

    def __init__(self, client, bucket: str, prefix: str = "", *, recursive: bool = False,
                 page_size: int = 1000):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.recursive = recursive
        self.page_size = page_size
        self._token: str | None = None
        self._pages = 0
        self.done = False

    def next_page(self) -> ListingPage | None:
        """Fetch the next page (blocking); None once the listing is complete."""
        if self.done:
            return None
        kwargs = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": self.page_size}
        if not self.recursive:
            kwargs["Delimiter"] = "/"
        if self._token:
            kwargs["ContinuationToken"] = self._token
        resp = self.client.list_objects_v2(**kwargs)
        self._pages += 1
        self._token = resp.get("NextContinuationToken")
        # A truncated page without a token would loop forever on a buggy server.
        self.done = not (resp.get("IsTruncated") and self._token)
        return ListingPage(
            number=self._pages,
            prefixes=[PrefixEntry(p["Prefix"]) for p in resp.get("CommonPrefixes", [])],
            objects=[_object(o) for o in resp.get("Contents", [])],
            is_last=self.done,
        )

    def __iter__(self) -> Iterator[ListingPage]:
        while (page := self.next_page()) is not None:
            yield page


def parent_prefix(prefix: str) -> str:
    """The folder above `prefix` ('a/b/' -> 'a/'; 'a/' -> '')."""
    trimmed = prefix[:-1] if prefix.endswith("/") else prefix
    cut = trimmed.rfind("/")
    return trimmed[: cut + 1] if cut >= 0 else ""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split 's3://bucket/prefix' into (bucket, prefix); raise ValueError with a clear message."""
    if not uri.startswith("s3://"):
        raise ValueError(f"'{uri}' is not an S3 URI: it must start with s3://")
    rest = uri[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"'{uri}' names no bucket")
    return bucket, key
