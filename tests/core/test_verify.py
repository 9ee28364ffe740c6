"""verify.py on its own: each expectation's digest, what headers state, the follower and the
tracked file that tell it how much of a download is written."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib

from awscrt import checksums

from lakegui.core.transfers import etags, verify


def test_each_digest_matches_an_independent_computation(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "f"
    path.write_bytes(data)
    part = 1024 * 1024
    cases = {
        verify.Expected("checksum", algorithm="SHA256"): base64.b64encode(hashlib.sha256(data).digest()).decode(),
        verify.Expected("checksum", algorithm="SHA1"): base64.b64encode(hashlib.sha1(data).digest()).decode(),
        verify.Expected("checksum", algorithm="CRC32"): base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode(),
        verify.Expected("checksum", algorithm="CRC32C"):
            base64.b64encode(checksums.crc32c(data).to_bytes(4, "big")).decode(),
        verify.Expected("md5"): hashlib.md5(data).hexdigest(),
        verify.Expected("multipart", part_size=part): etags.md5_etag(path, part),
    }
    for exp, want in cases.items():
        d = verify.Digest(exp)
        for i in range(0, len(data), 100_003):  # chunks that straddle part boundaries
            d.update(data[i:i + 100_003])
        assert d.result() == want, exp


def test_headers_state_the_strongest_check_they_can():
    sha = {"etag": '"0123456789abcdef0123456789abcdef"', "x-amz-checksum-sha256": "abc="}
    assert verify.from_headers(sha).kind == "checksum"
    assert verify.from_headers({**sha, "x-amz-checksum-type": "COMPOSITE"}).kind == "md5"
    assert verify.from_headers({"etag": sha["etag"], "x-amz-checksum-crc32": "AAAA-3"}).kind == "md5"
    assert verify.from_headers({"etag": '"0123456789abcdef0123456789abcdef-3"'}) is None  # needs the part size
    kms = {"etag": sha["etag"], "x-amz-server-side-encryption": "aws:kms"}
    assert verify.from_headers(kms).describe() == verify.SIZE_ONLY
    assert verify.from_headers({"etag": '"weird"'}).kind == "size"


def test_tracked_file_knows_the_written_prefix_whatever_the_order(tmp_path):
    with open(tmp_path / "f", "wb") as f:
        t = verify.TrackedFile(f)
        t.seek(10)
        t.write(b"x" * 10)
        assert t.available() == 0
        t.seek(20)
        t.write(b"y" * 5)
        assert t.available() == 0
        t.seek(0)
        t.write(b"z" * 10)
        assert t.available() == 25


def test_the_follower_hashes_while_the_file_grows(tmp_path):
    path = tmp_path / "f"
    data = os.urandom(2 * 1024 * 1024)
    written = [0]
    with open(path, "wb") as f:
        follower = verify.Follower(path, lambda: written[0])
        follower.expect(verify.Expected("md5"))
        for i in range(0, len(data), 65536):
            f.write(data[i:i + 65536])
            f.flush()
            written[0] = i + len(data[i:i + 65536])
    assert follower.result(len(data)) == hashlib.md5(data).hexdigest()
    follower.stop()
