"""Asking without a nested event loop: a window-modal dialog answers a future when it closes,
and tests may answer a question with a plain value instead."""

from __future__ import annotations

import asyncio
from typing import Callable

from PySide6.QtWidgets import QDialog


def dialog_future(dialog: QDialog, answer: Callable[[int], object]) -> asyncio.Future:
    """Open `dialog`; the future gets answer(result) when it closes, and the dialog is deleted."""
    future = asyncio.get_event_loop().create_future()

    def on_finished(result: int) -> None:
        if not future.done():
            future.set_result(answer(result))
        dialog.deleteLater()

    dialog.finished.connect(on_finished)
    dialog.open()
    return future


async def answered(value):
    """The answer of a question: awaited when it is a future, as is when a test gave a value."""
    return await value if asyncio.isfuture(value) else value
