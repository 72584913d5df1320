"""Access portal sign-in through the instance's external SAML identity provider (identity source `saml`).

Vestibule is the service provider: entity ID and assertion consumer `<public URL>/portal/<identity store ID>/saml`
(the store's ID, never the portal's subdomain, so renaming the portal does not break the IdP's configuration),
its metadata at `.../saml/metadata`. The portal's start page sends the browser to the IdP with an AuthnRequest
(HTTP-Redirect binding; its ID kept in a `portal_saml` flow whose ID travels as RelayState); the IdP posts the
signed response back. IdP-initiated responses (no InResponseTo, from the IdP's own application list) are accepted
too, as AWS IAM Identity Center accepts them. The response is verified by core/saml.py against the source's
certificates, audience and recipient this portal's URL, each assertion used once; its NameID (format
emailAddress unless the source says otherwise) is matched to the directory user with that primary email, or
creates one when the source allows just-in-time users. The IdP does the authentication, MFA included: the
instance's MFA settings do not apply to these users. Refusals are FederationFailure (the page shows the cause
with a reference; docs/federation.md)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ...core import saml, saml_sp
from ...core.federation_failures import Cause, FederationFailure
from ...core.flows.base import FlowError
from ...core.flows.portal_saml import REUSE_MIN_LEFT, SPEC, PortalSaml, PortalSamlFlow, PortalSamlState
from ...core.tokens import new_token
from ...errors import AlreadyExists, InvalidValue
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, flows
from ..context import Client, Deps
from ..signin.completion import SignedIn, complete_sign_in
from ..signin.portal import principal_of
from . import directory, identity_sources
from .directory import DirectoryUser
from .directory_profile import Email, UserProfile
from .identity_sources import SamlSource
from .instances import Instance

DOOR = "portal-saml"
SKEW = 300.0  # core/saml.py's default: how far the IdP's clock may differ
MAX_RELAY_STATE = 1024  # what is read of a RelayState (ours are 64 characters)
# RFC 2822 addr-spec in its dot-atom form (what IAM Identity Center requires of the NameID)
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*")
_FORMAT_NAMES = {saml_sp.EMAIL_ADDRESS: "emailAddress",
                 "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent": "persistent",
                 "urn:oasis:names:tc:SAML:2.0:nameid-format:transient": "transient",
                 "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified": "unspecified"}


@dataclass(frozen=True)
class ServiceProvider:
    """This portal as the IdP knows it."""

    entity_id: str
    acs_url: str
    metadata_url: str


def service_provider(deps: Deps, instance: Instance) -> ServiceProvider:
    base = f"{deps.settings.public_origin}/portal/{instance.identity_store_id}/saml"
    return ServiceProvider(base, base, f"{base}/metadata")


async def source_of(deps: Deps, instance: Instance) -> SamlSource | None:
    """The instance's SAML identity source, or None when its users sign in another way."""
    async with deps.store.unit() as uow:
        source = await identity_sources.source_of(uow, instance.arn)
    return source if isinstance(source, SamlSource) else None


def metadata(deps: Deps, instance: Instance, source: SamlSource | None) -> bytes:
    """The SP metadata the IdP's administrator imports (served whatever the source is, so the IdP can be set up
    before the portal switches to it)."""
    sp = service_provider(deps, instance)
    return saml_sp.sp_metadata(sp.entity_id, sp.acs_url,
                               (source.name_id_format if source is not None else saml_sp.EMAIL_ADDRESS,))


def _flow_id(identity_store_id: str, browser_hash: str) -> str:
    """One open sign-in per portal and browser (64 hex characters, as a flow ID may be): a reload sends the same
    request instead of storing a new flow each time."""
    return hashlib.sha256(f"portal-saml:{identity_store_id}:{browser_hash}".encode()).hexdigest()


async def _open_flow(uow: UnitOfWork, flow_id: str, client: Client, now: float) -> PortalSamlFlow | None:
    if await uow.flows.get(flow_id) is None:
        return None
    try:
        flow = await flows.load(uow, SPEC, flow_id)
        flow.check(client.browser_hash, now, PortalSamlState.SENT)
        if flow.expires_at - now >= REUSE_MIN_LEFT:
            return flow
    except FlowError:
        pass
    await uow.flows.delete_ids([flow_id])  # run out, done or unreadable: a new one in its place
    return None


