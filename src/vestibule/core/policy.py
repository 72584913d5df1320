"""IAM policy documents: parsing, evaluation of identity, role trust and resource-based policies, AWS managed
policies.

Explicit Deny beats Allow, Allow beats the implicit deny. Whether one statement applies to a request is decided
in one place (`statement_applies`), for real authorization and for the simulator (`policy_explain`) alike.
Condition operators, wildcards and policy variables live in `policy_conditions`."""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal, NamedTuple

from vestibule.core.policy_conditions import (
    Condition,
    Context,
    ContextValue,
    InvalidCondition,
    conditions_hold,
    glob_match,
    normalize_context,
    parse_conditions,
)

__all__ = [
    "AWS_MANAGED_POLICIES",
    "GROUP_INLINE_POLICIES_MAX_SIZE",
    "MANAGED_POLICY_MAX_SIZE",
    "ROLE_INLINE_POLICIES_MAX_SIZE",
    "TRUST_POLICY_MAX_SIZE",
    "USER_INLINE_POLICIES_MAX_SIZE",
    "VERSION_2008",
    "VERSION_2012",
    "AuthzRequest",
    "Condition",
    "ContextValue",
    "Decision",
    "Effect",
    "MalformedPolicy",
    "ManagedPolicy",
    "Outcome",
    "Policy",
    "PolicyKind",
    "PolicyTooLarge",
    "PrincipalType",
    "Statement",
    "Target",
    "TrustPrincipal",
    "access_denied_message",
    "action_matches",
    "aws_managed_policy",
    "check_policy_size",
    "evaluate",
    "evaluate_trust",
    "parse_policy",
    "policy_size",
    "principal_keys",
    "request_context",
    "statement_applies",
    "statement_in_scope",
]

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"  # also what an absent Version means: no policy variables

MANAGED_POLICY_MAX_SIZE = 6144
USER_INLINE_POLICIES_MAX_SIZE = 2048  # all of a user's inline policies together
GROUP_INLINE_POLICIES_MAX_SIZE = 5120
ROLE_INLINE_POLICIES_MAX_SIZE = 10240
TRUST_POLICY_MAX_SIZE = 2048

PolicyKind = Literal["identity", "trust", "resource"]
PrincipalType = Literal["AWS", "Service", "Federated", "CanonicalUser"]

_SYNTAX = "Syntax errors in policy."
_TOP_LEVEL_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"]
)
_SID = re.compile(r"[A-Za-z0-9]*")
_ACTION = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9_*?-]+")
_PRINCIPAL_TYPES: frozenset[str] = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_AWS_PRINCIPAL_ARN = re.compile(
    r"arn:aws[a-z-]*:(?:iam::[0-9]{12}:(?:root|user/.+|role/.+)"
    r"|sts::[0-9]{12}:(?:assumed-role/.+/.+|federated-user/.+))",
    re.DOTALL,
)
_IAM_USER_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:user/(?:.*/)?([^/]+)", re.DOTALL)


class MalformedPolicy(ValueError):
    """The document is not a valid policy; the wire layer answers MalformedPolicyDocument."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PolicyTooLarge(ValueError):
    """Over a size quota; the wire layer answers LimitExceeded."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Cannot exceed quota for PolicySize: {limit}")
        self.size = size
        self.limit = limit


def policy_size(document: str) -> int:
    """Size as IAM counts it against quotas: whitespace does not count."""
    return sum(1 for char in document if not char.isspace())


def check_policy_size(document: str, limit: int) -> None:
    """For an aggregate quota (inline policies of one entity), pass the documents concatenated."""
    size = policy_size(document)
    if size > limit:
        raise PolicyTooLarge(size, limit)


# --- the parsed form ------------------------------------------------------------------------------


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Statement:
    index: int  # position in the document, from 0
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] = ()  # identity and resource-based policies
    not_resource: bool = False
    principals: tuple[tuple[str, str], ...] = ()  # trust and resource-based: (type, value); ("*", "*") for "*"
    not_principal: bool = False
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Policy:
    kind: PolicyKind
    version: str
    id: str | None
    statements: tuple[Statement, ...]

    @property
    def substitutes_variables(self) -> bool:
        return self.version == VERSION_2012


