"""Web identity federation: an ID token from an OpenID Connect provider registered in IAM becomes role
credentials (AssumeRoleWithWebIdentity), or selects the roles a console sign-in may take (web/federation's OIDC
sign-in uses `verified_token`, `trusted_roles` and `issue_for_role`).

The token is checked against its provider's published keys (oidc_keys) and claims (core/oidc_tokens); the role's
trust policy must allow `sts:AssumeRoleWithWebIdentity` for `Federated: <provider ARN>`, with the condition keys
`<provider url>:aud` (the client ID the token names), `<provider url>:sub` and `<provider url>:amr` (its
authentication methods, several values), as AWS names them. Session policies, the duration (up to the role's
maximum session duration, an hour by default) and the packed size follow AssumeRole's rules."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ...core import arns, oidc_tokens
from ...core import policy as engine
from ...core import throttle as rules
from ...core.federation_failures import Cause, FederationFailure
from ...core.oidc_tokens import VerifiedToken
from ...core.policy_conditions import ContextValue
from ...core.throttle import Scope, ThrottleKey
from ...errors import InvalidValue, PermissionDenied, TooManyAttempts
from ...store.models import IamRole
from ...store.repositories import UnitOfWork
from .. import audit, metrics
from ..context import Client, Deps
from ..iam.documents import checked_document
from ..iam.identity_providers import OidcProviderView, oidc_providers_of
from ..sts import SessionPolicy, _check_packed, _packed_size, _session_policy
from ..temporary_credentials import Issued, issue

ACTION = "sts:AssumeRoleWithWebIdentity"
EVENT = "AssumeRoleWithWebIdentity"
METHOD = "web-identity"
DEFAULT_DURATION = 3600
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
TAGS_CLAIM = "https://aws.amazon.com/tags"  # {"principal_tags": {key: [value]}, "transitive_tag_keys": [key]}
MAX_TAGS = 50
_TAG_EXTRA = set("_.:/=+-@")
TagPairs = tuple[tuple[str, str], ...]
_SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}")

log = logging.getLogger("vestibule.federation")

__all__ = ["VerifiedToken", "WebIdentityRequest", "WebIdentitySession", "assume_role_with_web_identity",
           "issue_for_role", "role_trusts", "trusted_roles", "verified_token"]


@dataclass(frozen=True)
class WebIdentityRequest:
    role_arn: str
    session_name: str
    token: str
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    duration: int | None = None
    provider_id: str | None = None  # OAuth 2.0 access tokens of Login with Amazon and Facebook: not served


@dataclass(frozen=True)
class WebIdentitySession:
    credentials: Issued
    assumed_role_id: str
    arn: str
    packed_policy_size: int
    subject: str
    provider: str  # the provider's ARN
    audience: str
    source_identity: str | None = None
    tags: TagPairs = ()


async def verified_token(deps: Deps, provider: OidcProviderView, token: str | oidc_tokens.ParsedToken, *,
                         nonce: str | None = None, client_ids: Sequence[str] | None = None) -> VerifiedToken:
    """`token` verified with `provider`'s keys and claims (its issuer, one of its client IDs, or of
    `client_ids`: the console sign-in's one client); the keys fetched again once when the token names a key ID
    the cached set lacks (the provider rotated its keys)."""
    parsed = oidc_tokens.parse(token) if isinstance(token, str) else token
    loopback = deps.settings.federation_insecure_loopback

    def check(keys: tuple[oidc_tokens.Jwk, ...]) -> VerifiedToken:
        return oidc_tokens.verify(parsed, keys, issuer=provider.issuer,
                                  client_ids=provider.client_ids if client_ids is None else client_ids,
                                  now=deps.clock(), nonce=nonce)

    try:
        return check(await deps.oidc_keys.keys(provider.issuer, now=deps.clock(), insecure_loopback=loopback))
    except oidc_tokens.UnknownKey:
        return check(await deps.oidc_keys.refreshed_keys(provider.issuer, now=deps.clock(),
                                                         insecure_loopback=loopback))


def web_identity_keys(provider: OidcProviderView, verified: VerifiedToken) -> dict[str, ContextValue]:
    """The provider's condition keys for this token: `<url>:aud`, `<url>:sub`, `<url>:amr`."""
    keys: dict[str, ContextValue] = {f"{provider.url}:aud": verified.audience, f"{provider.url}:sub": verified.subject}
    if verified.amr:
        keys[f"{provider.url}:amr"] = list(verified.amr)
    return keys


