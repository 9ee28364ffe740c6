"""lakegui-cli in scripts (session 9's trial, finding 8): with --json a failure still prints one
JSON document (with "error"; exit codes unchanged), a missing bucket is said as such by every
command, `undelete PREFIX/` asks for --recursive as rm does, and an upload's summary counts the
files it could not send (it exits 1 for them)."""

from __future__ import annotations

import json
import os

import pytest

from lakegui.cli import main
from tests.integration.test_cli_transfers import client

pytestmark = pytest.mark.integration
BUCKET = "cli-scripting"
NO_BUCKET = "Bucket 'nobucket' does not exist at this endpoint."


@pytest.fixture
def endpoint(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="d/a.txt", Body=b"a")
    return moto_endpoint


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_failures_print_one_document_with_the_error(endpoint, tmp_path, capsys):
    q = ["--queue", str(tmp_path / "q.sqlite3")]
    cases = [(["ls", "s3://nobucket/x"], 1, NO_BUCKET),
             (["preview", "s3://nobucket/x"], 1, NO_BUCKET),
             (["preview", f"s3://{BUCKET}/nokey"], 1, "was not found"),
             (["download", f"s3://{BUCKET}/nokey", str(tmp_path / "dl"), *q], 1, "was not found"),
             (["download", "s3://nobucket/x", str(tmp_path / "dl"), "--version-id", "v1", *q], 1, NO_BUCKET),
             (["rm", "s3://nobucket/x", *q], 1, NO_BUCKET),
             (["rm", f"s3://{BUCKET}/nokey", *q], 1, "was not found"),
             (["rm", f"s3://{BUCKET}/d/", *q], 2, "add --recursive"),  # a usage error after parsing
             (["undelete", f"s3://{BUCKET}/d/"], 2, "add --recursive to undelete every deleted key under it")]
    for args, want_code, says in cases:
        code, out, err = run(capsys, *args, "--endpoint-url", endpoint, "--json")
        assert code == want_code, (args, err)
        lines = out.splitlines()
        assert len(lines) == 1 and says in json.loads(lines[0])["error"], (args, out)
        assert says in err  # stderr says it as before
    code, out, _ = run(capsys, "undelete", f"s3://{BUCKET}/d/", "--endpoint-url", endpoint)  # without --json
    assert code == 2 and out == ""


def test_a_failure_that_prints_its_own_document_prints_only_that(endpoint, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.txt").write_text("mine")
    code, out, _ = run(capsys, "download", f"s3://{BUCKET}/d/a.txt", str(tmp_path / "mine"), "--endpoint-url",
                       endpoint, "--queue", str(tmp_path / "q.sqlite3"), "--json")
    assert code == 1 and len(out.splitlines()) == 1
    doc = json.loads(out)
    assert doc["failed"] == 1 and "error" not in doc  # its fields, as before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_upload_summary_counts_the_files_it_could_not_send(endpoint, tmp_path, capsys):
    src = tmp_path / "up"
    src.mkdir()
    (src / "a.txt").write_text("a")
    (src / "broken").symlink_to(tmp_path / "nowhere")
    os.mkfifo(src / "fifo")
    code, out, err = run(capsys, "upload", str(src), f"s3://{BUCKET}/up/", "--endpoint-url", endpoint,
                         "--queue", str(tmp_path / "q.sqlite3"))
    assert code == 1
    assert out.startswith("1 done, 0 failed, 0 skipped, 2 not transferred · ")
    assert f"not transferred {src / 'fifo'}: is not a regular file" in err.splitlines()
