"""The leak checks of tests/conftest.py find what they are meant to find."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from tests.conftest import _qt_leaks


def test_an_active_qtimer_is_a_leak_until_stopped_or_deleted(qapp):
    owner, widget = QObject(), QWidget()
    repeating, single = QTimer(owner), QTimer(widget)
    repeating.setObjectName("ticker")
    repeating.start(1000)
    single.setSingleShot(True)
    single.start(60_000)
    leaks = _qt_leaks()
    assert "QTimer 'ticker' (1000 ms) of QObject" in leaks
    assert "QTimer (60000 ms, single shot) of QWidget" in leaks
    repeating.stop()
    widget.close()
    widget.deleteLater()  # as pytest-qt does with the widgets a test added
    assert _qt_leaks() == []


def test_a_due_zero_timer_is_flushed_not_reported(qapp):
    fired = []
    QTimer.singleShot(0, lambda: fired.append(True))
    assert _qt_leaks() == [] and fired == [True]
