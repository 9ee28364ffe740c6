"""verify.Follower.feed: a CRC is taken from the chunks as they are written (the native engine's
on_body), so the follower reads back from the file only what was not fed (a kept range, a gap),
and never hashes a byte twice; composite CRCs part by part."""

from __future__ import annotations

import base64
import hashlib
import os
import types

import pytest
from awscrt import checksums

from lakegui.core.transfers import verify


def crc64(data: bytes) -> str:
    return base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode()


@pytest.fixture
def read_back(monkeypatch):
    """What follower threads read back from the file (verify's os.pread, counted)."""
    count = [0]

    def pread(fd, n, offset):
        data = os.pread(fd, n, offset)
        count[0] += len(data)
        return data

    monkeypatch.setattr(verify, "os", types.SimpleNamespace(pread=pread, open=os.open, close=os.close,
                                                            O_RDONLY=os.O_RDONLY))
    return count


def write_and_feed(path, data: bytes, chunk: int, exp: verify.Expected, read_back: list[int],
                   skip: range = range(0)) -> tuple[str, int]:
    """Writes `data` in chunks, feeding each (but the ones whose index is in `skip`) before it
    counts as available, as the native engine's on_body does; (result, bytes read back)."""
    read_back[0] = 0
    available = [0]
    with open(path, "wb") as f:
        follower = verify.Follower(path, lambda: available[0])
        follower.expect(exp)
        for i, start in enumerate(range(0, len(data), chunk)):
            piece = data[start:start + chunk]
            f.write(piece)
            f.flush()
            if i not in skip:
                follower.feed(start, piece)
            available[0] = start + len(piece)
    try:
        return follower.result(len(data)), read_back[0]
    finally:
        follower.stop()


def test_fed_chunks_are_hashed_once_and_not_read_back(tmp_path, read_back):
    data = os.urandom(3 * 1024 * 1024 + 5)
    crc = verify.Expected("checksum", algorithm="CRC64NVME")
    assert write_and_feed(tmp_path / "f", data, 256 * 1024, crc, read_back) == (crc64(data), 0)


def test_a_chunk_not_fed_is_read_from_the_file_and_later_ones_follow(tmp_path, read_back):
    data = os.urandom(2 * 1024 * 1024)
    value, back = write_and_feed(tmp_path / "f", data, 256 * 1024, verify.Expected("checksum", algorithm="CRC64NVME"),
                                 read_back, skip=range(2, 3))
    assert value == crc64(data)  # each byte hashed once, in order, whoever hashed it
    assert 256 * 1024 <= back < len(data)


def test_md5_is_never_fed_and_a_composite_crc_counts_its_parts(tmp_path, read_back):
    data = os.urandom(5 * 1024 * 1024 + 3)
    assert write_and_feed(tmp_path / "f", data, 300 * 1000, verify.Expected("md5"), read_back) == \
        (hashlib.md5(data).hexdigest(), len(data))
    part = 2 * 1024 * 1024
    crcs = b"".join(checksums.crc32(data[i:i + part]).to_bytes(4, "big") for i in range(0, len(data), part))
    expected = f"{base64.b64encode(checksums.crc32(crcs).to_bytes(4, 'big')).decode()}-3"
    composite = verify.Expected("composite", expected, "CRC32", part_size=part)
    assert write_and_feed(tmp_path / "g", data, 300 * 1000, composite, read_back) == (expected, 0)
