"""Python's cyclic garbage collector, run on the GUI thread only.

A collection runs on whichever thread happens to allocate when a threshold is crossed. When it
frees Qt objects caught in reference cycles (pyqtgraph's plot items make many) on a worker
thread, their destructors touch timers and the scene from the wrong thread: Qt warns, and it has
crashed. So the GUI turns automatic collection off and collects here on a timer, generation by
generation as CPython would, the approach pyqtgraph's own `GarbageCollector` takes (we keep a
parented timer that can be stopped, and stay off while a listing holds collection off).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from ..core import gcpause


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start()

    def collect_due(self) -> int:
        """Collect the generations whose counts passed their thresholds; returns objects freed."""
        if gcpause.paused():
            return 0
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.threshold
        if c0 <= t0:
            return 0
        generation = 2 if c1 > t1 and c2 > t2 else 1 if c1 > t1 else 0
        return gc.collect(generation)

    def stop(self) -> None:
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
