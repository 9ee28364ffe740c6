"""A Parquet footer from one suffix GET: the magic, the footer's length, the metadata.

Files of one layout have footers of about the same size, so a scan learns it from the first
file and asks every later file for just that much (plus a margin): a lake of small daily files
is then read for its footers without the column data around them. A footer longer than the
guess costs one more GET for the rest.
"""

from __future__ import annotations

import struct
import threading

MAGIC = b"PAR1"
TAIL = 8                 # footer length (4 bytes, little-endian) + magic
FIRST_GUESS = 64 * 1024  # before any footer of the layout was seen, at most this much...
FIRST_SHARE = 4          # ...and a quarter of the file: a second GET costs less than reading a small file whole
MARGIN = 1.03            # later guesses: the largest footer seen, and a little more
MIN_GUESS = 1024


class FooterError(Exception):
    """The object is not a Parquet file, or its footer is damaged; the message says how."""


class FooterSizer:
    """The suffix length to ask for, learned from the footers seen so far (thread-safe)."""

    def __init__(self, first: int = FIRST_GUESS, *, fixed: bool = False):
        self._guess = first
        self._seen = 0
        self.fixed = fixed
        self._lock = threading.Lock()

    @property
    def learned(self) -> bool:
        return self.fixed or self._seen > 0

    def guess(self, size: int) -> int:
        if self.learned:
            return self._guess
        return max(MIN_GUESS, min(self._guess, size // FIRST_SHARE))

    def observe(self, footer_bytes: int) -> None:
        if self.fixed:
            return
        with self._lock:
            want = max(MIN_GUESS, int(footer_bytes * MARGIN) + 256)
            self._guess = want if self._seen == 0 else max(self._guess, want)
            self._seen += 1


def read_metadata(source, sizer: FooterSizer | None = None):
    """The FileMetaData of the Parquet file behind `source` (a RangeFile, which must not have
    been read yet): one suffix GET, a second only when the footer is longer than asked for."""
    size = source.size
    if size < len(MAGIC) + TAIL:
        raise FooterError(f"is not a Parquet file: {size:,} bytes is too short for one")
    source.first_read = min(size, sizer.guess(size) if sizer is not None else FIRST_GUESS)
    tail = source.read_range(size - TAIL, size)
    if tail[4:] != MAGIC:
        raise FooterError("is not a Parquet file: it does not end in PAR1"
                          + (" (an encrypted Parquet file ends in PARE)" if tail[4:] == b"PARE" else ""))
    n = struct.unpack("<I", tail[:4])[0]
    if n + TAIL + len(MAGIC) > size:
        raise FooterError(f"has a damaged footer: it claims {n:,} bytes of a {size:,}-byte file")
    footer = source.read_range(size - TAIL - n, size)
    if sizer is not None:
        sizer.observe(n + TAIL)
    return parse_footer(footer)


def parse_footer(footer: bytes):
    """FileMetaData from a footer (its thrift bytes, length and magic), with pyarrow's low-level
    reader: ParquetFile's Python set-up costs as much again as the parse."""
    import pyarrow as pa
    from pyarrow._parquet import ParquetReader

    try:
        reader = ParquetReader()
        reader.open(pa.BufferReader(MAGIC + footer))
        return reader.metadata
    except (pa.ArrowException, OSError) as exc:
        raise FooterError(f"has a damaged footer ({exc})") from exc
