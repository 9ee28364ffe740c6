"""Renaming or pasting onto objects that exist asks once, naming them and what replacing them does
on the target bucket; Enter keeps them (an unversioned bucket could not give them back)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from lakegui.core.demo import DEMO_BUCKET
from lakegui.core.versions import ENABLED, NEVER, SUSPENDED
from lakegui.ui.browser.versions import named, replace_consequence
from tests.ui.test_reorganise import AAPL, body, connected, keys, names

HERE = AAPL + "2022/"


def open_question(qtbot, b):
    qtbot.waitUntil(lambda: any(box.isVisible() for box in b.findChildren(QMessageBox)), timeout=10000)
    return next(box for box in b.findChildren(QMessageBox) if box.isVisible())


def test_enter_on_a_rename_onto_another_object_keeps_it(qtbot, window, demo_connection):
    b = connected(qtbot, window, demo_connection, HERE)
    q1, q2 = body(demo_connection, HERE + "Q1.json"), body(demo_connection, HERE + "Q2.json")
    assert q1 != q2
    r = b.reorganiser
    task = r.rename_to(b.model.entry(names(b).index("Q1.json")), "Q2.json")
    box = open_question(qtbot, b)
    assert box.text() == (f"1 of 1 object already exists in s3://{DEMO_BUCKET}/{HERE} (or below it):\n  Q2.json\n"
                          "What should happen to it?\n" + replace_consequence(NEVER))
    assert box.defaultButton().text() == "Skip all existing"
    with qtbot.waitSignal(r.done, timeout=20000, check_params_cb=lambda t: "not renamed" in t) as blocker:
        qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(task.done, timeout=10000)
    assert blocker.args[0] == "Q1.json was not renamed: Q2.json exists already and was kept (skipped); both are as they were"
    assert body(demo_connection, HERE + "Q2.json") == q2 and body(demo_connection, HERE + "Q1.json") == q1
    assert keys(demo_connection, HERE) == [HERE + f"Q{i}.json" for i in range(1, 5)]


def test_the_question_names_a_few_and_says_what_each_versioning_state_does():
    assert named([f"k{i}" for i in range(7)]) == "  k0\n  k1\n  k2\n  k3\n  k4\n  … and 2 more"
    assert named(["a"]) == "  a"
    assert replace_consequence(NEVER).startswith("Replacing cannot be undone: the bucket keeps no versions, so a "
                                                 "replaced object is gone for good")
    assert "earlier version remains" in replace_consequence(ENABLED)
    assert "replaced permanently" in replace_consequence(SUSPENDED)
    assert replace_consequence("") == "Replacing cannot be undone unless the bucket keeps versions."
