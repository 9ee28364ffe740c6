"""Python's cyclic garbage collector, run on the GUI thread only.

A collection runs on whichever thread happens to allocate when a threshold is crossed. When it
frees Qt objects caught in reference cycles (pyqtgraph's plot items make many) on a worker
thread, their destructors touch timers and the scene from the wrong thread: Qt warns, and it has
crashed. So the GUI turns automatic collection off and collects here on a timer, generation by
generation as CPython would, the approach pyqtgraph's own `GarbageCollector` takes (we keep a
parented timer that can be stopped, and stay off while a listing holds collection off).

Young collections run four times a second, so each walks few objects (a second's worth of a
10,000-key move's jobs made a 35,000-object young generation: 214 ms of the UI thread under
load). A full collection walks the whole heap (250-790 ms under load with a 10,000-row queue), so
it follows CPython's own rule, which a plain gc.collect(2) skips: only once the objects promoted to
the oldest generation since the last one exceed a quarter of those it kept.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from ..core import gcpause


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 250):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self.threshold = gc.get_threshold()
        gc.disable()
        self.long_lived = len(gc.get_objects(2))  # kept by the last full collection (CPython's long_lived_total)
        self.pending = 0  # promoted to the oldest generation since (its long_lived_pending)
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
        if c1 <= t1:
            return gc.collect(0)
        if c2 > t2 and self.pending > self.long_lived // 4:
            freed = gc.collect(2)
            self.long_lived, self.pending = len(gc.get_objects(2)), 0
            return freed
        young = len(gc.get_objects(0)) + len(gc.get_objects(1))  # what survives goes to the oldest
        freed = gc.collect(1)
        self.pending += max(0, young - freed)
        return freed

    def stop(self) -> None:
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
