"""Passkeys and security keys (WebAuthn) of any principal: registration, assertion, listing, renaming, removal.

Principal-agnostic: an `Owner` names the principal (root user, IAM user, personal profile), its WebAuthn user
handle, what the authenticator shows, and its account when it has one. The `webauthn` package verifies; this
module keeps the challenge server-side (a flow holds its SHA-256: single use, `CHALLENGE_LIFETIME`), checks the
signature counter and records an audit event for every registration, rename, removal and failed assertion."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

import webauthn
from webauthn.helpers import (
    options_to_json,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..core import webauthn as rules
from ..core.flows.base import Flow, FlowConflict
from ..core.flows.webauthn_registration import SPEC, WebAuthnRegistration, WebAuthnRegistrationFlow
from ..core.webauthn import CredentialKind, PendingChallenge, RelyingParty
from ..errors import InvalidInput, LimitExceeded, NotFound, VestibuleError
from ..store.models import WebAuthnCredential
from ..store.repositories import Conflict, UnitOfWork
from . import audit, flows, metrics
from .context import Client, Deps
from .principals import Principal

REGISTER_EVENT = "RegisterWebAuthnCredential"
RENAME_EVENT = "RenameWebAuthnCredential"
REMOVE_EVENT = "DeactivateMFADevice"  # what the IAM API calls a removal, from the console as from the API
MAX_NAME = 64


class WebAuthnRejected(VestibuleError):
    """The authenticator's answer did not verify (wrong challenge, origin, signature, counter, ...)."""

    code = "webauthn.rejected"


@dataclass(frozen=True)
class Owner:
    """Whose credentials: `principal_key` (`root:<id>`, `user:<id>`, `profile:<id>`); `name` and `display_name`
    are what the authenticator shows; `audit_principal` names the principal in audit events (its ARN, or
    `profile/<id>`); `account_id` None for a principal without an account (then no IAM serial);
    `iam_user_name` None for the root user. `user_handle` "" : the one its credentials have, else a new one."""

    principal_key: str
    name: str
    display_name: str
    audit_principal: str
    account_id: str | None = None
    iam_user_name: str | None = None
    user_handle: str = ""
    iam_serial: bool = True  # False: no u2f serial though it has an account (the access portal's directory users)


def console_owner(principal: Principal) -> Owner:
    """A root user or IAM user of the console."""
    root = principal.kind == "root"
    name = principal.email or (f"root ({principal.account_id})" if root else
                               f"{principal.name} ({principal.account_alias or principal.account_id})")
    return Owner(principal.key, name, principal.account_name if root else principal.name, principal.arn,
                 principal.account_id or None, None if root else principal.name)


@dataclass(frozen=True)
class CredentialDetails:
    credential_id: str  # base64url: what pages name it by
    serial: str | None  # the IAM API's (u2f ARN); None without an account
    name: str
    kind: CredentialKind
    discoverable: bool
    transports: tuple[str, ...]
    created_at: float
    last_used_at: float | None


def _details(row: WebAuthnCredential) -> CredentialDetails:
    kind = rules.kind_of(row.kind) or CredentialKind.SECURITY_KEY
    return CredentialDetails(row.credential_id, row.serial, row.name, kind, row.discoverable,
                             tuple(t for t in row.transports.split(",") if t), row.created_at, row.last_used_at)


@dataclass(frozen=True)
class Ceremony:
    """What a page hands the browser: `options` is the JSON for navigator.credentials.create/get; `flow_id` the
    registration flow the answer is posted to (empty for an assertion: its caller's flow keeps the challenge)."""

    options: str
    flow_id: str = ""


def relying_party(deps: Deps) -> RelyingParty:
    return rules.relying_party(deps.settings.public_url)


def checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise InvalidInput("key_name", f"A name is 1 to {MAX_NAME} printable characters.")
    return name


# ---- registration ----------------------------------------------------------------------------------------

