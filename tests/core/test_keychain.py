"""Keys in the OS keychain (core/keychain.py), on keyring's API with an in-memory backend."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lakegui.core import keychain, settings
from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.probe import probe
from tests.conftest import TEST_KEY

SECRET = "kc-secret-5d1e9b"


def test_keys_round_trip_under_the_profile_entry(memory_keyring):
    ref = keychain.ref_for("minio lab")
    assert ref == "lakegui:minio lab"
    keychain.store(ref, "kc-key", SECRET)
    assert json.loads(memory_keyring.entries[("lakegui", "minio lab")]) == \
        {"access_key": "kc-key", "secret_key": SECRET}
    creds = keychain.load(ref)
    assert (creds.access_key, creds.secret_key) == ("kc-key", SECRET)
    assert SECRET not in repr(creds)
    keychain.delete(ref)
    keychain.delete(ref)  # already gone is fine
    with pytest.raises(keychain.KeychainError, match="no entry lakegui:minio lab"):
        keychain.load(ref)


def test_bad_references_and_foreign_entries_are_explained(memory_keyring):
    with pytest.raises(keychain.KeychainError, match="not a keychain reference"):
        keychain.load("no-colon")
    memory_keyring.set_password("lakegui", "odd", "plain " + SECRET)
    with pytest.raises(keychain.KeychainError, match="not one lakegui wrote") as err:
        keychain.load("lakegui:odd")
    assert SECRET not in str(err.value)
    with pytest.raises(keychain.KeychainError, match="Both"):
        keychain.store("lakegui:x", "key", "")


def test_no_backend_is_reported_with_the_aws_profile_route(no_keyring):
    assert "No keychain is available" in keychain.backend_problem()
    assert "AWS profile" in keychain.backend_problem()
    with pytest.raises(keychain.KeychainError, match="No keychain is available"):
        keychain.store("lakegui:x", "key", SECRET)
    with pytest.raises(keychain.KeychainError, match="No keychain is available"):
        keychain.load("lakegui:x")


def test_a_real_backend_is_usable(memory_keyring):
    assert keychain.backend_problem() == ""


def test_connection_takes_its_keys_from_the_keychain_entry(memory_keyring):
    keychain.store("lakegui:lab", "kc-key", SECRET)
    profile = ConnectionProfile(name="lab", endpoint_url="http://127.0.0.1:9", keychain="lakegui:lab")
    creds = Connection(profile).credentials()
    assert (creds.access_key, creds.secret_key) == ("kc-key", SECRET)  # not the environment's
    assert Connection(ConnectionProfile(name="env")).credentials().access_key == TEST_KEY
    missing = ConnectionProfile(name="gone", endpoint_url="http://127.0.0.1:9", keychain="lakegui:gone")
    with pytest.raises(keychain.KeychainError, match="no entry lakegui:gone"):
        Connection(missing).client()


def test_profile_with_both_routes_is_refused():
    p = ConnectionProfile(name="x", endpoint_url="http://h:1", aws_profile="dev", keychain="lakegui:x")
    assert any("either an AWS profile or keys in the keychain" in m for m in p.problems())
    assert "keys in keychain" in ConnectionProfile(name="x", keychain="lakegui:x").describe()


def test_settings_keep_the_reference_and_never_the_keys(memory_keyring):
    keychain.store("lakegui:lab", "kc-key", SECRET)
    s = settings.Settings()
    s.upsert_profile(ConnectionProfile(name="lab", endpoint_url="http://127.0.0.1:9000", keychain="lakegui:lab"))
    settings.save(s)
    text = settings.settings_path().read_text()
    assert '"keychain": "lakegui:lab"' in text
    assert SECRET not in text and "kc-key" not in text
    assert settings.load().profile("lab").keychain == "lakegui:lab"


def test_probe_heads_the_bucket_or_lists_buckets(s3):
    s3.create_bucket(Bucket="lake")
    assert probe(Connection(ConnectionProfile(name="aws", bucket="lake"))) == \
        "Connected: bucket lake answers at AWS us-east-1."
    assert "1 bucket (lake)" in probe(Connection(ConnectionProfile(name="aws")))
    with pytest.raises(ClientError):
        probe(Connection(ConnectionProfile(name="aws", bucket="no-such-bucket")))