# --- parsing --------------------------------------------------------------------------------------


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedPolicy(_SYNTAX)  # duplicate keys: the last would silently win
        result[key] = value
    return result


def _reject_constant(name: str) -> object:
    raise MalformedPolicy(_SYNTAX)  # NaN, Infinity


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise MalformedPolicy(_SYNTAX)


def _exactly_one(raw: Mapping[str, object], name: str, missing: str) -> tuple[tuple[str, ...], bool]:
    negated = f"Not{name}"
    if name in raw and negated in raw:
        raise MalformedPolicy(f"A statement can have only one of {name} and {negated}.")
    if name not in raw and negated not in raw:
        raise MalformedPolicy(missing)
    return _strings(raw[name] if name in raw else raw[negated]), negated in raw


def _check_action(action: str) -> None:
    if action != "*" and not _ACTION.fullmatch(action):
        if ":" not in action:
            raise MalformedPolicy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
        raise MalformedPolicy(f"Action {action} is not in the form service:ActionName.")


def _check_resource(resource: str) -> None:
    if resource != "*" and not resource.startswith("arn:"):
        raise MalformedPolicy(f'Resource {resource} must be in ARN format or "*".')


def _principals(value: object) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy(_SYNTAX)
    entries: list[tuple[str, str]] = []
    for kind, raw in value.items():
        for item in _strings(raw):
            if kind not in _PRINCIPAL_TYPES or not _valid_principal(kind, item):
                raise MalformedPolicy(f'Invalid principal in policy: "{kind}":"{item}"')
            entries.append((kind, item))
    return tuple(entries)


def _valid_principal(kind: str, value: str) -> bool:
    if value == "*":
        return kind == "AWS"
    if not value or any(char.isspace() or char in "*?" for char in value):
        return False
    if kind == "AWS":
        return bool(_ACCOUNT_ID.fullmatch(value) or _AWS_PRINCIPAL_ARN.fullmatch(value))
    return True


def _statement(index: int, raw: object, kind: PolicyKind) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicy(_SYNTAX)
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise MalformedPolicy(f"{_SYNTAX} Unknown field {min(unknown)}.")
    sid = raw.get("Sid")
    if sid is not None and not (isinstance(sid, str) and _SID.fullmatch(sid)):
        raise MalformedPolicy("Statement IDs (SID) must be alpha-numeric.")
    if "Effect" not in raw:
        raise MalformedPolicy("Missing required field Effect")
    if raw["Effect"] not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Invalid effect: {raw['Effect']}")
    actions, not_action = _exactly_one(raw, "Action", "Policy statement must contain actions.")
    for action in actions:
        _check_action(action)
    resources: tuple[str, ...] = ()
    not_resource = False
    principals: tuple[tuple[str, str], ...] = ()
    not_principal = False
    if kind == "identity":
        if "Principal" in raw or "NotPrincipal" in raw:
            raise MalformedPolicy("Policy document should not specify a principal.")
        resources, not_resource = _exactly_one(raw, "Resource", "Policy statement must contain resources.")
        for resource in resources:
            _check_resource(resource)
    else:
        if kind == "trust":
            for prohibited in ("Resource", "NotResource"):
                if prohibited in raw:
                    raise MalformedPolicy(f"Has prohibited field {prohibited}")
        if "Principal" in raw and "NotPrincipal" in raw:
            raise MalformedPolicy("A statement can have only one of Principal and NotPrincipal.")
        if "Principal" not in raw and "NotPrincipal" not in raw:
            raise MalformedPolicy("Missing required field Principal")
        not_principal = "NotPrincipal" in raw
        # AWS: NotPrincipal is not allowed in a role trust policy, and elsewhere only with "Effect": "Deny"
        if not_principal and kind == "trust":
            raise MalformedPolicy("NotPrincipal is not supported in a role trust policy.")
        if not_principal and raw["Effect"] != "Deny":
            raise MalformedPolicy("NotPrincipal must be used with \"Effect\": \"Deny\".")
        principals = _principals(raw["NotPrincipal" if not_principal else "Principal"])
        if kind == "resource":
            resources, not_resource = _exactly_one(raw, "Resource", "Policy statement must contain resources.")
            for resource in resources:
                _check_resource(resource)
    try:
        conditions = parse_conditions(raw["Condition"]) if "Condition" in raw else ()
    except InvalidCondition as error:
        raise MalformedPolicy(str(error)) from None
    return Statement(
        index=index,
        sid=sid or None,
        effect=Effect(raw["Effect"]),
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principals=principals,
        not_principal=not_principal,
        conditions=conditions,
    )