async def begin_registration(deps: Deps, client: Client, owner: Owner, kind: CredentialKind) -> Ceremony:
    """Options for navigator.credentials.create (attestation none; the owner's credentials excluded), and the
    flow that keeps their challenge for this browser. LimitExceeded at the factor limit (TOTP devices count)."""
    rp = relying_party(deps)
    choices = rules.choices_for(kind)
    now = deps.clock()
    async with deps.store.unit() as uow:
        existing = list(await uow.webauthn.for_principal(owner.principal_key))
        await _ensure_room(uow, owner.principal_key, len(existing))
        handle = owner.user_handle or (existing[0].user_handle if existing else
                                       rules.b64url(secrets.token_bytes(32)))
        challenge = secrets.token_bytes(rules.CHALLENGE_BYTES)
        options = webauthn.generate_registration_options(
            rp_id=rp.id, rp_name=rp.name, user_id=rules.from_b64url(handle), user_name=owner.name,
            user_display_name=owner.display_name, challenge=challenge, timeout=rules.CEREMONY_TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                authenticator_attachment=AuthenticatorAttachment(choices.attachment) if choices.attachment else None,
                resident_key=ResidentKeyRequirement(choices.resident_key),
                user_verification=UserVerificationRequirement(choices.user_verification)),
            exclude_credentials=[_descriptor(c) for c in existing])
        pending = PendingChallenge(rules.challenge_hash(challenge), now + rules.CHALLENGE_LIFETIME,
                                   choices.verification_required)
        flow = await flows.create(uow, SPEC, client.browser_hash, now,
                                  WebAuthnRegistration(owner.principal_key, kind, handle, pending))
    document = json.loads(options_to_json(options))
    document["extensions"] = {"credProps": True}
    return Ceremony(json.dumps(document), flow.id)


async def _ensure_room(uow: UnitOfWork, principal_key: str, webauthn_count: int) -> None:
    total = webauthn_count + len(await uow.mfa.enabled_for(principal_key))
    if total >= rules.MAX_CREDENTIALS_PER_PRINCIPAL:
        raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {rules.MAX_CREDENTIALS_PER_PRINCIPAL}")


def _descriptor(row: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = []
    for t in row.transports.split(","):
        try:
            transports.append(AuthenticatorTransport(t))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=rules.from_b64url(row.credential_id), transports=transports or None)


async def registration_flow(deps: Deps, client: Client, owner: Owner, flow_id: str) -> WebAuthnRegistrationFlow:
    """The live registration flow of this owner and browser (FlowNotFound, FlowExpired, FlowWrongBrowser)."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), flow.spec.initial)
    if flow.payload.principal_key != owner.principal_key:
        raise NotFoundFlow()
    return flow


class NotFoundFlow(NotFound):
    """Another principal's flow: as if it did not exist."""


