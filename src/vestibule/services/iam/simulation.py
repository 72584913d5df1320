"""The IAM policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy and GetContextKeysFor*Policy.

Decisions come from the evaluator that decides real calls (`core.policy`), with its reasons from
`core.policy_explain`; a principal's policies and permissions boundary are read from where authorization
reads them (managed and inline policies of the user, its groups or the role; `permissions_boundary`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ...core import arns
from ...core import policy as engine
from ...core import policy_explain as explained
from ...core.policy_conditions import ContextValue
from ...errors import InvalidInput, NotFound, VestibuleError
from ...store.models import IamGroup, IamRole, IamUser
from ...store.repositories import UnitOfWork
from .. import authorization
from ..api_call import ApiCall
from .common import entity_arn, entity_at
from .simulation_inputs import (
    ContextEntry,
    Exclusion,
    Origin,
    check_actions,
    check_exclusions,
    check_resources,
    context_of,
    excluded,
    owner_account,
)

IDENTITY = "IAM Policy"  # SourcePolicyType and EvalDecisionDetails keys, as the API reference's samples show them
RESOURCE = "Resource Policy"
BOUNDARY = "Permissions Boundary Policy"

_ENTITY_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):(user|group|role)(/(?:[\u0021-\u007E]*/)?)([\w+=,.@-]+)",
                         re.ASCII)
_CALLER_ARN = re.compile(r"arn:aws:iam::[0-9]{12}:(?:user|group|role)/(?:[\u0021-\u007E]*/)?[\w+=,.@-]+", re.ASCII)


class PolicyNotEvaluable(VestibuleError):
    """A stored policy of the simulated principal does not parse (AWS: PolicyEvaluation, a 500)."""

    code = "policy.not_evaluable"


@dataclass(frozen=True)
class SourcedPolicy:
    """One document of the simulation and how answers name it (SourcePolicyId, SourcePolicyType)."""

    source_id: str
    source_type: str
    document: str
    policy: engine.Policy
    origin: Origin | None = None  # for a principal's stored policies: what PolicyExclusionList can name


@dataclass(frozen=True)
class MatchedStatement:
    source_id: str
    source_type: str
    span: explained.Span | None


@dataclass(frozen=True)
class ResourceResult:
    resource: str
    decision: engine.Outcome
    matched: tuple[MatchedStatement, ...]
    missing: tuple[str, ...]
    details: dict[str, str] | None  # EvalDecisionDetails; None: not reported
    allowed_by_boundary: bool | None  # None: no permissions boundary in the simulation
    allowed_by_organizations: bool = True  # service control policies (OrderedOrganizationPolicyInputList)


@dataclass(frozen=True)
class EvaluationResult:
    action: str
    resource: str
    decision: engine.Outcome
    matched: tuple[MatchedStatement, ...]
    missing: tuple[str, ...]
    details: dict[str, str] | None
    allowed_by_boundary: bool | None
    allowed_by_organizations: bool
    resource_results: tuple[ResourceResult, ...] | None  # only when ResourceArns were given


@dataclass(frozen=True)
class SimulationInputs:
    """What both Simulate operations take, as the wire read it."""

    actions: Sequence[str]
    resources: Sequence[str]  # empty: "*"
    policy_inputs: Sequence[str] = ()
    boundary_inputs: Sequence[str] = ()
    resource_policy: str | None = None
    resource_owner: str | None = None
    caller_arn: str | None = None
    context: Sequence[ContextEntry] = ()
    scenario: str | None = None
    exclusions: Sequence[Exclusion] = ()
    organization_levels: Sequence[Sequence[str]] = field(default_factory=tuple)


# ---- policies of the simulation ----------------------------------------------------------------------------


def _given(documents: Sequence[str], member: str, kind: engine.PolicyKind, source_type: str) -> list[SourcedPolicy]:
    out = []
    for number, document in enumerate(documents, start=1):
        try:
            policy = engine.parse_policy(document, kind=kind)
        except engine.MalformedPolicy as exc:
            raise InvalidInput(member, f"{member}.{number} is not a valid policy: {exc.message}") from None
        out.append(SourcedPolicy(f"{member}.{number}" if member != "ResourcePolicy" else member, source_type,
                                 document, policy))
    return out


def _stored(source_id: str, source_type: str, document: str, origin: Origin) -> SourcedPolicy:
    try:
        return SourcedPolicy(source_id, source_type, document, engine.parse_policy(document), origin)
    except engine.MalformedPolicy:
        raise PolicyNotEvaluable(f"The policy {source_id} could not be evaluated.") from None


async def _policies_of(uow: UnitOfWork, kind: str, entity_id: str, entity_name: str) -> list[SourcedPolicy]:
    """Managed policies (named by policy name) and inline ones (`<kind>_<entity>_<policy>`) of one entity."""
    out = []
    for arn in await uow.policies.attached_to(kind, entity_id):
        document = await authorization.managed_document(uow, arn)
        if document is not None:
            managed = "aws-managed" if arns.is_aws_managed(arn) else "user-managed"
            out.append(_stored(arn.rsplit("/", 1)[1], IDENTITY, document, Origin(managed, arn=arn)))
    for row in await uow.policies.inline_of(kind, entity_id):
        out.append(_stored(f"{kind}_{entity_name}_{row.name}", IDENTITY, row.document,
                           Origin("inline", name=row.name, attachment=(kind, entity_name))))
    return out


async def stored_boundary(uow: UnitOfWork, boundary_arn: str | None) -> SourcedPolicy | None:
    """The permissions boundary of a user or role, from the same column and documents authorization reads.
    A boundary naming a policy that is gone allows nothing, as in authorization."""
    if boundary_arn is None:
        return None
    document = await authorization.managed_document(uow, boundary_arn)
    return _stored(boundary_arn.rsplit("/", 1)[1], BOUNDARY, document or authorization.NO_ACCESS,
                   Origin("permission-boundary", arn=boundary_arn))


@dataclass(frozen=True)
class _Principal:
    arn: str
    kind: str  # user | group | role
    identity: list[SourcedPolicy]
    boundary: SourcedPolicy | None


def _entity_arn(arn: str, member: str = "PolicySourceArn") -> re.Match[str]:
    match = _ENTITY_ARN.fullmatch(arn)
    if match is None:
        raise InvalidInput(member, f"Invalid Entity Arn: {arn}")
    return match


async def _principal(call: ApiCall, uow: UnitOfWork, arn: str) -> _Principal:
    """The user, group or role `arn` names, after authorizing the call on its stored ARN (names match without
    regard to case, so a Deny on `user/Admin` holds for `user/admin` too), or on `arn` as given when there is
    none; NoSuchEntity unless one exists at exactly that path."""
    match = _entity_arn(arn)
    account_id, kind, path, name = match.groups()
    entity = await entity_at(uow, account_id, kind, path, name) if account_id == call.account_id else None
    await call.authorize(uow, entity_arn(kind, entity) if entity is not None else arn)
    if isinstance(entity, IamUser):
        identity = await _policies_of(uow, "user", entity.id, entity.name)
        for member_of in await uow.groups.of_user(entity.id):
            identity += await _policies_of(uow, "group", member_of.id, member_of.name)
        return _Principal(entity_arn(kind, entity), kind, identity,
                          await stored_boundary(uow, entity.permissions_boundary))
    if isinstance(entity, IamGroup):
        return _Principal(entity_arn(kind, entity), kind,
                          await _policies_of(uow, "group", entity.id, entity.name), None)
    if isinstance(entity, IamRole):
        return _Principal(entity_arn(kind, entity), kind, await _policies_of(uow, "role", entity.id, entity.name),
                          await stored_boundary(uow, entity.permissions_boundary))
    raise NotFound(f"The {kind} with name {name} cannot be found.")


# ---- deciding one action on one resource ------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Everything one simulation decides with, read and checked."""

    identity: list[SourcedPolicy]
    boundary: SourcedPolicy | None
    resource_policy: SourcedPolicy | None
    organizations: list[list[SourcedPolicy]]
    caller_arn: str  # '' when the simulation names no caller
    caller_account: str
    resource_owner: str | None
    context: Mapping[str, ContextValue]


