"""Waiting on a condition another thread or process makes true (there is no Qt signal to wait
on there): poll briefly until it holds, fail loudly when it never does."""

from __future__ import annotations

import time


def wait_until(condition, timeout: float = 30, what: str = "a condition", interval: float = 0.01):
    """The condition's first truthy value; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return value