async def finish_registration(deps: Deps, client: Client, owner: Owner, flow_id: str, response: str, name: str,
                              *, method: str = "console", reauthenticated_at: float | None = None
                              ) -> CredentialDetails:
    """Verify the browser's answer to `begin_registration` and store the credential, audited. The flow is spent
    before the answer is checked (one answer per challenge). InvalidInput (name), WebAuthnRejected (audited),
    flow errors, LimitExceeded."""
    name = checked_name(name)
    flow = await registration_flow(deps, client, owner, flow_id)
    pending = flow.payload.pending()
    flow.payload = replace(flow.payload, challenge=None)
    flow.complete()
    async with deps.store.unit() as uow:
        await flows.save(uow, flow)  # compare-and-set: a second answer to this challenge finds it done
    rp = relying_party(deps)
    try:
        if len(response) > rules.MAX_RESPONSE:
            raise WebAuthnException("response too large")
        credential = parse_registration_credential_json(response)
        challenge = parse_client_data_json(credential.response.client_data_json).challenge
        if pending.expired(deps.clock()):
            raise WebAuthnException("challenge expired")
        if not pending.matches(challenge):
            raise WebAuthnException("wrong challenge")
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            require_user_verification=pending.user_verification)
    except (WebAuthnException, ValueError, KeyError, TypeError, RecursionError) as exc:  # deep JSON: RecursionError
        await _audit_failure(deps, client, owner, REGISTER_EVENT, method, f"registration refused: {exc}"[:200])
        raise WebAuthnRejected() from None
    kind = flow.payload.kind
    discoverable = kind is CredentialKind.PASSKEY or _reported_resident(response)
    transports = ",".join(t.value for t in credential.response.transports or [])[:200]
    credential_id = rules.b64url(verified.credential_id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        await _ensure_room(uow, owner.principal_key, len(await uow.webauthn.for_principal(owner.principal_key)))
        serial = (rules.u2f_serial(owner.account_id, owner.iam_user_name, name, _serial_suffix())
                  if owner.account_id and owner.iam_serial else None)
        row = WebAuthnCredential(
            principal_key=owner.principal_key, account_id=owner.account_id, credential_id=credential_id,
            public_key=verified.credential_public_key, sign_count=verified.sign_count, transports=transports,
            aaguid=verified.aaguid, discoverable=discoverable, kind=kind.value, user_handle=flow.payload.user_handle,
            name=name, serial=serial, created_at=now, last_used_at=None)
        try:
            await uow.webauthn.add(row)
        except Conflict:
            raise WebAuthnRejected("credential registered already") from None
        await audit.record(uow, at=now, event=REGISTER_EVENT, result="Success", client=client,
                           account_id=owner.account_id, principal=owner.audit_principal, method=method,
                           serial=serial or credential_id, name=name, kind=kind.value, discoverable=discoverable,
                           user_verified=verified.user_verified, reauthenticated_at=reauthenticated_at)
        return _details(row)


def _serial_suffix() -> str:
    return "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(26))


def _reported_resident(response: str) -> bool:
    """The credProps extension's answer: the authenticator made a discoverable credential."""
    try:
        document = json.loads(response)
        props = document.get("clientExtensionResults", {}).get("credProps", {})
        return props.get("rk") is True
    except (ValueError, AttributeError, RecursionError):
        return False


# ---- assertion -------------------------------------------------------------------------------------------

async def authentication_options(deps: Deps, principal_key: str | None, *, user_verification: bool = False,
                                 uow: UnitOfWork | None = None) -> tuple[PendingChallenge, Ceremony]:
    """Options for navigator.credentials.get and the challenge the caller's flow must keep (and pass back to
    `verify_assertion`). `principal_key` None: any discoverable credential (a passkey sign-in); else only that
    principal's credentials are allowed. Verification is required when asked, and always of a passkey or built-in
    credential (`verify_assertion` checks it per credential). `uow`: the caller's open unit, read in instead of a
    unit of its own (never one unit inside another: each holds a connection)."""
    rp = relying_party(deps)
    allowed: list[WebAuthnCredential] = []
    if principal_key is not None and uow is not None:
        allowed = list(await uow.webauthn.for_principal(principal_key))
    elif principal_key is not None:
        async with deps.store.unit() as own:
            allowed = list(await own.webauthn.for_principal(principal_key))
    # asked of every allowed credential only when none is a security key; checked per credential anyway
    required = user_verification or (bool(allowed) and all(row.kind != CredentialKind.SECURITY_KEY.value
                                                          for row in allowed))
    challenge = secrets.token_bytes(rules.CHALLENGE_BYTES)
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=rules.CEREMONY_TIMEOUT_MS,
        allow_credentials=[_descriptor(row) for row in allowed],
        user_verification=UserVerificationRequirement.REQUIRED if required else UserVerificationRequirement.PREFERRED)
    ceremony = Ceremony(options_to_json(options))
    pending = PendingChallenge(rules.challenge_hash(challenge), deps.clock() + rules.CHALLENGE_LIFETIME, required,
                               ceremony.options)
    return pending, ceremony


