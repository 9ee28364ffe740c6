"""Object actions in core, against moto in-process."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lakegui.core import objects

B = "objects-test"


@pytest.fixture
def s3b(s3):
    s3.create_bucket(Bucket=B)
    return s3


def test_presigned_url_has_a_bounded_expiry(s3b):
    from lakegui.core.connection import Connection, ConnectionProfile

    url = objects.presign_get(Connection(ConnectionProfile(bucket=B)).client(), B, "a b+c.txt", 3600)
    assert "X-Amz-Expires=3600" in url and "a%20b%2Bc.txt" in url
    for bad in (0, 59, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError, match="1 minute to 7 days"):
            objects.presign_get(s3b, B, "k", bad)


def test_delete_keys_in_batches_and_prefix_listing(s3b):
    keys = [f"p/{i}.txt" for i in range(5)] + ["p/", "q.txt"]
    for k in keys:
        s3b.put_object(Bucket=B, Key=k, Body=b"x")
    under = objects.keys_under(s3b, B, "p/")
    assert sorted(under) == sorted(k for k in keys if k.startswith("p/"))
    result = objects.delete_keys(s3b, B, under, batch=2)
    assert sorted(result.deleted) == sorted(under) and result.errors == []
    assert [o["Key"] for o in s3b.list_objects_v2(Bucket=B)["Contents"]] == ["q.txt"]


@pytest.mark.parametrize("name, problem", [("", "needs a name"), ("a/b", "cannot contain"), ("..", "cannot be"),
                                           ("x" * 1100, "1,024 bytes")])
def test_folder_names_are_checked(name, problem):
    with pytest.raises(ValueError, match=problem):
        objects.folder_key("data/", name)


def test_new_folder_marker(s3b):
    key = objects.folder_key("data/", " new folder ")
    assert key == "data/new folder/"
    objects.create_folder(s3b, B, key)
    assert s3b.head_object(Bucket=B, Key=key)["ContentLength"] == 0


def test_replace_metadata_only_if_unchanged(s3b):
    s3b.put_object(Bucket=B, Key="t.parquet", Body=b"PAR1", ContentType="application/vnd.apache.parquet",
                   Metadata={"symbol": "AAPL"})
    props = objects.head(s3b, B, "t.parquet")
    objects.replace_metadata(s3b, B, "t.parquet", props, {"symbol": "AAPL", "source": "fixed"})
    after = objects.head(s3b, B, "t.parquet")
    assert after.metadata == {"symbol": "AAPL", "source": "fixed"}
    assert after.content_type == "application/vnd.apache.parquet"
    assert s3b.get_object(Bucket=B, Key="t.parquet")["Body"].read() == b"PAR1"
    s3b.put_object(Bucket=B, Key="t.parquet", Body=b"changed by someone else")
    with pytest.raises(ClientError):  # the version the user looked at is gone: nothing is overwritten
        objects.replace_metadata(s3b, B, "t.parquet", after, {"symbol": "MSFT"})
    assert objects.head(s3b, B, "t.parquet").metadata == {}
    with pytest.raises(ValueError, match="ASCII"):
        objects.replace_metadata(s3b, B, "t.parquet", after, {"note": "café"})
