"""Contract: SSO-OIDC clients, grants and tokens on SQLite and PostgreSQL. Every single-use step (decide, claim,
rotate) succeeds once, also when units race; a device poll earlier than its interval grows the interval; the
bearer lookup joins only a live token, a live session and an active instance; expired rows are purged."""

from __future__ import annotations

import asyncio

import pytest

from integration.store import rows
from vestibule.store.models import DirectoryUser, OidcClient, OidcGrant, OidcToken, SsoInstance
from vestibule.store.repositories import Conflict, Store
from vestibule.store.sql.sso_oidc import live_access

ACCT = "111122223333"
STORE = "d-1234567890"
PRINCIPAL = "directory-user:AAAAAAAAAAAAAAAAAAAAAA"
NOW = rows.NOW


def _client(client_id: str = "c1", expires: float = NOW + 90 * 86400) -> OidcClient:
    return OidcClient(id=client_id, secret_hash="s" * 64, name="cli", client_type="public", scopes=[],
                      grant_types=["refresh_token"], redirect_uris=[], identity_store_id=STORE,
                      registered_from_ip="", created_at=NOW, secret_expires_at=expires)


def _grant(grant_id: str, *, user_code: str | None = None, status: str = "pending", expires: float = NOW + 600,
           interval: int = 5) -> OidcGrant:
    return OidcGrant(id=grant_id, kind="device", status=status, client_id="c1", identity_store_id=STORE, scopes=[],
                     device_code_hash=f"{grant_id:d<64}", user_code=user_code, interval=interval,
                     requested_from_ip="", requested_at=NOW, expires_at=expires)


def _token(token_id: str, kind: str = "access", *, family: str = "f1", session: str = "h" * 64,
           expires: float = NOW + 3600) -> OidcToken:
    return OidcToken(id=token_id, kind=kind, token_hash=f"{token_id:t<64}", family_id=family, client_id="c1",
                     identity_store_id=STORE, session_id_hash=session, principal_key=PRINCIPAL, user_id="u",
                     scopes=[], created_at=NOW, expires_at=expires)