def _spans(policy: SourcedPolicy) -> tuple[explained.Span, ...]:
    return explained.statement_spans(policy.document)


def _matched(sources: Sequence[SourcedPolicy], found: explained.Explanation) -> list[MatchedStatement]:
    out = []
    for match in found.statements:
        source = sources[match.policy_index]
        spans = _spans(source)
        span = spans[match.statement.index] if match.statement.index < len(spans) else None
        out.append(MatchedStatement(source.source_id, source.source_type, span))
    return out


def _names_caller_directly(found: explained.Explanation, caller_arn: str) -> bool:
    """An Allow of a resource-based policy that names the caller's own ARN (or everyone) grants by itself;
    one that names only the caller's account leaves the decision to the caller's identity policies."""
    return any(("AWS", caller_arn) in m.statement.principals or ("*", "*") in m.statement.principals
               or ("AWS", "*") in m.statement.principals for m in found.statements)


def decide_request(setup: Setup, action: str, resource: str, listed: bool = False) -> ResourceResult:
    """One action on one resource, as AWS combines the policy types: an explicit Deny anywhere wins; the identity
    policies must allow, and the permissions boundary too when there is one; a resource-based policy must allow
    as well across accounts, and alone grants within the account when it names the caller's own ARN; every
    level of service control policies must allow. `listed`: the resource was given in ResourceArns."""
    request = engine.AuthzRequest(principal_arn=setup.caller_arn, action=action, resource=resource,
                                  context=setup.context)
    identity = explained.explain([p.policy for p in setup.identity], request)
    boundary = explained.explain([setup.boundary.policy], request) if setup.boundary else None
    levels = [explained.explain([p.policy for p in level], request) for level in setup.organizations]
    on_resource = None
    if setup.resource_policy is not None:
        principal = engine.TrustPrincipal.aws(setup.caller_arn)
        on_resource = explained.explain_resource(setup.resource_policy.policy, principal, request,
                                                 bounded=setup.boundary is not None)
    owner = arns.account_of(resource) or setup.resource_owner or setup.caller_account
    cross_account = resource != "*" and owner != setup.caller_account
    parts: list[tuple[Sequence[SourcedPolicy], explained.Explanation]] = [(setup.identity, identity)]
    if boundary is not None and setup.boundary is not None:
        parts.append(([setup.boundary], boundary))
    if on_resource is not None and setup.resource_policy is not None:
        parts.append(([setup.resource_policy], on_resource))
    parts += list(zip(setup.organizations, levels, strict=True))
    missing = tuple(dict.fromkeys(key for _, found in parts for key in found.missing_keys))
    denies = [m for sources, found in parts if found.outcome is engine.Outcome.EXPLICIT_DENY
              for m in _matched(sources, found)]
    within_identity = identity.allowed and (boundary is None or boundary.allowed)
    by_organizations = all(level.allowed for level in levels)
    if on_resource is None:
        allowed = within_identity
    elif cross_account:
        allowed = within_identity and on_resource.allowed
    else:
        allowed = within_identity or (on_resource.allowed and _names_caller_directly(on_resource, setup.caller_arn))
    if denies:
        decision, matched = engine.Outcome.EXPLICIT_DENY, denies
    elif allowed and by_organizations:
        decision = engine.Outcome.ALLOW
        matched = _matched(setup.identity, identity) if identity.allowed else []
        if on_resource is not None and on_resource.allowed and setup.resource_policy is not None:
            matched += _matched([setup.resource_policy], on_resource)
    else:
        decision, matched = engine.Outcome.IMPLICIT_DENY, []
    details: dict[str, str] | None = None
    if listed:  # AWS: reported for a resource ARN, with the decision of each policy type across accounts only
        details = {}
        if cross_account:
            details[IDENTITY] = identity.outcome.value
            if on_resource is not None:
                details[RESOURCE] = on_resource.outcome.value
            if boundary is not None:
                details[BOUNDARY] = boundary.outcome.value
    return ResourceResult(resource, decision, tuple(matched), missing, details,
                          None if boundary is None else boundary.allowed, by_organizations)


