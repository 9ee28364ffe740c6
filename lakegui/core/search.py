"""Search by name below a prefix: one recursive listing, filtered page by page.

Each `next_page()` is one blocking list call, so a caller (a GUI coroutine running it in an
executor, or a CLI loop) streams matches as they arrive and can stop between any two pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .listing import ObjectEntry, PrefixLister


@dataclass
class SearchPage:
    matches: list[ObjectEntry] = field(default_factory=list)
    keys_seen: int = 0  # keys listed so far, this page included
    done: bool = False


class NameSearch:
    """Objects under `prefix` whose path below it contains `text`, case-insensitively.

    The path below the prefix is matched, not just the last name, so a folder's name finds
    everything in it (`AAPL` finds `AAPL/2024/ticks.parquet`). Folder markers are left out."""

    def __init__(self, client, bucket: str, prefix: str, text: str, *, raw: bool = False, verify: bool = True,
                 page_size: int = 1000):
        self.bucket = bucket
        self.prefix = prefix
        self.text = text.strip().casefold()
        self._lister = PrefixLister(client, bucket, prefix, recursive=True, raw=raw, verify=verify,
                                    page_size=page_size)
        self.keys_seen = 0
        self.matches = 0

    @property
    def done(self) -> bool:
        return self._lister.done

    def next_page(self) -> SearchPage:
        """List the next page (blocking) and return its matches; `done` once the listing is complete."""
        page = self._lister.next_page()
        if page is None:
            return SearchPage([], self.keys_seen, True)
        self.keys_seen += len(page.objects)
        n = len(self.prefix)
        found = [o for o in page.objects
                 if not (o.key.endswith("/") and o.size == 0) and self.text in o.key[n:].casefold()]
        self.matches += len(found)
        return SearchPage(found, self.keys_seen, self._lister.done)
