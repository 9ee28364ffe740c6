"""Running the core's blocking calls from the GUI: coroutines on the qasync loop,
with the blocking part in an executor thread, and one task per view slot so that
starting new work cancels the old.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from typing import Any, Callable, Coroutine

log = logging.getLogger(__name__)


class TaskSlot:
    """At most one running task; starting another cancels the previous one."""

    def __init__(self, name: str):
        self.name = name
        self._task: asyncio.Task | None = None

    def start(self, coro: Coroutine) -> asyncio.Task:
        self.cancel()
        self._task = asyncio.ensure_future(coro)
        self._task.add_done_callback(self._log_failure)
        return self._task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _log_failure(self, task: asyncio.Task) -> None:
        # Views handle expected errors themselves; anything reaching here is a bug.
        if not task.cancelled() and task.exception() is not None:
            log.error("%s task failed", self.name, exc_info=task.exception())


async def in_executor(executor: Executor, fn: Callable[..., Any], *args) -> Any:
    """Run a blocking core call off the UI thread and await its result."""
    return await asyncio.get_event_loop().run_in_executor(executor, fn, *args)