def _simulate(setup: Setup, inputs: SimulationInputs) -> list[EvaluationResult]:
    listed = bool(inputs.resources)
    results = []
    for action in inputs.actions:
        for resource in inputs.resources or ["*"]:
            one = decide_request(setup, action, resource, listed)
            results.append(EvaluationResult(
                action, resource, one.decision, one.matched, () if listed else one.missing, one.details,
                one.allowed_by_boundary, one.allowed_by_organizations, (one,) if listed else None))
    return results


def _prepare(inputs: SimulationInputs) -> tuple[list[SourcedPolicy], list[SourcedPolicy],
                                                 SourcedPolicy | None, list[list[SourcedPolicy]]]:
    check_actions(inputs.actions)
    check_resources(inputs.resources, inputs.scenario)
    if len(inputs.boundary_inputs) > 1:
        raise InvalidInput("PermissionsBoundaryPolicyInputList",
                           "You can input only one permissions boundary for a simulation.")
    if inputs.caller_arn is not None and _CALLER_ARN.fullmatch(inputs.caller_arn) is None:
        raise InvalidInput("CallerArn", f"Invalid caller ARN: {inputs.caller_arn}. It must be the ARN of an IAM "
                                        "user, group or role.")
    given = _given(inputs.policy_inputs, "PolicyInputList", "identity", IDENTITY)
    boundaries = _given(inputs.boundary_inputs, "PermissionsBoundaryPolicyInputList", "identity", BOUNDARY)
    resource = None
    if inputs.resource_policy is not None:
        resource = _given([inputs.resource_policy], "ResourcePolicy", "resource", RESOURCE)[0]
    levels = [_given(level, f"OrderedOrganizationPolicyInputList.{n}.ServiceControlPolicyInputList", "identity",
                     "Service Control Policy") for n, level in enumerate(inputs.organization_levels, start=1)]
    return given, boundaries, resource, levels


