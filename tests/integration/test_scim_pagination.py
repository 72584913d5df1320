"""SCIM index paging (RFC 7644 3.4.2.4) served from the directory's name indexes: `totalResults` from an indexed
count, a page at `startIndex` found by seeking the key before it in the index, so a page loads `count` (+1)
resources whatever the directory's size and however deep the page; Users and Groups in name order."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

from integration.aws.aws_world import MASTER_KEY, AwsWorld
from integration.scim_world import Store, new_store, new_token, scim_client
from support import CHEAP_HASH, flush_test_redis, start_live_server, stop_live_server
from vestibule.services.context import Deps
from vestibule.services.identity_center import directory
from vestibule.services.identity_center.directory_profile import profile_of
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.store.models import DirectoryGroup, DirectoryUser

USERS = [f"user-{i:04d}" for i in range(300)]
GROUPS = [f"group-{i:02d}" for i in range(30)]


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsWorld]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("scim-pages")), database_url=database_url,
                        redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), public_url="http://testserver",
                        master_key=MASTER_KEY, argon2_memory_kib=CHEAP_HASH.memory_kib,
                        argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)
    asyncio.run(flush_test_redis())
    live = start_live_server(settings, DevMailbox())
    try:
        yield AwsWorld(live)
    finally:
        stop_live_server(live)


@pytest.fixture(scope="module")
def store(world: AwsWorld) -> Store:
    """300 users and 30 groups, made in reverse name order (so ID or creation order is not name order)."""
    made = new_store(world)

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            for name in reversed(USERS):
                await directory.create_user(uow, made.identity_store_id, name, profile_of({"DisplayName": name}),
                                            actor="test", now=1.0)
            for name in reversed(GROUPS):
                await directory.create_group(uow, made.identity_store_id, name, None, actor="test", now=1.0)
            await uow.commit()

    world.run(add)
    return made


@pytest.fixture
def scim(world: AwsWorld, store: Store) -> Iterator[httpx.Client]:
    with scim_client(world, new_token(world, store).token) as client:
        yield client


@pytest.fixture
def loaded() -> Iterator[list[object]]:
    rows: list[object] = []

    def count(row: object, _context: object) -> None:
        rows.append(row)

    for model in (DirectoryUser, DirectoryGroup):
        event.listen(model, "load", count)
    try:
        yield rows
    finally:
        for model in (DirectoryUser, DirectoryGroup):
            event.remove(model, "load", count)


def test_index_pages_walk_every_user_by_name(scim: httpx.Client) -> None:
    seen: list[str] = []
    for start in range(1, len(USERS) + 1, 25):
        page = scim.get("/Users", params={"startIndex": start, "count": 25}).json()
        assert page["totalResults"] == len(USERS) and page["startIndex"] == start and page["itemsPerPage"] == 25
        seen += [r["userName"] for r in page["Resources"]]
    assert seen == USERS
    last = scim.get("/Users", params={"startIndex": 299, "count": 25}).json()
    assert [r["userName"] for r in last["Resources"]] == USERS[298:]
    past = scim.get("/Users", params={"startIndex": 301}).json()
    assert past["totalResults"] == len(USERS) and past.get("Resources", []) == []
    below = scim.get("/Users", params={"startIndex": 0, "count": 2}).json()  # less than 1 is 1 (3.4.2.4)
    assert [r["userName"] for r in below["Resources"]] == USERS[:2]


def test_index_pages_of_groups(scim: httpx.Client) -> None:
    seen: list[str] = []
    for start in range(1, len(GROUPS) + 1, 7):
        page = scim.get("/Groups", params={"startIndex": start, "count": 7}).json()
        assert page["totalResults"] == len(GROUPS)
        seen += [r["displayName"] for r in page["Resources"]]
    assert seen == GROUPS


def test_a_deep_page_loads_no_more_than_its_count(scim: httpx.Client, loaded: list[object]) -> None:
    counted = scim.get("/Users", params={"count": 0}).json()
    assert counted["totalResults"] == len(USERS) and counted.get("Resources", []) == [] and loaded == []
    for start in (1, 201, 291):
        loaded.clear()
        page = scim.get("/Users", params={"startIndex": start, "count": 10}).json()
        assert [r["userName"] for r in page["Resources"]] == USERS[start - 1:start + 9]
        assert len(loaded) <= 11, (start, len(loaded))
    loaded.clear()
    page = scim.get("/Groups", params={"startIndex": 21, "count": 5}).json()
    assert [r["displayName"] for r in page["Resources"]] == GROUPS[20:25] and len(loaded) <= 6, len(loaded)


def _cursor_walk(scim: httpx.Client, path: str, name: str, count: int, **params: str) -> list[str]:
    seen: list[str] = []
    cursor = ""
    while True:
        page = scim.get(path, params={"cursor": cursor, "count": count, **params}).json()
        assert "startIndex" not in page and page["itemsPerPage"] == len(page.get("Resources", []))
        seen += [r[name] for r in page.get("Resources", [])]
        if "nextCursor" not in page:
            return seen
        cursor = page["nextCursor"]


def test_cursor_pages_walk_everything_and_survive_changes(world: AwsWorld, store: Store, scim: httpx.Client) -> None:
    assert scim.get("/ServiceProviderConfig").json()["pagination"]["cursor"] is True
    assert _cursor_walk(scim, "/Users", "userName", 40) == USERS
    assert _cursor_walk(scim, "/Groups", "displayName", 8) == GROUPS
    assert _cursor_walk(scim, "/Users", "userName", 7, filter='userName sw "user-02"') == USERS[200:300]

    first = scim.get("/Users", params={"cursor": "", "count": 10}).json()
    assert first["totalResults"] == len(USERS) and [r["userName"] for r in first["Resources"]] == USERS[:10]
    made = scim.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                     "userName": "user-0005a"}).json()  # before the cursor
    later = scim.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                      "userName": "user-0100a"}).json()  # after it
    gone = scim.get("/Users", params={"filter": 'userName eq "user-0050"'}).json()["Resources"][0]["id"]
    assert scim.delete(f"/Users/{gone}").status_code == 204
    try:
        seen = [r["userName"] for r in first["Resources"]]
        cursor = first["nextCursor"]
        while cursor:
            page = scim.get("/Users", params={"cursor": cursor, "count": 50}).json()
            seen += [r["userName"] for r in page["Resources"]]
            cursor = page.get("nextCursor")
        expected = sorted([n for n in USERS if n != "user-0050"] + ["user-0100a"])
        assert seen == expected  # none skipped, none twice; the one made before the cursor is not shown
    finally:
        for made_id in (made["id"], later["id"]):
            scim.delete(f"/Users/{made_id}")

        async def restore(deps: Deps) -> None:
            async with deps.store.unit() as uow:
                await directory.create_user(uow, store.identity_store_id, "user-0050",
                                            profile_of({"DisplayName": "user-0050"}), actor="test", now=1.0)
                await uow.commit()

        world.run(restore)


def test_a_forged_or_foreign_cursor_is_invalid_value(scim: httpx.Client) -> None:
    cursor = scim.get("/Users", params={"cursor": "", "count": 5}).json()["nextCursor"]
    groups_cursor = scim.get("/Groups", params={"cursor": "", "count": 5}).json()["nextCursor"]
    filtered = scim.get("/Users", params={"cursor": "", "count": 5, "filter": 'userName sw "user"'}).json()
    for path, bad, params in (("/Users", "bogus", {}), ("/Users", cursor[:-1], {}), ("/Users", groups_cursor, {}),
                              ("/Groups", cursor, {}), ("/Users", cursor, {"filter": 'userName sw "user"'}),
                              ("/Users", filtered["nextCursor"], {})):
        r = scim.get(path, params={"cursor": bad, "count": 5, **params})
        assert r.status_code == 400 and r.json()["scimType"] == "invalidValue", (path, bad, r.text)


def test_a_deep_cursor_page_loads_no_more_than_its_count(scim: httpx.Client, loaded: list[object]) -> None:
    cursor = ""
    for _ in range(20):
        cursor = scim.get("/Users", params={"cursor": cursor, "count": 10}).json()["nextCursor"]
    loaded.clear()
    page = scim.get("/Users", params={"cursor": cursor, "count": 10}).json()
    assert [r["userName"] for r in page["Resources"]] == USERS[200:210] and len(loaded) <= 11, len(loaded)
