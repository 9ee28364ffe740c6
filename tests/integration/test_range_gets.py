"""A big download's parallel ranged GETs (range_gets.py) against moto's real HTTP server: keys
SeaweedFS would fold, a cancel that ends blocked reads at once, and errors as botocore's."""

from __future__ import annotations

import os
import time

import pytest
from awscrt.auth import AwsCredentialsProvider, AwsSignatureType, AwsSigningAlgorithm, AwsSigningConfig
from botocore.exceptions import ClientError

from lakegui.core.connection import Connection, ConnectionProfile
from lakegui.core.settings import MB, TransferSettings
from lakegui.core.transfers.backends import make_engine
from lakegui.core.transfers.engine import JobControl, Progress
from lakegui.core.transfers.jobs import Direction, Job, JobState
from lakegui.core.transfers.range_gets import Cancelled, RangeGets, signing_config
from tests.integration.test_cli_transfers import client
from tests.support.faultproxy import FaultProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
pytest.importorskip("awscrt")
SETTINGS = TransferSettings(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, engine="awscrt")


def gets(url: str, path: str, size: int, on_body, *, part: int = 1 * MB, threads: int = 3, headers=(),
         on_progress=lambda n: None):
    host = url.split("://", 1)[1]
    signing = signing_config(AwsSigningConfig(
        algorithm=AwsSigningAlgorithm.V4, signature_type=AwsSignatureType.HTTP_REQUEST_HEADERS, service="s3",
        region="us-east-1", credentials_provider=AwsCredentialsProvider.new_static("testing", "testing")))
    return RangeGets(scheme="http", host=host, path=path, spans=[(0, size)], part_size=part, threads=threads,
                     signing=signing, headers=list(headers), on_body=on_body, on_progress=on_progress)


@pytest.mark.parametrize("key", ["r//double  space+plus%25é.bin", "r/a+b%c d/ünï.bin"])
def test_a_big_download_of_an_odd_key_through_ranged_gets_is_byte_exact(moto_endpoint, tmp_path, key):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="odd")
    body = os.urandom(13 * MB)
    s3.put_object(Bucket="odd", Key=key, Body=body)
    conn = Connection(ConnectionProfile(name="t", endpoint_url=moto_endpoint, addressing_style="path"))
    engine = make_engine(conn, SETTINGS)
    target = tmp_path / "out.bin"
    try:
        out = engine.run(Job(1, 1, Direction.DOWNLOAD, "odd", key, str(target), size=len(body)), JobControl(),
                         Progress())
    finally:
        engine.close()
        for purpose in ("interactive", "transfer"):
            conn.client(purpose).close()
    assert out.state is JobState.DONE, out.error
    assert target.read_bytes() == body


def test_parts_arrive_whole_at_their_offsets_and_a_cancel_ends_blocked_reads_at_once(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="ranged")
    body = os.urandom(6 * MB)
    s3.put_object(Bucket="ranged", Key="k.bin", Body=body)
    got = bytearray(len(body))
    parts = []

    def on_body(view, offset):
        got[offset:offset + len(view)] = view
        parts.append(offset)

    g = gets(moto_endpoint, "/ranged/k.bin", len(body), on_body)
    assert g.finished_future.result(30) is None
    assert bytes(got) == body and sorted(parts) == [i * MB for i in range(6)]

    with FaultProxy(moto_endpoint, bandwidth=256 * 1024) as proxy:
        moved = []
        g = gets(proxy.url, "/ranged/k.bin", len(body), lambda view, offset: None, on_progress=moved.append)
        wait_until(lambda: len(moved) >= 3, 10, "the reads under way")
        began = time.monotonic()
        g.cancel()
        with pytest.raises(Cancelled):
            g.finished_future.result(10)
        assert time.monotonic() - began < 2.0  # paced at 256 KB/s a part would take 4 s more
    assert not any(t.is_alive() for t in g._threads)


def test_an_error_answer_comes_back_as_botocore_s_client_error(moto_endpoint):
    s3 = client(moto_endpoint)
    s3.create_bucket(Bucket="ranged")
    s3.put_object(Bucket="ranged", Key="k.bin", Body=b"x" * (3 * MB))
    g = gets(moto_endpoint, "/ranged/k.bin", 3 * MB, lambda view, offset: None, headers=[("If-Match", '"0000"')])
    with pytest.raises(ClientError) as caught:
        g.finished_future.result(30)
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"
    g = gets(moto_endpoint, "/ranged/missing.bin", 3 * MB, lambda view, offset: None)
    with pytest.raises(ClientError) as caught:
        g.finished_future.result(30)
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
