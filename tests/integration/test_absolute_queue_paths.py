"""The durable queue keeps absolute local paths: a transfer queued from one folder and resumed from
another (or by the window, whose folder is its own) reads and writes the same files. Rows of an
older queue with relative paths fail with a message rather than be resolved against another folder."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config

from lakegui.cli import main
from lakegui.core.backfill import plan_backfill
from lakegui.core.layouts import DAILY_TICKS
from lakegui.core.transfers.jobs import Direction, JobState, OverwritePolicy
from lakegui.core.transfers.planner import plan_download, plan_upload
from lakegui.core.transfers.store import JobStore, NewJob

pytestmark = pytest.mark.integration
BUCKET = "abs-paths"


@pytest.fixture
def s3_http(moto_endpoint):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    s3.close()


def test_every_planner_makes_local_paths_absolute_keeping_symlinked_names(s3_http, tmp_path, monkeypatch):
    here = tmp_path / "here"
    (here / "real").mkdir(parents=True)
    (here / "real" / "a.txt").write_text("a")
    (here / "link").symlink_to(here / "real")
    (here / "bf").mkdir()
    (here / "bf" / "AAPL_2024.parquet").write_bytes(b"x")
    s3_http.put_object(Bucket=BUCKET, Key="p/b.txt", Body=b"b")
    monkeypatch.chdir(here)
    up = plan_upload(s3_http, BUCKET, "up/", ["link"])
    assert [p.local_path for p in up.items] == [str(here / "link" / "a.txt")]  # the user's name, not real/
    down = plan_download(s3_http, BUCKET, "dl1", prefixes=["p/"], base="p/")
    assert [p.local_path for p in down.items] == [str(here / "dl1" / "b.txt")]
    backfill = plan_backfill(s3_http, BUCKET, "bf", DAILY_TICKS, check_schema=False)
    assert [i.local_path for i in backfill.items] == [str(here / "bf" / "AAPL_2024.parquet")]


def test_a_download_queued_in_one_folder_lands_there_when_resumed_from_another(moto_endpoint, s3_http, tmp_path,
                                                                              monkeypatch, capsys):
    s3_http.put_object(Bucket=BUCKET, Key="p/x.txt", Body=b"data")
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir()
    b.mkdir()
    q = str(tmp_path / "q.sqlite3")
    url = ["--endpoint-url", moto_endpoint]
    monkeypatch.chdir(a)
    assert main(["download", f"s3://{BUCKET}/p/", "dl1", "--queue", q, *url]) == 0
    store = JobStore(q)
    [job] = store.jobs()
    assert job.local_path == str(a / "dl1" / "x.txt")
    assert (a / "dl1" / "x.txt").read_bytes() == b"data"
    # An older lakegui's row, relative to a folder it did not record: refused, not written into B.
    batch = store.create_batch("old", "download", {"endpoint_url": moto_endpoint})
    store.add_jobs(batch, [NewJob(Direction.DOWNLOAD, BUCKET, "p/x.txt", os.path.join("dl1", "x.txt"), size=4,
                                  policy=OverwritePolicy.OVERWRITE)])
    store.close()
    monkeypatch.chdir(b)
    capsys.readouterr()
    assert main(["queue", "resume", "--queue", q, *url]) == 1
    err = capsys.readouterr().err
    assert "an older lakegui queued 1 transfer with local paths relative" in err and f"this folder ({b})" in err
    assert not (b / "dl1").exists()
    store = JobStore(q)
    old = [j for j in store.jobs() if j.batch_id == batch]
    store.close()
    assert [j.state for j in old] == [JobState.FAILED]
    assert "relative to the folder its download command ran in" in old[0].error