async def _sign_in_flow(deps: Deps, client: Client, instance: Instance) -> PortalSamlFlow:
    now = deps.clock()
    flow_id = _flow_id(instance.identity_store_id, client.browser_hash)
    for _ in range(3):
        try:
            async with deps.store.unit() as uow:
                flow = await _open_flow(uow, flow_id, client, now)
                if flow is None:
                    flow = await flows.create(uow, SPEC, client.browser_hash, now,
                                              PortalSaml(instance.identity_store_id, "_" + new_token()),
                                              flow_id=flow_id)
            return flow
        except Conflict:  # two tabs at once: the winner's flow is read on the next round
            continue
    raise FederationFailure(Cause.STATE_MISMATCH, "the sign-in could not be started; try again")


async def begin(deps: Deps, client: Client, instance: Instance, source: SamlSource) -> str:
    """The IdP's single sign-on URL carrying this browser's AuthnRequest (redirect the browser there)."""
    flow = await _sign_in_flow(deps, client, instance)
    sp = service_provider(deps, instance)
    request = saml_sp.authn_request(request_id=flow.payload.request_id, issuer=sp.entity_id,
                                    destination=source.sso_url, acs_url=sp.acs_url, now=deps.clock(),
                                    name_id_format=source.name_id_format)
    return saml_sp.redirect_url(source.sso_url, request, relay_state=flow.id)


async def _flow_named(deps: Deps, client: Client, instance: Instance, relay_state: str, *,
                      check_browser: bool) -> tuple[PortalSamlFlow | None, str]:
    """The open flow of this portal that RelayState names, or None and why not. `check_browser`: the request came
    with this site's browser cookie (a same-site IdP), so the flow must be this browser's; a cross-site POST
    carries none (SameSite=Lax), and then the answered request's ID is what ties the response to the flow."""
    try:
        async with deps.store.unit() as uow:
            flow = await flows.load(uow, SPEC, relay_state[:MAX_RELAY_STATE])
        flow.check(client.browser_hash if check_browser else flow.browser_hash, deps.clock(),
                   PortalSamlState.SENT)
    except FlowError as exc:
        return None, type(exc).__name__
    if flow.payload.identity_store_id != instance.identity_store_id:
        return None, "another portal's flow"
    return flow, ""


def _format_name(value: str | None) -> str:
    return _FORMAT_NAMES.get(value or "", value or "(none)")


def _email_of(assertion: saml.Assertion, source: SamlSource) -> str:
    if assertion.name_id_format != source.name_id_format:
        expected, got = _format_name(source.name_id_format), _format_name(assertion.name_id_format)
        raise FederationFailure(Cause.NAMEID_FORMAT, f"expected NameID format {expected}, got {got}",
                                user={"expected": expected, "received": got},
                                admin={"expected": source.name_id_format,
                                       "received": assertion.name_id_format or "(none)"})
    email = assertion.name_id.strip()
    if source.name_id_format == saml_sp.EMAIL_ADDRESS and (len(email) > 128 or not _ADDR_SPEC.fullmatch(email)):
        raise FederationFailure(Cause.NAMEID_FORMAT, "the NameID is not an email address",
                                admin={"name_id": email[:256]})  # no user values: the page's plain advice
    return email


async def _spend(uow: UnitOfWork, assertion: saml.Assertion) -> None:
    """Each assertion is accepted once within its lifetime and the clock skew allowed after it (on any node, the
    key as the console's door keeps it: one assertion is spent once whichever door it reaches): REPLAYED after."""
    id_hash = hashlib.sha256(f"{assertion.issuer}\x00{assertion.id}".encode()).hexdigest()
    try:
        await uow.saml_assertion_uses.add(id_hash, assertion.not_on_or_after + SKEW)
    except Conflict:
        raise FederationFailure(Cause.REPLAYED, "the assertion was used before",
                                admin={"assertion_id": assertion.id[:128]}) from None


