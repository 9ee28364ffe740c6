"""A download's range checkpoint (ranges.Checkpoint): what it records, and that a finished
download does not wait on a sync in progress (issue 19, item 4)."""

from __future__ import annotations

import os
import threading
import time

from lakegui.core.transfers import ranges
from tests.support.waiting import wait_until


def test_a_close_without_keeping_does_not_wait_for_a_sync_in_progress_nor_records_after_it(tmp_path, monkeypatch):
    path = tmp_path / "f.part"
    path.write_bytes(b"x" * 4096)
    fd = os.open(path, os.O_WRONLY)
    syncing, release = threading.Event(), threading.Event()
    real_sync = os.fdatasync

    def slow_sync(f):
        syncing.set()
        release.wait(10)
        real_sync(f)

    monkeypatch.setattr(ranges.os, "fdatasync", slow_sync)
    saved = []
    done = ranges.Ranges()
    cp = ranges.Checkpoint(fd, done, {"etag": "e", "size": 4096}, saved.append, every=0.01, every_bytes=1)
    try:
        done.add(0, 4096)
        cp.wake()
        assert syncing.wait(5), "the checkpoint never synced"
        began = time.monotonic()
        cp.close(keep=False)
        assert time.monotonic() - began < 1.0  # the 1 GiB download's end waited 0.24 s here
        os.close(fd)  # the engine closes its descriptor next: the checkpoint's own stays valid
    finally:
        release.set()
    wait_until(lambda: not cp._thread.is_alive(), 5, "the checkpoint thread ended")
    assert saved == []  # the sync's record came after the close: dropped
    try:
        os.fstat(cp._fd)
        raise AssertionError("the checkpoint's descriptor was left open")
    except OSError:
        pass


def test_a_close_that_keeps_syncs_and_records_the_ranges(tmp_path):
    path = tmp_path / "f.part"
    path.write_bytes(b"x" * 100)
    fd = os.open(path, os.O_WRONLY)
    saved = []
    done = ranges.Ranges()
    cp = ranges.Checkpoint(fd, done, {"etag": "e", "size": 100}, saved.append, every=60)
    done.add(0, 40)
    cp.close(keep=True)
    os.close(fd)
    assert saved and saved[-1]["ranges"] == [[0, 40]] and saved[-1]["etag"] == "e"
    assert not cp._thread.is_alive()
