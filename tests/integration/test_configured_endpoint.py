"""An endpoint configured outside lakegui (session 9's trial, finding 3): AWS_ENDPOINT_URL_S3,
AWS_ENDPOINT_URL, an AWS profile's `endpoint_url` or its services section. botocore sends
listings there by itself; the native engine and the cluster's workers must send the bytes there
too (they went to AWS, failing with AWS_IO_DNS_INVALID_NAME)."""

from __future__ import annotations

import types

import pytest

from lakegui.cli import main
from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.transfers.cluster import ClusterExecutor
from lakegui.core.transfers.crt_engine import CrtEngine
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.integration.test_cli_transfers import client

pytestmark = pytest.mark.integration
BUCKET = "configured-endpoint"
KEYS = f"aws_access_key_id = {TEST_KEY}\naws_secret_access_key = {TEST_SECRET}\n"
WAYS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "profile", "services")


def configure(way: str, url: str, monkeypatch) -> str:
    """Name the endpoint one way (the config file is the test's: conftest's isolated_env); the
    AWS profile to use, '' for none."""
    import os

    if way.startswith("AWS_"):
        monkeypatch.setenv(way, url)
        return ""
    section = f"endpoint_url = {url}\n" if way == "profile" else "services = here\n"
    more = f"[services here]\ns3 =\n  endpoint_url = {url}\n" if way == "services" else ""
    with open(os.environ["AWS_CONFIG_FILE"], "w") as f:
        f.write(f"[profile local]\nregion = us-east-1\n{KEYS}{section}{more}")
    return "local"


@pytest.mark.parametrize("way", WAYS)
def test_the_connection_and_the_native_engine_use_the_configured_endpoint(way, monkeypatch):
    url = "http://127.0.0.1:9"  # nothing is sent
    conn = Connection(ConnectionProfile.from_options(aws_profile=configure(way, url, monkeypatch)))
    assert conn.endpoint_url == url
    assert conn.client().meta.endpoint_url == url  # as botocore resolves it for its own client
    assert conn.client().meta.config.request_checksum_calculation == "when_required"  # a custom endpoint's
    engine = CrtEngine(conn)
    try:
        assert engine._host_and_path("b", "k/x") == ("127.0.0.1:9", "/b/k/x")
        assert not engine._tls
    finally:
        engine.close()


def test_the_profiles_own_endpoint_wins_and_the_configured_ones_can_be_ignored(monkeypatch):
    configure("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", monkeypatch)
    named = Connection(ConnectionProfile.from_options(endpoint_url="http://127.0.0.1:8"))
    assert named.endpoint_url == "http://127.0.0.1:8"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert Connection(ConnectionProfile()).endpoint_url == ""


def test_nothing_configured_builds_no_botocore_session(monkeypatch):
    import botocore.session

    def refuse(*_a, **_k):
        raise AssertionError("a botocore session was built")

    monkeypatch.setattr(botocore.session, "Session", refuse)
    assert Connection(ConnectionProfile()).endpoint_url == ""  # AWS itself


def test_uploads_and_downloads_reach_the_configured_endpoint(moto_endpoint, tmp_path, monkeypatch):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    options = ["--queue", str(tmp_path / "q.sqlite3"), "--json", "--profile", configure("profile", moto_endpoint,
                                                                                         monkeypatch)]
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "a.bin").write_bytes(b"a" * 3000)
    assert main(["upload", str(tmp_path / "up"), f"s3://{BUCKET}/p/", *options]) == 0
    assert s3.get_object(Bucket=BUCKET, Key="p/a.bin")["Body"].read() == b"a" * 3000
    assert main(["download", f"s3://{BUCKET}/p/", str(tmp_path / "down"), *options]) == 0
    assert (tmp_path / "down" / "a.bin").read_bytes() == b"a" * 3000


def test_the_cluster_sends_its_workers_the_configured_endpoint(monkeypatch):
    configure("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", monkeypatch)
    batches = {1: {"region": "us-east-1"}, 2: {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:8"}}
    service = types.SimpleNamespace(batch=lambda i: types.SimpleNamespace(profile=batches[i], created=0.0),
                                    engines=types.SimpleNamespace(override={}))
    executor = types.SimpleNamespace(service=service, _profiles={}, _since={})
    assert ClusterExecutor._profile(executor, 1)["endpoint_url"] == "http://127.0.0.1:9"
    assert ClusterExecutor._profile(executor, 2)["endpoint_url"] == "http://127.0.0.1:8"


@pytest.mark.parametrize("way", WAYS)
def test_the_connection_describes_the_configured_endpoint_and_where_it_is_set(way, monkeypatch):
    """Session 9's second trial, finding A: with the Endpoint URL empty the status bar and Test said
    'AWS us-east-1' while every request went to the configured endpoint."""
    from lakegui.core.connection import configured_endpoint

    url = "http://127.0.0.1:9"
    aws_profile = configure(way, url, monkeypatch)
    conn = Connection(ConnectionProfile(name="default", aws_profile=aws_profile))
    source = way if way.startswith("AWS_") else "AWS profile local"
    assert conn.where() == f"{url} (from {source})"
    assert conn.describe(bucket="lake1").startswith(f"default: {url} (from {source})")
    assert conn.describe(bucket="lake1").endswith(" · s3://lake1") and "AWS us-east-1" not in conn.describe()
    assert configured_endpoint(aws_profile) == (url, source)  # the Connect dialog's placeholder
    assert Connection(ConnectionProfile(endpoint_url="http://127.0.0.1:8")).where() == "http://127.0.0.1:8"


def test_nothing_configured_is_described_as_aws():
    assert Connection(ConnectionProfile(region="eu-west-1")).describe() == "default: AWS eu-west-1"
    assert Connection(ConnectionProfile()).where() == "AWS us-east-1"


def test_probe_names_the_configured_endpoint(moto_endpoint, monkeypatch):
    from lakegui.core.probe import probe

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    said = probe(Connection(ConnectionProfile()))
    assert said.startswith(f"Connected to {moto_endpoint} (from AWS_ENDPOINT_URL): ") and "AWS" not in \
        said.removeprefix(f"Connected to {moto_endpoint} (from AWS_ENDPOINT_URL)")
