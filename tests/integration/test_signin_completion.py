"""`complete_sign_in` commits all or nothing, and the TOTP sign-in method against real devices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from http_steps import make_account
from vestibule.core import totp
from vestibule.core.flows.console_signin import SPEC, Audience, ConsoleSignIn, ConsoleSignInState
from vestibule.core.principals import PrincipalRef
from vestibule.core.tokens import hash_token
from vestibule.runtime import Runtime
from vestibule.services import flows, mfa
from vestibule.services.context import Client
from vestibule.services.principals import load_ref
from vestibule.services.signin.completion import complete_sign_in
from vestibule.services.signin.methods import Attempt, Credential, Failed, NotResponsible, TotpMethod, Verified
from vestibule.store.models import MfaDevice
from vestibule.store.repositories import Conflict

CLIENT = Client(ip="203.0.113.9", user_agent="pytest", browser_hash="b" * 64)
POISON = "poisoned-method"

_SQLITE_TRIGGER = (f"CREATE TRIGGER refuse_poisoned_audit BEFORE INSERT ON audit_events "
                   f"WHEN NEW.method = '{POISON}' BEGIN SELECT RAISE(ABORT, 'audit write refused'); END")
_PG_FUNCTION = ("CREATE FUNCTION refuse_poisoned_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit write refused'; END $$")
_PG_TRIGGER = (f"CREATE TRIGGER refuse_poisoned_audit BEFORE INSERT ON audit_events FOR EACH ROW "
               f"WHEN (NEW.method = '{POISON}') EXECUTE FUNCTION refuse_poisoned_audit()")


@asynccontextmanager
async def audit_refuses_poisoned_rows(runtime: Runtime) -> AsyncIterator[None]:
    """A real database trigger that makes the audit insert fail for one method value."""
    async with runtime.deps.store.unit() as uow:
        dialect = uow.db.get_bind().dialect.name
        statements = [_SQLITE_TRIGGER] if dialect == "sqlite" else [_PG_FUNCTION, _PG_TRIGGER]
        for statement in statements:
            await uow.db.execute(text(statement))
    try:
        yield
    finally:
        async with runtime.deps.store.unit() as uow:
            if dialect == "sqlite":
                await uow.db.execute(text("DROP TRIGGER refuse_poisoned_audit"))
            else:
                await uow.db.execute(text("DROP TRIGGER refuse_poisoned_audit ON audit_events"))
                await uow.db.execute(text("DROP FUNCTION refuse_poisoned_audit()"))


async def _flow_at_password_step(runtime: Runtime, root: PrincipalRef) -> str:
    async with runtime.deps.store.unit() as uow:
        flow = await flows.create(uow, SPEC, CLIENT.browser_hash, runtime.deps.clock(),
                                  ConsoleSignIn(Audience.ROOT, "owner@example.com"))
        flow.payload = flow.payload.password_verified(root, root.id, risky=False)
        await flows.save(uow, flow)
        return flow.id


# complete_sign_in runs as a transaction of its own, or inside the caller's unit of work (when the step
# changed more, e.g. a new password): both must be all or nothing.
MODES = pytest.mark.parametrize("within", [False, True], ids=["own-transaction", "caller-unit"])


async def _complete(runtime: Runtime, root: PrincipalRef, flow_id: str, method: str, previous: str = "",
                    *, within: bool = False) -> str:
    async with runtime.deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
        loaded = await load_ref(uow, root)
        assert loaded is not None
        if within:
            done = await complete_sign_in(runtime.deps.session_ports, principal=loaded.principal, client=CLIENT,
                                          method=method, mfa_used=False, flow=flow, previous_session=previous,
                                          within=uow)
            return done.session.token
    done = await complete_sign_in(runtime.deps.session_ports, principal=loaded.principal, client=CLIENT,
                                  method=method, mfa_used=False, flow=flow, previous_session=previous)
    return done.session.token


@MODES
async def test_a_failing_audit_write_leaves_no_session_and_the_flow_not_done(runtime: Runtime, within: bool) -> None:
    root = PrincipalRef.root(await make_account(runtime))
    earlier = await _complete(runtime, root, await _flow_at_password_step(runtime, root), "password")
    flow_id = await _flow_at_password_step(runtime, root)

    async with audit_refuses_poisoned_rows(runtime):
        with pytest.raises((Conflict, DBAPIError)):
            await _complete(runtime, root, flow_id, POISON, previous=earlier, within=within)

    now = runtime.deps.clock()
    async with runtime.deps.store.unit() as uow:
        live = await uow.sessions.active_for(root.key, now)
        assert [s.id_hash for s in live] == [hash_token(earlier)], "no new session; the earlier one not ended"
        assert (await flows.load(uow, SPEC, flow_id)).state == ConsoleSignInState.PASSWORD
        events = await uow.audit.for_account(root.id)
        assert [e.method for e in events if e.event == "ConsoleLogin"] == ["password"]

    # The same completion without the poisoned value commits every part.
    token = await _complete(runtime, root, flow_id, "password", previous=earlier, within=within)
    async with runtime.deps.store.unit() as uow:
        live = await uow.sessions.active_for(root.key, runtime.deps.clock())
        assert [s.id_hash for s in live] == [hash_token(token)]
        assert (await flows.load(uow, SPEC, flow_id)).done
        assert await uow.browsers.known(root.key, CLIENT.browser_hash)


@MODES
async def test_a_failing_completion_does_not_remember_the_browser(runtime: Runtime, within: bool) -> None:
    root = PrincipalRef.root(await make_account(runtime))
    flow_id = await _flow_at_password_step(runtime, root)
    async with audit_refuses_poisoned_rows(runtime):
        with pytest.raises((Conflict, DBAPIError)):
            await _complete(runtime, root, flow_id, POISON, within=within)
    async with runtime.deps.store.unit() as uow:
        assert not await uow.browsers.known(root.key, CLIENT.browser_hash)
        assert await uow.sessions.active_for(root.key, runtime.deps.clock()) == []
        assert not [e for e in await uow.audit.for_account(root.id) if e.event == "ConsoleLogin"]


# --- the TOTP method ---------------------------------------------------------------------------


async def _device(runtime: Runtime, owner: PrincipalRef) -> str:
    secret = totp.new_secret()
    serial = f"arn:aws:iam::{owner.id}:mfa/phone"
    now = runtime.deps.clock()
    async with runtime.deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=owner.id, principal_key=owner.key, name="phone", serial=serial,
                                    secret_sealed=mfa.seal_secret(runtime.deps, serial, secret), enabled_at=now,
                                    last_used_step=None, created_at=now))
    return secret


async def test_totp_method_answers(runtime: Runtime) -> None:
    root = PrincipalRef.root(await make_account(runtime))
    secret = await _device(runtime, root)
    method = TotpMethod(runtime.deps)
    now = runtime.deps.clock()
    good = totp.code_at(secret, totp.step_of(now))
    wrong = "000000" if good != "000000" else "111111"

    def attempt(code: str, who: PrincipalRef | None = root, credential: Credential = Credential.TOTP,
                checked: bool = True) -> Attempt:
        who_key = who.key if who is not None else ""
        code_attempt = mfa.CodeAttempt(who_key, Client(), root.id, "", "ConsoleLogin", "mfa") if checked else None
        return Attempt(credential, code, who, now, code_attempt=code_attempt)

    # the TOTP check opens its own units (it is counted and audited even when the step fails)
    assert await method.verify(attempt(good, checked=False), None) == NotResponsible(), "needs whose code it is"
    assert await method.verify(attempt(good, credential=Credential.PASSWORD), None) == NotResponsible()
    assert await method.verify(attempt(good, who=None), None) == NotResponsible()
    assert await method.verify(attempt(wrong), None) == Failed("mfa", "wrong or reused MFA code")
    assert await method.verify(attempt(good), None) == Verified("mfa", mfa=True)
    assert isinstance(await method.verify(attempt(good), None), Failed), "a code is accepted once"
    other = PrincipalRef.iam_user("AIDANODEVICE")
    assert isinstance(await method.verify(attempt(good, who=other), None), Failed)
