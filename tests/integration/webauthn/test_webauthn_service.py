"""The WebAuthn use cases with real authenticator bytes (tests/webauthn_authenticator.py) and the real `webauthn`
verification: registration and assertion, and each refusal: wrong, reused and expired challenge, wrong origin and
RP ID, a counter going backwards, an unknown credential, another principal's credential. Every refusal is audited."""

from __future__ import annotations

import json

import pytest

from http_steps import make_account, make_user, use_clock
from vestibule.core.flows.base import FlowExpired
from vestibule.core.webauthn import CHALLENGE_LIFETIME, CredentialKind, PendingChallenge
from vestibule.runtime import Runtime
from vestibule.services import webauthn
from vestibule.services.context import Client
from vestibule.services.webauthn import AssertionContext, Owner, WebAuthnRejected
from webauthn_authenticator import SoftAuthenticator

CLIENT = Client(ip="203.0.113.9", user_agent="test", browser_hash="browser-1")


async def _owner(runtime: Runtime) -> Owner:
    account_id = await make_account(runtime)
    return Owner(f"root:{account_id}", "owner@example.com", "Acme", f"arn:aws:iam::{account_id}:root", account_id)


async def _register(runtime: Runtime, owner: Owner, key: SoftAuthenticator,
                    kind: CredentialKind = CredentialKind.SECURITY_KEY, name: str = "Blue key") -> str:
    ceremony = await webauthn.begin_registration(runtime.deps, CLIENT, owner, kind)
    details = await webauthn.finish_registration(runtime.deps, CLIENT, owner, ceremony.flow_id,
                                                 key.register(ceremony.options), name)
    return details.credential_id


def _context(owner: Owner) -> AssertionContext:
    return AssertionContext(owner.principal_key, CLIENT, "ConsoleLogin", "webauthn", owner.account_id,
                            owner.audit_principal)


async def _failures(runtime: Runtime, account_id: str | None, event: str) -> list[str]:
    assert account_id
    async with runtime.deps.store.unit() as uow:
        return [str((e.detail or {}).get("reason", "")) for e in await uow.audit.for_account(account_id)
                if e.event == event and e.result == "Failure"]


