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
MIN_PARQUET = len(MAGIC) + TAIL   # the leading magic and the tail: no Parquet file is shorter


class FooterError(Exception):
    """The object is not a Parquet file, or its footer is damaged; the message says how."""


def tail_problem(size: int, tail: bytes) -> str:
    """Why a `size`-byte object ending in `tail` (its last TAIL bytes, or more) cannot be a
    Parquet file, '' when its tail is a Parquet file's: one wording for query, schema and preview."""
    if size < MIN_PARQUET:
        return f"is not a Parquet file: {size:,} bytes is too short for one"
    if tail[-4:] != MAGIC:
        return ("is not a Parquet file: it does not end in PAR1"
                + (" (an encrypted Parquet file ends in PARE)" if tail[-4:] == b"PARE" else ""))
    n = struct.unpack("<I", tail[-TAIL:-4])[0]
    if n + TAIL + len(MAGIC) > size:
        return f"has a damaged footer: it claims {n:,} bytes of a {size:,}-byte file"
    return ""


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


def footer_start(tail: bytes, size: int) -> int | None:
    """Where the footer of a `size`-byte file starts, from its last 8 bytes; None when they are
    not a Parquet file's (read_metadata then says why)."""
    if len(tail) != TAIL or tail[4:] != MAGIC:
        return None
    n = struct.unpack("<I", tail[:4])[0]
    return size - TAIL - n if n + TAIL + len(MAGIC) <= size else None


def read_metadata(source, sizer: FooterSizer | None = None):
    """The FileMetaData of the Parquet file behind `source` (a RangeFile, which must not have
    been read yet): one suffix GET, a second only when the footer is longer than asked for."""
    size = source.size
    if size < MIN_PARQUET:
        raise FooterError(tail_problem(size, b""))
    source.first_read = min(size, sizer.guess(size) if sizer is not None else FIRST_GUESS)
    tail = source.read_range(size - TAIL, size)
    if problem := tail_problem(size, tail):
        raise FooterError(problem)
    n = struct.unpack("<I", tail[:4])[0]
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


# Thrift compact protocol, just enough to find where a footer's schema ends (see schema_key).
_BOOL_TRUE, _BOOL_FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)
_ARROW_KEY = b"\x0cARROW:schema\x18"   # a KeyValue's key (binary of 12 bytes), then its value's header


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = out = 0
    while True:
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _skip(buf: bytes, pos: int, kind: int) -> int:
    if kind in (_BOOL_TRUE, _BOOL_FALSE):
        return pos
    if kind == _BYTE:
        return pos + 1
    if kind in (_I16, _I32, _I64):
        return _varint(buf, pos)[1]
    if kind == _DOUBLE:
        return pos + 8
    if kind == _BINARY:
        n, pos = _varint(buf, pos)
        return pos + n
    if kind in (_LIST, _SET):
        head = buf[pos]
        pos += 1
        n, elem = head >> 4, head & 0x0F
        if n == 15:
            n, pos = _varint(buf, pos)
        for _ in range(n):
            pos = pos + 1 if elem in (_BOOL_TRUE, _BOOL_FALSE) else _skip(buf, pos, elem)
        return pos
    if kind == _MAP:
        n, pos = _varint(buf, pos)
        if n:
            kinds = buf[pos]
            pos += 1
            for _ in range(n):
                pos = _skip(buf, _skip(buf, pos, kinds >> 4), kinds & 0x0F)
        return pos
    if kind == _STRUCT:
        while True:
            head = buf[pos]
            pos += 1
            if head == 0:
                return pos
            if head >> 4 == 0:
                pos = _varint(buf, pos)[1]   # a long-form field id
            pos = _skip(buf, pos, head & 0x0F)
    raise ValueError(f"thrift type {kind}")


def schema_key(footer: bytes) -> bytes | None:
    """What a footer's Arrow schema depends on: its Parquet schema (FileMetaData fields 1 and 2,
    at its start) and its ARROW:schema value, if any (near its end). Files of one layout share it
    while their row groups and statistics differ, so a scan of 2,000 footers parses each distinct
    schema once. None when the footer is not laid out as expected (then it is parsed whole)."""
    try:
        if footer[0] != 0x15 or _varint(footer, 1)[1] >= len(footer) or footer[_varint(footer, 1)[1]] != 0x19:
            return None
        end = _skip(footer, _varint(footer, 1)[1] + 1, _LIST)
        at = footer.rfind(_ARROW_KEY)
        arrow = b""
        if at >= 0:
            n, start = _varint(footer, at + len(_ARROW_KEY))
            arrow = footer[start:start + n]
        return footer[:end] + b"\0" + arrow
    except (IndexError, ValueError):
        return None