async def _user_for(deps: Deps, uow: UnitOfWork, client: Client, instance: Instance, source: SamlSource,
                    email: str) -> DirectoryUser:
    store = instance.identity_store_id
    found = (await directory.find_users(uow, store, email=email, limit=2)).items
    if len(found) > 1:
        raise FederationFailure(Cause.USER_NOT_FOUND, "more than one directory user has this primary email",
                                admin={"email": email, "users": ", ".join(u.user_name for u in found)})
    if found:
        user = found[0]
        if not user.enabled:
            raise FederationFailure(Cause.USER_DISABLED, "the directory user is disabled",
                                    admin={"user": user.user_name, "user_id": user.id})
        return user
    if not source.jit:
        raise FederationFailure(Cause.USER_NOT_FOUND, "no directory user has this primary email",
                                admin={"email": email, "just_in_time": "off"})
    try:
        user = await directory.create_user(uow, store, email, UserProfile(
            display_name=email, emails=(Email(value=email, type="work", primary=True),)),
            actor=f"saml:{source.entity_id}"[:128], now=deps.clock())
    except (AlreadyExists, InvalidValue) as exc:  # the user name is another user's (whose email differs)
        raise FederationFailure(Cause.USER_NOT_FOUND, "just-in-time creation failed: the user name is taken",
                                admin={"email": email, "reason": str(exc)[:256]}) from None
    await audit.record(uow, at=deps.clock(), event="CreateUser", result="success", client=client,
                       account_id=instance.owner_account_id, principal=f"saml:{source.entity_id}"[:256],
                       method="saml-jit", identity_store_id=store, user_id=user.id, user_name=user.user_name)
    return user


async def accept(deps: Deps, client: Client, instance: Instance, saml_response: str, relay_state: str, *,
                 browser_cookie_sent: bool, previous_session: str = "") -> SignedIn:
    """Verify the IdP's posted response and start the portal session of the user it names."""
    source = await source_of(deps, instance)
    if source is None:
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "this portal does not sign in with a SAML identity provider",
                                admin={"identity_store_id": instance.identity_store_id})
    sp = service_provider(deps, instance)
    flow, why = await _flow_named(deps, client, instance, relay_state, check_browser=browser_cookie_sent)
    now = deps.clock()
    assertion = saml.verify_response(saml.decode_response(saml_response), certificates=source.certificates,
                                     audience=sp.entity_id, recipient=sp.acs_url, now=now, skew=SKEW,
                                     in_response_to=flow.payload.request_id if flow is not None else None)
    if assertion.issuer != source.entity_id:
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "the response's issuer is not the portal's identity provider",
                                admin={"expected": source.entity_id, "got": assertion.issuer[:512]})
    if assertion.in_response_to is None:
        flow = None  # IdP-initiated: it answers no request (an open one stays open)
    elif flow is None:
        raise FederationFailure(Cause.STATE_MISMATCH, "the response answers no open sign-in of this portal",
                                admin={"in_response_to": assertion.in_response_to[:128], "flow": why})
    email = _email_of(assertion, source)
    lifetime = instance.settings.portal_session_seconds
    if assertion.session_not_on_or_after is not None:
        lifetime = min(lifetime, int(assertion.session_not_on_or_after - now))
        if lifetime <= 0:
            raise FederationFailure(Cause.EXPIRED, "the IdP's session ended (SessionNotOnOrAfter)",
                                    admin={"session_not_on_or_after": saml_sp.instant(
                                        assertion.session_not_on_or_after)})
    try:
        async with deps.store.unit() as uow:
            await _spend(uow, assertion)
            user = await _user_for(deps, uow, client, instance, source, email)
            return await complete_sign_in(deps.session_ports, principal=principal_of(user, instance),
                                          client=client, method="saml", mfa_used=False, flow=flow,
                                          previous_session=previous_session, within=uow, lifetime=lifetime)
    except FlowError:  # the same request answered twice at once: the other answer won
        raise FederationFailure(Cause.STATE_MISMATCH, "the sign-in request was answered by another response",
                                admin={"in_response_to": (assertion.in_response_to or "")[:128]}) from None


async def mfa_at_identity_provider(deps: Deps, instance: Instance) -> bool:
    """Whether the instance's users authenticate at an external IdP, which asks for their second factor: the
    portal then asks them to register no MFA device of its own."""
    return await source_of(deps, instance) is not None
