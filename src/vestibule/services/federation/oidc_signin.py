"""Console sign-in with an OIDC provider: the authorization code flow with PKCE (S256), `state` and `nonce`
(OpenID Connect Core 1.0, 3.1; RFC 7636), then the roles of the account that trust the provider for the ID
token's claims, exactly as AssumeRoleWithWebIdentity decides (services/federation/web_identity.py): one role
gives a console session as that role; several ask the user to choose; none is a NO_TRUSTED_ROLE failure.

Every refusal is a FederationFailure (the page records it and shows its reference): STATE_MISMATCH for a
callback this browser did not start (unknown or used `state`, another browser, expired, the nonce), IDP_ERROR
for the provider's error answers, and the ID token's own causes from core/oidc_tokens.py."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx

from ...core import arns
from ...core import identifiers as ids
from ...core.federation_failures import Cause, FederationFailure
from ...core.flows import FlowError
from ...core.flows.oidc_signin import (
    SPEC,
    OidcSignIn,
    OidcSignInFlow,
    OidcSignInState,
    flow_id_of,
    json_object,
    verifier_context,
)
from ...core.oidc_code_flow import CALLBACK_PATH, authorization_url, new_pkce, scope_for, session_name
from ...core.oidc_tokens import VerifiedToken
from ...core.principals import PrincipalRef
from ...core.throttle import Scope, ThrottleKey, wait_without_captcha
from ...errors import NotFound, TooManyAttempts
from ...store.models import IamRole
from ...store.repositories import UnitOfWork
from .. import audit, flows, metrics
from ..context import Client, Deps
from ..iam.identity_providers import OidcProviderView
from ..principals import Principal
from ..signin.completion import SignedIn, complete_sign_in
from . import console_oidc, failures, web_identity
from .oidc_keys import TIMEOUT_SECONDS, Discovery, checked_url

DOOR = "oidc-console"
METHOD = "oidc"  # the audit events' method: the console's OIDC sign-in
DURATION = 3600  # the role session (and so the console session) AssumeRoleWithWebIdentity gives by default
MAX_ANSWER = 1 << 20
_MAX_STATE = 128
_MAX_CODE = 2048


class Refused(Exception):
    """A failed sign-in, recorded: the page shows the failure's words and the reference."""

    def __init__(self, failure: FederationFailure, reference: str, account_id: str | None) -> None:
        super().__init__(failure.detail)
        self.failure = failure
        self.reference = reference
        self.account_id = account_id


@dataclass
class _Attempt:
    """What is known of the sign-in when it fails (for its record)."""

    account_id: str | None = None
    provider: str = ""
    principal: str = ""


async def _recorded(deps: Deps, client: Client, failure: FederationFailure, attempt: _Attempt) -> Refused:
    reference = await failures.record_failure(deps, client, failure, door=DOOR, account_id=attempt.account_id,
                                              provider=attempt.provider, principal=attempt.principal)
    return Refused(failure, reference, attempt.account_id)


@dataclass(frozen=True)
class Choice:
    """Several roles trust the token: the chooser page of this flow."""

    flow_id: str
    account_id: str
    provider_label: str
    session_name: str
    roles: tuple[RoleChoice, ...]


@dataclass(frozen=True)
class RoleChoice:
    arn: str
    name: str


def _state_failure(detail: str) -> FederationFailure:
    return FederationFailure(Cause.STATE_MISMATCH, detail)


def redirect_uri(deps: Deps) -> str:
    return deps.settings.public_origin + CALLBACK_PATH


async def _discovery(deps: Deps, provider: OidcProviderView) -> Discovery:
    return await deps.oidc_keys.discovery(provider.issuer, now=deps.clock(),
                                          insecure_loopback=deps.settings.federation_insecure_loopback)


