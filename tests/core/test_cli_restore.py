"""`lakegui-cli restore` (moto in-process), session 9's second trial, findings F and G: a tier Deep
Archive has not is refused up front (or per key under a prefix), a prefix is restored with
--recursive as the window restores folders, and an object already restored says until when."""

from __future__ import annotations

import json

from lakegui.cli import main
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import JobState
from lakegui.core.transfers.object_jobs import restore_job
from lakegui.core.transfers.store import JobStore
from tests.core.test_object_jobs import ClientEngine, job_of


def arch(s3):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="arch/deep.bin", Body=b"d", StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket="lake", Key="arch/cold.bin", Body=b"c", StorageClass="GLACIER")
    s3.put_object(Bucket="lake", Key="arch/std.csv", Body=b"s")


def test_expedited_is_refused_for_deep_archive_before_anything_is_queued(s3, tmp_path, capsys):
    arch(s3)
    q = str(tmp_path / "q.sqlite3")
    assert main(["restore", "s3://lake/arch/deep.bin", "--days", "1", "--tier", "Expedited", "--queue", q]) == 2
    err = capsys.readouterr().err
    assert "Deep Archive has no Expedited tier" in err and "Standard or Bulk" in err
    assert "Restore" not in s3.head_object(Bucket="lake", Key="arch/deep.bin")  # nothing was asked
    s3.delete_object(Bucket="lake", Key="arch/cold.bin")
    assert main(["restore", "s3://lake/arch/", "--recursive", "--days", "1", "--tier", "Expedited", "--queue", q]) == 2
    assert "--tier Standard or --tier Bulk" in capsys.readouterr().err  # every archived object is Deep Archive


def test_a_prefix_needs_recursive_and_restores_its_archived_objects(s3, tmp_path, capsys):
    arch(s3)
    q = str(tmp_path / "q.sqlite3")
    assert main(["restore", "s3://lake/arch/", "--days", "1", "--queue", q]) == 2
    assert "add --recursive" in capsys.readouterr().err
    assert main(["restore", "s3://lake/arch/", "--recursive", "--days", "2", "--tier", "Expedited", "--queue", q,
                 "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["jobs"], doc["done"], doc["started"], doc["not_archived"]) == (2, 1, 1, 1)
    assert doc["failures"] == [{"key": "arch/deep.bin", "error": "Deep Archive has no Expedited tier: its objects "
                                                                 "are restored at Standard or Bulk"}]
    assert "Restore" in s3.head_object(Bucket="lake", Key="arch/cold.bin")
    assert "Restore" not in s3.head_object(Bucket="lake", Key="arch/deep.bin")
    store = JobStore(q)
    try:
        assert [b.kind for b in store.batches()][-1] == "restore"  # the window's kind of batch
    finally:
        store.close()
    assert main(["restore", "s3://lake/arch/", "--recursive", "--days", "3", "--queue", q]) == 0
    out = capsys.readouterr().out
    assert "2 archived objects to restore under s3://lake/arch/ (1 other object not archived" in out
    assert out.splitlines()[-1] == ("Restore (Standard, 3 days) under s3://lake/arch/: 1 object started, "
                                    "1 object already restored (days updated)")


def test_an_object_already_restored_says_until_when(s3, tmp_path, capsys):
    arch(s3)
    q = str(tmp_path / "q.sqlite3")
    assert main(["restore", "s3://lake/arch/cold.bin", "--days", "1", "--queue", q]) == 0
    assert capsys.readouterr().out.strip() == "s3://lake/arch/cold.bin: restore started (Standard, 1 day)"
    assert main(["restore", "s3://lake/arch/cold.bin", "--days", "5", "--queue", q]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("s3://lake/arch/cold.bin: already restored until 20") and \
        line.endswith(" UTC (days updated: 5 days from now)"), line
    assert main(["restore", "s3://lake/arch/cold.bin", "--days", "2", "--queue", q, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "already restored" and doc["expiry"][:4] == line.split("until ")[1][:4]


def test_a_restore_job_refuses_a_tier_its_class_has_not_without_asking(s3):
    arch(s3)
    out = ClientEngine(s3).run(job_of(restore_job("lake", "arch/deep.bin", 1, "Expedited", "DEEP_ARCHIVE")),
                               JobControl(), Progress())
    assert out.state is JobState.FAILED and "no Expedited tier" in out.error
    assert "Restore" not in s3.head_object(Bucket="lake", Key="arch/deep.bin")
