import pytest

from lakegui.core.connection import (
    Connection,
    ConnectionProfile,
    StaticCredentials,
    available_aws_profiles,
    make_config,
)


def test_config_for_custom_endpoint():
    cfg = make_config(ConnectionProfile(endpoint_url="http://127.0.0.1:9000", addressing_style="path"),
                      purpose="transfer", concurrency=20)
    assert cfg.max_pool_connections >= 20
    assert cfg.retries["mode"] == "standard"
    assert cfg.tcp_keepalive is True
    assert cfg.request_checksum_calculation == "when_required"
    assert cfg.response_checksum_validation == "when_required"
    assert cfg.s3["addressing_style"] == "path"


def test_config_for_aws_keeps_default_checksums():
    cfg = make_config(ConnectionProfile(), purpose="interactive", concurrency=4)
    assert cfg.request_checksum_calculation != "when_required"
    assert cfg.max_pool_connections >= 10
    # Interactive calls give up fast enough to report within 10 s.
    attempts = cfg.retries["total_max_attempts"]
    assert cfg.connect_timeout * attempts < 10


@pytest.mark.parametrize("profile, fragment", [
    (ConnectionProfile(name=""), "needs a name"),
    (ConnectionProfile(endpoint_url="localhost:9000"), "must look like"),
    (ConnectionProfile(addressing_style="sideways"), "Addressing style"),
    (ConnectionProfile(bucket="Bad_Bucket!"), "not a valid bucket"),
])
def test_profile_problems(profile, fragment):
    assert any(fragment in p for p in profile.problems())


def test_good_profile_has_no_problems():
    assert ConnectionProfile(name="lake", endpoint_url="https://s3.example.com:8443", bucket="us-equity-datalake",
                             addressing_style="virtual").problems() == []


def test_static_credentials_hide_the_secret():
    creds = StaticCredentials("AKIDEXAMPLE", "very-secret-value")
    assert "very-secret-value" not in repr(creds) and "very-secret-value" not in str(creds)


def test_available_profiles_come_from_shared_config(isolated_env, monkeypatch):
    (isolated_env / "aws" / "config").write_text("[profile analytics]\nregion = us-east-2\n[default]\n")
    assert {"analytics", "default"} <= set(available_aws_profiles())


def test_clients_are_created_once_and_shared(s3):
    conn = Connection(ConnectionProfile(bucket="x"))
    assert conn.client() is conn.client()
    assert conn.client("transfer") is not conn.client()
    assert conn.client("transfer").meta.config.max_pool_connections >= conn.concurrency
