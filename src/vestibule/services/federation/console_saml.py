"""Console sign-in with a SAML response (IdP-initiated, the HTTP-POST binding to `<public URL>/saml`).

`receive` verifies the response once (H3's `accept_response`: signature, audience and recipient `<public URL>/saml`,
times, one-time use) and keeps what the console needs in a hand-over flow; `claim` turns the hand-over into a
flow bound to the browser that follows the redirect; `choose` makes the console session as one role of the Role
attribute (trust policy evaluated, credentials issued by H3's `saml_role_session`). A failure raises
`FederationFailure`; the page records it (`failures.record_failure`, door `saml`) and shows its reference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...core import saml
from ...core.federation_failures import Cause, FederationFailure
from ...core.flows.base import FlowError, FlowType
from ...core.flows.saml_choice import HANDOFF, SPEC, SamlAssertionData, SamlChoice, SamlChoiceFlow, SamlChoiceState
from ...core.identifiers import format_account_id
from ...core.principals import PrincipalRef
from ...core.saml import Assertion
from ...store.repositories import UnitOfWork
from .. import flows
from ..context import Client, Deps
from ..iam.identity_providers import saml_provider
from ..principals import Principal
from ..signin.completion import SignedIn, complete_sign_in
from .saml import Accepted, accept_response, saml_role_session, sp_url

MAX_ROLES = 100  # more pairs in one Role attribute than a chooser can show are refused as malformed


@dataclass(frozen=True)
class RoleChoice:
    role_arn: str
    provider_arn: str
    account_id: str
    role_name: str
    account_alias: str | None = None

    @property
    def account_shown(self) -> str:
        """`alias (1234-5678-9012)`, or the formatted ID alone."""
        shown = format_account_id(self.account_id)
        return f"{self.account_alias} ({shown})" if self.account_alias else shown


@dataclass(frozen=True)
class Choosing:
    """A browser's flow and the roles it may choose from (one: the caller goes on to `choose` at once)."""

    flow_id: str
    roles: tuple[RoleChoice, ...]
    session_name: str
    issuer: str


def _role_choice(role_arn: str, provider_arn: str, aliases: Mapping[str, str | None] | None = None) -> RoleChoice:
    # arn:aws:iam::<account>:role/<path/><name>
    parts = role_arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    name = parts[5].rsplit("/", 1)[-1] if len(parts) == 6 else role_arn
    return RoleChoice(role_arn, provider_arn, account, name, (aliases or {}).get(account))


async def _choosing(uow: UnitOfWork, flow: SamlChoiceFlow) -> Choosing:
    payload = flow.payload
    aliases: dict[str, str | None] = {}
    for role, provider in payload.roles:
        account_id = _role_choice(role, provider).account_id
        if account_id and account_id not in aliases:
            account = await uow.accounts.get(account_id)
            aliases[account_id] = account.alias if account is not None else None
    return Choosing(flow.id, tuple(_role_choice(r, p, aliases) for r, p in payload.roles), payload.session_name,
                    payload.assertion.issuer)


