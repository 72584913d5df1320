"""scim2-tester's compliance checks (discovery, CRUD of Users and Groups, PATCH add/replace/remove, attribute
selection, a random URL) against /scim/v2/ on a live server: every check must pass."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from scim2_client import BaseSyncSCIMClient
from scim2_client.errors import RequestNetworkException
from scim2_tester import Status, check_server

from integration.aws.aws_world import MASTER_KEY, AwsWorld
from integration.scim_world import SCIM_JSON, new_store, new_token
from support import CHEAP_HASH, flush_test_redis, start_live_server, stop_live_server
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
# The one check that cannot pass, and why: the directory keeps a user ENABLED or DISABLED, never "unassigned", so
# after `remove active` the user reads as `active: true` (RFC 7643 2.5 lets a service provider assign a default;
# scim2-tester wants the attribute gone).
KNOWN = {("User", "check_remove_attribute", "PATCH modify() did not remove attribute 'active'")}


class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client over httpx (its own network engine needs httpx2, which this project does not install)."""

    def __init__(self, client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port) and \
            url.raw_path.startswith(base.raw_path)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.RequestError as exc:
            raise RequestNetworkException() from exc


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsWorld]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("scim-tester-data")), database_url=database_url,
                        redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), public_url="http://testserver",
                        master_key=MASTER_KEY, argon2_memory_kib=CHEAP_HASH.memory_kib,
                        argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)
    asyncio.run(flush_test_redis())
    live = start_live_server(settings, DevMailbox())
    try:
        yield AwsWorld(live)
    finally:
        stop_live_server(live)


def test_every_scim2_tester_check_passes(world: AwsWorld) -> None:
    token = new_token(world, new_store(world)).token
    headers = {"Authorization": f"Bearer {token}", "Accept": SCIM_JSON}
    with httpx.Client(base_url=world.url + "/scim/v2/", headers=headers, timeout=30) as http:
        results = check_server(HttpxSCIMClient(http))
    ran = [r for r in results if r.status is not Status.SKIPPED]
    failed = {(r.resource_type, r.title, r.reason) for r in ran if r.status not in PASSING}
    assert len(ran) > 30, [r.title for r in results]
    assert failed == KNOWN
