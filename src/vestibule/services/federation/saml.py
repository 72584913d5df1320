"""SAML 2.0 federation: a SAML response from an identity provider registered in IAM becomes role credentials
(AssumeRoleWithSAML) or a console session (web/federation's `POST /saml` through console_saml).

`accept_response` verifies the response once (core/saml: signature by the provider's metadata certificate,
audience and recipient `<public URL>/saml`, times) and records its assertion as used; `saml_role_session` then
evaluates the role's trust policy for `sts:AssumeRoleWithSAML` with `Federated: <provider ARN>` and AWS's SAML
condition keys (`SAML:aud`, `SAML:iss`, `SAML:sub`, `SAML:sub_type`, `SAML:namequalifier`, `SAML:doc`) and issues
the credentials. The attribute names are the ones identity providers already send for AWS federation."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ...core import arns, saml
from ...core import policy as engine
from ...core import throttle as rules
from ...core.federation_failures import Cause, FederationFailure
from ...core.policy_conditions import ContextValue
from ...core.throttle import Scope, ThrottleKey
from ...errors import InvalidValue, PermissionDenied, TooManyAttempts
from ...store.models import IamRole
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, metrics
from ..context import Client, Deps
from ..iam.documents import checked_document
from ..iam.identity_providers import SamlProviderView, saml_provider
from ..sts import SessionPolicy, _check_packed, _packed_size, _session_policy
from ..temporary_credentials import Issued, issue

ACTION = "sts:AssumeRoleWithSAML"
EVENT = "AssumeRoleWithSAML"
METHOD = "saml"
ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/"
ROLE_ATTRIBUTE = ATTRIBUTE + "Role"
SESSION_NAME_ATTRIBUTE = ATTRIBUTE + "RoleSessionName"
SESSION_DURATION_ATTRIBUTE = ATTRIBUTE + "SessionDuration"
SOURCE_IDENTITY_ATTRIBUTE = ATTRIBUTE + "SourceIdentity"
PRINCIPAL_TAG_ATTRIBUTE = ATTRIBUTE + "PrincipalTag:"
DEFAULT_DURATION = 3600
MIN_DURATION, MAX_DURATION = 900, 43200
SKEW = 300.0
MAX_PROVIDERS = 10  # distinct providers one Role attribute may name (each is tried once)
NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}")
_TAG_KEY = re.compile(r"[\w\s+=.:/@-]{1,128}")

log = logging.getLogger("vestibule.federation")

__all__ = ["Accepted", "SamlRequest", "SamlSession", "accept_response", "assume_role_with_saml", "count_failure",
           "failure_keys", "failure_wait", "record_use", "saml_context", "saml_role_session", "sp_url",
           "subject_type"]


def sp_url(deps: Deps) -> str:
    """The service provider's entity ID and assertion consumer URL, `<public URL>/saml` (the `SAML:aud` value)."""
    return f"{deps.settings.public_origin}/saml"


def failure_keys(client: Client) -> list[ThrottleKey]:
    """Refused SAML responses, counted per client address over every door that takes one unauthenticated (the
    console's `POST /saml` and its hand-over, AssumeRoleWithSAML, a portal's assertion consumer): each refusal
    stores a row (a failure reference, an audit event, possibly under the account the response merely names) and
    costs signature checks, so past the budget an address is answered "wait" and nothing is stored."""
    return [ThrottleKey(Scope.REQUESTS, f"saml-failures:{client.ip}")]


async def failure_wait(deps: Deps, client: Client) -> int:
    """Seconds this address must wait before a SAML response of it is looked at (0: go ahead). Checked before
    the work, counted only when it fails: an office's many right sign-ins never wait for each other."""
    keys = failure_keys(client)
    wait = rules.wait_without_captcha(keys, await deps.throttle.states(keys, deps.clock()), deps.clock())
    metrics.record_throttle("code", "delayed" if wait > 0 else "allowed")
    return wait


async def count_failure(deps: Deps, client: Client) -> int:
    """Count one refused response of this address: 0 when it was within the budget (record it), else the
    seconds to wait (over the budget: not counted, and the caller records nothing)."""
    refused = await deps.throttle.reserve(failure_keys(client), deps.clock(), captcha_solved=False)
    return 0 if refused is None else max(1, refused.retry_after)


