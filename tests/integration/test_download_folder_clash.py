"""Keys `clash/a` and `clash/a/b` downloaded into one folder: `a` cannot be both a file and the
folder holding `b`. Every run says the folder is in the way, never that a file "exists with
different content" (which --overwrite could not help)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from lakegui.cli import main

pytestmark = pytest.mark.integration
BUCKET = "folder-clash"


def test_a_rerun_says_the_folder_is_in_the_way_as_the_first_run_did(moto_endpoint, tmp_path, capsys):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="clash/a", Body=b"file a")
    s3.put_object(Bucket=BUCKET, Key="clash/a/b", Body=b"file b")
    s3.close()
    dest, q = tmp_path / "dlclash", str(tmp_path / "q.sqlite3")
    (dest / "a").mkdir(parents=True)  # as the first run leaves it, whichever key lands first
    folder = f"{dest / 'a'} is a folder; the object cannot be saved under that name"
    for policy in ([], ["--overwrite"]):
        assert main(["download", f"s3://{BUCKET}/clash/", str(dest), "--queue", q, "--json",
                     "--endpoint-url", moto_endpoint, *policy]) == 1
        doc = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert [(f["key"], f["error"]) for f in doc["failures"]] == [("clash/a", folder)], policy
    assert (dest / "a" / "b").read_bytes() == b"file b"
