"""What the offscreen GUI benchmarks share: the target endpoint, a QApplication on a qasync loop,
a timer that records the longest gap the UI thread had between two of its 5 ms ticks, and memory."""

from __future__ import annotations

import asyncio
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def target(parser):
    """Parse --endpoint-url/--bucket/--prefix (plus the caller's own arguments); returns
    (args, Connection)."""
    from lakegui.core.connection import Connection, ConnectionProfile

    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    return args, Connection(ConnectionProfile.from_options(endpoint_url=args.endpoint_url, bucket=args.bucket))


def rss_mb() -> float:
    """This process's resident memory."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))


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
