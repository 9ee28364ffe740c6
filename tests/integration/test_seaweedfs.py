"""The core against a real, strict S3 server: SeaweedFS (checks signatures, and its checksum handling
differs from AWS's)."""

from __future__ import annotations

import pytest

from lakegui.core.connection import Connection, ConnectionProfile, StaticCredentials
from lakegui.core.demo import DAILY_GAPS, SYMBOLS, YEARS, seed
from lakegui.core.errors import classify
from lakegui.core.listing import PrefixLister
from lakegui.core.objects import head
from tests.core.test_listing import WEIRD

pytestmark = pytest.mark.integration


def conn(sw, bucket, **creds) -> Connection:
    profile = ConnectionProfile(name="sw", endpoint_url=sw.endpoint_url, bucket=bucket, addressing_style="path")
    return Connection(profile, credentials=StaticCredentials(creds.get("key", sw.access_key),
                                                             creds.get("secret", sw.secret_key)))


def test_demo_lake_seeds_and_lists(seaweedfs):
    c = conn(seaweedfs, "sw-demo")
    report = seed(c.client("transfer"), "sw-demo")
    assert report.objects > 150
    keys = [o.key for p in PrefixLister(c.client(), "sw-demo", "data/ticks/daily/", recursive=True) for o in p.objects]
    assert len(keys) == len(SYMBOLS) * len(YEARS) - len(DAILY_GAPS)
    props = head(c.client(), "sw-demo", "data/ticks/daily/AAPL/2024/ticks.parquet")
    assert props.metadata["data-type"] == "daily-ticks" and props.metadata["symbol"] == "AAPL"


def test_weird_keys_round_trip(seaweedfs):
    c = conn(seaweedfs, "sw-weird")
    s3 = c.client()
    s3.create_bucket(Bucket="sw-weird")
    for k in WEIRD:
        s3.put_object(Bucket="sw-weird", Key=k, Body=k.encode())
    keys = {o.key for p in PrefixLister(s3, "sw-weird", recursive=True) for o in p.objects}
    # SeaweedFS stores keys as filer paths and collapses '//' itself (a server limitation;
    # moto keeps it, see tests/core/test_listing.py). Every other key must come back exactly.
    assert keys - {"double/slash.txt"} == set(WEIRD) - {"double//slash.txt"}


def test_bad_secret_is_classified_permanent(seaweedfs):
    c = conn(seaweedfs, "sw-demo", secret="wrong-secret")
    with pytest.raises(Exception) as e:
        next(iter(PrefixLister(c.client(), "sw-demo")))
    info = classify(e.value, bucket="sw-demo")
    assert info.permanent and "credentials" in info.message
