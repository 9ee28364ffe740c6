"""`lakegui-cli ls` over the core listing (moto in-process)."""

import json

from lakegui.cli import main


def seed(s3):
    s3.create_bucket(Bucket="lake")
    for k in ("data/a.parquet", "data/sub/b.json", "data/sub/c d+%.txt", "top.txt"):
        s3.put_object(Bucket="lake", Key=k, Body=b"12345")


def test_ls_delimited_text(s3, capsys):
    seed(s3)
    assert main(["ls", "s3://lake/data/"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["PRE", "sub/"]
    assert out[1].split()[-2:] == ["5", "a.parquet"]


def test_ls_recursive_json(s3, capsys):
    seed(s3)
    assert main(["ls", "s3://lake/data/", "--recursive", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["prefixes"] == []
    assert [o["key"] for o in doc["objects"]] == ["data/a.parquet", "data/sub/b.json", "data/sub/c d+%.txt"]
    assert set(doc["objects"][0]) == {"key", "size", "last_modified", "etag", "storage_class"}


def test_ls_errors(s3, capsys):
    assert main(["ls", "lake/data"]) == 2
    assert "must start with s3://" in capsys.readouterr().err
    assert main(["ls", "s3://no-such-bucket/"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["ls", "s3://lake/", "--endpoint-url", "localhost"]) == 2
