"""A Pause of the whole queue is kept in the queue itself, so every process follows it:
`lakegui-cli queue pause` pauses what the window (or another CLI run) is running and makes jobs
added anywhere wait; `queue resume`, or the window's Resume, ends it everywhere (session 9's
trial, finding 9: there was no `queue pause`, and the window's hold lived in its own memory).
And `versioning s3://B on|off|status`, which the trial missed too."""

from __future__ import annotations

import json
import threading

from lakegui.cli import main
from lakegui.core.settings import TransferSettings
from lakegui.core.transfers.jobs import JobState, Outcome
from lakegui.core.transfers.service import QueueService
from tests.core.test_service import HeldExecutor, jobs, states


class UntilStopped:
    """Workers whose transfer runs until its job is stopped, then ends as it was told."""

    def __init__(self):
        self.threads: list[threading.Thread] = []
        self.started = threading.Semaphore(0)

    def submit(self, running, work, done):
        def work_until_stopped():
            self.started.release()
            running.control.event.wait(10)
            done(running, Outcome(running.control.reason or JobState.DONE))

        self.threads.append(threading.Thread(target=work_until_stopped))
        self.threads[-1].start()

    def set_workers(self, n):
        pass

    def close(self, timeout=None):
        for t in self.threads:
            t.join()


def test_a_hold_set_by_another_process_pauses_what_runs_here_and_new_jobs_wait(tmp_path):
    path = tmp_path / "q.sqlite3"
    ex = HeldExecutor()
    window = QueueService(path, TransferSettings(concurrent_files=2), executor=ex, claim_ahead=1)
    cli = QueueService(path)
    try:
        window.load_rows()
        window.enqueue("b", "upload", {}, jobs(3))
        running = {job_id: r for job_id, (r, _) in ex.held.items()}
        assert len(running) == 2 and not window.follow_hold()  # nothing changed yet
        cli.pause()  # `lakegui-cli queue pause`: another connection to the queue
        assert window.follow_hold() and window.held and window.totals().held
        assert {r.control.reason for r in running.values()} == {JobState.PAUSED}
        for job_id in running:
            ex.end(job_id, JobState.PAUSED)
        window.collect_ends()
        window.flush()
        assert states(window) == {"paused": 3}
        later = QueueService(path)  # a third process adds jobs: they wait
        try:
            assert later.held
            batch, _ = later.add_batch("c", "upload", {}, jobs(1, prefix="c"))
            assert states(later, batch) == {"paused": 1}
        finally:
            later.close()
        cli.resume()  # `lakegui-cli queue resume` ends the hold everywhere
        assert window.follow_hold() and not window.held
        assert QueueService(path).held is False
    finally:
        cli.close()
        window.close()


def test_the_cli_loop_pauses_its_running_jobs_when_the_queue_is_held_elsewhere(tmp_path):
    path = tmp_path / "q.sqlite3"
    ex = UntilStopped()
    run = QueueService(path, TransferSettings(concurrent_files=2), executor=ex)
    other = QueueService(path)
    try:
        batch, _ = run.add_batch("b", "upload", {}, jobs(2))
        ended = []
        loop = threading.Thread(target=lambda: ended.append(run.run([batch], tick=0.01)))
        loop.start()
        assert ex.started.acquire(timeout=10) and ex.started.acquire(timeout=10)
        other.pause()  # the window's Pause, or `queue pause` from another terminal
        loop.join(10)
        assert not loop.is_alive() and ended[0].done == 0
        assert states(run, batch) == {"paused": 2}
    finally:
        other.close()
        run.close()
        ex.close()


def test_queue_pause_and_resume_in_the_cli(moto_endpoint, tmp_path, capsys):
    from tests.integration.test_cli_transfers import client

    client(moto_endpoint).create_bucket(Bucket="held")
    q = ["--queue", str(tmp_path / "q.sqlite3")]
    assert main(["queue", "pause", *q]) == 0
    assert "the queue is held" in capsys.readouterr().out
    assert main(["queue", "status", *q, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["held"] is True
    src = tmp_path / "a.txt"
    src.write_text("a")
    assert main(["upload", str(src), "s3://held/p/", "--endpoint-url", moto_endpoint, *q]) == 1
    assert "the queue is paused as a whole" in capsys.readouterr().err  # nothing was sent: it waits
    assert main(["queue", "pause", *q, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"paused": 0, "pausing": 0, "held": True}
    assert main(["queue", "status", *q, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["states"]["paused"]["jobs"] == 1
    assert main(["queue", "resume", *q]) == 0  # ends the hold and runs what waited
    assert capsys.readouterr().out.startswith("1 done, 0 failed")
    assert client(moto_endpoint).get_object(Bucket="held", Key="p/a.txt")["Body"].read() == b"a"
    assert main(["queue", "status", *q, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["held"] is False


def test_versioning_on_off_and_status(moto_endpoint, capsys):
    from tests.integration.test_cli_transfers import client

    client(moto_endpoint).create_bucket(Bucket="vers")
    opts = ["--endpoint-url", moto_endpoint, "--json"]
    for state, want in (("status", "never"), ("on", "enabled"), ("off", "suspended")):
        assert main(["versioning", "s3://vers", state, *opts]) == 0
        assert json.loads(capsys.readouterr().out) == {"bucket": "vers", "versioning": want}
    assert client(moto_endpoint).get_bucket_versioning(Bucket="vers")["Status"] == "Suspended"
    assert main(["versioning", "s3://vers/key", "on", "--endpoint-url", moto_endpoint]) == 2
    assert "versioning is a bucket's" in capsys.readouterr().err
