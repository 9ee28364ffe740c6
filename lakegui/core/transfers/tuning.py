"""Part size and connections for one big transfer, per file size (issue 19, item 4).

The table below was chosen from bench/partsizes.py's measurements (docs/BENCHMARKS.md, "Part
sizes and connections"): one process, the engine alone, loopback SeaweedFS, 2 cores. A setting
the user changed from its default (Settings › part size, parts in flight) wins over the table,
then S3's multipart limits (uploads: parts of 5 MiB to 5 GiB, at most 10,000 of them, so a
5 TB file needs parts of 525 MiB) and the memory budget (part size × connections in flight) have
the last word.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import TransferSettings

MIB = 1024 * 1024
GIB = 1024 * MIB
MIN_PART = 5 * MIB  # S3: every part but the last
MAX_PART = 5 * GIB
MAX_PARTS = 10_000
# Bytes of parts in flight for one file: parts.py holds each part it sends in memory (measured:
# a run adds about part size x connections), and the native client buffers several parts per
# connection while downloading (8 MiB x 4 adds about 200 MB). Only a part size the limits or the
# user made big meets it: it then cuts the connections, down to one.
MEMORY_BUDGET = 128 * MIB

UPLOAD, DOWNLOAD = "upload", "download"
# (files up to this many bytes, part size, connections), first match. bench/partsizes.py,
# 2026-12-01, under load (load average 8-16 on 2 cores), 100 MiB, 1 GiB and 5 GiB over
# 8-64 MiB x 4-16 (docs/BENCHMARKS.md, "Part sizes and connections"):
# - more than 4 connections gained nothing measurable on 2 cores and cost memory (parts in
#   flight); the native client's own choice was measured worse before (crt_engine.py).
# - uploads: SeaweedFS's CPU (12 s a GiB) bounds them whatever the parts. 8 MiB parts had the
#   best median wall time at 100 MiB (1.4 s) and 5 GiB (117 s against 138-166 s for 10-32 MiB,
#   both rounds), not at 1 GiB (31 s against 29 s, 4 rounds); 16 MiB used the least CPU of our
#   own (5.3 s against 6.4 s at 5 GiB), which is 2% of the upload's CPU with SeaweedFS's.
# - downloads: 8 MiB parts had the best median at 100 MiB and 5 GiB (24 s against 32 s at
#   10 MiB) with the same CPU; 16 MiB took 1.2x the CPU and 1.5-2x the memory (a 5 GiB
#   download would pass 300 MB), 32-64 MiB 1.4-2x the CPU and 3-4x the memory.
# So one row each from 100 MB to 5 GB on this machine; bigger files grow their parts by S3's
# limits (uploads past 78 GiB) and then lose connections to MEMORY_BUDGET. A row per size is
# where another machine's measurements would go.
_TABLE = {
    UPLOAD: ((None, 8 * MIB, 4),),
    DOWNLOAD: ((None, 8 * MIB, 4),),
}


@dataclass(frozen=True)
class Plan:
    part_size: int
    connections: int


# A setting that differs from its default was set by the user (settings.json or the Settings
# dialog; no command-line option sets these) and is kept. One set to its default value by hand
# cannot be told from one never set: it gets the table, which was measured to do at least as well.
_DEFAULTS = TransferSettings()


def fit_part_size(size: int, part_size: int) -> int:
    """`part_size` within S3's limits for a file of `size` bytes: at least 5 MiB, and big enough
    for at most 10,000 parts (rounded up to a MiB), at most 5 GiB."""
    least = -(-size // MAX_PARTS)
    if least > part_size:
        part_size = -(-least // MIB) * MIB
    return max(MIN_PART, min(MAX_PART, part_size))


def plan(size: int, direction: str, settings=None) -> Plan:
    """The part size and connections for one transfer of `size` bytes ("upload" or "download").
    `settings` (TransferSettings): a part size (multipart_chunksize) or parts in flight
    (max_concurrency) the user changed from its default is used instead of the table's."""
    _, part_size, connections = next(row for row in _TABLE[direction] if row[0] is None or size <= row[0])
    explicit_connections = False
    if settings is not None:
        if settings.multipart_chunksize != _DEFAULTS.multipart_chunksize:
            part_size = settings.multipart_chunksize
        if settings.max_concurrency != _DEFAULTS.max_concurrency:
            connections, explicit_connections = settings.max_concurrency, True
    if direction == UPLOAD:  # a GET's ranges have no such limits
        part_size = fit_part_size(size, part_size)
    if not explicit_connections:
        # Memory: fewer connections for parts the limits made big (a 5 TB file needs 525 MiB ones).
        connections = min(connections, max(1, MEMORY_BUDGET // part_size))
    return Plan(part_size, max(1, connections))


def upload_part_size(size: int, chunksize: int) -> int:
    """The part size lakegui's own upload of `size` bytes uses when the settings ask for
    `chunksize` (so a multipart ETag can be rebuilt to compare a local file with it)."""
    return plan(size, UPLOAD, TransferSettings(multipart_chunksize=chunksize)).part_size