def trust_context(provider: OidcProviderView, verified: VerifiedToken, *, now: float, client: Client,
                  secure: bool, session_name: str | None = None, source_identity: str | None = None,
                  tags: TagPairs = (), transitive_keys: tuple[str, ...] = ()) -> dict[str, ContextValue]:
    """The request context a trust policy sees: the global keys of the request and the provider's keys (and
    the session tags the token asks for: aws:RequestTag/<key>, aws:TagKeys, sts:TransitiveTagKeys)."""
    extra: dict[str, ContextValue] = web_identity_keys(provider, verified)
    for key, value in tags:
        extra[f"aws:RequestTag/{key}"] = value
    if tags:
        extra["aws:TagKeys"] = [key for key, _ in tags]
    if transitive_keys:
        extra["sts:TransitiveTagKeys"] = list(transitive_keys)
    if session_name is not None:
        extra["sts:RoleSessionName"] = session_name
    if source_identity is not None:
        extra["sts:SourceIdentity"] = source_identity
    return dict(engine.request_context(now=datetime.fromtimestamp(now, UTC), source_ip=client.ip or None,
                                       secure_transport=secure, extra=extra))


def _trust(role: IamRole) -> engine.Policy | None:
    try:
        return engine.parse_policy(role.trust_policy, kind="trust")
    except engine.MalformedPolicy as exc:  # stored before a stricter parser: it allows no one
        log.warning("role %s: stored trust policy does not parse (%s); web identity refused", role.id, exc)
        return None


def role_trusts(role: IamRole, provider: OidcProviderView, context: Mapping[str, ContextValue],
                action: str = ACTION) -> bool:
    """Whether `role`'s trust policy allows `action` (AssumeRoleWithWebIdentity, or SetSourceIdentity along
    with it) for the provider, in `context` (trust_context)."""
    trust = _trust(role)
    return trust is not None and engine.evaluate_trust(trust, engine.TrustPrincipal.federated(provider.arn),
                                                       action=action, context=context).allowed


async def trusted_roles(uow: UnitOfWork, account_id: str, provider: OidcProviderView, verified: VerifiedToken, *,
                        now: float, client: Client, secure: bool) -> list[IamRole]:
    """The roles of `account_id` whose trust policy lets this token's identity assume them (console sign-in:
    the roles to choose from), by name."""
    context = trust_context(provider, verified, now=now, client=client, secure=secure)
    roles = [role for role in await uow.roles.list(account_id)
             if provider.arn in role.trust_policy and role_trusts(role, provider, context)]
    return sorted(roles, key=lambda role: role.name_lower)


async def issue_for_role(deps: Deps, uow: UnitOfWork, client: Client, role: IamRole, provider: OidcProviderView,
                         verified: VerifiedToken, session_name: str, duration: int | None, *,
                         session_policy: str | None = None, source_identity: str | None = None,
                         tags: TagPairs = (), transitive_keys: tuple[str, ...] = ()) -> tuple[Issued, str]:
    """Role credentials for a verified identity the role trusts (the caller checked it: role_trusts), for
    `duration` seconds (default an hour; InvalidValue over the role's maximum); (credentials, session ARN)."""
    seconds = duration or DEFAULT_DURATION
    if seconds > role.max_session_duration:
        raise InvalidValue(f"The requested DurationSeconds exceeds the MaxSessionDuration set for this role "
                           f"({role.max_session_duration} seconds).")
    arn = arns.assumed_role_arn(role.account_id, role.name, session_name)
    issued = await issue(deps, uow, account_id=role.account_id, kind="assumed-role",
                         source_principal_key=f"federated:{provider.id}", arn=arn,
                         user_id=f"{role.id}:{session_name}", duration=seconds, role_id=role.id,
                         session_name=session_name, session_policy=session_policy, source_identity=source_identity,
                         session_tags=tags, transitive_tag_keys=transitive_keys)
    role.last_used_at = deps.clock()
    return issued, arn


