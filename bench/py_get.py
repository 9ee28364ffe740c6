"""One GET of a big object as ranged GETs on Python threads over http.client, nothing else: the
other candidate floor under lakegui's download (issue 19), beside bench/crt_get.py's native one.
Run as its own process by bench/crt_floor.py, which presigns the URL (botocore's import is not
timed here, as the CRT's signer is not in crt_get.py).

    python bench/py_get.py URL SIZE OUT [--part-mib N] [--threads N] [--verify]

Each thread keeps one connection alive, takes the next part, reads it into its own buffer
(readinto and pwrite release the GIL) and writes it at its offset. --verify takes each part's
CRC64NVME in C as it arrives and combines them into the object's (awscrt.checksums), printed.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import itertools
import os
import sys
import threading
from urllib.parse import urlsplit

MIB = 1024 * 1024


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("size", type=int)
    p.add_argument("out")
    p.add_argument("--part-mib", type=int, default=8)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--verify", action="store_true")
    a = p.parse_args()
    if a.verify:
        from awscrt.checksums import combine_crc64nvme, crc64nvme
    u = urlsplit(a.url)
    target = f"{u.path}?{u.query}"
    part = a.part_mib * MIB
    count = (a.size + part - 1) // part
    crcs = [0] * count
    fd = os.open(a.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, a.size)
    parts = itertools.count()
    errors: list[BaseException] = []

    def worker():
        conn = http.client.HTTPConnection(u.netloc, timeout=60)
        buf = bytearray(part)
        view = memoryview(buf)
        try:
            while (i := next(parts)) < count and not errors:
                start = i * part
                length = min(part, a.size - start)
                conn.request("GET", target, headers={"Range": f"bytes={start}-{start + length - 1}"})
                resp = conn.getresponse()
                if resp.status != 206:
                    raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
                got = 0
                while got < length:
                    n = resp.readinto(view[got:length])
                    if not n:
                        raise RuntimeError("short body")
                    got += n
                resp.read()
                os.pwrite(fd, view[:length], start)
                if a.verify:
                    crcs[i] = crc64nvme(view[:length])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.close(fd)
    if errors:
        print(errors[0], file=sys.stderr)
        return 1
    if a.verify:
        crc = crcs[0]
        for i in range(1, count):
            crc = combine_crc64nvme(crc, crcs[i], min(part, a.size - i * part))
        print(base64.b64encode(crc.to_bytes(8, "big")).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
