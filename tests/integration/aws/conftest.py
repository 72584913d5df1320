"""Fixtures for the real-client AWS tests: one live server per module (helpers in aws_world.py)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.aws.aws_world import MASTER_KEY, Account, AwsWorld
from support import CHEAP_HASH, flush_test_redis, start_live_server, stop_live_server
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings


@pytest.fixture(scope="module")
def aws_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=Path(tmp_path_factory.mktemp("aws-data")),
        database_url=database_url,
        redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""),
        public_url="http://testserver",
        master_key=MASTER_KEY,
        argon2_memory_kib=CHEAP_HASH.memory_kib,
        argon2_time_cost=CHEAP_HASH.time_cost,
        argon2_parallelism=1,
    )


@pytest.fixture(scope="module")
def world(aws_settings: Settings) -> Iterator[AwsWorld]:
    asyncio.run(flush_test_redis())  # throttle counters of earlier modules (the database is shared, not wiped)
    live = start_live_server(aws_settings, DevMailbox())
    try:
        world = AwsWorld(live)
        world.clear_request_budgets()  # ... and those kept in the database: every module starts afresh
        yield world
    finally:
        stop_live_server(live)


@pytest.fixture(autouse=True)
def _real_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts and ends with the server on real time."""
    yield
    if "world" in request.fixturenames:
        request.getfixturevalue("world").clock.offset = 0.0


@pytest.fixture
def account(world: AwsWorld) -> Account:
    return world.new_account()