def _source_identity(verified: VerifiedToken) -> str | None:
    """The token's `https://aws.amazon.com/source_identity` claim, if any (AWS's claim for SourceIdentity)."""
    value = verified.claims.get(SOURCE_IDENTITY_CLAIM)
    if value is None:
        return None
    if not isinstance(value, str) or not _SOURCE_IDENTITY.fullmatch(value):
        raise FederationFailure(Cause.MALFORMED, f"The token's {SOURCE_IDENTITY_CLAIM} claim must be 2 to 64 "
                                "letters, digits or +=,.@_-.")
    return value


def _tag_text(value: object, low: int, high: int) -> bool:
    return isinstance(value, str) and low <= len(value) <= high and all(
        unicodedata.category(c)[0] in "LZN" or c in _TAG_EXTRA for c in value)


def _session_tags(verified: VerifiedToken) -> tuple[TagPairs, tuple[str, ...]]:
    """Session tags from the token's `https://aws.amazon.com/tags` claim (AWS's claim for them): each principal
    tag a key with a list of one value, and the transitive keys among them."""
    value = verified.claims.get(TAGS_CLAIM)
    if value is None:
        return (), ()
    bad = FederationFailure(Cause.MALFORMED, f"The token's {TAGS_CLAIM} claim must hold principal_tags (at most "
                            f"{MAX_TAGS} keys of 1-128 characters, each with a list of one value of at most 256) "
                            "and transitive_tag_keys naming some of them.")
    principal = value.get("principal_tags", {}) if isinstance(value, dict) else None
    transitive = value.get("transitive_tag_keys", []) if isinstance(value, dict) else None
    if not isinstance(principal, dict) or not isinstance(transitive, list) or len(principal) > MAX_TAGS:
        raise bad
    tags: list[tuple[str, str]] = []
    for key, values in principal.items():
        if not (_tag_text(key, 1, 128) and isinstance(values, list) and len(values) == 1
                and _tag_text(values[0], 0, 256)):
            raise bad
        tags.append((key, values[0]))
    lowered = {key.lower() for key, _ in tags}
    if len(lowered) != len(tags) or not all(isinstance(k, str) and k.lower() in lowered for k in transitive):
        raise bad
    return tuple(tags), tuple(str(k) for k in transitive)


def _provider_of(providers: list[OidcProviderView], issuer: str) -> OidcProviderView:
    for provider in providers:
        if provider.issuer == issuer:
            return provider
    raise FederationFailure(Cause.UNKNOWN_PROVIDER, f"No OpenIDConnect provider found in your account for "
                            f"{issuer[:256]}", admin={"iss": issuer[:256]})


def throttle_keys(client: Client) -> list[ThrottleKey]:
    """Refused tokens and refused roles, counted per client address (the call is unsigned: anyone may try)."""
    return [ThrottleKey(Scope.REQUESTS, f"web-identity:{client.ip}")]


async def _admitted(deps: Deps, client: Client) -> list[ThrottleKey]:
    """The address's budget of wrong attempts, checked before and counted only after a refusal (as the
    federation endpoint does): the many concurrent right calls of one cluster's address never wait for each
    other; past 60 refusals in an hour, one attempt a minute (Throttling) until the hour forgets them."""
    keys, now = throttle_keys(client), deps.clock()
    wait = rules.wait_without_captcha(keys, await deps.throttle.states(keys, now), now)
    metrics.record_throttle("token", "delayed" if wait > 0 else "allowed")
    if wait > 0:
        raise TooManyAttempts(wait)
    return keys