async def _world(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.identity_center.add(SsoInstance(
            arn="arn:aws:sso:::instance/ssoins-0123456789abcdef", identity_store_id=STORE, owner_account_id=ACCT,
            name=None, kind="ACCOUNT", status="ACTIVE", client_token=None, created_at=NOW, settings="{}",
            tags="[]"))
        await uow.sessions.add(rows.session("h" * 64, PRINCIPAL, expires_at=NOW + 7200))
        await uow.directory.add(DirectoryUser(id="u", identity_store_id=STORE, user_name="alice",
                                              user_name_lower="alice", attributes={}, status="ENABLED",
                                              created_at=NOW, updated_at=NOW))
        await uow.oidc_clients.add(_client())


async def test_decide_and_claim_once(store: Store) -> None:
    await _world(store)
    async with store.unit() as uow:
        await uow.oidc_grants.add(_grant("g1", user_code="BCDFGHJK"))
        await uow.oidc_grants.add(_grant("g2", user_code="BCDFGHJL", expires=NOW + 10))
    with pytest.raises(Conflict):  # a user code names one grant
        async with store.unit() as uow:
            await uow.oidc_grants.add(_grant("g3", user_code="BCDFGHJK"))
    async with store.unit() as uow:
        found = await uow.oidc_grants.by_user_code("BCDFGHJK")
        assert found is not None and found.id == "g1"
        assert not await uow.oidc_grants.claim("g1", "c1", NOW)  # not decided yet
        assert not await uow.oidc_grants.decide("g2", NOW + 10, allowed=True, session_id_hash="h" * 64,
                                                principal_key=PRINCIPAL)  # expired
    async def decide() -> bool:
        async with store.unit() as uow:
            return await uow.oidc_grants.decide("g1", NOW + 1, allowed=True, session_id_hash="h" * 64,
                                                principal_key=PRINCIPAL)
    assert sorted(await asyncio.gather(*(decide() for _ in range(4)))) == [False, False, False, True]
    async with store.unit() as uow:
        assert not await uow.oidc_grants.claim("g1", "someone-else", NOW + 2)

    async def claim() -> bool:
        async with store.unit() as uow:
            return await uow.oidc_grants.claim("g1", "c1", NOW + 2)
    assert sorted(await asyncio.gather(*(claim() for _ in range(4)))) == [False, False, False, True]
    async with store.unit() as uow:
        grant = await uow.oidc_grants.get("g1")
        assert grant is not None and grant.status == "used" and grant.used_at == NOW + 2
        assert grant.session_id_hash == "h" * 64 and grant.decided_at == NOW + 1


async def test_polls_too_fast_grow_the_interval(store: Store) -> None:
    await _world(store)
    async with store.unit() as uow:
        await uow.oidc_grants.add(_grant("g1"))
    async with store.unit() as uow:
        assert await uow.oidc_grants.poll("g1", NOW)  # the first poll
        assert not await uow.oidc_grants.poll("g1", NOW + 3)  # 3 s < 5 s
        assert not await uow.oidc_grants.poll("g1", NOW + 11)  # 8 s: more than 1 s early for 10 s
        assert await uow.oidc_grants.poll("g1", NOW + 25.5)  # 14.5 s: within the 1 s tolerance of 15 s
    async with store.unit() as uow:
        grant = await uow.oidc_grants.get("g1")
        assert grant is not None and grant.interval == 15 and grant.last_polled_at == NOW + 25.5


async def test_rotate_once_and_revoke_families(store: Store) -> None:
    await _world(store)
    async with store.unit() as uow:
        await uow.oidc_tokens.add([_token("a1"), _token("r1", "refresh"), _token("a2", family="f2"),
                                   _token("r2", "refresh", family="f2")])

    async def rotate() -> bool:
        async with store.unit() as uow:
            return await uow.oidc_tokens.rotate("r1", "c1", NOW + 1)
    assert sorted(await asyncio.gather(*(rotate() for _ in range(4)))) == [False, False, False, True]
    async with store.unit() as uow:
        assert not await uow.oidc_tokens.rotate("a1", "c1", NOW + 1)  # an access token does not rotate
        assert not await uow.oidc_tokens.rotate("r2", "c2", NOW + 1)  # another client's
        assert not await uow.oidc_tokens.rotate("r2", "c1", NOW + 3600)  # expired
        assert await uow.oidc_tokens.revoke_family("f1", NOW + 2) == 2
        assert await uow.oidc_tokens.revoke_family("f1", NOW + 3) == 0
        assert await uow.oidc_tokens.rotate("r2", "c1", NOW + 1)  # the other family is untouched
    async with store.unit() as uow:
        assert await uow.run(live_access, "a1".ljust(64, "t"), NOW + 4) is None  # revoked
        live = await uow.run(live_access, "a2".ljust(64, "t"), NOW + 4)
        assert live is not None and live[0].id == "a2" and live[1].id_hash == "h" * 64
        assert live[2].status == "ACTIVE" and live[3].user_name == "alice"
        assert await uow.run(live_access, "r2".ljust(64, "t"), NOW + 4) is None  # not an access token
        assert await uow.run(live_access, "a2".ljust(64, "t"), NOW + 3600) is None  # expired
        assert await uow.oidc_tokens.revoke_session("h" * 64, NOW + 5) == 2
        assert await uow.run(live_access, "a2".ljust(64, "t"), NOW + 6) is None


async def test_a_session_instance_or_user_that_ended_ends_the_token(store: Store) -> None:
    await _world(store)
    async with store.unit() as uow:
        await uow.oidc_tokens.add([_token("a1", expires=NOW + 9000)])
    token_hash = "a1".ljust(64, "t")
    async with store.unit() as uow:
        assert await uow.run(live_access, token_hash, NOW + 7199) is not None
        assert await uow.run(live_access, token_hash, NOW + 7200) is None  # the session's absolute end
        row = await uow.identity_center.instance_of_store(STORE)
        assert row is not None
        row.status = "DELETE_IN_PROGRESS"
    async with store.unit() as uow:
        assert await uow.run(live_access, token_hash, NOW) is None
        row = await uow.identity_center.instance_of_store(STORE)
        assert row is not None
        row.status = "ACTIVE"
        user = await uow.directory.user(STORE, "u")
        assert user is not None
        user.status = "DISABLED"
    async with store.unit() as uow:
        assert await uow.run(live_access, token_hash, NOW) is None
        user = await uow.directory.user(STORE, "u")
        assert user is not None
        user.status = "ENABLED"
        await uow.sessions.revoke("h" * 64, NOW + 1)
    async with store.unit() as uow:
        assert await uow.run(live_access, token_hash, NOW + 2) is None


async def test_expired_rows_are_purged(store: Store) -> None:
    await _world(store)
    async with store.unit() as uow:
        await uow.oidc_clients.add(_client("c2", expires=NOW + 10))
        await uow.oidc_grants.add(_grant("g1", expires=NOW + 100))
        await uow.oidc_grants.add(_grant("g2", expires=NOW + 1000))
        await uow.oidc_tokens.add([_token("a1", expires=NOW + 100), _token("a2", expires=NOW + 1000)])
        c2_grant = _grant("g3", expires=NOW + 1000)
        c2_grant.client_id = "c2"
        await uow.oidc_grants.add(c2_grant)
    async with store.unit() as uow:
        assert await uow.oidc_grants.delete_expired(NOW + 500) == 1
        assert await uow.oidc_tokens.delete_expired(NOW + 500) == 1
        assert await uow.oidc_clients.delete_expired(NOW + 500) == 1  # c2, and its grant with it
    async with store.unit() as uow:
        assert await uow.oidc_grants.get("g2") is not None and await uow.oidc_grants.get("g3") is None
        assert await uow.oidc_clients.get("c1") is not None and await uow.oidc_clients.get("c2") is None