def parse_policy(document: str, kind: PolicyKind = "identity") -> Policy:
    """Parse and validate a policy document; raises MalformedPolicy. Results are cached (immutable)."""
    if kind not in ("identity", "trust", "resource"):
        raise ValueError(f"unknown policy kind: {kind}")
    return _parse_cached(document, kind)


@functools.lru_cache(maxsize=2048)
def _parse_cached(document: str, kind: PolicyKind) -> Policy:
    try:
        data = json.loads(document, object_pairs_hook=_object, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # ValueError: bad JSON, or an integer over Python's 4,300 digits
        raise MalformedPolicy(_SYNTAX) from None
    if not isinstance(data, dict):
        raise MalformedPolicy(_SYNTAX)
    unknown = set(data) - _TOP_LEVEL_KEYS
    if unknown:
        raise MalformedPolicy(f"{_SYNTAX} Unknown field {min(unknown)}.")
    version = data.get("Version", VERSION_2008)
    if version not in (VERSION_2012, VERSION_2008):
        raise MalformedPolicy("The policy failed legacy parsing")
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise MalformedPolicy(_SYNTAX)
    if "Statement" not in data:
        raise MalformedPolicy("Missing required field Statement")
    raw_statements = data["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise MalformedPolicy(_SYNTAX)
    statements = tuple(_statement(index, raw, kind) for index, raw in enumerate(raw_statements))
    sids = [statement.sid for statement in statements if statement.sid]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique.")
    return Policy(kind=kind, version=str(version), id=policy_id, statements=statements)


# --- evaluation -----------------------------------------------------------------------------------


class Outcome(enum.Enum):
    """Values are SimulatePrincipalPolicy's EvalDecision strings."""

    EXPLICIT_DENY = "explicitDeny"
    ALLOW = "allowed"
    IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    policy_index: int | None = None  # position in the sequence given to evaluate()
    statement: Statement | None = None  # the statement that decided; None for an implicit deny

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def explicit(self) -> bool:
        return self.outcome is Outcome.EXPLICIT_DENY


@dataclass(frozen=True)
class AuthzRequest:
    principal_arn: str
    action: str  # "iam:CreateUser"
    resource: str  # an ARN, or "*" for actions without a resource type
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def _account_of(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and _ACCOUNT_ID.fullmatch(parts[4]) else None


def principal_keys(context: Mapping[str, ContextValue], principal_arn: str) -> dict[str, tuple[str, ...]]:
    """The request context with lower-cased keys, plus aws:PrincipalArn, aws:PrincipalAccount and, for IAM
    users, aws:username, unless given."""
    keys = normalize_context(context)
    if not principal_arn:  # a simulation with no caller named
        return keys
    keys.setdefault("aws:principalarn", (principal_arn,))
    account = _account_of(principal_arn)
    if account is not None:
        keys.setdefault("aws:principalaccount", (account,))
    user = _IAM_USER_ARN.fullmatch(principal_arn)
    if user is not None:
        keys.setdefault("aws:username", (user.group(1),))
    return keys


def action_matches(statement: Statement, action: str) -> bool:
    """The Action (or NotAction) element covers `action` (case-insensitively)."""
    matched = any(glob_match(pattern, action, ignore_case=True) for pattern in statement.actions)
    return matched != statement.not_action


def _resource_matches(statement: Statement, resource: str, variables: Context | None) -> bool:
    matched = any(glob_match(pattern, resource, variables, arn=True) for pattern in statement.resources)
    return matched != statement.not_resource


# --- trust and resource-based policies: who the statement names ---------------------------------


@dataclass(frozen=True)
class TrustPrincipal:
    """Who asks: an AWS principal (by ARN), a service, or a federated provider. Named so for its first use,
    who may assume a role; resource-based policies name principals the same way."""

    type: PrincipalType
    identifier: str  # principal ARN, service name ("ec2.amazonaws.com") or provider ARN/name
    role_arn: str | None = None  # for a role session (sts assumed-role ARN): the role's IAM ARN

    @classmethod
    def aws(cls, arn: str, *, role_arn: str | None = None) -> TrustPrincipal:
        return cls("AWS", arn, role_arn)

    @classmethod
    def service(cls, name: str) -> TrustPrincipal:
        return cls("Service", name)

    @classmethod
    def federated(cls, provider: str) -> TrustPrincipal:
        return cls("Federated", provider)

    @property
    def account_id(self) -> str | None:
        return _account_of(self.identifier) if self.type == "AWS" else None


def _account_reference(value: str) -> str | None:
    """A bare account ID or an account's :root ARN both mean every principal of that account."""
    if _ACCOUNT_ID.fullmatch(value):
        return value
    if value.endswith(":root") and value.split(":")[2:4] == ["iam", ""]:
        return _account_of(value)
    return None


def _principal_listed(statement: Statement, principal: TrustPrincipal) -> bool:
    """A Principal element names the caller: its account (every principal of it), its ARN, the role of its
    session, or a wildcard."""
    for kind, value in statement.principals:
        if kind == "*" or (kind == principal.type and value == "*"):
            return True
        if kind != principal.type:
            continue
        if kind == "AWS":
            account = _account_reference(value)
            if account is not None:
                if account == principal.account_id:
                    return True
            elif value in (principal.identifier, principal.role_arn):
                return True
        elif kind == "Service":
            if value.lower() == principal.identifier.lower():
                return True
        elif value == principal.identifier:
            return True
    return False


def _excepted(statement: Statement, principal: TrustPrincipal) -> bool:
    """Whether a NotPrincipal element excepts the caller. AWS checks each identity the request carries, the
    account first, then the role and the session (or the user): every one of them must be listed, so
    naming a user without its account excepts no one (AWS: "you must also specify the account ARN")."""
    entries = statement.principals
    if ("*", "*") in entries or (principal.type, "*") in entries:
        return True
    if principal.type != "AWS":
        return _principal_listed(statement, principal)
    listed = {value for kind, value in entries if kind == "AWS"}
    accounts = {_account_reference(value) for value in listed} - {None}
    account = principal.account_id
    if account is None or account not in accounts:
        return False
    identities = [arn for arn in (principal.role_arn, principal.identifier)
                  if arn is not None and _account_reference(arn) is None]
    return all(arn in listed for arn in identities)


def _principal_applies(statement: Statement, principal: TrustPrincipal, bounded: bool) -> bool:
    if not statement.not_principal:
        return _principal_listed(statement, principal)
    # AWS: a NotPrincipal Deny always denies an IAM principal that has a permissions boundary
    if bounded and principal.type == "AWS":
        return True
    return not _excepted(statement, principal)


# --- whether one statement applies: the one test every evaluation makes ------------------------


@dataclass(frozen=True)
class Target:
    """What a statement is tested against: the action, the resource (None for a role trust policy, which
    has no Resource element) and who asks (None for identity-based policies, which name no principal).
    `bounded`: the principal has a permissions boundary (it changes what NotPrincipal means)."""

    action: str
    resource: str | None = None
    principal: TrustPrincipal | None = None
    bounded: bool = False


def statement_in_scope(statement: Statement, policy: Policy, target: Target, context: Context) -> bool:
    """Action, resource and principal match (conditions aside). `context` as `principal_keys` gives it."""
    if not action_matches(statement, target.action):
        return False
    if policy.kind != "trust":
        if target.resource is None:
            raise ValueError(f"a {policy.kind} policy needs the request's resource")
        variables = context if policy.substitutes_variables else None
        if not _resource_matches(statement, target.resource, variables):
            return False
    if policy.kind != "identity":
        if target.principal is None:
            raise ValueError(f"a {policy.kind} policy needs the requesting principal")
        if not _principal_applies(statement, target.principal, target.bounded):
            return False
    return True


def statement_applies(statement: Statement, policy: Policy, target: Target, context: Context) -> bool:
    """The statement's Effect takes part in the decision: in scope, and its conditions hold."""
    return statement_in_scope(statement, policy, target, context) and conditions_hold(
        statement.conditions, context, policy.substitutes_variables)


def _decide(policies: Sequence[Policy], target: Target, context: Context, *, positions: bool) -> Decision:
    allow: Decision | None = None
    for position, policy in enumerate(policies):
        for statement in policy.statements:
            if allow is not None and statement.effect is Effect.ALLOW:
                continue  # already allowed: only a Deny can change the answer
            if statement_applies(statement, policy, target, context):
                if statement.effect is Effect.DENY:
                    return Decision(Outcome.EXPLICIT_DENY, position if positions else 0, statement)
                allow = Decision(Outcome.ALLOW, position if positions else 0, statement)
    return allow or Decision(Outcome.IMPLICIT_DENY)


def evaluate(policies: Sequence[Policy], request: AuthzRequest) -> Decision:
    """Identity-based policies (managed, inline, group) of one principal, for one action on one resource."""
    for policy in policies:
        if policy.kind != "identity":
            raise ValueError("evaluate() takes identity policies; use evaluate_trust() for trust policies")
    context = principal_keys(request.context, request.principal_arn)
    return _decide(policies, Target(request.action, request.resource), context, positions=True)


def evaluate_trust(
    policy: Policy,
    principal: TrustPrincipal,
    action: str = "sts:AssumeRole",
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    """A role's trust policy, for one principal asking to assume it."""
    if policy.kind != "trust":
        raise ValueError("evaluate_trust() takes a trust policy")
    keys = normalize_context(context or {})
    if principal.type == "AWS":
        keys = principal_keys(keys, principal.role_arn or principal.identifier)
    return _decide([policy], Target(action, principal=principal), keys, positions=False)


# --- request context and messages -----------------------------------------------------------------


def _flag(value: bool) -> str:
    return "true" if value else "false"


def request_context(
    *,
    now: datetime,
    source_ip: str | None = None,
    secure_transport: bool | None = None,
    mfa_present: bool | None = None,
    mfa_age_seconds: int | None = None,
    username: str | None = None,
    userid: str | None = None,
    principal_arn: str | None = None,
    external_id: str | None = None,
    extra: Mapping[str, ContextValue] | None = None,
) -> dict[str, ContextValue]:
    """The global condition keys of one request; None leaves a key out, as AWS does
    (aws:MultiFactorAuthPresent is absent for long-term access keys)."""
    moment = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    context: dict[str, ContextValue] = {
        "aws:CurrentTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(moment.timestamp())),
    }
    optional: dict[str, str | None] = {
        "aws:SourceIp": source_ip,
        "aws:SecureTransport": None if secure_transport is None else _flag(secure_transport),
        "aws:MultiFactorAuthPresent": None if mfa_present is None else _flag(mfa_present),
        "aws:MultiFactorAuthAge": None if mfa_age_seconds is None else str(mfa_age_seconds),
        "aws:username": username,
        "aws:userid": userid,
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": None if principal_arn is None else _account_of(principal_arn),
        "sts:ExternalId": external_id,
    }
    context.update({key: value for key, value in optional.items() if value is not None})
    context.update(extra or {})
    return context


def access_denied_message(
    principal_arn: str,
    action: str,
    resource: str,
    explicit: bool,
    *,
    policy_type: Literal["identity-based", "resource-based"] = "identity-based",
) -> str:
    """The AccessDenied message AWS gives, naming the principal, the action and the resource."""
    article = "an" if policy_type == "identity-based" else "a"
    head = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    if explicit:
        return f"{head} with an explicit deny in {article} {policy_type} policy"
    return f"{head} because no {policy_type} policy allows the {action} action"


# --- AWS managed policies (default versions, as data) ---------------------------------------------


class ManagedPolicy(NamedTuple):
    arn: str
    document: str


def _managed(name: str, *statements: dict[str, object], path: str = "/") -> ManagedPolicy:
    document = json.dumps({"Version": VERSION_2012, "Statement": list(statements)}, indent=4)
    return ManagedPolicy(f"arn:aws:iam::aws:policy{path}{name}", document)


def _allow(actions: str, resource: str = "*", *, not_action: bool = False) -> dict[str, object]:
    """`actions` separated by whitespace."""
    return {"Effect": "Allow", "NotAction" if not_action else "Action": actions.split(), "Resource": resource}


_IAM_READ = """iam:GenerateCredentialReport iam:GenerateServiceLastAccessedDetails iam:Get* iam:List*
    iam:SimulateCustomPolicy iam:SimulatePrincipalPolicy"""
_ORGANIZATIONS_READ = """organizations:DescribeAccount organizations:DescribeOrganization
    organizations:DescribeOrganizationalUnit organizations:DescribePolicy organizations:ListChildren
    organizations:ListParents organizations:ListPolicies organizations:ListPoliciesForTarget
    organizations:ListRoots organizations:ListTargetsForPolicy"""
_SECURITY_AUDIT = """access-analyzer:Get* access-analyzer:List* account:GetAlternateContact cloudtrail:Describe*
    cloudtrail:Get* cloudtrail:List* config:Describe* config:Get* ec2:Describe* kms:Describe* kms:List*
    organizations:Describe* organizations:List* s3:GetBucketPolicy s3:GetEncryptionConfiguration
    s3:ListAllMyBuckets sts:GetCallerIdentity"""
_POWER_USER_EXTRA = """account:GetAccountInformation account:ListRegions iam:CreateServiceLinkedRole
    iam:DeleteServiceLinkedRole iam:ListRoles organizations:DescribeOrganization"""

AWS_MANAGED_POLICIES: Mapping[str, ManagedPolicy] = MappingProxyType(
    {
        "AdministratorAccess": _managed("AdministratorAccess", _allow("*")),
        "IAMFullAccess": _managed("IAMFullAccess", _allow(f"iam:* {_ORGANIZATIONS_READ}")),
        "IAMReadOnlyAccess": _managed("IAMReadOnlyAccess", _allow(_IAM_READ)),
        "IAMUserChangePassword": _managed(
            "IAMUserChangePassword",
            _allow("iam:ChangePassword", "arn:aws:iam::*:user/${aws:username}"),
            _allow("iam:GetAccountPasswordPolicy"),
        ),
        "ReadOnlyAccess": _managed("ReadOnlyAccess", _allow(f"*:BatchGet* *:Describe* *:Get* *:List* {_IAM_READ}")),
        "ViewOnlyAccess": _managed(
            "ViewOnlyAccess",
            _allow("*:Describe* *:List* iam:GetAccountSummary iam:GetLoginProfile"),
            path="/job-function/",
        ),
        "PowerUserAccess": _managed(
            "PowerUserAccess", _allow("iam:* organizations:* account:*", not_action=True), _allow(_POWER_USER_EXTRA)
        ),
        "SecurityAudit": _managed("SecurityAudit", _allow(f"{_IAM_READ} {_SECURITY_AUDIT}")),
    }
)


def aws_managed_policy(arn: str) -> tuple[str, ManagedPolicy] | None:
    """(name, policy) for an AWS managed policy ARN, or None."""
    for name, policy in AWS_MANAGED_POLICIES.items():
        if policy.arn == arn:
            return name, policy
    return None