REUSE_MARGIN = 60  # seconds: a pending challenge with less time left is replaced rather than shown again


def pending_options(deps: Deps, pending: PendingChallenge | None) -> str | None:
    """The options of the flow's challenge while it is pending with time left for a ceremony: a page shown
    again (a reload, a second tab) offers the same challenge, so the first page's answer still counts. None:
    ask `authentication_options` for a new one."""
    if pending is None or not pending.options or pending.expires_at - deps.clock() < REUSE_MARGIN:
        return None
    return pending.options


async def kept_challenge(deps: Deps, flow: Flow[Any, Any], principal_key: str | None, *,
                         user_verification: bool = False) -> str | None:
    """The options of the flow's pending challenge again (a reload or a second tab keeps the first page's), else
    of a new one kept (hashed) in the flow's `webauthn` payload field, saved compare-and-set. None: another
    request changed the flow meanwhile."""
    if (options := pending_options(deps, flow.payload.webauthn)) is not None:
        return options
    pending, ceremony = await authentication_options(deps, principal_key, user_verification=user_verification)
    flow.payload = replace(flow.payload, webauthn=pending)
    try:
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)
    except FlowConflict:
        return None
    return ceremony.options


@dataclass(frozen=True)
class AssertionContext:
    """Who is expected (`principal_key` None: whoever owns the credential, for a passkey sign-in) and how a
    failure is audited."""

    principal_key: str | None
    client: Client
    event: str  # ConsoleLogin, ...
    method: str  # webauthn
    account_id: str | None = None
    audit_principal: str = ""


@dataclass(frozen=True)
class Asserted:
    principal_key: str
    credential: CredentialDetails
    user_verified: bool


async def verify_assertion(deps: Deps, context: AssertionContext, pending: PendingChallenge | None,
                           response: str) -> Asserted | None:
    """The credential that signed the challenge, or None (audited with the reason: no challenge, expired,
    wrong challenge, unknown credential, another principal's, bad signature or origin, a counter that did not
    move forward). The caller must have spent `pending` in its flow before calling (single use)."""
    reason, found = await _assert(deps, context, pending, response)
    if found is None:
        await _audit_failure(deps, context.client, None, context.event, context.method, reason, context)
        return None
    return found


async def _assert(deps: Deps, context: AssertionContext, pending: PendingChallenge | None,
                  response: str) -> tuple[str, Asserted | None]:
    if pending is None:
        return "no WebAuthn challenge pending", None
    if len(response) > rules.MAX_RESPONSE:
        return "response too large", None
    try:
        credential = parse_authentication_credential_json(response)
        challenge = parse_client_data_json(credential.response.client_data_json).challenge
        counter = parse_authenticator_data(credential.response.authenticator_data).sign_count
    except (WebAuthnException, ValueError, KeyError, TypeError, RecursionError):  # deep JSON: RecursionError
        return "malformed WebAuthn response", None
    if pending.expired(deps.clock()):
        return "WebAuthn challenge expired", None
    if not pending.matches(challenge):
        return "wrong WebAuthn challenge", None
    credential_id = rules.b64url(credential.raw_id)
    async with deps.store.unit() as uow:
        row = await uow.webauthn.by_credential_id(credential_id)
    if row is None:
        return f"unknown WebAuthn credential {credential_id[:40]}", None
    if context.principal_key is not None and row.principal_key != context.principal_key:
        return "WebAuthn credential of another principal", None
    rp = relying_party(deps)
    try:  # the signature first (the counter is compared below, once the answer is known to be the key's own)
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=row.public_key, credential_current_sign_count=0,
            require_user_verification=pending.user_verification or row.kind != CredentialKind.SECURITY_KEY.value)
    except WebAuthnException as exc:
        return f"WebAuthn assertion refused: {exc}"[:200], None
    if (counter > 0 or row.sign_count > 0) and counter <= row.sign_count:
        metrics.record_mfa_failure(context.event)
        return f"WebAuthn sign counter went backwards ({counter} <= {row.sign_count}): possible cloned " \
               f"authenticator {row.serial or row.credential_id[:40]}", None
    now = deps.clock()
    async with deps.store.unit() as uow:
        if not await uow.webauthn.mark_used(row.id, row.sign_count, verified.new_sign_count, now):
            return "WebAuthn counter raced with another assertion", None
    row.sign_count, row.last_used_at = verified.new_sign_count, now
    return "", Asserted(row.principal_key, _details(row), verified.user_verified)


