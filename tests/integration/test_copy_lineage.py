"""A renamed or moved object's lineage metadata follows its new key (core/layouts.py): a reference
file's `name`, a symbol or a year the old key gave. Both engines against moto's server, the small
CopyObject path, a copy in parts and what a PUT carries; other metadata and the content headers stay."""

from __future__ import annotations

import io

import pytest
from boto3.s3.transfer import TransferConfig

from lakegui.core.layouts import BUILTIN_LAYOUTS, lineage_after_move, moved_fields
from lakegui.core.settings import MB
from lakegui.core.transfers import copy
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, JobState, OverwritePolicy
from tests.core.test_engine import BUCKET, ENGINES, Backend, job
from tests.support.faultproxy import FaultProxy

LAYOUTS = list(BUILTIN_LAYOUTS.values())
LINEAGE = {"name": "tickers.parquet", "data-type": "reference", "source": "vendor-x", "checked": "tickers.parquet"}


def test_the_fields_a_new_key_changes_and_nothing_else():
    assert moved_fields("data/reference/tickers.parquet", "data/reference/symbols.parquet", LAYOUTS) == {
        "name": ("tickers.parquet", "symbols.parquet")}
    assert moved_fields("data/ticks/daily/AAPL/2024/ticks.parquet", "data/ticks/daily/MSFT/2024/ticks.parquet",
                        LAYOUTS) == {"symbol": ("AAPL", "MSFT")}
    # Out of the layout (no year below the symbol), or renamed outside its pattern: nothing to follow.
    assert moved_fields("data/fundamental/AAPL/2022/Q1.json", "data/fundamental/AAPL/Q1.json", LAYOUTS) == {}
    assert moved_fields("data/fundamental/AAPL/2022/Q1.json", "data/fundamental/AAPL/2022/Q1 v2.json", LAYOUTS) == {}
    assert lineage_after_move(LINEAGE, "data/reference/tickers.parquet", "data/reference/symbols.parquet",
                              LAYOUTS) == {**LINEAGE, "name": "symbols.parquet"}  # `checked` is no field: kept
    assert lineage_after_move({"name": "something else"}, "data/reference/tickers.parquet",
                              "data/reference/symbols.parquet", LAYOUTS) is None  # not the old key's: the user's
    moved = copy.Job(1, 1, Direction.MOVE, BUCKET, "data/reference/symbols.parquet", "", src_bucket=BUCKET,
                     src_key="data/reference/tickers.parquet")
    put = copy._carried({"Metadata": LINEAGE, "ContentType": "application/x-parquet"}, moved)  # a stream's PUT
    assert put == {"Metadata": {**LINEAGE, "name": "symbols.parquet"}, "ContentType": "application/x-parquet"}


@pytest.fixture(params=[pytest.param(k, marks=pytest.mark.integration) for k in ENGINES])
def backend(request, moto_endpoint):
    with Backend.proxied(request.param, moto_endpoint) as b:
        yield b


def _move(engine, src_key, key, size, etag):
    j = job(Direction.MOVE, key, f"s3://{BUCKET}/{src_key}", size=size, etag=etag, src_bucket=BUCKET,
            src_key=src_key, policy=OverwritePolicy.ASK)
    return engine.run(j, JobControl(), Progress())


def test_a_rename_rewrites_the_lineage_name_and_keeps_the_rest(backend):
    s3 = backend.server
    s3.put_object(Bucket=BUCKET, Key="data/reference/tickers.parquet", Body=b"PAR1" * 100, Metadata=LINEAGE,
                  ContentType="application/vnd.apache.parquet", CacheControl="max-age=60", Tagging="desk=ref")
    etag = s3.head_object(Bucket=BUCKET, Key="data/reference/tickers.parquet")["ETag"].strip('"')
    out = _move(backend.engine(), "data/reference/tickers.parquet", "data/reference/symbols.parquet", 400, etag)
    assert out.state is JobState.DONE, out.error
    h = s3.head_object(Bucket=BUCKET, Key="data/reference/symbols.parquet")
    assert h["Metadata"] == {**LINEAGE, "name": "symbols.parquet"}
    assert (h["ContentType"], h["CacheControl"], h["ETag"].strip('"')) == ("application/vnd.apache.parquet",
                                                                             "max-age=60", etag)
    tags = s3.get_object_tagging(Bucket=BUCKET, Key="data/reference/symbols.parquet")["TagSet"]
    assert tags == [{"Key": "desk", "Value": "ref"}]
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="data/reference/tickers")


@pytest.mark.integration
def test_a_rename_copied_in_parts_rewrites_the_lineage_name(moto_endpoint):
    with FaultProxy(moto_endpoint) as proxy:
        b = Backend("s3transfer", proxy, moto_endpoint)  # the copy in parts is s3transfer's on either engine
        try:
            data = b"x" * (6 * MB)  # two parts: the least a copy in parts takes
            b.server.upload_fileobj(io.BytesIO(data), BUCKET, "data/reference/big.bin",
                                    ExtraArgs={"Metadata": {**LINEAGE, "name": "big.bin"}, "ContentType": "text/x"},
                                    Config=TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB))
            etag = b.server.head_object(Bucket=BUCKET, Key="data/reference/big.bin")["ETag"].strip('"')
            out = _move(b.engine(), "data/reference/big.bin", "data/reference/bigger.bin", len(data), etag)
            assert out.state is JobState.DONE, out.error
            h = b.server.head_object(Bucket=BUCKET, Key="data/reference/bigger.bin")
            assert h["Metadata"] == {**LINEAGE, "name": "bigger.bin"} and h["ContentType"] == "text/x"
            assert h["ETag"].strip('"') == etag  # copied in the source's parts, verified
        finally:
            b.close()