async def assume_role_with_web_identity(deps: Deps, client: Client, request: WebIdentityRequest, *,
                                        secure: bool = False) -> WebIdentitySession:
    """AssumeRoleWithWebIdentity: unsigned; the token authenticates the call. The role's account must have
    registered the token's issuer; until the token verifies, nothing about the role is disclosed. A refused
    token or role counts against the caller's address (TooManyAttempts past its budget); the provider being
    unreachable does not."""
    keys = await _admitted(deps, client)
    try:
        return await _assume_role_with_web_identity(deps, client, request, secure=secure)
    except FederationFailure as failure:
        if failure.cause is not Cause.IDP_ERROR:
            await deps.throttle.reserve(keys, deps.clock(), captcha_solved=False)
        raise
    except PermissionDenied:
        await deps.throttle.reserve(keys, deps.clock(), captcha_solved=False)
        raise


async def _assume_role_with_web_identity(deps: Deps, client: Client, request: WebIdentityRequest, *,
                                         secure: bool) -> WebIdentitySession:
    denied = PermissionDenied(f"Not authorized to perform {ACTION}")
    target = arns.parse_role_arn(request.role_arn)
    if target is None:
        raise InvalidValue(f"{request.role_arn} is invalid")
    if request.policy.document is not None:
        checked_document(request.policy.document)
    _check_packed(request.policy.document, ())
    account_id, role_name = target
    parsed = oidc_tokens.parse(request.token)
    async with deps.store.unit() as uow:
        provider = _provider_of(await oidc_providers_of(uow, account_id), parsed.issuer)
    verified = await verified_token(deps, provider, parsed)
    source_identity = _source_identity(verified)
    tags, transitive = _session_tags(verified)
    _check_packed(request.policy.document, tags)
    async with deps.store.unit() as uow:  # trust decided and credentials issued in one transaction
        role = await uow.roles.by_name(account_id, role_name)
        if role is None or arns.role_arn(role.account_id, role.name, role.path) != request.role_arn:
            raise denied
        account = await uow.accounts.get(account_id)
        context = trust_context(provider, verified, now=deps.clock(), client=client, secure=secure,
                                session_name=request.session_name, source_identity=source_identity, tags=tags,
                                transitive_keys=transitive)
        trusted = account is not None and account.status == "active" and role_trusts(role, provider, context) and (
            source_identity is None or role_trusts(role, provider, context, "sts:SetSourceIdentity")) and (
            not tags or role_trusts(role, provider, context, "sts:TagSession"))
        if trusted:
            session_policy = await _session_policy(uow, request.policy, account_id)
            issued, arn = await issue_for_role(deps, uow, client, role, provider, verified, request.session_name,
                                               request.duration, session_policy=session_policy,
                                               source_identity=source_identity, tags=tags, transitive_keys=transitive)
            await audit.record(uow, at=deps.clock(), event=EVENT, result="Success", client=client,
                               account_id=account_id, principal=provider.arn, method=METHOD, role=request.role_arn,
                               session=request.session_name, subject=verified.subject[:255],
                               audience=verified.audience, source_identity=source_identity,
                               session_tag_keys=",".join(key for key, _ in tags) or None)
    if not trusted:
        async with deps.store.unit() as uow:  # a verified identity was refused: the administrator sees who
            await audit.record(uow, at=deps.clock(), event=EVENT, result="Failure", client=client,
                               account_id=account_id, principal=provider.arn, method=METHOD, role=request.role_arn,
                               session=request.session_name, subject=verified.subject[:255],
                               audience=verified.audience, reason="the role's trust policy does not allow it")
        raise denied
    return WebIdentitySession(issued, f"{role.id}:{request.session_name}", arn, _packed_size(session_policy, tags),
                              verified.subject, provider.arn, verified.audience, source_identity, tags)
