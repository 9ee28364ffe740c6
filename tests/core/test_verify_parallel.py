"""A multipart ETag's parts are hashed in parallel by the verify Follower (issue 19, cost of
verification): the result is the ETag S3 computes, while the file is still being written, and a
follower stopped part-way (a pause) leaves a digest the next one finishes from."""

from __future__ import annotations

import os
import threading

from lakegui.core.transfers import etags, verify
from tests.support.waiting import wait_until

PART = 1024 * 1024


def multipart(path, part_size: int = PART) -> verify.Expected:
    etag = etags.md5_etag(path, part_size)
    return verify.Expected("multipart", etag, part_size=part_size, etag=etag)


def test_parts_hashed_in_parallel_while_the_file_is_written(tmp_path):
    data = os.urandom(9 * PART + 12345)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    exp = multipart(path)
    path.write_bytes(b"")
    written = [0]
    with open(path, "r+b") as f:
        follower = verify.Follower(path, lambda: written[0], digest=verify.Digest(exp))
        try:
            for start in range(0, len(data), 300_000):  # not part-aligned writes
                f.write(data[start:start + 300_000])
                f.flush()
                written[0] = min(len(data), start + 300_000)
            assert follower.result(len(data)) == exp.value
        finally:
            follower.stop()
    assert exp.value.endswith("-10")
    assert not [t for t in threading.enumerate() if t.name.startswith("lakegui-verify")]


def test_a_stopped_follower_leaves_a_part_boundary_the_next_goes_on_from(tmp_path):
    data = os.urandom(6 * PART + 7)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    exp = multipart(path)
    first = verify.Follower(path, lambda: 3 * PART + 100, digest=verify.Digest(exp))  # a paused download's prefix
    wait_until(lambda: first.progress()[0] >= 3 * PART, what="three parts hashed")
    first.stop()
    offset, digest = first.progress()
    assert offset == 3 * PART  # whole parts only; the 100 bytes beyond are hashed again later
    second = verify.Follower(path, lambda: len(data), start=offset, digest=digest)
    try:
        assert second.result(len(data)) == exp.value
    finally:
        second.stop()


def test_a_wrong_part_gives_another_etag(tmp_path):
    data = bytearray(os.urandom(4 * PART))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    exp = multipart(path)
    data[2 * PART + 5] ^= 1
    path.write_bytes(data)
    follower = verify.Follower(path, lambda: len(data), digest=verify.Digest(exp))
    try:
        assert follower.result(len(data)) != exp.value
    finally:
        follower.stop()


def test_a_pause_right_after_a_range_landed_catches_up_before_it_stops(tmp_path):
    """CI caught a paused download whose follower had hashed nothing yet: the resume hashed the
    whole kept prefix again. A stop with catch_up hashes what is on disk first (whole parts)."""
    data = os.urandom(6 * PART + 7)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    for exp, kept in ((multipart(path), 3 * PART), (verify.Expected("md5", etags.md5_etag(path)), 3 * PART + 100)):
        follower = verify.Follower(path, lambda: 3 * PART + 100, digest=verify.Digest(exp))
        follower.stop(catch_up=True)  # at once: nothing was hashed when it was asked to stop
        offset, digest = follower.progress()
        assert offset == kept, exp.kind
        second = verify.Follower(path, lambda: len(data), start=offset, digest=digest)
        try:
            assert second.result(len(data)) == exp.value, exp.kind
        finally:
            second.stop()
