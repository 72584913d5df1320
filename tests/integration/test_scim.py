"""SCIM 2.0 at /scim/v2/ against a live server: discovery, Users and Groups (create, read, filters, pagination,
PUT, PATCH, DELETE), SCIM's error shape, and the bearer token (missing, garbled, revoked, expired, another
identity store's, guessing throttled); what SCIM provisions is what the Identity Store API sees."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.aws.aws_world import MASTER_KEY, AwsWorld
from integration.scim_world import (
    SCIM_JSON,
    Store,
    group_body,
    new_store,
    new_token,
    patch_body,
    revoke,
    scim_client,
    user_body,
)
from support import CHEAP_HASH, flush_test_redis, start_live_server, stop_live_server
from vestibule.core.throttle import Scope, ThrottleKey
from vestibule.errors import NotFound
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps
from vestibule.services.identity_center import scim_tokens
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsWorld]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("scim-data")), database_url=database_url,
                        redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), public_url="http://testserver",
                        master_key=MASTER_KEY, argon2_memory_kib=CHEAP_HASH.memory_kib,
                        argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)
    asyncio.run(flush_test_redis())
    live = start_live_server(settings, DevMailbox())
    try:
        yield AwsWorld(live)
    finally:
        stop_live_server(live)


@pytest.fixture(autouse=True)
def _real_time(world: AwsWorld) -> Iterator[None]:
    yield
    world.clock.offset = 0.0


@pytest.fixture
def store(world: AwsWorld) -> Store:
    return new_store(world)


@pytest.fixture
def scim(world: AwsWorld, store: Store) -> Iterator[httpx.Client]:
    with scim_client(world, new_token(world, store).token) as client:
        yield client


def _name() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def _error(response: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM_JSON)
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    if scim_type is not None:
        assert body["scimType"] == scim_type, body
    return body


def _create_user(scim: httpx.Client, user_name: str | None = None, **more: Any) -> dict[str, Any]:
    response = scim.post("/Users", json=user_body(user_name or _name(), **more))
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


# ---- discovery ---------------------------------------------------------------------------------

def test_discovery_endpoints_say_what_is_served(scim: httpx.Client) -> None:
    config = scim.get("/ServiceProviderConfig")
    assert config.status_code == 200 and config.headers["content-type"].startswith(SCIM_JSON)
    assert "set-cookie" not in config.headers
    body = config.json()
    assert body["patch"]["supported"] is True and body["filter"] == {"supported": True, "maxResults": 100}
    assert body["etag"]["supported"] is False and body["bulk"]["supported"] is False
    assert body["sort"]["supported"] is False and body["changePassword"]["supported"] is False
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = scim.get("/ResourceTypes").json()
    assert {t["name"]: t["endpoint"] for t in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    assert scim.get("/ResourceTypes/User").json()["schema"] == "urn:ietf:params:scim:schemas:core:2.0:User"
    schemas = scim.get("/Schemas").json()
    user_schema = next(s for s in schemas["Resources"] if s["name"] == "User")
    names = {a["name"] for a in user_schema["attributes"]}
    assert {"userName", "emails", "active", "name"} <= names and "password" not in names and "ims" not in names
    assert scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").json()["name"] == "Group"
    _error(scim.get("/Schemas/urn:nope"), 404)
    _error(scim.get("/NoSuchThing"), 404)


# ---- users -------------------------------------------------------------------------------------

def test_user_create_get_and_uniqueness(scim: httpx.Client) -> None:
    name = _name()
    made = scim.post("/Users", json=user_body(name, externalId="00u-1", name={"givenName": "Ada", "familyName": "L"},
                                              emails=[{"value": f"{name}@example.com", "type": "work",
                                                       "primary": True}], active=True))
    assert made.status_code == 201, made.text
    user = made.json()
    assert made.headers["location"] == user["meta"]["location"]
    assert user["meta"]["location"].endswith(f"/scim/v2/Users/{user['id']}")
    assert user["userName"] == name and user["externalId"] == "00u-1" and user["active"] is True
    assert user["name"] == {"givenName": "Ada", "familyName": "L"} and user["meta"]["resourceType"] == "User"
    got = scim.get(f"/Users/{user['id']}").json()
    assert got["emails"] == [{"value": f"{name}@example.com", "type": "work", "primary": True}]
    _error(scim.post("/Users", json=user_body(name.upper())), 409, "uniqueness")
    _error(scim.post("/Users", json=user_body(_name(), externalId="00u-1")), 409, "uniqueness")
    _error(scim.get("/Users/no-such-user"), 404)
    only = scim.get(f"/Users/{user['id']}", params={"attributes": "userName"}).json()
    assert only["userName"] == name and "emails" not in only and only["id"] == user["id"]


def test_user_create_refuses_bad_input(scim: httpx.Client) -> None:
    _error(scim.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}), 400)
    _error(scim.post("/Users", content=b"{not json"), 400, "invalidSyntax")
    _error(scim.post("/Users", content=b"[1]"), 400, "invalidSyntax")
    _error(scim.post("/Users", json=user_body(_name(), emails=[{"value": "a@example.com"},
                                                                {"value": "b@example.com"}])), 400, "invalidValue")
    _error(scim.post("/Users", content=b"userName=x", headers={"content-type": "text/plain"}), 415)
    _error(scim.post("/Users", content=b'{"userName": "' + b"x" * (1024 * 1024 + 1) + b'"}'), 413)
    _error(scim.delete("/Users"), 405)
    _error(scim.post("/ServiceProviderConfig", json={}), 405)
    _error(scim.post("/.search", json={}), 501)


def test_user_filters(scim: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    a = _create_user(scim, f"alice-{tag}", externalId=f"ext-a-{tag}", title="Engineer",
                     emails=[{"value": f"alice-{tag}@corp.example", "type": "work", "primary": True}])
    b = _create_user(scim, f"bob-{tag}", externalId=f"ext-b-{tag}", displayName=f"Bob {tag}",
                     emails=[{"value": f"bob-{tag}@home.example", "type": "home"}])

    def ids(where: str) -> list[str]:
        response = scim.get("/Users", params={"filter": where})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        assert body["totalResults"] == len(body.get("Resources", []))
        return sorted(r["id"] for r in body.get("Resources", []))

    assert ids(f'userName eq "ALICE-{tag}"') == [a["id"]]
    assert ids(f'externalId eq "ext-b-{tag}"') == [b["id"]]
    assert ids(f'externalId eq "EXT-B-{tag}"') == []  # externalId is caseExact
    assert ids(f'emails.value eq "bob-{tag}@home.example"') == [b["id"]]
    assert ids(f'emails.value co "{tag}@corp"') == [a["id"]]
    assert ids(f'emails.value sw "bob-{tag}"') == [b["id"]]
    assert ids(f'userName sw "alice-{tag}" or userName sw "bob-{tag}"') == sorted([a["id"], b["id"]])
    assert ids(f'userName ew "{tag}" and title eq "Engineer"') == [a["id"]]
    assert ids(f'emails[type eq "home" and value co "{tag}"]') == [b["id"]]
    assert ids(f'userName eq "nobody-{tag}"') == []
    assert ids(f'displayName eq "BOB {tag}"') == [b["id"]]  # caseExact false
    assert ids(f'not (userName eq "alice-{tag}")') == [b["id"]]
    assert ids('title pr') == [a["id"]]
    _error(scim.get("/Users", params={"filter": 'userName eq'}), 400, "invalidFilter")
    _error(scim.get("/Users", params={"filter": 'noSuchAttribute eq "x"'}), 400, "invalidFilter")
    searched = scim.post("/Users/.search", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                  "filter": f'userName eq "bob-{tag}"'})
    assert [r["id"] for r in searched.json()["Resources"]] == [b["id"]]


def test_user_pagination(scim: httpx.Client) -> None:
    made = sorted(_create_user(scim, f"page-{i}-{uuid.uuid4().hex[:4]}")["id"] for i in range(5))
    everyone = scim.get("/Users").json()
    assert everyone["totalResults"] == 5 and everyone["startIndex"] == 1 and everyone["itemsPerPage"] == 5
    seen = []
    for start in (1, 3, 5):
        page = scim.get("/Users", params={"startIndex": start, "count": 2}).json()
        assert page["totalResults"] == 5 and page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"]) == (2 if start < 5 else 1)
        seen += [r["id"] for r in page["Resources"]]
    assert sorted(seen) == made
    counted = scim.get("/Users", params={"count": 0}).json()
    assert counted["totalResults"] == 5 and counted.get("Resources", []) == []
    past = scim.get("/Users", params={"startIndex": 9}).json()
    assert past["totalResults"] == 5 and past.get("Resources", []) == []
    assert scim.get("/Users", params={"startIndex": -3, "count": 1}).json()["startIndex"] == 1


def test_user_put_replaces_everything(scim: httpx.Client) -> None:
    user = _create_user(scim, title="Old", nickName="n", externalId="put-1")
    body = user_body(user["userName"] + "-new", displayName="New Name", active=False)
    replaced = scim.put(f"/Users/{user['id']}", json=body)
    assert replaced.status_code == 200, replaced.text
    got = scim.get(f"/Users/{user['id']}").json()
    assert got["userName"] == user["userName"] + "-new" and got["displayName"] == "New Name"
    assert got["active"] is False and "title" not in got and "nickName" not in got and "externalId" not in got
    _error(scim.put("/Users/missing", json=body), 404)


def test_user_patch(scim: httpx.Client) -> None:
    user = _create_user(scim, title="T", emails=[{"value": "old@example.com", "type": "work", "primary": True}])
    path = f"/Users/{user['id']}"
    done = scim.patch(path, json=patch_body(
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        {"op": "Replace", "path": "active", "value": False},
        {"op": "add", "path": "nickName", "value": "Nick"},
        {"op": "add", "value": {"displayName": "Shown", "name.givenName": "Given"}},
        {"op": "remove", "path": "title"}))
    assert done.status_code == 200, done.text
    got = scim.get(path).json()
    assert got["emails"][0]["value"] == "new@example.com" and got["active"] is False
    assert got["nickName"] == "Nick" and got["displayName"] == "Shown" and "title" not in got
    assert got["name"]["givenName"] == "Given"
    assert done.json() == got
    _error(scim.patch(path, json=patch_body({"op": "remove"})), 400, "noTarget")
    _error(scim.patch(path, json=patch_body({"op": "replace", "path": 'emails[type eq "home"].value',
                                             "value": "x@example.com"})), 400, "noTarget")
    _error(scim.patch(path, json=patch_body({"op": "jump", "path": "title", "value": "x"})), 400, "invalidValue")
    _error(scim.patch(path, json=patch_body({"op": "replace", "path": "noSuch", "value": "x"})), 400)
    _error(scim.patch("/Users/missing", json=patch_body({"op": "replace", "path": "title", "value": "x"})), 404)


def test_user_delete(scim: httpx.Client) -> None:
    user = _create_user(scim)
    gone = scim.delete(f"/Users/{user['id']}")
    assert gone.status_code == 204 and gone.content == b""
    _error(scim.get(f"/Users/{user['id']}"), 404)
    _error(scim.delete(f"/Users/{user['id']}"), 404)


# ---- groups ------------------------------------------------------------------------------------

def test_groups(scim: httpx.Client) -> None:
    alice, bob, carol = (_create_user(scim) for _ in range(3))
    made = scim.post("/Groups", json=group_body("Engineers", (alice["id"],), externalId="g-1"))
    assert made.status_code == 201, made.text
    group = made.json()
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    assert group["members"][0]["$ref"].endswith(f"/scim/v2/Users/{alice['id']}") and group["externalId"] == "g-1"
    _error(scim.post("/Groups", json=group_body("engineers")), 409, "uniqueness")
    _error(scim.post("/Groups", json=group_body("Ghosts", ("no-such-user",))), 400, "invalidValue")
    path = f"/Groups/{group['id']}"
    added = scim.patch(path, json=patch_body({"op": "add", "path": "members",
                                              "value": [{"value": bob["id"]}, {"value": carol["id"]}]}))
    assert added.status_code == 200, added.text
    assert sorted(m["value"] for m in scim.get(path).json()["members"]) == sorted([alice["id"], bob["id"],
                                                                                  carol["id"]])
    removed = scim.patch(path, json=patch_body({"op": "remove", "path": f'members[value eq "{bob["id"]}"]'}))
    assert removed.status_code == 200, removed.text
    renamed = scim.patch(path, json=patch_body({"op": "replace", "path": "displayName", "value": "Builders"}))
    assert renamed.json()["displayName"] == "Builders"
    assert sorted(m["value"] for m in renamed.json()["members"]) == sorted([alice["id"], carol["id"]])
    listed = scim.get("/Groups", params={"filter": 'displayName eq "builders"'}).json()
    assert [g["id"] for g in listed["Resources"]] == [group["id"]]
    assert scim.get("/Groups", params={"filter": 'displayName eq "Engineers"'}).json()["totalResults"] == 0
    assert scim.delete(f"/Users/{carol['id']}").status_code == 204
    assert [m["value"] for m in scim.get(path).json()["members"]] == [alice["id"]]
    replaced = scim.put(path, json=group_body("Builders", (bob["id"],)))
    assert [m["value"] for m in replaced.json()["members"]] == [bob["id"]] and "externalId" not in replaced.json()
    cleared = scim.patch(path, json=patch_body({"op": "remove", "path": "members"}))
    assert "members" not in cleared.json()
    assert scim.delete(path).status_code == 204
    _error(scim.get(path), 404)


# ---- tokens ------------------------------------------------------------------------------------

def _unauthorized(response: httpx.Response) -> None:
    _error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_missing_garbled_revoked_and_expired_tokens(world: AwsWorld, store: Store) -> None:
    with scim_client(world, None) as anonymous:
        _unauthorized(anonymous.get("/Users"))
        _unauthorized(anonymous.get("/ServiceProviderConfig"))
        _unauthorized(anonymous.get("/Users", headers={"Authorization": "Basic dXNlcjpwdw=="}))
        _unauthorized(anonymous.get("/Users", headers={"Authorization": "Bearer"}))
    with scim_client(world, "vscim_not-a-token-we-issued") as garbled:
        _unauthorized(garbled.get("/Users"))
    issued = new_token(world, store)
    with scim_client(world, issued.token) as client:
        assert client.get("/Users").status_code == 200
        revoke(world, store, issued.info.token_id)
        _unauthorized(client.get("/Users"))
    short = new_token(world, store, expires_in_days=1)
    with scim_client(world, short.token) as client:
        assert client.get("/Users").status_code == 200
        world.clock.offset = 86400 + 5
        _unauthorized(client.get("/Users"))


def test_token_listing_shows_last_use_never_the_secret(world: AwsWorld, store: Store) -> None:
    issued = new_token(world, store, expires_in_days=30)
    with scim_client(world, issued.token) as client:
        assert client.get("/Users").status_code == 200

    async def listed(deps: Deps) -> list[dict[str, object]]:
        return [t.shown(deps.clock()) for t in await scim_tokens.list_tokens(deps, store.identity_store_id)]

    rows = world.run(listed)
    assert [r["TokenId"] for r in rows] == [issued.info.token_id]
    assert rows[0]["Status"] == "ACTIVE" and rows[0]["LastUsedAt"] is not None and rows[0]["ExpiresAt"] is not None
    assert issued.token not in str(rows) and issued.shown()["Token"] == issued.token
    revoke(world, store, issued.info.token_id)
    assert world.run(listed)[0]["Status"] == "REVOKED"
    with pytest.raises(NotFound):
        revoke(world, store, issued.info.token_id)
    with pytest.raises(NotFound):
        new_token(world, Store(store.account, "d-0000000000", ""))


def test_a_token_sees_only_its_identity_store(world: AwsWorld, store: Store, scim: httpx.Client) -> None:
    mine = _create_user(scim)
    group = scim.post("/Groups", json=group_body("Mine")).json()
    other = new_store(world)
    with scim_client(world, new_token(world, other).token) as theirs:
        assert theirs.get("/Users").json()["totalResults"] == 0
        _error(theirs.get(f"/Users/{mine['id']}"), 404)
        _error(theirs.patch(f"/Users/{mine['id']}", json=patch_body({"op": "remove", "path": "title"})), 404)
        _error(theirs.delete(f"/Users/{mine['id']}"), 404)
        _error(theirs.delete(f"/Groups/{group['id']}"), 404)
        _error(theirs.post("/Groups", json=group_body("Theirs", (mine["id"],))), 400, "invalidValue")
        made = theirs.post("/Users", json=user_body(mine["userName"]))  # user names are unique per store
        assert made.status_code == 201
    assert scim.get(f"/Users/{mine['id']}").status_code == 200


def test_unknown_tokens_are_throttled_per_client(world: AwsWorld, store: Store) -> None:
    key = ThrottleKey(Scope.CLIENT, "scim:127.0.0.1")

    async def clear(deps: Deps) -> None:
        await deps.throttle.settle([key], ())

    world.run(clear)
    try:
        with scim_client(world, "vscim_guess") as guesser:
            statuses = [guesser.get("/Users").status_code for _ in range(25)]
        assert statuses[:20] == [401] * 20 and statuses[-1] == 429
        with scim_client(world, new_token(world, store).token) as good:
            refused = good.get("/Users")
            _error(refused, 429)
            assert int(refused.headers["retry-after"]) > 0
    finally:
        world.run(clear)


def test_writes_are_audited_in_the_owner_account(world: AwsWorld, store: Store, scim: httpx.Client) -> None:
    user = _create_user(scim)
    scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "replace", "path": "title", "value": "x"}))
    scim.delete(f"/Users/{user['id']}")

    async def events(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(store.account.account_id)]

    scim_events = [e for e in world.run(events) if e["method"] == "scim"]
    assert {e["event"] for e in scim_events} >= {"ScimCreateUser", "ScimPatchUser", "ScimDeleteUser"}
    assert all(e["principal"].startswith("scim-token/") and e["detail"]["identity_store_id"] ==
               store.identity_store_id for e in scim_events)
    assert all("vscim_" not in str(e) for e in world.run(events))


# ---- the same directory --------------------------------------------------------------------------

def test_identity_store_api_sees_scim_users(world: AwsWorld, store: Store, scim: httpx.Client) -> None:
    user = _create_user(scim, displayName="Seen Everywhere", name={"givenName": "Seen", "familyName": "E"},
                        emails=[{"value": "seen@example.com", "type": "work", "primary": True}], externalId="okta-1")
    ids = world.client("identitystore", store.account.root)
    described = ids.describe_user(IdentityStoreId=store.identity_store_id, UserId=user["id"])
    assert described["UserName"] == user["userName"] and described["DisplayName"] == "Seen Everywhere"
    assert described["Emails"][0]["Value"] == "seen@example.com"
    assert described["ExternalIds"] == [{"Issuer": "scim", "Id": "okta-1"}]
    listed = ids.list_users(IdentityStoreId=store.identity_store_id)["Users"]
    assert [u["UserId"] for u in listed] == [user["id"]]
    made = ids.create_user(IdentityStoreId=store.identity_store_id, UserName="from-api", DisplayName="API User",
                           Name={"GivenName": "A", "FamilyName": "P"})
    found = scim.get("/Users", params={"filter": 'userName eq "from-api"'}).json()
    assert [r["id"] for r in found["Resources"]] == [made["UserId"]]
