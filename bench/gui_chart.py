"""The preview chart at scale, offscreen: how long pyqtgraph takes to take a series of N points
and paint it, and to repaint after a zoom and a pan, in the real `PriceChart` widget.

    python bench/gui_chart.py --points 1000000 --rounds 3

Prints one line per round and the medians. The series is built once (core/preview/ohlcv.py);
only the widget's work is timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()

    import numpy as np
    import pyarrow as pa
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from lakegui.core.preview import ohlcv
    from lakegui.ui.preview.chart import PriceChart

    n = args.points
    times = np.datetime64("2010-01-04T14:30:00") + np.arange(n).astype("timedelta64[m]")
    close = 100 + np.cumsum(np.random.default_rng(1).normal(0, 0.05, n))
    table = pa.table({"timestamp": pa.array(times, pa.timestamp("ms", tz="America/New_York")),
                      "close": close, "volume": np.random.default_rng(2).integers(100, 10_000, n)})
    cols = ohlcv.chart_columns(table.schema)
    series = ohlcv.series(table, cols)
    chart = PriceChart()
    chart.resize(1200, 700)
    chart.show()
    app.processEvents()

    def painted() -> float:
        t = time.perf_counter()
        chart.canvas.viewport().repaint()  # a synchronous paint of everything in view
        return time.perf_counter() - t

    first, zoom, pan = [], [], []
    for r in range(args.rounds):
        chart.show_series(ohlcv.Series(np.array([0.0]), np.array([0.0]), None, 0), cols, "reset")
        app.processEvents()
        t = time.perf_counter()
        chart.show_series(series, cols, "bench")
        app.processEvents()
        first.append(time.perf_counter() - t + painted())
        (x0, x1), _ = chart.canvas.price.viewRange()
        chart.canvas.price.setXRange(x0 + (x1 - x0) * 0.4, x0 + (x1 - x0) * 0.6, padding=0)
        app.processEvents()
        zoom.append(painted())
        chart.canvas.price.setXRange(x0 + (x1 - x0) * 0.5, x0 + (x1 - x0) * 0.7, padding=0)
        app.processEvents()
        pan.append(painted())
        print(f"round {r + 1}: {len(series.close):,} points: shown and painted {first[-1] * 1000:.0f} ms, "
              f"repaint after zoom {zoom[-1] * 1000:.0f} ms, after pan {pan[-1] * 1000:.0f} ms", flush=True)
    med = statistics.median
    print(f"median: first paint {med(first) * 1000:.0f} ms, zoom {med(zoom) * 1000:.0f} ms, "
          f"pan {med(pan) * 1000:.0f} ms at {len(series.close):,} points")
    chart.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
