"""The leak checks of tests/conftest.py find what they are meant to find."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from tests.conftest import _qt_leaks


def new_leaks(before: list[str]) -> list[str]:
    """What _qt_leaks() reports beyond what the test's own fixtures run (their timers stop at teardown)."""
    return [leak for leak in _qt_leaks() if leak not in before]


def test_an_active_qtimer_is_a_leak_until_stopped_or_deleted(qapp):
    before = _qt_leaks()
    owner, widget = QObject(), QWidget()
    repeating, single = QTimer(owner), QTimer(widget)
    repeating.setObjectName("ticker")
    repeating.start(1000)
    single.setSingleShot(True)
    single.start(60_000)
    leaks = new_leaks(before)
    assert "QTimer 'ticker' (1000 ms) of QObject" in leaks
    assert "QTimer (60000 ms, single shot) of QWidget" in leaks
    repeating.stop()
    widget.close()
    widget.deleteLater()  # as pytest-qt does with the widgets a test added
    assert new_leaks(before) == []


def test_a_due_zero_timer_is_flushed_not_reported(qapp):
    before, fired = _qt_leaks(), []
    QTimer.singleShot(0, lambda: fired.append(True))
    assert new_leaks(before) == [] and fired == [True]
