"""SIGTERM and SIGINT (`kill <pid>`, Ctrl+C in the terminal) close the app the way File › Quit does.

Python runs its signal handlers only when it runs bytecode on the main thread, and while Qt's
event loop waits there it runs none: the signal sat unseen until the X server went away. The
interpreter writes each signal's number to a wakeup socket (signal.set_wakeup_fd); a
QSocketNotifier on the other end wakes the event loop and calls into Python, which then runs the
handler. The handler only schedules the close, so it happens in a normal turn of the loop.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)

__all__ = ["SIGNALS", "StopOnSignals"]


class StopOnSignals(QObject):
    """Call `stop()` (on the GUI thread, from the event loop) when SIGTERM or SIGINT arrives.
    Create and `close()` it on the main thread."""

    def __init__(self, stop: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._stop = stop
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {s: signal.signal(s, self._on_signal) for s in SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)

    def _on_signal(self, signum, _frame) -> None:
        log.info("%s received: closing", signal.Signals(signum).name)
        QTimer.singleShot(0, self._stop)

    def _on_notifier_activated(self, *_) -> None:
        # Python has run the handler by now (it ran on the way into this slot); only drain the bytes.
        try:
            while self._reader.recv(256):
                pass
        except OSError:  # BlockingIOError: drained
            pass

    def close(self) -> None:
        """Give the signals back to their earlier handlers."""
        if self._notifier is None:
            return
        self._notifier.setEnabled(False)
        self._notifier = None
        for s, previous in self._previous.items():
            signal.signal(s, previous if previous is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
