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


def test_a_local_file_where_a_folder_must_go_is_named_not_the_temp_file(moto_endpoint, tmp_path, capsys):
    """A new user's file `q1` sat where the folder `q1/` had to go: ten jobs failed with
    'NotADirectoryError: [Errno 20] Not a directory: …/q1/.note0.txt.lakegui-241.part', naming the
    hidden temp file and neither the target nor the cause."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET + "-file")
    s3.put_object(Bucket=BUCKET + "-file", Key="r/q1/note0.txt", Body=b"n")
    s3.close()
    dest, q = tmp_path / "dl", str(tmp_path / "q.sqlite3")
    dest.mkdir()
    (dest / "q1").write_bytes(b"a file in the way")
    assert main(["download", f"s3://{BUCKET}-file/r/", str(dest), "--queue", q, "--json",
                 "--endpoint-url", moto_endpoint]) == 1
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    [failure] = doc["failures"]
    assert ".part" not in failure["error"] and "Errno" not in failure["error"], failure
    assert f"{dest / 'q1'} is a file, so the folder {dest / 'q1'}/ cannot be made" in failure["error"]
    assert (dest / "q1").read_bytes() == b"a file in the way"
