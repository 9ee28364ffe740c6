"""CLI messages a new user stumbled on (trial A of session 11, findings 3, 4, 5, 11 and 13): a copy
into a missing bucket said so only after 40 s of retries on SeaweedFS; an unknown storage class was
accepted; suggested commands broke when pasted (a key with a space); a folder named without its '/',
a version that does not exist and a deleted key all got "was not found"; "1 objects"; failure
lines said the URI twice."""

from __future__ import annotations

import json
import shlex
import time
import uuid
from types import SimpleNamespace

import pytest

from lakegui.cli import main
from tests.integration.test_cli_transfers import client

pytestmark = pytest.mark.integration
B = "trial11-msg"
SPACED = "lake/AAPL ticks.parquet"


def cli(capsys, *args):
    """The command in this process (a subprocess each costs a second under load)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    doc = json.loads(out.strip().splitlines()[-1]) if "--json" in args and out.strip() else None
    return SimpleNamespace(returncode=code, stdout=out, stderr=err), doc


def pasted(hint: str, *more: str) -> list[str]:
    """The arguments of the first `lakegui-cli ...` command in `hint`, as a shell would split it."""
    command = hint.split("`lakegui-cli ", 1)[1].split("`", 1)[0]
    return [*shlex.split(command), *more]


@pytest.fixture
def vers(moto_endpoint, tmp_path):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=B)
    s3.put_bucket_versioning(Bucket=B, VersioningConfiguration={"Status": "Enabled"})
    for key in ("tmp/na2/a", "tmp/na2/b", "tmp/na2/c", SPACED, "lake/one"):
        s3.put_object(Bucket=B, Key=key, Body=b"x")
    return s3, ("--endpoint-url", moto_endpoint, "--queue", str(tmp_path / "q.sqlite3"))


def test_a_copy_into_a_missing_bucket_on_seaweedfs_says_so_at_once(seaweedfs, tmp_path, capsys):
    """Finding 3: `cp`/`mv` of a key into a bucket that does not exist retried CopyObject's 500 for
    40 s, then blamed the connection; a HEAD of the bucket first names it."""
    s3 = seaweedfs.client()
    src, missing = f"t11-{uuid.uuid4().hex[:10]}", f"nosuch-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=src)
    s3.put_object(Bucket=src, Key="a/x.txt", Body=b"hi")
    common = ("--endpoint-url", seaweedfs.endpoint_url, "--queue", str(tmp_path / "q.sqlite3"))
    for verb in ("cp", "mv"):
        began = time.monotonic()
        proc, _ = cli(capsys, verb, f"s3://{src}/a/x.txt", f"s3://{missing}/x.txt", *common)
        assert proc.returncode == 1 and f"Bucket '{missing}' does not exist at this endpoint." in proc.stderr, \
            proc.stderr
        assert time.monotonic() - began < 5, f"{verb} took {time.monotonic() - began:.1f} s"
    assert s3.head_object(Bucket=src, Key="a/x.txt")["ContentLength"] == 2  # mv deleted nothing
    proc, _ = cli(capsys, "cp", f"s3://{missing}/x.txt", f"s3://{src}/y.txt", *common)  # a missing source too
    assert proc.returncode == 1 and f"Bucket '{missing}' does not exist" in proc.stderr, proc.stderr


def test_an_unknown_storage_class_is_a_usage_error(capsys):
    """Finding 4: `--storage-class GLACIERR` was sent (SeaweedFS stored it; moto failed each job)."""
    for args in (["upload", "x", "s3://b/p/"], ["cp", "s3://b/k", "s3://b/k2"], ["mv", "s3://b/k", "s3://b/k2"]):
        proc, _ = cli(capsys, *args, "--storage-class", "GLACIERR")
        assert proc.returncode == 2, args
        assert "'GLACIERR' is not an S3 storage class: use one of STANDARD, " in proc.stderr
        assert "GLACIER_IR" in proc.stderr and "DEEP_ARCHIVE" in proc.stderr
    from lakegui.cli import build_parser

    parsed = build_parser("cp").parse_args(["cp", "s3://b/k", "s3://b/k2", "--storage-class", "standard_ia"])
    assert parsed.storage_class == "STANDARD_IA"  # any case, sent as S3 spells it
    assert build_parser("upload").parse_args(["upload", "x", "s3://b/p/"]).storage_class == ""


def test_the_storage_class_check_loads_no_botocore():
    from tests.core.test_cli_startup import HEAVY, loaded

    code, modules = loaded("cp", "s3://b/k", "s3://b/k2", "--storage-class", "GLACIERR")
    assert code == 2 and not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_suggested_commands_quote_their_uris_and_paste(vers, capsys):
    """Finding 5: rm's undelete hint and revert's `ls --versions` hint broke on a key with a space."""
    s3, common = vers
    uri = f"s3://{B}/{SPACED}"
    proc, _ = cli(capsys, "rm", uri, *common)
    assert proc.returncode == 0 and f"`lakegui-cli undelete '{uri}'` brings it back" in proc.stdout
    proc, _ = cli(capsys, *pasted(proc.stdout, *common[:2]))
    assert proc.returncode == 0 and f"undeleted {uri}" in proc.stdout, proc.stderr
    proc, _ = cli(capsys, "revert", uri, "--version-id", "bogus", *common[:2])
    assert proc.returncode == 1 and f"`lakegui-cli ls '{uri}' --versions`" in proc.stderr
    proc, _ = cli(capsys, *pasted(proc.stderr, *common[:2]))
    assert proc.returncode == 0 and proc.stdout.count("AAPL ticks.parquet") == 1  # its one version (undeleted)


def test_rm_of_a_folder_without_its_slash_says_what_it_holds(vers, capsys):
    """Finding 11: `rm s3://b/tmp/na2`, na2/ holding 3 objects, said "was not found"."""
    s3, common = vers
    proc, _ = cli(capsys, "rm", f"s3://{B}/tmp/na2", *common)
    assert proc.returncode == 2, proc.stderr
    assert (f"s3://{B}/tmp/na2 is not an object but a folder of 3 objects: `lakegui-cli rm s3://{B}/tmp/na2/ "
            "--recursive` deletes them") in proc.stderr
    proc, _ = cli(capsys, *pasted(proc.stderr, "--dry-run", *common))
    assert proc.returncode == 0 and "3 keys would be deleted" in proc.stdout, proc.stderr


def test_download_says_a_missing_version_or_a_deleted_key(vers, tmp_path, capsys):
    """Finding 11: a version that does not exist, a key whose latest version is a delete marker,
    and the marker's own version all gave "was not found" (or "Method Not Allowed")."""
    s3, common = vers
    dest = str(tmp_path / "down")
    proc, _ = cli(capsys, "download", f"s3://{B}/lake/one", dest, "--version-id", "nosuch", *common)
    assert proc.returncode == 1 and f"s3://{B}/lake/one has no version 'nosuch'" in proc.stderr, proc.stderr

    marker = s3.delete_object(Bucket=B, Key="lake/one")["VersionId"]
    proc, _ = cli(capsys, "download", f"s3://{B}/lake/one", dest, *common)
    assert proc.returncode == 1, proc.stderr
    assert (f"s3://{B}/lake/one was deleted (its latest version is a delete marker): `lakegui-cli undelete "
            f"s3://{B}/lake/one` brings it back") in proc.stderr
    assert f"`lakegui-cli download s3://{B}/lake/one {dest} --version-id V` fetches one of them" in proc.stderr
    proc, _ = cli(capsys, "download", f"s3://{B}/lake/one", dest, "--version-id", marker, *common)
    assert proc.returncode == 1 and f"version '{marker}' of s3://{B}/lake/one is a delete marker" in proc.stderr
    proc, _ = cli(capsys, "rm", f"s3://{B}/lake/one", *common)  # rm and cp of it say the same
    assert proc.returncode == 1 and f"s3://{B}/lake/one was deleted" in proc.stderr, proc.stderr