def _relay(relay_state: str) -> str:
    """A RelayState the console may go to afterwards: a path of this site (anything else: the console home)."""
    value = relay_state.strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 1024 or any(
            ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return ""
    return value


def _assertion_data(a: Assertion) -> SamlAssertionData:
    return SamlAssertionData(a.id, a.issuer, a.name_id, a.name_id_format, a.name_qualifier, a.sp_name_qualifier,
                             a.not_on_or_after, a.session_not_on_or_after, a.authn_instant, a.issue_instant,
                             dict(a.attributes))


def _assertion(d: SamlAssertionData) -> Assertion:
    return Assertion(id=d.id, issuer=d.issuer, name_id=d.name_id, name_id_format=d.name_id_format,
                     name_qualifier=d.name_qualifier, sp_name_qualifier=d.sp_name_qualifier,
                     not_on_or_after=d.not_on_or_after, session_not_on_or_after=d.session_not_on_or_after,
                     authn_instant=d.authn_instant, attributes=dict(d.attributes), issue_instant=d.issue_instant)


async def _name_provider(deps: Deps, saml_response: str, failure: FederationFailure) -> None:
    """Tell the administrator which registered provider a refused response came from: the one the Role attribute
    names whose entity ID is the response's issuer (when exactly one is). What the response claims is kept as
    `issuer`; nothing here was verified unless the cause comes after the signature check."""
    try:
        found = saml.hints(saml.decode_response(saml_response))
    except FederationFailure:
        return
    if found.issuer:
        failure.admin.setdefault("issuer", found.issuer[:500])
    if "provider_arn" in failure.admin:
        return
    async with deps.store.unit() as uow:
        matches = [p for arn in dict.fromkeys(found.provider_arns[:10])
                   if (p := await saml_provider(uow, arn)) is not None and p.metadata.entity_id == found.issuer]
    if len(matches) == 1:
        failure.admin["provider_arn"] = matches[0].arn
        failure.user.setdefault("provider", matches[0].name)


async def receive(deps: Deps, saml_response: str, relay_state: str = "") -> str:
    """Verify the posted response and keep it in a hand-over flow; returns the flow's ID (for the redirect).
    Raises FederationFailure."""
    if not saml_response:
        raise FederationFailure(Cause.MALFORMED, "no SAMLResponse in the form")
    now = deps.clock()
    try:
        async with deps.store.unit() as uow:
            accepted = await accept_response(deps, uow, saml_response, audience=sp_url(deps),
                                             recipient=sp_url(deps), provider_arn=None)
    except FederationFailure as failure:
        await _name_provider(deps, saml_response, failure)
        raise
    if not accepted.roles:
        raise FederationFailure(Cause.NO_TRUSTED_ROLE, "the assertion names no role",
                                user={"provider": accepted.provider.name},
                                admin={"provider_arn": accepted.provider.arn, "issuer": accepted.assertion.issuer})
    if len(accepted.roles) > MAX_ROLES:
        raise FederationFailure(Cause.MALFORMED, f"the Role attribute names {len(accepted.roles)} roles",
                                admin={"roles": str(len(accepted.roles)), "provider_arn": accepted.provider.arn})
    async with deps.store.unit() as uow:
        payload = SamlChoice(_assertion_data(accepted.assertion), accepted.provider.arn,
                             tuple((role, provider) for role, provider in accepted.roles), accepted.session_name,
                             accepted.duration, _relay(relay_state))
        flow = await flows.create(uow, HANDOFF, "", now, payload, flow_type=FlowType.API)
    return flow.id


async def claim(deps: Deps, client: Client, handoff_id: str) -> Choosing:
    """Bind the hand-over to this browser: the hand-over is spent (compare-and-set: one browser wins) and a
    browser flow with its payload starts. FlowError when it is unknown, spent or past its minute."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        handoff = await flows.load(uow, HANDOFF, handoff_id)
        if handoff.type != FlowType.API:
            raise FlowError()
        handoff.check("", now, SamlChoiceState.POSTED)
        handoff.complete()
        await flows.save(uow, handoff)
        flow = await flows.create(uow, SPEC, client.browser_hash, now, handoff.payload)
        return await _choosing(uow, flow)


async def choosing(deps: Deps, client: Client, flow_id: str) -> tuple[SamlChoiceFlow, Choosing]:
    """This browser's chooser flow (FlowError when it is not this browser's, done or expired)."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
        flow.check(client.browser_hash, deps.clock(), SamlChoiceState.CHOOSING)
        return flow, await _choosing(uow, flow)


@dataclass(frozen=True)
class Chosen:
    signed_in: SignedIn
    relay_state: str


async def choose(deps: Deps, client: Client, flow_id: str, role_arn: str, *, previous_session: str = "") -> Chosen:
    """The console session as `role_arn` (one of the flow's roles), lasting as long as its credentials.
    FlowError for a flow that is not this browser's; FederationFailure when the role is not offered, does not
    exist or does not trust the provider."""
    flow, _ = await choosing(deps, client, flow_id)
    payload = flow.payload
    offered = {role: provider for role, provider in payload.roles}
    if role_arn not in offered:
        raise FederationFailure(Cause.NO_TRUSTED_ROLE, "the chosen role is not in the assertion",
                                admin={"role_arn": role_arn[:2048], "provider_arn": payload.provider_arn})
    async with deps.store.unit() as uow:
        provider = await saml_provider(uow, payload.provider_arn)
        if provider is None:
            raise FederationFailure(Cause.UNKNOWN_PROVIDER, "the provider was deleted during the sign-in",
                                    admin={"provider_arn": payload.provider_arn})
        accepted = Accepted(assertion=_assertion(payload.assertion), provider=provider, roles=payload.roles,
                            session_name=payload.session_name, duration=payload.duration)
        creds, _role, arn = await saml_role_session(deps, uow, client, accepted, role_arn,
                                                    secure=deps.settings.public_is_https)
        chosen = _role_choice(role_arn, offered[role_arn])
        account = await uow.accounts.get(chosen.account_id)
        if account is None:
            raise FederationFailure(Cause.NO_TRUSTED_ROLE, "the role's account is gone",
                                    admin={"role_arn": role_arn})
    principal = Principal(PrincipalRef.role(creds.access_key_id), account.id, account.name, account.alias,
                          f"{chosen.role_name}/{payload.session_name}", arn)
    signed_in = await complete_sign_in(deps.session_ports, principal=principal, client=client, method="saml",
                                       mfa_used=False, flow=flow, previous_session=previous_session,
                                       lifetime=max(1, int(creds.expires_at - deps.clock())))
    return Chosen(signed_in, payload.relay_state)