async def test_register_then_assert_counts_and_audits(runtime: Runtime) -> None:
    owner = await _owner(runtime)
    key = SoftAuthenticator()
    ceremony = await webauthn.begin_registration(runtime.deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
    options = json.loads(ceremony.options)
    assert options["rp"] == {"id": "testserver", "name": "Vestibule"}
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["authenticatorSelection"]["authenticatorAttachment"] == "cross-platform"
    details = await webauthn.finish_registration(runtime.deps, CLIENT, owner, ceremony.flow_id,
                                                 key.register(ceremony.options), "Blue key")
    assert details.credential_id == key.id and details.kind is CredentialKind.SECURITY_KEY
    assert details.serial is not None
    assert details.serial.startswith(f"arn:aws:iam::{owner.account_id}:u2f/root/Blue-key-")
    assert details.transports == ("usb",) and details.last_used_at is None

    pending, request = await webauthn.authentication_options(runtime.deps, owner.principal_key)
    assert [c["id"] for c in json.loads(request.options)["allowCredentials"]] == [key.id]
    asserted = await webauthn.verify_assertion(runtime.deps, _context(owner), pending, key.assertion(request.options))
    assert asserted is not None and asserted.principal_key == owner.principal_key
    assert asserted.credential.last_used_at is not None
    async with runtime.deps.store.unit() as uow:
        row = await uow.webauthn.by_credential_id(key.id)
        assert row is not None and row.sign_count == 1
        events = [e.event for e in await uow.audit.for_account(owner.account_id or "")]
    assert "RegisterWebAuthnCredential" in events

    # a second registration reuses the owner's user handle and excludes the first key
    again = await webauthn.begin_registration(runtime.deps, CLIENT, owner, CredentialKind.PASSKEY)
    second = json.loads(again.options)
    assert second["user"]["id"] == options["user"]["id"]
    assert [c["id"] for c in second["excludeCredentials"]] == [key.id]
    assert second["authenticatorSelection"]["userVerification"] == "required"
    assert second["authenticatorSelection"]["residentKey"] == "required"


async def test_registration_refusals(runtime: Runtime) -> None:
    owner = await _owner(runtime)
    clock = use_clock(runtime)
    key = SoftAuthenticator()
    for challenge, origin, rp_id in [("AAAA", None, None), (None, "http://evil.example", None),
                                     (None, None, "evil.example")]:
        ceremony = await webauthn.begin_registration(runtime.deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
        answer = key.register(ceremony.options, challenge=challenge, origin=origin, rp_id=rp_id)
        with pytest.raises(WebAuthnRejected):
            await webauthn.finish_registration(runtime.deps, CLIENT, owner, ceremony.flow_id, answer, "k")
    # the challenge is single use: the same flow refuses a second answer
    ceremony = await webauthn.begin_registration(runtime.deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
    answer = key.register(ceremony.options)
    await webauthn.finish_registration(runtime.deps, CLIENT, owner, ceremony.flow_id, answer, "k")
    with pytest.raises(FlowExpired):
        await webauthn.finish_registration(runtime.deps, CLIENT, owner, ceremony.flow_id, answer, "k")
    # expired
    other = SoftAuthenticator()
    ceremony = await webauthn.begin_registration(runtime.deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
    clock.advance(CHALLENGE_LIFETIME + 1)
    with pytest.raises(FlowExpired):
        await webauthn.finish_registration(runtime.deps, CLIENT, owner, ceremony.flow_id,
                                           other.register(ceremony.options), "k")
    reasons = await _failures(runtime, owner.account_id, "RegisterWebAuthnCredential")
    assert len(reasons) == 3 and all(r.startswith("registration refused") for r in reasons)
    assert len(await webauthn.credentials_of(runtime.deps, owner.principal_key)) == 1


async def test_assertion_refusals_are_audited(runtime: Runtime) -> None:
    owner = await _owner(runtime)
    clock = use_clock(runtime)
    key = SoftAuthenticator()
    await _register(runtime, owner, key)
    deps, context = runtime.deps, _context(owner)

    async def refused(pending: PendingChallenge | None, answer: str) -> None:
        assert await webauthn.verify_assertion(deps, context, pending, answer) is None

    pending, request = await webauthn.authentication_options(deps, owner.principal_key)
    await refused(pending, key.assertion(request.options, challenge="AAAAAAAA"))  # wrong challenge
    await refused(pending, key.assertion(request.options, origin="http://evil.example"))
    await refused(pending, key.assertion(request.options, rp_id="evil.example"))
    await refused(None, key.assertion(request.options))  # the flow's challenge was spent: reuse
    clock.advance(CHALLENGE_LIFETIME)
    await refused(pending, key.assertion(request.options))  # expired
    pending, request = await webauthn.authentication_options(deps, owner.principal_key)
    assert await webauthn.verify_assertion(deps, context, pending, key.assertion(request.options, counter=10))
    pending, request = await webauthn.authentication_options(deps, owner.principal_key)
    await refused(pending, key.assertion(request.options, counter=3))  # backwards: a cloned key
    await refused(pending, SoftAuthenticator().assertion(request.options))  # unknown credential
    reasons = await _failures(runtime, owner.account_id, "ConsoleLogin")
    assert reasons[0] == "wrong WebAuthn challenge"
    assert any("went backwards (3 <= 10)" in r for r in reasons)
    assert any(r.startswith("unknown WebAuthn credential") for r in reasons)
    assert "no WebAuthn challenge pending" in reasons and "WebAuthn challenge expired" in reasons
    assert len(reasons) == 7
    async with deps.store.unit() as uow:
        row = await uow.webauthn.by_credential_id(key.id)
        assert row is not None and row.sign_count == 10


async def test_another_principals_credential_is_refused(runtime: Runtime) -> None:
    owner = await _owner(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    alice = Owner(f"user:{user_id}", "alice", "alice", "arn:aws:iam::x:user/alice", owner.account_id, "alice")
    key = SoftAuthenticator()
    await _register(runtime, alice, key)
    details = (await webauthn.credentials_of(runtime.deps, alice.principal_key))[0]
    assert details.serial and ":u2f/user/alice/Blue-key-" in details.serial
    pending, request = await webauthn.authentication_options(runtime.deps, owner.principal_key)
    assert await webauthn.verify_assertion(runtime.deps, _context(owner), pending, key.assertion(request.options)) \
        is None
    assert "WebAuthn credential of another principal" in await _failures(runtime, owner.account_id, "ConsoleLogin")
    # a counter that stays at zero (an authenticator without one) is accepted every time
    still = SoftAuthenticator(counting=False)
    await _register(runtime, owner, still, name="No counter")
    for _ in range(2):
        pending, request = await webauthn.authentication_options(runtime.deps, owner.principal_key)
        assert await webauthn.verify_assertion(runtime.deps, _context(owner), pending, still.assertion(request.options))


async def test_the_operators_deactivate_mfa_removes_keys(runtime: Runtime) -> None:
    """`vestibule iam-user deactivate-mfa`: one key by its u2f serial, or every factor of the user."""
    from vestibule.services import accounts, iam_users

    owner = await _owner(runtime)
    first, second = SoftAuthenticator(), SoftAuthenticator()
    await _register(runtime, owner, first, name="One")
    await _register(runtime, owner, second, name="Two")
    [one, _two] = await webauthn.credentials_of(runtime.deps, owner.principal_key)
    assert one.serial
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, owner.account_id or "")
        assert await iam_users.deactivate_mfa(runtime.deps, uow, account, None, one.serial) == 1
    assert [c.name for c in await webauthn.credentials_of(runtime.deps, owner.principal_key)] == ["Two"]
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, owner.account_id or "")
        assert await iam_users.deactivate_mfa(runtime.deps, uow, account, None, None) == 1
    assert await webauthn.credentials_of(runtime.deps, owner.principal_key) == []


async def test_a_forged_signature_is_no_counter_alarm_and_passkeys_must_verify_the_user(runtime: Runtime) -> None:
    owner = await _owner(runtime)
    key = SoftAuthenticator()
    await _register(runtime, owner, key, kind=CredentialKind.PASSKEY)
    pending, request = await webauthn.authentication_options(runtime.deps, owner.principal_key)
    assert await webauthn.verify_assertion(runtime.deps, _context(owner), pending, key.assertion(request.options))
    forger = SoftAuthenticator(credential_id=key.credential_id)  # the credential ID is no secret; the key is
    pending, request = await webauthn.authentication_options(runtime.deps, owner.principal_key)
    assert await webauthn.verify_assertion(runtime.deps, _context(owner), pending,
                                           forger.assertion(request.options, counter=0)) is None
    key.user_verified = False
    pending, request = await webauthn.authentication_options(runtime.deps, owner.principal_key)
    assert await webauthn.verify_assertion(runtime.deps, _context(owner), pending, key.assertion(request.options)) \
        is None
    reasons = await _failures(runtime, owner.account_id, "ConsoleLogin")
    assert len(reasons) == 2 and all(r.startswith("WebAuthn assertion refused") for r in reasons), reasons
