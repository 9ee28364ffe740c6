"""Backfills as a new user met them (session 11 trial A): a reused --name, the status line's
counts, a second rollback, a run while the queue is paused, and `backfill --help`'s usage."""

from __future__ import annotations

import json

import pytest

from lakegui.cli import main
from lakegui.core.transfers.store import JobStore
from tests.integration.test_cli_transfers import client
from tests.integration.test_versions import _backfill_files, _key, run, run_json

pytestmark = pytest.mark.integration
BUCKET = "trial11-backfill"


@pytest.fixture
def versioned(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    root = tmp_path / "local"
    _backfill_files(root, {"AAPL_2024.parquet": b"AAPL 2024", "MSFT_2024.parquet": b"MSFT 2024"})
    return moto_endpoint, s3, root, ["--queue", str(tmp_path / "q.sqlite3")]  # (moto is emptied after)


def backfill(url, root, queue, *more) -> tuple[int, str, str]:
    return run(url, "backfill", str(root), f"s3://{BUCKET}/", "--template", "daily-ticks", "--name", "daily-try",
               *queue, *more)


def test_a_reused_name_is_said_and_rollback_by_it_asks_for_the_batch(versioned):
    """Finding 6: a rerun under the same --name (all skipped) made `rollback NAME` pick it and say
    0 would be rolled back, with nothing saying two backfills shared the name."""
    url, s3, root, queue = versioned
    code, out, err = backfill(url, root, queue)
    assert code == 0 and "already used" not in err, err
    first = json.loads(run(url, "backfill", "status", "daily-try", "--json", *queue)[1])["backfills"][0]["batch"]
    code, out, err = backfill(url, root, queue, "--json")
    doc = json.loads(out)
    second = doc["batch"]
    assert code == 0 and doc["skipped"] == 2 and doc["name_used_by"] == [first]
    assert f"the name 'daily-try' is already used by batch {first}" in err and f"rollback {second}" in err

    code, out, err = run(url, "backfill", "rollback", "daily-try", "--dry-run", *queue)
    assert code == 2 and not out, "a name two backfills share is refused, not the newest picked"
    assert "2 backfills are named 'daily-try'" in err
    assert f"batch {first}, started " in err and "2 of 2 files done (2 uploaded, 0 already there)" in err
    assert f"batch {second}, started " in err and "2 of 2 files done (0 uploaded, 2 already there)" in err
    assert f"lakegui-cli backfill rollback {first} --dry-run" in err  # the one that uploaded, not the rerun
    code, _, err = run(url, "backfill", "status", "daily-try", "--manifest", str(root / "m.csv"), *queue)
    assert code == 2 and "name one by its batch number" in err and not (root / "m.csv").exists()

    plan = run_json(url, "backfill", "rollback", str(first), "--dry-run", *queue)  # by its batch number
    assert plan["batch"] == first and sorted(plan["removed"]) == [_key("AAPL", 2024), _key("MSFT", 2024)]
    assert run_json(url, "backfill", "status", str(second), *queue)["backfills"][0]["batch"] == second


def test_status_counts_skipped_files_as_done_as_the_dashboard_does(versioned):
    """Finding 7: `0/9 files done, 9 skipped` where the README and the dashboard count them done."""
    url, _, root, queue = versioned
    assert backfill(url, root, queue)[0] == 0
    (root / "NVDA_2024.parquet").write_bytes(b"NVDA")
    code, _, _ = run(url, "backfill", str(root), f"s3://{BUCKET}/", "--template", "daily-ticks", "--name", "fix2",
                     *queue)
    assert code == 0
    code, out, _ = run(url, "backfill", "status", "fix2", *queue)
    assert code == 0
    assert out.startswith("fix2 (batch ") and "3 of 3 files done (1 uploaded, 2 already there), 0 failed, 0 to go" \
        in out, out


def test_a_second_rollback_knows_the_first_and_status_says_it_was_rolled_back(versioned):
    """Finding 8: after a rollback, rolling back again said its delete markers were someone
    else's change, and nothing showed the backfill had been rolled back."""
    url, s3, root, queue = versioned
    put = s3.put_object(Bucket=BUCKET, Key=_key("AAPL", 2023), Body=b"old")["VersionId"]
    _backfill_files(root, {"AAPL_2023.parquet": b"new 2023"})
    assert backfill(url, root, queue, "--overwrite")[0] == 0
    done = run_json(url, "backfill", "rollback", "daily-try", *queue)
    assert len(done["removed"]) == 2 and done["restored"] == [{"key": _key("AAPL", 2023), "version_id": put}]
    assert done["already_rolled_back"] == []

    again = run_json(url, "backfill", "rollback", "daily-try", *queue)
    assert again["changed"] == [] and again["removed"] == [] and again["restored"] == []
    assert sorted(again["already_rolled_back"]) == sorted([_key("AAPL", 2023), _key("AAPL", 2024),
                                                           _key("MSFT", 2024)])
    assert again["rolled_back_at"] > 0
    code, out, err = run(url, "backfill", "rollback", "daily-try", *queue)
    assert code == 0 and "left alone" not in err and "3 already rolled back on " in out

    # Someone writes a key after the rollback: that, and only that, is a change.
    theirs = s3.put_object(Bucket=BUCKET, Key=_key("MSFT", 2024), Body=b"theirs")["VersionId"]
    code, out, err = run(url, "backfill", "rollback", "daily-try", *queue)
    assert f"left alone s3://{BUCKET}/{_key('MSFT', 2024)}: changed since the rollback of " in err
    assert theirs in err and "2 already rolled back" in out

    code, out, _ = run(url, "backfill", "status", "daily-try", *queue)
    assert "; rolled back " in out and ": 3 objects (2 removed, 1 restored)" in out, out
    [status] = json.loads(run(url, "backfill", "status", "daily-try", "--json", *queue)[1])["backfills"]
    assert status["rolled_back"]["removed"] == 2 and status["rolled_back"]["restored"] == 1
    assert status["rolled_back"]["permanent"] is False and status["rolled_back"]["at"] > 0


def test_a_backfill_while_the_queue_is_paused_counts_the_paused_jobs(versioned):
    """Finding 12: stdout said `0 done, 0 failed, 0 skipped` and nothing of the paused jobs."""
    url, s3, root, queue = versioned
    store = JobStore(queue[1])
    store.set_held(True)
    store.close()
    code, out, err = backfill(url, root, queue)
    assert code == 1
    assert out.startswith("0 done, 0 failed, 0 skipped, 2 paused · "), out
    assert "the queue is paused: `lakegui-cli queue resume` runs them" in out
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    code, out, _ = backfill(url, root, queue, "--json")
    assert code == 1 and json.loads(out)["paused"] == 2


def test_backfill_help_shows_its_three_forms(capsys):
    """Finding 13: the usage line was argparse's fold of the options, without rollback."""
    assert main(["backfill", "--help"]) == 0
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.startswith("usage: lakegui-cli backfill LOCALDIR s3://BUCKET/[PREFIX/] --template NAME")
    assert "lakegui-cli backfill status [NAME|BATCH]" in usage
    assert "lakegui-cli backfill rollback NAME|BATCH [--dry-run] [--permanent]" in usage
    assert "status [NAME] [LOCALDIR" not in usage


def test_a_name_cannot_be_a_number_and_a_number_is_the_batch(versioned):
    """A review's finding: a backfill named "2" was what `rollback 2` took, not batch 2."""
    url, s3, root, queue = versioned
    code, _, err = run(url, "backfill", str(root), f"s3://{BUCKET}/", "--template", "daily-ticks", "--name", "2",
                       *queue)
    assert code == 2 and "cannot be a number" in err and "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert backfill(url, root, queue)[0] == 0 and backfill(url, root, queue)[0] == 0  # two batches
    first, second = sorted(b["batch"] for b in run_json(url, "backfill", "status", *queue)["backfills"])
    store = JobStore(queue[1])
    try:  # named like the other's number before the rule: a number still means its batch
        store._db.execute("UPDATE batches SET name = ? WHERE id = ?", (str(second), first))
    finally:
        store.close()
    code, out, _ = run(url, "backfill", "status", str(second), "--json", *queue)
    assert code == 0 and [b["batch"] for b in json.loads(out)["backfills"]] == [second]
