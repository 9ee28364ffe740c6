"""`lakegui-cli` with a timeline of its start (bench/cluster.py --trace): the same command, with
the steps on the way to the first chunk wrapped to note when each began and ended (wall clock,
so the benchmark can line them up with the workers' times in the queue) and the CPU of the
thread that ran it. The notes go to stderr as one `TRACE {json}` line at exit.

    python bench/cluster_trace.py backfill LOCALDIR s3://BUCKET/ ... [--cluster ADDRESS]
"""

from __future__ import annotations

import atexit
import json
import sys
import threading
import time

NOTES: list[tuple[str, float, float, str]] = []  # (what, wall time, the thread's CPU seconds, thread)


def note(what: str) -> None:
    NOTES.append((what, time.time(), time.thread_time(), threading.current_thread().name))


def wrap(owner, name: str, label: str, *, once: bool = False) -> None:
    """Note `label` begin/end around owner.name (only its first call when `once`)."""
    original = getattr(owner, name)
    calls = [0]

    def wrapped(*args, **kwargs):
        calls[0] += 1
        if once and calls[0] > 1:
            return original(*args, **kwargs)
        note(f"{label} begin")
        try:
            return original(*args, **kwargs)
        finally:
            note(f"{label} end")

    setattr(owner, name, wrapped)


def install() -> None:
    from lakegui.cli import backfill, common
    from lakegui.core import backfill as core_backfill
    from lakegui.core.transfers import cluster, service, store

    note("cli imported")
    wrap(core_backfill, "plan_backfill", "plan")
    wrap(store, "uploaded_records", "known uploads")
    wrap(backfill, "open_cluster", "open cluster")
    wrap(backfill, "cluster_ready", "wait for the cluster")
    wrap(common, "cluster_ready", "wait for the cluster (run)")
    wrap(backfill, "open_store", "open queue")
    wrap(service.QueueService, "add_batch", "queue batch")
    wrap(backfill, "run_queue", "run")
    wrap(cluster, "connect", "connect")
    wrap(cluster, "check_versions", "check versions")
    wrap(cluster, "warm_up", "send warm-up")
    wrap(cluster.ClusterExecutor, "__init__", "executor")
    wrap(cluster.ClusterExecutor, "_send", "first chunk sent", once=True)
    wrap(cluster.ClusterExecutor, "_chunk_done", "first chunk back", once=True)
    wrap(service.QueueService, "run", "queue run")
    wrap(service.QueueService, "claim", "first claim", once=True)
    wrap(service.QueueService, "start_claimed", "first jobs handed over", once=True)

    wrap(cluster, "import_lean", "import distributed")


def dump() -> None:
    import resource

    note("exit")
    r = resource.getrusage(resource.RUSAGE_SELF)
    print("TRACE " + json.dumps({"notes": NOTES, "cpu": r.ru_utime + r.ru_stime}), file=sys.stderr, flush=True)


def main() -> int:
    note("main")
    install()
    atexit.register(dump)
    from lakegui.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
