"""The one question a batch asks when some of its targets exist: skip identical, skip all, or
replace all (uploads, downloads, pastes and moves ask it the same way). Enter skips them all."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMessageBox, QWidget

from ...core.transfers.jobs import OverwritePolicy
from .answers import dialog_future


def ask_overwrite_policy(parent: QWidget, title: str, text: str, *, replace: str = "Replace all") -> asyncio.Future:
    """A future of the chosen policy (None for Cancel), asked without a nested event loop: the
    box is window-modal and answers the future when it closes."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    buttons = {
        box.addButton("Skip identical, replace changed", QMessageBox.ButtonRole.AcceptRole):
            OverwritePolicy.SKIP_IF_SAME,
        box.addButton("Skip all existing", QMessageBox.ButtonRole.AcceptRole): OverwritePolicy.SKIP,
        box.addButton(replace, QMessageBox.ButtonRole.DestructiveRole): OverwritePolicy.OVERWRITE,
    }
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    # Enter keeps what exists: replacing a changed target may be for good (an unversioned bucket,
    # a local file), so it is a choice made with the mouse or a mnemonic, never by reflex.
    box.setDefaultButton(next(b for b, p in buttons.items() if p is OverwritePolicy.SKIP))
    box.setEscapeButton(cancel)
    return dialog_future(box, lambda _result: buttons.get(box.clickedButton()))
