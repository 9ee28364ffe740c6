"""Findings of session 10's new-user trial on the command line."""

from __future__ import annotations

import subprocess
import sys

from lakegui.core.transfers.jobs import Direction
from lakegui.core.transfers.store import JobStore, NewJob, this_owner
from tests.integration.test_cli_transfers import cli


def test_queue_pause_counts_the_running_jobs_it_pauses_too(tmp_path):
    """Finding 6: with only a download running (in another process), `queue pause` said
    "0 queued jobs paused" though that download paused within a second."""
    q = tmp_path / "q.sqlite3"
    store = JobStore(q)
    batch = store.create_batch("b", "download", {})
    store.add_jobs(batch, [NewJob(Direction.DOWNLOAD, "bkt", f"k/{i}", str(tmp_path / f"{i}"), size=1)
                           for i in range(3)])
    store.claim(1, this_owner())  # running in a live process: this one
    store.close()
    proc, doc = cli("queue", "pause", "--queue", str(q), "--json")
    assert proc.returncode == 0 and doc == {"paused": 2, "pausing": 1, "held": True}
    proc, _ = cli("queue", "pause", "--queue", str(q))
    assert "0 queued jobs paused, 1 running job pausing in the process running it" in proc.stdout


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    """Finding 9: `lakegui-cli queue status | head` ended in a BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", "queue", "status", "--queue", str(tmp_path / "q")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(30)
    proc.stderr.close()
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_download_that_gives_up_does_not_say_it_is_fetched_again(tmp_path):
    """Finding 2: "...the server states X; fetching it again (gave up after 5 attempts)"."""
    from lakegui.core.connection import Connection, ConnectionProfile
    from lakegui.core.transfers.engine import BadBytes, EngineBase, JobControl, Progress
    from lakegui.core.transfers.jobs import Job, JobState

    class Corrupting(EngineBase):
        def _download(self, job, control, progress):
            raise BadBytes(f"Verification failed for {job.uri}: the bytes received give CRC64NVME abc, the "
                           "server states def; fetching it again")

    engine = Corrupting(Connection(ConnectionProfile(name="t", endpoint_url="http://127.0.0.1:9")), max_attempts=2,
                        backoff=0)
    out = engine.run(Job(1, 1, Direction.DOWNLOAD, "bkt", "k.bin", str(tmp_path / "k.bin"), size=10), JobControl(),
                     Progress())
    assert out.state is JobState.FAILED
    assert out.error.endswith("the server states def (gave up after 2 attempts)"), out.error


def test_the_summary_speed_counts_this_run_s_bytes_and_names_what_was_kept_and_replaced(capsys):
    """Finding 3 and 4: a resume said "3.0 GB in 8s (377 MB/s)" with 1.3 GB of it kept from before,
    and an object replaced since the interruption was said only in the log."""
    import types

    from lakegui.cli.common import report
    from lakegui.core.transfers.service import RunSummary

    gb = 1024 ** 3
    summary = RunSummary(done=1, bytes=3 * gb, kept=gb, seconds=8.0,
                         notes=[("s3://b/k", "s3://b/k changed since its download was interrupted; fetched again "
                                             "from the start")])
    store = types.SimpleNamespace(jobs=lambda **query: [])
    assert report(store, types.SimpleNamespace(json=False), summary, None, [], {}) == 0
    out, err = capsys.readouterr()
    assert "3.0 GB in 8s (256.0 MB/s; 1.0 GB of it kept from an interrupted run)" in out
    assert "note s3://b/k: s3://b/k changed since its download was interrupted" in err


def test_an_interrupted_run_says_what_it_keeps_for_the_resume(capsys):
    """Finding 3: Ctrl+C printed "0 done … 0 B in 6s" with 1.34 GB of the download in place."""
    import types

    from lakegui.cli.common import report
    from lakegui.core.transfers.jobs import JobState
    from lakegui.core.transfers.service import RunSummary

    gb = 1024 ** 3
    waiting = types.SimpleNamespace(resume={"ranges": [[0, gb]], "etag": "e", "size": 3 * gb})
    store = types.SimpleNamespace(held=False, jobs=lambda states=(), batch_id=None:
                                  [waiting] if JobState.QUEUED in states else [],
                                  counts=lambda batch_id=None: {"queued": (1, 3 * gb)})
    assert report(store, types.SimpleNamespace(json=False), RunSummary(interrupted=True, seconds=6), [1], [], {}) == 1
    err = capsys.readouterr().err
    assert "Interrupted: the unfinished jobs are back in the queue, with 1.0 GB already in place;" in err
