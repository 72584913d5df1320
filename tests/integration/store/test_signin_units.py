"""Contract: the sign-in hot units (`store/sql/hot.py`) give the answers the ORM repositories gave, on every
backend; the signed-in session read refuses what the old per-row checks refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from integration.store import rows
from vestibule.core.flows.base import FlowNotFound
from vestibule.core.tokens import hash_token
from vestibule.services import sessions
from vestibule.services.context import SessionPorts
from vestibule.services.invalidation import InvalidationBus
from vestibule.store.models import AuditEvent, KnownBrowser
from vestibule.store.repositories import Store
from vestibule.store.sql import hot

NOW = rows.NOW
ACCOUNT = "111122223333"


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL text of every statement any engine of this process runs meanwhile."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


async def _people(store: Store) -> tuple[str, str]:
    """An account with Alice (an enabled MFA device), Bob (a device never enabled) and Carol (none)."""
    alice, bob, carol = rows.user(name="Alice"), rows.user(name="Bob"), rows.user(name="Carol")
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.accounts.add(rows.account("444455556666", alias="other", email="other@example.com"))
        for u in (alice, bob, carol):
            await uow.users.add(u)
        await uow.users.add(rows.user("444455556666", name="Dave"))
        await uow.mfa.add(rows.mfa_device(f"arn:aws:iam::{ACCOUNT}:mfa/a", f"user:{alice.id}"))
        await uow.mfa.add(rows.mfa_device(f"arn:aws:iam::{ACCOUNT}:mfa/b", f"user:{bob.id}", enabled_at=None))
    return alice.id, carol.id


async def test_iam_lookup_answers_like_the_repositories(store: Store) -> None:
    alice_id, carol_id = await _people(store)
    account, user, has_mfa = await store.run(hot.iam_sign_in_lookup, ACCOUNT, True, "ALICE")
    assert account is not None and account.id == ACCOUNT and user is not None and user.id == alice_id and has_mfa
    account, user, has_mfa = await store.run(hot.iam_sign_in_lookup, "acme", False, "carol")
    assert account is not None and account.alias == "acme" and user is not None and user.id == carol_id
    assert not has_mfa
    _, user, has_mfa = await store.run(hot.iam_sign_in_lookup, ACCOUNT, True, "bob")
    assert user is not None and user.name == "Bob" and not has_mfa, "a device never enabled is no MFA"
    account, user, has_mfa = await store.run(hot.iam_sign_in_lookup, ACCOUNT, True, "nobody")
    assert account is not None and user is None and not has_mfa
    _, user, _ = await store.run(hot.iam_sign_in_lookup, ACCOUNT, True, "dave")
    assert user is None, "a user of another account is not found"
    assert await store.run(hot.iam_sign_in_lookup, "999988887777", True, "alice") == (None, None, False)
    assert await store.run(hot.iam_sign_in_lookup, "nosuchalias", False, "alice") == (None, None, False)
    async with store.unit() as uow:
        closed = await uow.accounts.get(ACCOUNT)
        assert closed is not None
        closed.status = "closed"
    # A closed (or suspended) account is still found: its standing is refused after the password, so only someone
    # who knows the password learns it (services/signin/standing.py); the answer before that is the unknown one's.
    account, user, has_mfa = await store.run(hot.iam_sign_in_lookup, ACCOUNT, True, "alice")
    assert account is not None and account.status == "closed" and user is not None and user.id == alice_id
    assert has_mfa


async def test_iam_lookup_runs_the_same_statement_whoever_is_asked(store: Store) -> None:
    await _people(store)
    texts = []
    for ref, name in [(ACCOUNT, "alice"), (ACCOUNT, "nobody"), ("999988887777", "alice")]:
        with statements() as seen:
            await store.run(hot.iam_sign_in_lookup, ref, True, name)
        texts.append([s for s in seen if s.lstrip().upper().startswith("SELECT")])
    assert len(texts[0]) == 1 and texts[0] == texts[1] == texts[2]


async def test_throttle_rows(store: Store) -> None:
    async with store.unit() as uow:
        await uow.throttle.fail("ip:1", NOW, 900)
        await uow.throttle.fail("ip:1", NOW + 1, 900)
    assert await store.run(hot.throttle_rows, ["ip:1", "ip:2"]) == {"ip:1": (2, NOW + 1)}
    assert await store.run(hot.throttle_rows, []) == {}


async def test_throttle_update_reads_writes_and_deletes_every_key_in_three_statements(store: Store) -> None:
    async with store.unit() as uow:
        await uow.throttle.fail("ip:1", NOW, 900)
    seen: list[list[tuple[int, float]]] = []

    def change(rows: list[tuple[int, float]]) -> list[tuple[int, float]]:
        seen.append(rows)
        return [(0, 0.0), (rows[1][0] + 1, NOW + 5), (7, NOW + 6)]  # ip:1 dropped, the others counted

    with statements() as texts:
        await store.run(hot.throttle_update, ["ip:1", "user:b", "acct:a"], change)
    assert seen == [[(1, NOW), (0, 0.0), (0, 0.0)]], "in the order given, missing keys at 0"
    assert len([t for t in texts if "throttle_counters" in t]) == 3
    assert await store.run(hot.throttle_rows, ["ip:1", "user:b", "acct:a"]) == {
        "user:b": (1, NOW + 5), "acct:a": (7, NOW + 6)}
    with pytest.raises(hot.ThrottleUnchanged):
        await store.run(hot.throttle_update, ["acct:a"], lambda rows: None)
    assert await store.run(hot.throttle_rows, ["acct:a"]) == {"acct:a": (7, NOW + 6)}, "refused: unchanged"


async def test_finish_sign_in_settles_the_throttle_in_its_transaction(store: Store) -> None:
    await _people(store)
    async with store.unit() as uow:
        await uow.throttle.fail("user:x", NOW, 900)
        await uow.flows.add(rows.flow("f2"))
    settle = hot.ThrottleSettle(("user:x",), lambda rows: [(0, 0.0)])
    with pytest.raises(FlowNotFound):  # the sign-in fails: the attempt stays counted
        await store.run(hot.finish_sign_in, _end("s1", flow=hot.FlowDone("gone", "done", {}, NOW), throttle=settle))
    assert await store.run(hot.throttle_rows, ["user:x"]) == {"user:x": (1, NOW)}
    await store.run(hot.finish_sign_in, _end("s2", throttle=settle))
    assert await store.run(hot.throttle_rows, ["user:x"]) == {}


def _end(session_hash: str, *, method: str = "password", **kw: Any) -> hot.SignInEnd:
    audit = AuditEvent(at=NOW, account_id=ACCOUNT, principal="arn", event="ConsoleLogin", method=method,
                       mfa_used=False, result="Success", client_ip="", user_agent="", detail={})
    return hot.SignInEnd(at=NOW, session=rows.session(session_hash), audit=audit, **kw)


async def test_finish_sign_in_writes_every_part(store: Store) -> None:
    alice_id, _ = await _people(store)
    async with store.unit() as uow:
        await uow.sessions.add(rows.session("before"))
        await uow.flows.add(rows.flow("f1"))
    revoked = await store.run(hot.finish_sign_in, _end(
        "after", flow=hot.FlowDone("f1", "done", {"type": "browser"}, NOW + 60),
        remember_browser=("root:" + ACCOUNT, "b1"), previous_session="before",
        password_use=hot.PasswordUse(alice_id, NOW, "$argon2id$new")))
    assert revoked
    assert not await store.run(hot.finish_sign_in, _end("again", previous_session="before")), "revoked once"
    await store.run(hot.finish_sign_in, _end("third", remember_browser=("root:" + ACCOUNT, "b1")))
    async with store.unit() as uow:
        before, after = await uow.sessions.get("before"), await uow.sessions.get("after")
        assert before is not None and before.revoked_at == NOW and after is not None and after.revoked_at is None
        flow = await uow.flows.get("f1")
        assert flow is not None and (flow.state, flow.data, flow.expires_at) == ("done", {"type": "browser"}, NOW + 60)
        known = await uow.db.get(KnownBrowser, ("root:" + ACCOUNT, "b1"))
        assert known is not None and known.first_seen_at == NOW
        alice = await uow.users.get(alice_id)
        assert alice is not None and alice.password_last_used_at == NOW and alice.password_hash == "$argon2id$new"
        assert [e.event for e in await uow.audit.for_account(ACCOUNT)] == ["ConsoleLogin"] * 3


async def test_finish_sign_in_of_a_vanished_flow_writes_nothing(store: Store) -> None:
    await _people(store)
    with pytest.raises(FlowNotFound):
        await store.run(hot.finish_sign_in, _end("s", flow=hot.FlowDone("gone", "done", {}, NOW),
                                                 remember_browser=("root:" + ACCOUNT, "b1")))
    async with store.unit() as uow:
        assert await uow.sessions.get("s") is None
        assert not await uow.browsers.known("root:" + ACCOUNT, "b1")
        assert await uow.audit.for_account(ACCOUNT) == []


# --- the signed-in session read --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _ports(store: Store, clock: Clock) -> SessionPorts:
    return SessionPorts(store, InvalidationBus(), clock, absolute_seconds=3600, idle_seconds=900,
                        root_idle_seconds=900)


async def _session(store: Store, token: str, principal_key: str, account_id: str = ACCOUNT, *,
                   expires_at: float = NOW + 3600) -> None:
    row = rows.session(hash_token(token), principal_key, expires_at=expires_at)
    row.account_id = account_id
    async with store.unit() as uow:
        await uow.sessions.add(row)


async def test_signed_in_reads_live_sessions_of_root_and_users(store: Store) -> None:
    alice_id, _ = await _people(store)
    clock = Clock()
    ports = _ports(store, clock)
    await _session(store, "root-token", f"root:{ACCOUNT}")
    await _session(store, "alice-token", f"user:{alice_id}")
    root = await sessions.signed_in(ports, "root-token")
    assert root is not None and root.principal.kind == "root" and root.principal.account_alias == "acme"
    alice = await sessions.signed_in(ports, "alice-token")
    assert alice is not None and alice.principal.name == "Alice" and alice.principal.account_id == ACCOUNT
    assert alice.session.id_hash == hash_token("alice-token")
    assert await sessions.signed_in(ports, "unknown") is None
    assert await sessions.signed_in(ports, "") is None


async def test_signed_in_touches_at_most_once_a_minute(store: Store) -> None:
    await _people(store)
    clock = Clock()
    ports = _ports(store, clock)
    await _session(store, "t", f"root:{ACCOUNT}")
    clock.now = NOW + 30
    assert await sessions.signed_in(ports, "t") is not None
    async with store.unit() as uow:
        row = await uow.sessions.get(hash_token("t"))
        assert row is not None and row.last_seen_at == NOW
    clock.now = NOW + 61
    with statements() as seen:
        assert await sessions.signed_in(ports, "t") is not None
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in seen) == 1
    async with store.unit() as uow:
        row = await uow.sessions.get(hash_token("t"))
        assert row is not None and row.last_seen_at == NOW + 61


async def test_signed_in_refuses_revoked_expired_idle_and_orphaned_sessions(store: Store) -> None:
    alice_id, _ = await _people(store)
    clock = Clock()
    ports = _ports(store, clock)
    await _session(store, "revoked", f"root:{ACCOUNT}")
    await _session(store, "idle", f"root:{ACCOUNT}")
    await _session(store, "expired", f"root:{ACCOUNT}", expires_at=NOW + 100)
    await _session(store, "wrong-account", f"user:{alice_id}", "444455556666")
    await _session(store, "root-of-other", f"root:{ACCOUNT}", "444455556666")
    await _session(store, "bad-key", "nonsense")
    assert await sessions.signed_in(ports, "revoked") is not None
    async with store.unit() as uow:
        await uow.sessions.revoke(hash_token("revoked"), NOW)
    assert await sessions.signed_in(ports, "revoked") is None, "a revocation counts at the next request"
    assert await sessions.signed_in(ports, "wrong-account") is None
    assert await sessions.signed_in(ports, "root-of-other") is None
    assert await sessions.signed_in(ports, "bad-key") is None
    clock.now = NOW + 101
    assert await sessions.signed_in(ports, "expired") is None, "past the absolute limit"
    assert await sessions.signed_in(ports, "idle") is not None
    clock.now = NOW + 101 + 901
    assert await sessions.signed_in(ports, "idle") is None, "idle for longer than the idle limit"


async def test_signed_in_refuses_a_deleted_user_and_a_closed_account(store: Store) -> None:
    alice_id, carol_id = await _people(store)
    ports = _ports(store, Clock())
    await _session(store, "alice", f"user:{alice_id}")
    await _session(store, "carol", f"user:{carol_id}")
    await _session(store, "root", f"root:{ACCOUNT}")
    assert await sessions.signed_in(ports, "carol") is not None
    async with store.unit() as uow:
        carol = await uow.users.get(carol_id)
        assert carol is not None
        await uow.db.delete(carol)
    assert await sessions.signed_in(ports, "carol") is None, "the user is gone"
    assert await sessions.signed_in(ports, "alice") is not None
    async with store.unit() as uow:
        account = await uow.accounts.get(ACCOUNT)
        assert account is not None
        account.status = "closed"
    assert await sessions.signed_in(ports, "alice") is None
    assert await sessions.signed_in(ports, "root") is None