def _endpoint(deps: Deps, provider: OidcProviderView, url: str | None, name: str) -> str:
    if url is None:
        raise FederationFailure(Cause.IDP_ERROR, f"The identity provider's discovery document has no {name}.",
                                admin={"issuer": provider.issuer})
    try:
        return checked_url(url, insecure_loopback=deps.settings.federation_insecure_loopback)
    except ValueError as exc:
        raise FederationFailure(Cause.IDP_ERROR, f"The identity provider's {name} cannot be used: {exc}.",
                                admin={"issuer": provider.issuer}) from None


class Unavailable(Exception):
    """No such button (never was, removed, or its provider deleted): a plain page, nothing recorded."""


def start_keys(client: Client) -> list[ThrottleKey]:
    """The budget of sign-ins started (each stores a flow row) per client address: 60 an hour freely, then one
    a minute; a sign-in that ends in a console session gives its start back, so only abandoned ones count."""
    return [ThrottleKey(Scope.REQUESTS, f"oidc-start:{client.ip}")]


async def _admit_start(deps: Deps, client: Client) -> None:
    keys, now = start_keys(client), deps.clock()
    refused = await deps.throttle.reserve(keys, now, captcha_solved=False)
    metrics.record_throttle("request", "allowed" if refused is None else "delayed")
    if refused is not None:
        raise TooManyAttempts(max(1, wait_without_captcha(keys, await deps.throttle.states(keys, now), now)))


async def start(deps: Deps, client: Client, account_id: str, provider_arn: str) -> str:
    """A new flow bound to this browser, and the provider's authorization URL to send the browser to.
    Unavailable for an unknown button; Refused (recorded) when the provider's discovery fails;
    TooManyAttempts when this address started too many sign-ins it did not finish (start_keys)."""
    if not ids.is_account_id(account_id) or not provider_arn or len(provider_arn) > 512:
        raise Unavailable()
    async with deps.store.unit() as uow:
        try:
            registration = await console_oidc.registration(deps, uow, account_id, provider_arn)
        except NotFound:
            raise Unavailable() from None
    await _admit_start(deps, client)
    try:
        discovery = await _discovery(deps, registration.provider)
        endpoint = _endpoint(deps, registration.provider, discovery.authorization_endpoint,
                             "authorization_endpoint")
    except FederationFailure as failure:
        raise await _recorded(deps, client, failure, _Attempt(account_id, provider_arn)) from None
    state, nonce, pkce = secrets.token_urlsafe(32), secrets.token_urlsafe(32), new_pkce()
    payload = OidcSignIn(account_id, provider_arn, nonce,
                         deps.box.seal(pkce.verifier.encode(), verifier_context(nonce)))
    async with deps.store.unit() as uow:
        await flows.create(uow, SPEC, client.browser_hash, deps.clock(), payload, flow_id=flow_id_of(state))
    return authorization_url(endpoint, client_id=registration.client_id, redirect_uri=redirect_uri(deps),
                             state=state, nonce=nonce, challenge=pkce.challenge,
                             scope=scope_for(discovery.document.get("scopes_supported")))


async def _flow(deps: Deps, client: Client, flow_id: str, state: OidcSignInState) -> OidcSignInFlow:
    try:
        async with deps.store.unit() as uow:
            flow = await flows.load(uow, SPEC, flow_id)
        flow.check(client.browser_hash, deps.clock(), state)
    except FlowError as exc:
        raise _state_failure(f"The sign-in's state is not one this browser started, or it expired "
                             f"({type(exc).__name__}).") from None
    return flow


async def _spend_verifier(deps: Deps, flow: OidcSignInFlow) -> str:
    """The PKCE verifier, taken out of the flow (compare-and-set) before the code is exchanged: a second
    callback with the same state finds none."""
    sealed = flow.payload.verifier_sealed
    if sealed is None:
        raise _state_failure("This sign-in's state was already used.")
    flow.payload = replace(flow.payload, verifier_sealed=None)
    try:
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)
    except FlowError:
        raise _state_failure("This sign-in's state was already used.") from None
    return deps.box.open(sealed, verifier_context(flow.payload.nonce)).decode()