async def _audit_failure(deps: Deps, client: Client, owner: Owner | None, event: str, method: str, reason: str,
                         context: AssertionContext | None = None) -> None:
    account_id = owner.account_id if owner else context.account_id if context else None
    principal = owner.audit_principal if owner else context.audit_principal if context else ""
    async with deps.store.unit() as uow:
        await audit.record(uow, at=deps.clock(), event=event, result="Failure", client=client, account_id=account_id,
                           principal=principal, method=method, mfa_used=event == "ConsoleLogin", reason=reason)


# ---- the owner's list, rename, removal -------------------------------------------------------------------

async def credentials_of(deps: Deps, principal_key: str) -> list[CredentialDetails]:
    async with deps.store.unit() as uow:
        return [_details(row) for row in await uow.webauthn.for_principal(principal_key)]


async def has_credentials(uow: UnitOfWork, principal_key: str) -> bool:
    return bool(await uow.webauthn.for_principal(principal_key))


_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_MAX_CREDENTIAL_ID = 1400  # base64url of WebAuthn's 1023-byte maximum


async def _own(uow: UnitOfWork, principal_key: str, credential_id: str) -> WebAuthnCredential:
    valid = 0 < len(credential_id) <= _MAX_CREDENTIAL_ID and _B64URL.fullmatch(credential_id)
    row = await uow.webauthn.by_credential_id(credential_id) if valid else None  # no NUL reaches the database
    if row is None or row.principal_key != principal_key:
        raise NotFound("No such security key or passkey.")
    return row


async def credential_of(deps: Deps, principal_key: str, credential_id: str) -> CredentialDetails:
    """One of the principal's own credentials; NotFound for any other (another principal's alike)."""
    async with deps.store.unit() as uow:
        return _details(await _own(uow, principal_key, credential_id))


async def rename(deps: Deps, client: Client, owner: Owner, credential_id: str, name: str, *, method: str = "console",
                 reauthenticated_at: float | None = None) -> CredentialDetails:
    """The name only (the serial the API knows stays)."""
    name = checked_name(name)
    async with deps.store.unit() as uow:
        row = await _own(uow, owner.principal_key, credential_id)
        before, row.name = row.name, name
        await audit.record(uow, at=deps.clock(), event=RENAME_EVENT, result="Success", client=client,
                           account_id=owner.account_id, principal=owner.audit_principal, method=method,
                           serial=row.serial or row.credential_id, previous_name=before, name=name,
                           reauthenticated_at=reauthenticated_at)
        return _details(row)


async def remove(deps: Deps, uow: UnitOfWork, client: Client, owner: Owner, credential_id: str, *,
                 method: str = "console", **extra: Any) -> CredentialDetails:
    """In the caller's unit (which may check the last factor and end what depends on MFA in it), audited."""
    row = await _own(uow, owner.principal_key, credential_id)
    details = _details(row)
    await uow.webauthn.delete(row)
    await audit.record(uow, at=deps.clock(), event=REMOVE_EVENT, result="Success", client=client,
                       account_id=owner.account_id, principal=owner.audit_principal, method=method,
                       serial=row.serial or row.credential_id, name=row.name, kind=row.kind, **extra)
    return details
