"""Bad input on a real S3 server (SeaweedFS), each with a clear message and nothing lost (issue 7):
odd keys round-trip exactly, keys no folder can hold are refused or fail with the reason, zero-byte
files, a file that vanishes after it was queued, a full disk during a download, and a temp-file
name planted as a symlink."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.test_cli_transfers import cli
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ODD = ["a b.txt", "plus+sign.txt", "pct%2Fname.txt", "ünïcødé.parquet", "emoji-📈.csv", "trailing space ",
       "Case.txt", "case.txt", "empty.bin"]
LONG_DIRS = ["d" * 190] * 5  # a key of about 1,000 bytes, each part a legal file name


@pytest.fixture
def sw(seaweedfs):
    s3 = seaweedfs.client()
    # A fresh name for each test: id() of a collected client is reused, and SeaweedFS outlives tests.
    bucket = f"bad-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return s3, bucket, ["--endpoint-url", seaweedfs.endpoint_url]


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_odd_keys_round_trip_and_impossible_names_are_reported(sw, tmp_path):
    s3, bucket, url = sw
    local = tmp_path / "odd"
    local.mkdir()
    for i, name in enumerate(ODD):
        (local / name).write_bytes(b"" if name == "empty.bin" else f"{i}:{name}".encode())
    deep = local.joinpath(*LONG_DIRS)
    deep.mkdir(parents=True)
    (deep / "long.txt").write_bytes(b"deep")
    too_deep = local.joinpath(*LONG_DIRS, "e" * 80)
    too_deep.mkdir()
    (too_deep / "x.txt").write_bytes(b"too long a key")

    proc, doc = cli("upload", str(local), f"s3://{bucket}/up/", *url, "--json")
    assert proc.returncode == 1, "the over-long key makes the run incomplete"
    assert [i["reason"] for i in doc["invalid"]] == ["its key would be longer than S3's 1,024 bytes"]
    sent = files_under(local)
    del sent["/".join(LONG_DIRS + ["e" * 80, "x.txt"])]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(f"up/{k}" for k in sent)  # exactly as named: spaces, +, %2F, unicode, case
    assert max(len(k.encode()) for k in keys) > 960

    # Keys that no local folder can hold as named.
    s3.put_object(Bucket=bucket, Key="up/clash", Body=b"a file here")  # and a folder of the same name:
    s3.put_object(Bucket=bucket, Key="up/clash/inner.txt", Body=b"x")
    out = tmp_path / "out"
    proc, doc = cli("download", f"s3://{bucket}/up/", str(out), *url, "--json")
    assert proc.returncode == 1
    (failure,) = doc["failures"]  # one of the two clashing names cannot exist beside the other
    assert "clash" in failure["key"] and ("is a folder" in failure["error"] or "Cannot create folder" in failure["error"])
    got = files_under(out)
    assert {k: v for k, v in got.items() if not k.startswith("clash")} == sent  # everything else, byte for byte, zero-byte file included
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def test_keys_that_would_escape_or_cannot_be_named_are_refused(moto_endpoint, tmp_path):
    """SeaweedFS normalises '//' and '..' in keys; moto's server keeps them, as AWS does."""
    from tests.integration.test_cli_transfers import client

    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="hostile")
    for key in ("in/ok.txt", "in/double//slash.txt", "in/../escape.txt", "in/a/../../up.txt", "in/.."):
        s3.put_object(Bucket="hostile", Key=key, Body=b"x")
    box = tmp_path / "box"  # nothing may appear in it but the destination's one good file
    out = box / "dest"
    proc, doc = cli("download", "s3://hostile/in/", str(out), "--endpoint-url", moto_endpoint, "--json")
    assert proc.returncode == 1 and doc["done"] == 1
    reasons = {i["path"]: i["reason"] for i in doc["invalid"]}
    assert len(reasons) == 4 and all("outside" in r or "cannot" in r or "empty" in r for r in reasons.values()), reasons
    assert files_under(box) == {"dest/ok.txt": b"x"}  # nothing written anywhere else


