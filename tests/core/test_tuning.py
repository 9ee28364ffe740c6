"""tuning.plan: part size and connections per file size (issue 19, item 4), within S3's limits and
the memory budget, and a part size or parts in flight the user set wins over the table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lakegui.core.settings import TransferSettings
from lakegui.core.sync.compare import part_sizes
from lakegui.core.transfers import tuning
from lakegui.core.transfers.engine import EngineBase
from lakegui.core.transfers.tuning import DOWNLOAD, GIB, MAX_PARTS, MIB, UPLOAD, plan

DIRECTIONS = (UPLOAD, DOWNLOAD)
SIZES = (10 * MIB, 100 * MIB, 1 * GIB, 5 * GIB, 50 * GIB, 1024 * GIB, 5 * 1024 * GIB)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_every_plan_is_within_s3s_limits_and_the_memory_budget(direction):
    last = 0
    for size in SIZES:
        p = plan(size, direction)
        assert 5 * MIB <= p.part_size <= 5 * GIB
        if direction == UPLOAD:  # a multipart upload's limits; a GET's ranges have none
            assert -(-size // p.part_size) <= MAX_PARTS
        assert p.connections >= 1
        assert p.part_size * p.connections <= max(tuning.MEMORY_BUDGET, p.part_size)
        assert p.part_size >= last  # bigger files never get smaller parts
        last = p.part_size


def test_a_5_tb_file_gets_parts_of_at_least_525_mib_one_at_a_time():
    p = plan(5 * 1024 * GIB, UPLOAD)
    assert p.part_size >= 525 * MIB and p.part_size % MIB == 0
    assert -(-5 * 1024 * GIB // p.part_size) <= MAX_PARTS
    assert p.connections == 1  # 525 MiB in memory per part: one in flight


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_5_gib_keeps_what_is_in_flight_under_the_memory_target(direction):
    p = plan(5 * GIB, direction)
    # ~100 MB of code and clients plus the parts in flight must stay under 300 MB
    assert p.part_size * p.connections <= 160 * MIB


def test_an_upload_s_part_size_grows_with_the_file_past_s3s_part_count():
    small, big = plan(5 * GIB, UPLOAD), plan(200 * GIB, UPLOAD)
    assert big.part_size > small.part_size and -(-200 * GIB // big.part_size) <= MAX_PARTS


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_default_settings_get_the_table(direction):
    assert plan(1 * GIB, direction, TransferSettings()) == plan(1 * GIB, direction)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_part_size_the_user_set_wins_over_the_table(direction):
    table = plan(1 * GIB, direction)
    mine = 48 * MIB if table.part_size != 48 * MIB else 40 * MIB
    p = plan(1 * GIB, direction, TransferSettings(multipart_chunksize=mine))
    assert p.part_size == mine
    assert p.connections == min(table.connections, tuning.MEMORY_BUDGET // mine)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_parts_in_flight_the_user_set_win_over_the_table_and_the_memory_cap(direction):
    table = plan(1 * GIB, direction)
    mine = table.connections + 7
    p = plan(1 * GIB, direction, TransferSettings(max_concurrency=mine, multipart_chunksize=128 * MIB))
    assert (p.part_size, p.connections) == (128 * MIB, mine)  # asked for: 128 MiB x N in memory is the user's call


def test_a_part_size_the_user_set_still_meets_s3s_limits_on_upload():
    assert plan(100 * MIB, UPLOAD, TransferSettings(multipart_chunksize=1 * MIB)).part_size == 5 * MIB
    big = plan(1024 * GIB, UPLOAD, TransferSettings(multipart_chunksize=8 * MIB))
    assert -(-1024 * GIB // big.part_size) <= MAX_PARTS and big.part_size % MIB == 0
    # a download's ranged GETs have no such limits: the user's part size is kept as is
    assert plan(100 * MIB, DOWNLOAD, TransferSettings(multipart_chunksize=1 * MIB)).part_size == 1 * MIB


def test_uploads_through_parts_py_use_the_plan():
    engine = SimpleNamespace(settings=TransferSettings())
    assert EngineBase.upload_plan(engine, 1 * GIB) == plan(1 * GIB, UPLOAD)
    engine.settings = TransferSettings(max_concurrency=2)
    assert EngineBase.upload_plan(engine, 1 * GIB).connections == 2


def test_a_sync_compares_with_the_part_size_lakegui_uploads_in():
    size = 300 * MIB + 12345
    ours = tuning.upload_part_size(size, TransferSettings().multipart_chunksize)
    assert ours == plan(size, UPLOAD).part_size
    assert part_sizes(size, -(-size // ours), TransferSettings().multipart_chunksize)[0] == ours