@dataclass(frozen=True)
class Accepted:
    """A verified response: its assertion, the provider whose certificate signed it, the (role ARN, provider ARN)
    pairs of its Role attribute whose provider verified it, the session name and the SessionDuration attribute."""

    assertion: saml.Assertion
    provider: SamlProviderView
    roles: tuple[tuple[str, str], ...]
    session_name: str
    duration: int | None


@dataclass(frozen=True)
class SamlRequest:
    role_arn: str
    principal_arn: str
    saml_assertion: str  # base64, as the SAMLResponse form field
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    duration: int | None = None


@dataclass(frozen=True)
class SamlSession:
    credentials: Issued
    assumed_role_id: str
    arn: str
    packed_policy_size: int
    subject: str
    subject_type: str
    issuer: str
    audience: str
    name_qualifier: str
    source_identity: str | None = None


def _role_pairs(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """`role-ARN,provider-ARN` (either order, spaces around the comma allowed), each pair once."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 2:
            raise FederationFailure(Cause.MALFORMED, "a Role attribute value is not 'role ARN,provider ARN'",
                                    admin={"value": value[:300]})
        first, second = parts
        role, provider = (first, second) if ":role/" in first else (second, first)
        if ":role/" not in role or ":saml-provider/" not in provider:
            raise FederationFailure(Cause.MALFORMED, "a Role attribute value is not 'role ARN,provider ARN'",
                                    admin={"value": value[:300]})
        if (role, provider) not in pairs:
            pairs.append((role, provider))
    return pairs


def _session_name(assertion: saml.Assertion) -> str:
    values = assertion.attributes.get(SESSION_NAME_ATTRIBUTE, ())
    if len(values) != 1 or not _SESSION_NAME.fullmatch(values[0]):
        raise FederationFailure(Cause.MALFORMED, "the RoleSessionName attribute must be one value of 2 to 64 "
                                "letters, digits or +=,.@_-", admin={"values": ", ".join(values)[:300]})
    return values[0]


def _session_duration(assertion: saml.Assertion) -> int | None:
    values = assertion.attributes.get(SESSION_DURATION_ATTRIBUTE, ())
    if not values:
        return None
    if len(values) != 1 or not values[0].isdigit() or not MIN_DURATION <= int(values[0]) <= MAX_DURATION:
        raise FederationFailure(Cause.MALFORMED, f"the SessionDuration attribute must be {MIN_DURATION} to "
                                f"{MAX_DURATION} seconds", admin={"values": ", ".join(values)[:100]})
    return int(values[0])


def _use_key(assertion: saml.Assertion) -> str:
    return hashlib.sha256(f"{assertion.issuer}\x00{assertion.id}".encode()).hexdigest()


async def _candidates(uow: UnitOfWork, hints: saml.Hints, provider_arn: str | None) -> list[SamlProviderView]:
    """The providers that may have signed the response: the one named (AssumeRoleWithSAML's PrincipalArn), or
    those the Role attribute names whose metadata's entity ID is the response's (unverified) issuer."""
    if provider_arn is not None:
        provider = await saml_provider(uow, provider_arn)
        if provider is None:
            raise FederationFailure(Cause.UNKNOWN_PROVIDER, "the SAML provider does not exist",
                                    admin={"provider_arn": provider_arn[:2048]})
        return [provider]
    found: list[SamlProviderView] = []
    for arn in hints.provider_arns[:MAX_PROVIDERS]:
        provider = await saml_provider(uow, arn)
        if provider is not None and provider.metadata.entity_id == hints.issuer:
            found.append(provider)
    if not found:
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "no registered SAML provider matches the response",
                                admin={"issuer": (hints.issuer or "")[:500],
                                       "provider_arns": ", ".join(hints.provider_arns)[:1000]})
    return found


async def accept_response(deps: Deps, uow: UnitOfWork, saml_b64: str, *, audience: str, recipient: str,
                          provider_arn: str | None, name_id_format: str | None = None) -> Accepted:
    """Verify a base64 SAML response and record its assertion as used (REPLAYED when it was, on any node).
    `provider_arn`: AssumeRoleWithSAML's PrincipalArn; None (console): the providers the Role attribute names
    whose entity ID is the issuer. Only role pairs whose provider's certificate verified the response are kept.
    Raises FederationFailure."""
    xml = saml.decode_response(saml_b64)
    candidates = await _candidates(uow, saml.hints(xml), provider_arn)
    now = deps.clock()
    verified: list[tuple[SamlProviderView, saml.Assertion]] = []
    first_failure: FederationFailure | None = None
    for provider in candidates:
        try:
            assertion = saml.verify_response(xml, certificates=provider.metadata.signing_certificates,
                                             audience=audience, recipient=recipient, now=now, skew=SKEW,
                                             name_id_format=name_id_format)
        except FederationFailure as failure:
            if failure.cause is Cause.CERTIFICATE_MISMATCH:
                failure.user.setdefault("provider", provider.name)
                failure.admin.setdefault("provider_arn", provider.arn)
            first_failure = first_failure or failure
            continue
        if assertion.issuer != provider.metadata.entity_id:
            first_failure = first_failure or FederationFailure(
                Cause.UNKNOWN_PROVIDER, "the assertion's issuer is not the provider's entity ID",
                admin={"issuer": assertion.issuer[:500], "provider_arn": provider.arn})
            continue
        verified.append((provider, assertion))
    if not verified:
        assert first_failure is not None
        raise first_failure
    provider, assertion = verified[0]
    trusted = {p.arn for p, _ in verified}
    pairs = _role_pairs(assertion.attributes.get(ROLE_ATTRIBUTE, ()))
    roles = tuple((role, arn) for role, arn in pairs if arn in trusted)
    session_name = _session_name(assertion)
    duration = _session_duration(assertion)
    await record_use(uow, assertion)
    return Accepted(assertion, provider, roles, session_name, duration)


async def record_use(uow: UnitOfWork, assertion: saml.Assertion) -> None:
    """Record a verified assertion as used until it expires (its NotOnOrAfter plus the skew); REPLAYED when it was
    used before, on any node. The Identity Center SAML source uses it too."""
    try:
        await uow.saml_assertion_uses.add(_use_key(assertion), assertion.not_on_or_after + SKEW)
    except Conflict:
        raise FederationFailure(Cause.REPLAYED, "this SAML assertion was already used",
                                admin={"assertion_id": assertion.id[:200], "issuer": assertion.issuer[:500]}) \
            from None


def subject_type(name_id_format: str | None) -> str:
    """AWS's SubjectType and `SAML:sub_type`: the format without the SAML 2.0 NameID prefix (`persistent`,
    `transient`), any other format as it is."""
    value = name_id_format or "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    return value[len(NAMEID_PREFIX):] if value.startswith(NAMEID_PREFIX) else value


def name_qualifier(issuer: str, provider: SamlProviderView) -> str:
    """`SAML:namequalifier`: base64(SHA-1(issuer + account ID + "/" + provider name)), as AWS defines it."""
    digest = hashlib.sha1(f"{issuer}{provider.account_id}/{provider.name}".encode(), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode()


def _source_identity(assertion: saml.Assertion) -> str | None:
    values = assertion.attributes.get(SOURCE_IDENTITY_ATTRIBUTE, ())
    if not values:
        return None
    if len(values) != 1 or not _SOURCE_IDENTITY.fullmatch(values[0]):
        raise FederationFailure(Cause.MALFORMED, "the SourceIdentity attribute must be one value of 2 to 64 "
                                "letters, digits or +=,.@_-")
    return values[0]


def _principal_tags(assertion: saml.Assertion) -> tuple[tuple[str, str], ...]:
    tags: list[tuple[str, str]] = []
    for name, values in assertion.attributes.items():
        if not name.startswith(PRINCIPAL_TAG_ATTRIBUTE):
            continue
        key = name[len(PRINCIPAL_TAG_ATTRIBUTE):]
        if not _TAG_KEY.fullmatch(key) or len(values) != 1 or len(values[0]) > 256:
            raise FederationFailure(Cause.MALFORMED, "a PrincipalTag attribute is not one tag key and value",
                                    admin={"attribute": name[:300]})
        tags.append((key, values[0]))
    if len({key.lower() for key, _ in tags}) != len(tags) or len(tags) > 50:
        raise FederationFailure(Cause.MALFORMED, "the PrincipalTag attributes repeat a key or exceed 50 tags")
    return tuple(tags)


def saml_context(accepted: Accepted, provider: SamlProviderView, *, audience: str, now: float, client: Client,
                 secure: bool, session_name: str | None = None,
                 source_identity: str | None = None) -> dict[str, ContextValue]:
    """The request context a trust policy sees: the request's global keys and AWS's SAML keys."""
    assertion = accepted.assertion
    extra: dict[str, ContextValue] = {
        "SAML:aud": audience, "SAML:iss": assertion.issuer, "SAML:sub": assertion.name_id,
        "SAML:sub_type": subject_type(assertion.name_id_format),
        "SAML:namequalifier": name_qualifier(assertion.issuer, provider),
        "SAML:doc": f"{provider.account_id}/{provider.name}",
    }
    if session_name is not None:
        extra["sts:RoleSessionName"] = session_name
    if source_identity is not None:
        extra["sts:SourceIdentity"] = source_identity
    return dict(engine.request_context(now=datetime.fromtimestamp(now, UTC), source_ip=client.ip or None,
                                       secure_transport=secure, extra=extra))


def _trusts(role: IamRole, provider: SamlProviderView, context: Mapping[str, ContextValue], action: str) -> bool:
    try:
        trust = engine.parse_policy(role.trust_policy, kind="trust")
    except engine.MalformedPolicy as exc:  # stored before a stricter parser: it allows no one
        log.warning("role %s: stored trust policy does not parse (%s); SAML refused", role.id, exc)
        return False
    return engine.evaluate_trust(trust, engine.TrustPrincipal.federated(provider.arn), action=action,
                                 context=context).allowed


def _duration(accepted: Accepted, role: IamRole, requested: int | None, now: float) -> int:
    """`requested` (AssumeRoleWithSAML: DurationSeconds or an hour; the console: None, the SessionDuration
    attribute or an hour), no longer than the role's maximum session duration and SessionNotOnOrAfter."""
    seconds = requested if requested is not None else (accepted.duration or DEFAULT_DURATION)
    seconds = min(seconds, role.max_session_duration)
    until = accepted.assertion.session_not_on_or_after
    if until is not None:
        seconds = min(seconds, int(until - now))
    if seconds < 1:
        raise FederationFailure(Cause.EXPIRED, "the identity provider's session (SessionNotOnOrAfter) has ended")
    return seconds


async def saml_role_session(deps: Deps, uow: UnitOfWork, client: Client, accepted: Accepted, role_arn: str, *,
                            duration: int | None = None, session_policy: str | None = None,
                            secure: bool = False) -> tuple[Issued, IamRole, str]:
    """Credentials of `role_arn` (one of `accepted.roles`) when its trust policy allows the provider for this
    assertion: (credentials, role, assumed-role ARN). `duration`: DurationSeconds (None: the SessionDuration
    attribute or an hour); always capped by the role's maximum and SessionNotOnOrAfter. FederationFailure
    NO_TRUSTED_ROLE when the role is not offered, missing or does not trust the provider."""
    offered = dict(accepted.roles)
    provider_arn = offered.get(role_arn)
    provider = accepted.provider if provider_arn == accepted.provider.arn else (
        await saml_provider(uow, provider_arn) if provider_arn is not None else None)

    def untrusted(reason: str) -> FederationFailure:
        return FederationFailure(Cause.NO_TRUSTED_ROLE, reason,
                                 user={"provider": accepted.provider.name},
                                 admin={"role_arn": role_arn[:2048], "provider_arn": provider_arn or "",
                                        "issuer": accepted.assertion.issuer[:500]})

    target = arns.parse_role_arn(role_arn)
    if provider is None or target is None:
        raise untrusted("the role is not in the assertion's Role attribute")
    account_id, role_name = target
    role = await uow.roles.by_name(account_id, role_name)
    if role is None or arns.role_arn(role.account_id, role.name, role.path) != role_arn \
            or provider.account_id != account_id:
        raise untrusted("the role does not exist in the provider's account")
    account = await uow.accounts.get(account_id)
    source_identity = _source_identity(accepted.assertion)
    tags = _principal_tags(accepted.assertion)
    now = deps.clock()
    context = saml_context(accepted, provider, audience=sp_url(deps), now=now, client=client, secure=secure,
                           session_name=accepted.session_name, source_identity=source_identity)
    needed = [ACTION] + (["sts:SetSourceIdentity"] if source_identity else []) + (
        ["sts:TagSession"] if tags else [])
    if account is None or account.status != "active" or not all(
            _trusts(role, provider, context, action) for action in needed):
        raise untrusted("the role's trust policy does not allow this provider and assertion")
    _check_packed(None, tags)  # the inline session policy was checked by the caller (AssumeRoleWithSAML)
    seconds = _duration(accepted, role, duration, now)
    arn = arns.assumed_role_arn(account_id, role.name, accepted.session_name)
    issued = await issue(deps, uow, account_id=account_id, kind="assumed-role",
                         source_principal_key=f"federated:{provider.id}", arn=arn,
                         user_id=f"{role.id}:{accepted.session_name}", duration=seconds, role_id=role.id,
                         session_name=accepted.session_name, session_policy=session_policy,
                         source_identity=source_identity, session_tags=tags)
    role.last_used_at = now
    detail: dict[str, str] = {"session_tag_keys": ",".join(key for key, _ in tags)} if tags else {}
    await audit.record(uow, at=now, event=EVENT, result="Success", client=client, account_id=account_id,
                       principal=provider.arn, method=METHOD, role=role_arn, session=accepted.session_name,
                       subject=accepted.assertion.name_id[:255], issuer=accepted.assertion.issuer[:500],
                       assertion_id=accepted.assertion.id[:200], source_identity=source_identity, mfa_used=False,
                       **detail)
    return issued, role, arn


async def assume_role_with_saml(deps: Deps, client: Client, request: SamlRequest, *,
                                secure: bool = False) -> SamlSession:
    """AssumeRoleWithSAML: unsigned; the SAML response authenticates the call. Until it verifies, nothing about
    the role is disclosed. The Role attribute must name the (RoleArn, PrincipalArn) pair."""
    target = arns.parse_role_arn(request.role_arn)
    if target is None:
        raise InvalidValue(f"{request.role_arn} is invalid")
    if request.policy.document is not None:
        checked_document(request.policy.document)
    _check_packed(request.policy.document, ())
    if request.duration is not None and not MIN_DURATION <= request.duration <= MAX_DURATION:
        raise InvalidValue(f"1 validation error detected: Value '{request.duration}' at 'durationSeconds' failed "
                           f"to satisfy constraint: Member must have value between {MIN_DURATION} and "
                           f"{MAX_DURATION}")
    account_id, _ = target
    audience = sp_url(deps)
    wait = await failure_wait(deps, client)
    if wait > 0:
        raise TooManyAttempts(wait)
    try:
        async with deps.store.unit() as uow:
            accepted = await accept_response(deps, uow, request.saml_assertion, audience=audience,
                                             recipient=audience, provider_arn=request.principal_arn)
    except FederationFailure:
        await count_failure(deps, client)
        raise
    denied = PermissionDenied(f"Not authorized to perform {ACTION}")
    try:
        async with deps.store.unit() as uow:
            if (request.role_arn, request.principal_arn) not in accepted.roles:
                raise FederationFailure(Cause.NO_TRUSTED_ROLE, "the Role attribute does not name this role and "
                                        "provider", admin={"role_arn": request.role_arn[:2048]})
            role = await uow.roles.by_name(account_id, target[1])
            if role is not None and request.duration is not None and request.duration > role.max_session_duration:
                raise InvalidValue(f"The requested DurationSeconds exceeds the MaxSessionDuration set for this role "
                                   f"({role.max_session_duration} seconds).")
            session_policy = await _session_policy(uow, request.policy, account_id)
            issued, role, arn = await saml_role_session(deps, uow, client, accepted, request.role_arn,
                                                        duration=request.duration or DEFAULT_DURATION,
                                                        session_policy=session_policy,
                                                        secure=secure)
    except FederationFailure as failure:
        if await count_failure(deps, client) or failure.cause is not Cause.NO_TRUSTED_ROLE:
            raise
        async with deps.store.unit() as uow:  # a verified identity was refused: the administrator sees who
            await audit.record(uow, at=deps.clock(), event=EVENT, result="Failure", client=client,
                               account_id=account_id, principal=accepted.provider.arn, method=METHOD,
                               role=request.role_arn, session=accepted.session_name,
                               subject=accepted.assertion.name_id[:255], reason=str(failure))
        raise denied from None
    assertion = accepted.assertion
    return SamlSession(issued, f"{role.id}:{accepted.session_name}", arn, _packed_size(session_policy),
                       assertion.name_id, subject_type(assertion.name_id_format), assertion.issuer, audience,
                       name_qualifier(assertion.issuer, accepted.provider), _source_identity(assertion))
