"""What the offscreen GUI benchmarks share: a QApplication on a qasync loop, and a timer that
records the longest gap the UI thread had between two of its 5 ms ticks."""

from __future__ import annotations

import asyncio
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def app_and_loop():
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return app, loop


class GapTimer:
    """Longest interval between ticks of a 5 ms timer, and every gap over 30 ms (when, how long)."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._on_timeout)
        self.start_time = self.last = time.perf_counter()
        self.max = 0.0
        self.long: list[tuple[float, int]] = []

    def start(self) -> None:
        self.start_time = self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _on_timeout(self) -> None:
        now = time.perf_counter()
        gap = now - self.last
        self.max = max(self.max, gap)
        if gap > 0.030:
            self.long.append((round(now - self.start_time, 2), round(gap * 1000)))
        self.last = now