def _setup(identity: list[SourcedPolicy], boundary: SourcedPolicy | None, resource: SourcedPolicy | None,
           levels: list[list[SourcedPolicy]], caller_arn: str, caller_account: str,
           inputs: SimulationInputs) -> Setup:
    return Setup(identity, boundary, resource, levels, caller_arn, caller_account,
                  owner_account(inputs.resource_owner), context_of(inputs.context))


async def simulate_custom(call: ApiCall, inputs: SimulationInputs) -> list[EvaluationResult]:
    given, boundaries, resource, levels = _prepare(inputs)
    if resource is not None and inputs.caller_arn is None:
        raise InvalidInput("CallerArn", "CallerArn is required when a ResourcePolicy is given: its Principal "
                                        "element needs a caller to match.")
    async with call.unit() as uow:
        await call.authorize(uow, "*")  # a simulation changes nothing: not audited, like Get and List calls
    caller = inputs.caller_arn or ""
    account = arns.account_of(caller) or call.account_id
    setup = _setup(given, boundaries[0] if boundaries else None, resource, levels, caller, account, inputs)
    return _simulate(setup, inputs)


async def simulate_principal(call: ApiCall, source_arn: str, inputs: SimulationInputs) -> list[EvaluationResult]:
    given, boundaries, resource, levels = _prepare(inputs)
    check_exclusions(inputs.exclusions)
    async with call.unit() as uow:
        principal = await _principal(call, uow, source_arn)  # authorized there; not audited (changes nothing)
    if resource is not None:
        if principal.kind == "role":
            raise InvalidInput("ResourcePolicy", "Simulation of resource-based policies isn't supported for IAM "
                                                 "roles.")
        if principal.kind == "group" and inputs.caller_arn is None:
            raise InvalidInput("CallerArn", "CallerArn is required when a ResourcePolicy is given and "
                                            "PolicySourceArn is not a user.")
    caller = inputs.caller_arn or principal.arn
    kept = [p for p in principal.identity if not excluded(p.origin, inputs.exclusions)]
    stored = principal.boundary
    if stored is not None and excluded(stored.origin, inputs.exclusions):
        stored = None
    boundary = boundaries[0] if boundaries else stored
    setup = _setup(kept + given, boundary, resource, levels, caller, arns.account_of(caller), inputs)
    return _simulate(setup, inputs)


# ---- context keys --------------------------------------------------------------------------------------------


async def context_keys_custom(call: ApiCall, documents: Sequence[str]) -> tuple[str, ...]:
    given = _given(documents, "PolicyInputList", "identity", IDENTITY)
    async with call.unit() as uow:
        await call.authorize(uow, "*")
    return explained.context_keys([p.policy for p in given])


async def context_keys_principal(call: ApiCall, source_arn: str, documents: Sequence[str]) -> tuple[str, ...]:
    given = _given(documents, "PolicyInputList", "identity", IDENTITY)
    async with call.unit() as uow:
        principal = await _principal(call, uow, source_arn)
    return explained.context_keys([p.policy for p in principal.identity + given])