def _client_auth(discovery: Discovery, client_id: str, secret: str | None,
                 form: dict[str, str]) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 2.3.1, the default), or client_secret_post when the provider lists only
    that; nothing for a public client."""
    if secret is None:
        return None
    methods = discovery.document.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "client_secret_basic" not in methods and "client_secret_post" in methods:
        form["client_secret"] = secret
        return None
    return quote(client_id, safe=""), quote(secret, safe="")


async def _exchange(deps: Deps, registration: console_oidc.ClientRegistration, code: str, verifier: str) -> str:
    """The ID token the token endpoint gives for `code` (OIDC Core 3.1.3.1-3.1.3.3)."""
    provider = registration.provider
    discovery = await _discovery(deps, provider)
    endpoint = _endpoint(deps, provider, discovery.token_endpoint, "token_endpoint")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(deps),
            "client_id": registration.client_id, "code_verifier": verifier}
    auth = _client_auth(discovery, registration.client_id, registration.client_secret, form)
    admin = {"issuer": provider.issuer, "token_endpoint": endpoint[:256]}
    try:
        async with (asyncio.timeout(TIMEOUT_SECONDS),  # in all: a provider dripping bytes cannot hold it longer
                    httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as http,
                    http.stream("POST", endpoint, data=form, auth=auth,
                                headers={"Accept": "application/json"}) as answer):
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER:
                    raise FederationFailure(Cause.IDP_ERROR, "The token endpoint's answer is too large.",
                                            admin=admin)
            status = answer.status_code
    except (httpx.HTTPError, TimeoutError) as exc:
        raise FederationFailure(Cause.IDP_ERROR, f"Could not reach the token endpoint: {type(exc).__name__}.",
                                admin=admin) from None
    try:
        value: Any = json.loads(bytes(body))
    except ValueError:
        value = None
    answered: Mapping[str, Any] = value if isinstance(value, dict) else {}
    if status != 200 or not isinstance(answered.get("id_token"), str):
        error = answered.get("error")
        raise FederationFailure(Cause.IDP_ERROR, f"The token endpoint answered {status} without an ID token.",
                                admin={**admin, "status": str(status),
                                       "error": str(error)[:64] if error is not None else ""})
    token: str = answered["id_token"]
    return token


def _arn(role: IamRole) -> str:
    return arns.role_arn(role.account_id, role.name, role.path)


async def _trusted(deps: Deps, uow: UnitOfWork, client: Client, account_id: str, provider: OidcProviderView,
                   verified: VerifiedToken, name: str, secure: bool) -> list[IamRole]:
    """The account's roles whose trust policy allows AssumeRoleWithWebIdentity for this token (with the
    session name it gives as `sts:RoleSessionName`), exactly as AssumeRoleWithWebIdentity evaluates it."""
    context = web_identity.trust_context(provider, verified, now=deps.clock(), client=client, secure=secure,
                                         session_name=name)
    roles = [role for role in await uow.roles.list(account_id)
             if provider.arn in role.trust_policy and web_identity.role_trusts(role, provider, context)]
    return sorted(roles, key=lambda role: role.name_lower)


def _verified_from(claims: Mapping[str, Any], provider: OidcProviderView, client_id: str) -> VerifiedToken:
    """The token verified at the callback for `client_id`, again from its stored claims (the chooser never
    re-verifies)."""
    amr = claims.get("amr")
    return VerifiedToken(claims, str(claims.get("sub", "")), client_id,
                         tuple(str(a) for a in amr) if isinstance(amr, list) else (), provider.issuer)


async def callback(deps: Deps, client: Client, params: Mapping[str, str], *, previous_session: str = "",
                   secure: bool = False) -> SignedIn | Choice:
    """The provider's redirect back: `state` and `code`, or `error`. Refused (recorded) when it fails.
    `secure`: the request came over TLS (`aws:SecureTransport` for the trust policies)."""
    attempt = _Attempt()
    try:
        return await _callback(deps, client, params, previous_session, secure, attempt)
    except FederationFailure as failure:
        raise await _recorded(deps, client, failure, attempt) from None


async def choice(deps: Deps, client: Client, flow_id: str) -> Choice:
    """The chooser page of a flow waiting for its role."""
    attempt = _Attempt()
    try:
        flow = await _flow(deps, client, flow_id, OidcSignInState.CHOOSING)
        attempt.account_id, attempt.provider = flow.payload.account_id, flow.payload.provider_arn
        async with deps.store.unit() as uow:
            registration = await _registration(deps, uow, flow.payload)
    except FederationFailure as failure:
        raise await _recorded(deps, client, failure, attempt) from None
    return Choice(flow.id, flow.payload.account_id, registration.label, flow.payload.session_name,
                  tuple(RoleChoice(arn, arn.rsplit("/", 1)[-1]) for arn in flow.payload.roles))


async def choose(deps: Deps, client: Client, flow_id: str, role_arn: str, *, previous_session: str = "",
                 secure: bool = False) -> SignedIn:
    """The chosen role (one the callback offered, and still trusting the token now) as the console session."""
    attempt = _Attempt()
    try:
        return await _choose(deps, client, flow_id, role_arn, previous_session, secure, attempt)
    except FederationFailure as failure:
        raise await _recorded(deps, client, failure, attempt) from None


async def _registration(deps: Deps, uow: UnitOfWork, payload: OidcSignIn) -> console_oidc.ClientRegistration:
    try:
        return await console_oidc.registration(deps, uow, payload.account_id, payload.provider_arn)
    except NotFound:
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "The sign-in button was removed, or its provider "
                                "deleted, during the sign-in.", admin={"provider": payload.provider_arn}) from None


async def _callback(deps: Deps, client: Client, params: Mapping[str, str], previous_session: str, secure: bool,
                    attempt: _Attempt) -> SignedIn | Choice:
    state = params.get("state", "")
    if not state or len(state) > _MAX_STATE:
        raise _state_failure("The provider's answer carries no state this service sent.")
    flow = await _flow(deps, client, flow_id_of(state), OidcSignInState.AUTHORIZING)
    payload = flow.payload
    attempt.account_id, attempt.provider = payload.account_id, payload.provider_arn
    async with deps.store.unit() as uow:
        registration = await _registration(deps, uow, payload)
    provider = registration.provider
    try:
        advertised = (await _discovery(deps, provider)).document.get("authorization_response_iss_parameter_supported")
    except FederationFailure:
        advertised = None  # the exchange below fails the same way, recorded
    if advertised is True and "iss" not in params:  # RFC 9207 2.4: a provider that sends iss always does
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "The answer does not say which identity provider sent it.",
                                admin={"expected": provider.issuer})
    if "iss" in params and params["iss"] != provider.issuer:  # RFC 9207: the answer names who sent it
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "The answer comes from another identity provider.",
                                admin={"iss": params["iss"][:256], "expected": provider.issuer})
    if "error" in params:
        raise FederationFailure(Cause.IDP_ERROR, "The identity provider answered with an error.",
                                admin={"issuer": provider.issuer, "error": params["error"][:64],
                                       "error_description": params.get("error_description", "")[:256]})
    code = params.get("code", "")
    if not code or len(code) > _MAX_CODE:
        raise FederationFailure(Cause.IDP_ERROR, "The identity provider's answer carries no code.",
                                admin={"issuer": provider.issuer})
    verifier = await _spend_verifier(deps, flow)
    token = await _exchange(deps, registration, code, verifier)
    # the token must be for this sign-in's client: its only audience, or the azp of several (oidc_tokens)
    verified = await web_identity.verified_token(deps, provider, token, nonce=payload.nonce,
                                                 client_ids=(registration.client_id,))
    attempt.principal = verified.subject
    azp = verified.claims.get("azp")
    if azp is not None and azp != registration.client_id:  # OIDC Core 3.1.3.7 (5)
        raise FederationFailure(Cause.AUDIENCE, "The ID token was not issued to this sign-in's client.",
                                user={"received": str(azp)[:128]},
                                admin={"azp": str(azp)[:256], "expected": registration.client_id})
    name = session_name(verified.claims)
    async with deps.store.unit() as uow:
        roles = await _trusted(deps, uow, client, payload.account_id, provider, verified, name, secure)
    if not roles:
        raise FederationFailure(Cause.NO_TRUSTED_ROLE, "No role of the account trusts this provider for the "
                                "token's claims.", user={"provider": registration.label},
                                admin={"provider": provider.arn, "sub": verified.subject[:255],
                                       "aud": verified.audience[:255]})
    if len(roles) == 1:
        return await _sign_in(deps, client, flow, provider, verified, roles[0], name, previous_session)
    flow.payload = replace(flow.payload, roles=tuple(_arn(r) for r in roles), session_name=name,
                           claims=json_object(verified.claims))
    flow.advance(OidcSignInState.CHOOSING)
    try:
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)
    except FlowError:
        raise _state_failure("This sign-in's state was already used.") from None
    return Choice(flow.id, payload.account_id, registration.label, name,
                  tuple(RoleChoice(_arn(r), r.name) for r in roles))


async def _choose(deps: Deps, client: Client, flow_id: str, role_arn: str, previous_session: str, secure: bool,
                  attempt: _Attempt) -> SignedIn:
    flow = await _flow(deps, client, flow_id, OidcSignInState.CHOOSING)
    payload = flow.payload
    attempt.account_id, attempt.provider = payload.account_id, payload.provider_arn
    if role_arn not in payload.roles or payload.claims is None:
        raise FederationFailure(Cause.NO_TRUSTED_ROLE, "The chosen role was not offered.",
                                admin={"role": role_arn[:256]})
    async with deps.store.unit() as uow:
        registration = await _registration(deps, uow, payload)
        verified = _verified_from(payload.claims, registration.provider, registration.client_id)
        attempt.principal = verified.subject
        roles = await _trusted(deps, uow, client, payload.account_id, registration.provider, verified,
                               payload.session_name, secure)
    chosen = next((r for r in roles if _arn(r) == role_arn), None)
    if chosen is None:
        raise FederationFailure(Cause.NO_TRUSTED_ROLE, "The chosen role no longer trusts this provider.",
                                user={"provider": registration.label},
                                admin={"provider": registration.provider.arn, "role": role_arn[:256]})
    return await _sign_in(deps, client, flow, registration.provider, verified, chosen, payload.session_name,
                          previous_session)


async def _sign_in(deps: Deps, client: Client, flow: OidcSignInFlow, provider: OidcProviderView,
                   verified: VerifiedToken, role: IamRole, name: str, previous_session: str) -> SignedIn:
    """The role's credentials and the console session on them, in one transaction (a second request racing in
    the same flow loses at the flow's compare-and-set, and nothing of it is kept)."""
    try:
        async with deps.store.unit() as uow:
            account = await uow.accounts.get(flow.payload.account_id)
            if account is None or account.status != "active":
                raise FederationFailure(Cause.UNKNOWN_PROVIDER, "The account is closed or suspended.")
            issued, arn = await web_identity.issue_for_role(deps, uow, client, role, provider, verified, name,
                                                            min(DURATION, role.max_session_duration))
            await audit.record(uow, at=deps.clock(), event=web_identity.EVENT, result="Success", client=client,
                               account_id=account.id, principal=provider.arn, method=METHOD, role=_arn(role),
                               session=name, subject=verified.subject[:255], audience=verified.audience)
            principal = Principal(PrincipalRef.role(issued.access_key_id), account.id, account.name,
                                  account.alias, f"{role.name}/{name}", arn)
            done = await complete_sign_in(deps.session_ports, principal=principal, client=client, method="oidc",
                                          mfa_used=False, flow=flow, previous_session=previous_session,
                                          lifetime=max(1, int(issued.expires_at - deps.clock())), within=uow)
    except FlowError:
        raise _state_failure("This sign-in was already completed in another request.") from None
    await deps.throttle.settle((), start_keys(client))  # a finished sign-in gives its start back
    return done