def test_counts_of_one_and_failure_lines_read_well(vers, tmp_path, capsys):
    """Finding 13: "1 objects"; "failed X: X exists and was not replaced…"."""
    s3, common = vers
    proc, _ = cli(capsys, "cp", f"s3://{B}/lake/one", f"s3://{B}/lake/two", "--dry-run", *common)
    assert proc.returncode == 0 and proc.stdout.endswith("1 object would be copied\n"), proc.stdout
    proc, _ = cli(capsys, "rm", f"s3://{B}/tmp/na2/", "--recursive", "--dry-run", *common)
    assert "3 keys would be deleted" in proc.stdout
    proc, _ = cli(capsys, "rm", f"s3://{B}/lake/one", "--dry-run", *common)
    assert "1 key would be deleted" in proc.stdout
    other = tmp_path / "one"
    other.write_bytes(b"other bytes")
    proc, _ = cli(capsys, "upload", str(other), f"s3://{B}/lake/", *common)
    assert proc.returncode == 1
    assert (f"failed s3://{B}/lake/one: it exists with different content and was not replaced: run it again "
            "with --overwrite") in proc.stderr, proc.stderr


def test_a_failure_line_names_its_uri_once():
    from lakegui.cli.common import failed_line

    assert failed_line("s3://b/k", "s3://b/k was not found") == "failed s3://b/k: it was not found"
    assert failed_line("s3://b/k", "s3://b/k2 exists") == "failed s3://b/k: s3://b/k2 exists"  # another URI
    assert failed_line("s3://b/k", "/tmp/k exists") == "failed s3://b/k: /tmp/k exists"


def test_a_version_id_a_server_ignores_is_not_taken_for_the_latest(seaweedfs, tmp_path, capsys):
    """`preview --version-id bogus` on SeaweedFS without versioning showed the latest file headed
    '· version bogus' (the server ignores the id); download and revert took the latest too."""
    s3 = seaweedfs.client()
    bucket = f"t11v-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/x.csv", Body=b"a,b\n1,2\n")
    common = ("--endpoint-url", seaweedfs.endpoint_url)
    uri = f"s3://{bucket}/a/x.csv"
    for args in (("preview", uri, "--version-id", "bogus", *common),
                 ("download", uri, str(tmp_path / "out"), "--version-id", "bogus", *common,
                  "--queue", str(tmp_path / "q.sqlite3")),
                 ("revert", uri, "--version-id", "bogus", *common)):
        proc, _ = cli(capsys, *args)
        assert proc.returncode != 0, args
        assert "has no version 'bogus'" in proc.stderr or "does not keep versions" in proc.stderr, (args, proc.stderr)
        assert "version bogus" not in proc.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    proc, _ = cli(capsys, "preview", uri, *common)  # without an id: the file
    assert proc.returncode == 0 and "version" not in proc.stdout and "2" in proc.stdout
