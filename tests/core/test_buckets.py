"""Bucket names and bucket listing in core (moto in-process)."""

from __future__ import annotations

import pytest

from lakegui.core.buckets import bucket_name_problem, list_buckets
from lakegui.core.connection import Connection, ConnectionProfile


@pytest.mark.parametrize("name", ["abc", "us-equity-datalake", "a.b-c.9", "1" * 63, "my.bucket.1"])
def test_valid_names_have_no_problem(name):
    assert bucket_name_problem(name) == ""


@pytest.mark.parametrize("name, rule", [
    ("ab", "3–63 characters long (it has 2)"),
    ("a" * 64, "3–63 characters long (it has 64)"),
    ("Not_A_Bucket", "only lowercase letters, digits, '.' and '-' are allowed (it has 'A', 'B', 'N', '_')"),
    ("-lake", "start and end with a letter or digit"),
    ("lake.", "start and end with a letter or digit"),
    ("my..lake", "must not contain '..'"),
    ("192.168.5.4", "must not be an IP address"),
])
def test_a_bad_name_names_the_rule_it_breaks(name, rule):
    problem = bucket_name_problem(name)
    assert problem.startswith(f"'{name}' is not a valid bucket name: ") and rule in problem


def test_a_profile_reports_the_rule_too():
    assert ConnectionProfile(bucket="my..lake").problems() == [
        "'my..lake' is not a valid bucket name: it must not contain '..'."]


def test_list_buckets_sorted(s3):
    for name in ("zeta-lake", "alpha-lake"):
        s3.create_bucket(Bucket=name)
    assert list_buckets(Connection(ConnectionProfile())) == ["alpha-lake", "zeta-lake"]
