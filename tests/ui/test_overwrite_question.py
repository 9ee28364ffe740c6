"""The question a batch asks about existing targets (uploads, downloads, pastes and moves share it)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from lakegui.core.transfers.jobs import OverwritePolicy
from lakegui.ui.dialogs.overwrite import ask_overwrite_policy


@pytest.mark.parametrize("label, policy", [("Skip identical, replace changed", OverwritePolicy.SKIP_IF_SAME),
                                           ("Skip all existing", OverwritePolicy.SKIP),
                                           ("Overwrite all", OverwritePolicy.OVERWRITE), ("Cancel", None)])
def test_each_answer_reaches_the_future(qtbot, qloop, label, policy):
    parent = QWidget()
    qtbot.addWidget(parent)
    future = ask_overwrite_policy(parent, "Files already exist", "2 of 3 files already exist in s3://b/p/.",
                                  replace="Overwrite all")
    box = parent.findChild(QMessageBox)
    assert box is not None and box.text().startswith("2 of 3 files") and box.windowTitle() == "Files already exist"
    assert box.defaultButton().text() == "Skip all existing"  # Enter keeps what exists: the safe answer
    next(b for b in box.buttons() if b.text().replace("&", "") == label).click()
    qtbot.waitUntil(future.done, timeout=5000)
    assert future.result() is policy