def test_a_file_that_vanishes_after_it_was_queued_fails_clearly(sw, seaweedfs, tmp_path):
    from lakegui.core.connection import ConnectionProfile
    from lakegui.core.transfers.jobs import Direction
    from lakegui.core.transfers.store import JobStore, NewJob

    s3, bucket, url = sw
    stays, gone = tmp_path / "stays.txt", tmp_path / "gone.txt"
    stays.write_bytes(b"ok")
    gone.write_bytes(b"soon gone")
    q = str(tmp_path / "q.sqlite3")
    store = JobStore(q)
    profile = ConnectionProfile(name="sw", endpoint_url=seaweedfs.endpoint_url, bucket=bucket).to_dict()
    batch = store.create_batch("queued earlier", "upload", profile, runner="cli")
    store.add_jobs(batch, [NewJob(Direction.UPLOAD, bucket, f"v/{p.name}", str(p), size=p.stat().st_size,
                                  mtime=p.stat().st_mtime) for p in (stays, gone)])
    store.close()
    gone.unlink()
    proc, doc = cli("queue", "resume", "--queue", q, "--json")
    assert proc.returncode == 1 and doc["done"] == 1 and doc["failed"] == 1
    assert "moved or deleted since it was queued" in doc["failures"][0]["error"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["v/stays.txt"]


def limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_during_download_fails_clearly_and_leaves_no_temp_file(sw, tmp_path):
    s3, bucket, url = sw
    s3.put_object(Bucket=bucket, Key="big/blob.bin", Body=os.urandom(3 << 20))
    out = tmp_path / "full"
    out.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(out)],
                             capture_output=True).returncode == 0 if shutil.which("mount") else False
    try:
        proc = subprocess.run([sys.executable, "-m", "lakegui.cli", "download", f"s3://{bucket}/big/", str(out),
                               *url, "--queue", str(tmp_path / "q.sqlite3"), "--json"],
                              capture_output=True, text=True, timeout=120,
                              preexec_fn=None if mounted else limit_file_size(2 << 20))
        assert proc.returncode == 1, proc.stderr
        expected = "The disk is full" if mounted else "The file is too large"
        assert expected in proc.stdout + proc.stderr
        assert list(out.iterdir()) == []  # no partial file, no temp file
    finally:
        if mounted:
            subprocess.run(["umount", str(out)], check=False)


def test_a_symlink_planted_at_the_temp_name_is_not_followed(sw, tmp_path):
    s3, bucket, url = sw
    s3.put_object(Bucket=bucket, Key="t/file.bin", Body=b"payload")
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    (out / ".file.bin.lakegui-1.part").symlink_to(victim)  # the first job's temp name
    proc, doc = cli("download", f"s3://{bucket}/t/", str(out), *url, "--queue", str(tmp_path / "q.sqlite3"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert victim.read_bytes() == b"precious" and (out / "file.bin").read_bytes() == b"payload"
    assert sorted(p.name for p in out.iterdir()) == ["file.bin"]


def test_unreadable_files_and_folders_are_reported_not_sent(moto_endpoint, tmp_path):
    """Root reads everything: as root, the CLI runs without the capabilities that bypass file
    permissions (setpriv), as an ordinary user would."""
    import json

    from tests.integration.test_cli_transfers import client

    client(moto_endpoint).create_bucket(Bucket="perms")
    box = tmp_path / "box"
    box.mkdir()
    (box / "ok.txt").write_bytes(b"readable")
    (box / "secret.txt").write_bytes(b"no")
    (box / "locked").mkdir()
    (box / "locked" / "inner.txt").write_bytes(b"no")
    (box / "secret.txt").chmod(0)
    (box / "locked").chmod(0)
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: every file is readable")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "lakegui.cli", "upload", str(box), "s3://perms/p/",
                               "--endpoint-url", moto_endpoint, "--json"], capture_output=True, text=True, timeout=120)
    finally:
        (box / "secret.txt").chmod(0o644)
        (box / "locked").chmod(0o755)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    reasons = {Path(i["path"]).name: i["reason"] for i in doc["invalid"]}
    assert set(reasons) == {"secret.txt", "locked"} and all("Permission denied" in r for r in reasons.values()), reasons
    keys = [o["Key"] for o in client(moto_endpoint).list_objects_v2(Bucket="perms")["Contents"]]
    assert keys == ["p/ok.txt"]


def test_a_file_changed_while_it_is_sent_is_sent_again_whole(sw, tmp_path):
    """Rewritten (same size, new bytes) in the middle of a throttled multipart upload: the attempt is
    discarded by its size and mtime check, and what lands is the new file, never a mix."""
    from tests.integration.test_faults import write_settings

    s3, bucket, url = sw
    write_settings(max_bandwidth=4 << 20, multipart_threshold=5 << 20, multipart_chunksize=5 << 20,
                   engine="s3transfer")
    f = tmp_path / "AAPL_2024.parquet"
    f.write_bytes(b"a" * (12 << 20))
    proc = subprocess.Popen([sys.executable, "-m", "lakegui.cli", "upload", str(f), f"s3://{bucket}/c/", *url,
                             "--queue", str(tmp_path / "q.sqlite3"), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_until(lambda: s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), 30, "the multipart upload to begin")
    f.write_bytes(b"b" * (12 << 20))  # the same size: only the mtime tells
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    body = s3.get_object(Bucket=bucket, Key="c/AAPL_2024.parquet")["Body"].read()
    assert body == b"b" * (12 << 20)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    log = (Path(os.environ["LAKEGUI_LOG_DIR"]) / "lakegui.log").read_text()
    assert "changed while it was being uploaded; sending it again" in log
