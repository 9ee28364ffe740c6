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


def feed_out_of_order(path, data: bytes, chunk: int, exp: verify.Expected, order: list[int],
                      skip: tuple[int, ...] = ()) -> str:
    """Writes the chunks in `order` (as a big download's parallel ranged GETs land), feeding each
    but `skip` before it counts; available is the complete prefix, as the engine's Ranges say."""
    starts = list(range(0, len(data), chunk))
    have: set[int] = set()
    with open(path, "wb") as f:
        f.truncate(len(data))
    fd = os.open(path, os.O_WRONLY)
    follower = verify.Follower(path, lambda: prefix[0])
    follower.expect(exp)
    prefix = [0]
    try:
        for i in order:
            piece = data[starts[i]:starts[i] + chunk]
            os.pwrite(fd, piece, starts[i])
            if i not in skip:
                follower.feed(starts[i], piece)
            have.add(i)
            while len(starts) > 0 and prefix[0] < len(data) and starts.index(prefix[0]) in have:
                prefix[0] = min(len(data), prefix[0] + chunk)
        return follower.result(len(data))
    finally:
        follower.stop()
        os.close(fd)


@pytest.mark.parametrize("algorithm", ["CRC64NVME", "CRC32C", "CRC32"])
def test_chunks_fed_out_of_order_are_joined_in_order_and_not_read_back(tmp_path, read_back, algorithm):
    data = os.urandom(2 * 1024 * 1024 + 11)
    fn, width = {"CRC64NVME": (checksums.crc64nvme, 8), "CRC32C": (checksums.crc32c, 4),
                 "CRC32": (checksums.crc32, 4)}[algorithm]
    want = base64.b64encode(fn(data).to_bytes(width, "big")).decode()
    read_back[0] = 0
    got = feed_out_of_order(tmp_path / "f", data, 256 * 1024, verify.Expected("checksum", algorithm=algorithm),
                            [3, 1, 0, 8, 2, 5, 4, 7, 6])
    assert got == want and read_back[0] == 0


def test_a_chunk_out_of_order_not_fed_is_read_back_and_the_rest_still_joins(tmp_path, read_back):
    data = os.urandom(2 * 1024 * 1024)
    read_back[0] = 0
    got = feed_out_of_order(tmp_path / "f", data, 256 * 1024, verify.Expected("checksum", algorithm="CRC64NVME"),
                            [1, 3, 0, 2, 5, 4, 7, 6], skip=(2,))
    assert got == crc64(data)  # chunk 2 read from the file, up to chunk 3 hashed ahead, then joined
    assert 0 < read_back[0] <= 256 * 1024
