"""The session's demo lake is put back as seeded before each test that uses it."""

from __future__ import annotations

from lakegui.core.demo import DEMO_BUCKET


def test_what_a_test_changed_is_put_back(demo_lake, demo_connection):
    s3 = demo_connection.client()
    key = "data/ticks/daily/MSFT/2023/ticks.parquet"
    before = s3.get_object(Bucket=DEMO_BUCKET, Key=key)
    body, metadata = before["Body"].read(), before["Metadata"]
    s3.copy_object(Bucket=DEMO_BUCKET, Key=key, CopySource={"Bucket": DEMO_BUCKET, "Key": key},
                   Metadata={"edited": "yes"}, MetadataDirective="REPLACE")
    s3.delete_object(Bucket=DEMO_BUCKET, Key="README.txt")
    s3.put_object(Bucket=DEMO_BUCKET, Key="tmp/new.txt", Body=b"new")
    s3.create_multipart_upload(Bucket=DEMO_BUCKET, Key="tmp/open.bin")
    s3.create_bucket(Bucket="other-bucket")
    s3.put_object(Bucket="other-bucket", Key="x", Body=b"x")

    assert sorted(demo_lake.restore()) == sorted(["README.txt", key, "tmp/new.txt"])
    assert demo_lake.restore() == []  # nothing left to repair
    after = s3.get_object(Bucket=DEMO_BUCKET, Key=key)
    assert after["Body"].read() == body and after["Metadata"] == metadata
    assert s3.head_object(Bucket=DEMO_BUCKET, Key="README.txt")["ContentLength"] > 0
    assert "Contents" not in s3.list_objects_v2(Bucket=DEMO_BUCKET, Prefix="tmp/")
    assert s3.list_multipart_uploads(Bucket=DEMO_BUCKET).get("Uploads", []) == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [DEMO_BUCKET]
