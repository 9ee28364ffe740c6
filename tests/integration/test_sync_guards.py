"""`lakegui-cli sync` with nothing at its source (trial A of session 11, finding 2): `--delete` from an
empty or mistyped source deleted the whole destination (292 files, exit 0). It is refused with the
usage code, nothing changed; without `--delete` a line on stderr says the source is empty."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from lakegui.cli import main
from tests.integration.test_cli_transfers import client

pytestmark = pytest.mark.integration
B = "sync-guards"


def cli(capsys, *args):
    """The command in this process (a subprocess each costs a second under load)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    doc = json.loads(out.strip().splitlines()[-1]) if "--json" in args else None
    return SimpleNamespace(returncode=code, stdout=out, stderr=err), doc


def test_delete_from_an_empty_or_mistyped_source_is_refused(moto_endpoint, tmp_path, capsys):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    for i in range(3):
        s3.put_object(Bucket=B, Key=f"na/f{i}.csv", Body=b"x")
    empty, full, q = tmp_path / "empty folder", tmp_path / "down_copy", tmp_path / "q.sqlite3"
    empty.mkdir()
    full.mkdir()
    (full / "keep.csv").write_bytes(b"k")
    common = ("--endpoint-url", moto_endpoint, "--queue", str(q))

    proc, _ = cli(capsys, "sync", str(empty), f"s3://{B}/na/", "--delete", "--yes", *common)
    assert proc.returncode == 2, proc.stderr
    assert (f"refused: {empty} has no files, so --delete would delete all 3 objects in s3://{B}/na/. "
            "Nothing was changed.") in proc.stderr
    assert f"run `lakegui-cli rm s3://{B}/na/ --recursive`" in proc.stderr
    assert len(s3.list_objects_v2(Bucket=B, Prefix="na/")["Contents"]) == 3
    proc, _ = cli(capsys, "sync", str(empty), f"s3://{B}/na/", "--delete", "--dry-run", *common)
    assert proc.returncode == 2 and "refused" in proc.stderr  # a dry run says what the run would do

    proc, doc = cli(capsys, "sync", f"s3://{B}/lake-typo/", str(full), "--delete", "--json", *common)
    assert proc.returncode == 2 and "s3://sync-guards/lake-typo/ has no objects" in doc["error"], proc.stderr
    assert "would delete all 1 local file in" in proc.stderr and (full / "keep.csv").exists()

    proc, _ = cli(capsys, "sync", f"s3://{B}/nothere/", str(tmp_path / "down3"), *common)  # without --delete: said
    assert proc.returncode == 0 and "0 compared" in proc.stdout
    assert f"s3://{B}/nothere/ has no objects: nothing to sync" in proc.stderr

    proc, _ = cli(capsys, "sync", str(tmp_path / "missing"), f"s3://{B}/na/", "--delete", *common)
    assert proc.returncode == 2 and "missing does not exist (nothing was synced)" in proc.stderr


def test_a_delete_is_checked_again_after_the_copies(moto_endpoint, tmp_path, capsys, monkeypatch):
    """The deletes follow the copies, which may take hours: an object written from elsewhere since
    the listing is left alone (exit 1, named on stderr), the others deleted."""
    import lakegui.cli.sync as sync_cli

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B + "-late")
    for key in ("p/old.csv", "p/rewritten.csv", "p/gone.csv"):
        s3.put_object(Bucket=B + "-late", Key=key, Body=b"old")
    src = tmp_path / "src"
    src.mkdir()
    (src / "new.csv").write_bytes(b"new")
    run_queue, calls = sync_cli.run_queue, []

    def copies_then_someone_writes(*args, **kwargs):
        summary = run_queue(*args, **kwargs)
        if not calls:  # while the copies ran: a newer version from elsewhere, and a delete
            s3.put_object(Bucket=B + "-late", Key="p/rewritten.csv", Body=b"a newer version")
            s3.delete_object(Bucket=B + "-late", Key="p/gone.csv")
        calls.append(args[2])
        return summary

    monkeypatch.setattr(sync_cli, "run_queue", copies_then_someone_writes)
    proc, doc = cli(capsys, "sync", str(src), f"s3://{B}-late/p/", "--delete", "--endpoint-url", moto_endpoint,
                    "--queue", str(tmp_path / "q.sqlite3"), "--json")
    assert proc.returncode == 1 and (doc["uploaded"], doc["deleted"], doc["failed"]) == (1, 2, 1), proc.stderr
    assert (f"failed s3://{B}-late/p/rewritten.csv: changed in the lake since it was compared; left alone"
            in proc.stderr)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=B + "-late")["Contents"])
    assert keys == ["p/new.csv", "p/rewritten.csv"]
    assert s3.get_object(Bucket=B + "-late", Key="p/rewritten.csv")["Body"].read() == b"a newer version"
