"""Deciding IAM API calls: the caller's identity policies, its permissions boundary and its session policy,
evaluated by the pure policy core; the request context they are evaluated in."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ..core import arns, session_policies
from ..core import policy as engine
from ..core.policy_conditions import ContextValue
from ..store.repositories import UnitOfWork
from .aws_identity import Caller

Context = dict[str, ContextValue]


@dataclass(frozen=True)
class BuiltinPolicy:
    """A built-in (AWS managed) policy as the IAM API describes it."""

    name: str
    arn: str
    path: str
    policy_id: str
    description: str
    document: str


def _builtin(name: str, managed: engine.ManagedPolicy) -> BuiltinPolicy:
    path = managed.arn.split(":policy", 1)[1].rsplit("/", 1)[0] + "/"
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:17]
    return BuiltinPolicy(name, managed.arn, path, "ANPA" + digest, f"Built-in policy {name}", managed.document)


BUILTIN_POLICIES: dict[str, BuiltinPolicy] = {
    m.arn: _builtin(name, m) for name, m in engine.AWS_MANAGED_POLICIES.items()
}


ROOT_POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
# What a boundary naming a policy that is gone allows: nothing (DeletePolicy refuses while a policy is a boundary,
# so this only covers a policy deleted in a race).
NO_ACCESS = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "*", "Resource": "*"}]}'


@dataclass(frozen=True)
class Permissions:
    """The policies that decide a caller's requests, apart from its session policy."""

    identity: list[str]  # identity-based documents: managed and inline, of the principal and its groups
    boundary: str | None = None  # the permissions boundary's document; None: the principal has no boundary

    def documents(self, session_policy: str | None) -> list[str]:
        """Every document a decision reads, the session policy included."""
        extra = [d for d in (self.boundary, session_policy) if d is not None]
        return [*self.identity, *extra]


async def documents_for(uow: UnitOfWork, caller: Caller) -> Permissions:
    """The identity-based policies and the permissions boundary that apply to the caller (not the session
    policy). A role session has its role's boundary; GetSessionToken and GetFederationToken sessions of an
    IAM user have the user's."""
    docs: list[str] = []
    boundary_arn: str | None = None
    if caller.role_id is not None:
        targets = [("role", caller.role_id)]
        role = await uow.roles.get(caller.role_id)
        boundary_arn = role.permissions_boundary if role is not None else None
    elif caller.principal_key.startswith("user:"):
        user_id = caller.principal_key.split(":", 1)[1]
        targets = [("user", user_id)] + [("group", g.id) for g in await uow.groups.of_user(user_id)]
        user = await uow.users.get(user_id)
        boundary_arn = user.permissions_boundary if user is not None else None
    elif caller.principal_key.startswith("root:"):
        # Sessions of the root user (a federated user from the root's keys): the root may do everything,
        # so only the session policy limits them.
        return Permissions([ROOT_POLICY])
    else:
        return Permissions(docs)
    for kind, target_id in targets:
        for arn in await uow.policies.attached_to(kind, target_id):
            document = await managed_document(uow, arn)
            if document is not None:
                docs.append(document)
        docs.extend(row.document for row in await uow.policies.inline_of(kind, target_id))
    boundary = None
    if boundary_arn is not None:
        boundary = await managed_document(uow, boundary_arn) or NO_ACCESS
    return Permissions(docs, boundary)


async def managed_document(uow: UnitOfWork, arn: str) -> str | None:
    builtin = BUILTIN_POLICIES.get(arn)
    if builtin is not None:
        return builtin.document
    row = await uow.policies.get(arn)
    return row.document if row is not None else None


_PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                    "federated-user": "FederatedUser"}


def request_context(caller: Caller, *, source_ip: str, secure: bool, now: float, mfa_present: bool | None = None,
                    external_id: str | None = None) -> Context:
    """The condition keys of one request by `caller`, built by the pure core. `mfa_present` overrides what
    the credentials say (AssumeRole with a code given in the call)."""
    if mfa_present is None and caller.temporary:
        mfa_present = caller.mfa_authenticated
    mfa_age = None
    if caller.temporary and caller.mfa_authenticated and caller.mfa_authenticated_at is not None:
        mfa_age = int(now - caller.mfa_authenticated_at)
    built = engine.request_context(
        now=datetime.fromtimestamp(now, UTC), source_ip=source_ip, secure_transport=secure,
        mfa_present=mfa_present, mfa_age_seconds=mfa_age,
        username=caller.user_name if caller.kind == "user" else None, userid=caller.user_id,
        principal_arn=arns.role_of_session(caller.arn) if caller.kind == "assumed-role" else caller.arn,
        external_id=external_id, extra={"aws:PrincipalType": _PRINCIPAL_TYPES[caller.kind]})
    context = dict(built)
    if caller.source_identity is not None:
        context["aws:SourceIdentity"] = caller.source_identity
    return context


# ---- tags in the request context: loaded only when a policy that decides mentions them -------------

TagSubject = tuple[str, str]  # (kind, id) as the tags table keys an entity: ("user", id), ("role", id), ...
PRINCIPAL_TAG = "aws:PrincipalTag/"
RESOURCE_TAG = "aws:ResourceTag/"
IAM_RESOURCE_TAG = "iam:ResourceTag/"  # IAM's own key for the tags of the user or role a call is about
_FAMILIES = (PRINCIPAL_TAG, RESOURCE_TAG, IAM_RESOURCE_TAG)


@functools.lru_cache(maxsize=1024)  # documents are at most a few kilobytes; the hot ones stay cached
def _mentioned(document: str) -> frozenset[str]:
    lowered = document.lower()
    return frozenset(family for family in _FAMILIES if family.lower() in lowered)


def mentions(documents: Iterable[str], family: str) -> bool:
    """Whether any of `documents` names a key of `family` (as a condition key or a policy variable)."""
    return any(family in _mentioned(document) for document in documents)


def principal_tag_subject(caller: Caller) -> TagSubject | None:
    """Whose stored tags are aws:PrincipalTag: the IAM user (also in its GetSessionToken sessions and the
    federated users of its GetFederationToken sessions), or the role of a role session. The root user has none.
    A session's own tags (`Caller.session_tags`) take precedence over these: see `principal_tags`."""
    if caller.kind in ("user", "federated-user") and caller.principal_key.startswith("user:"):
        return ("user", caller.principal.id)
    if caller.kind == "assumed-role" and caller.role_id is not None:
        return ("role", caller.role_id)
    return None


async def principal_tags(uow: UnitOfWork, caller: Caller) -> list[tuple[str, str]]:
    """The caller's principal tags: its user's or role's stored tags, and its session tags, which override a
    stored tag of the same key (keys compared without case, as AWS does; the session tag's spelling is kept)."""
    merged: dict[str, tuple[str, str]] = {}
    subject = principal_tag_subject(caller)
    if subject is not None:
        merged.update((tag.key.lower(), (tag.key, tag.value)) for tag in await uow.tags.of(*subject))
    merged.update((key.lower(), (key, value)) for key, value in caller.session_tags)
    return list(merged.values())


async def tag_keys(uow: UnitOfWork, subject: TagSubject, families: Iterable[str]) -> Context:
    """`<family><key>`: value for each tag of `subject`, in each family."""
    tags = await uow.tags.of(*subject)
    return {f"{family}{tag.key}": tag.value for tag in tags for family in families}


PolicyType = Literal["identity-based", "permissions boundary", "session"]


@dataclass(frozen=True)
class Verdict:
    """A decision and, when it denies, the kind of policy that denied (AWS names it in AccessDenied)."""

    allowed: bool
    explicit: bool = False
    policy_type: PolicyType = "identity-based"

    def message(self, principal_arn: str, action: str, resource: str) -> str:
        """AWS's AccessDenied message for this denial ("... with an explicit deny in a permissions boundary",
        "... because no session policy allows the <action> action")."""
        head = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
        article, noun = _POLICY_NOUNS[self.policy_type]
        if self.explicit:
            return f"{head} with an explicit deny in {article} {noun}"
        return f"{head} because no {noun} allows the {action} action"


_POLICY_NOUNS: dict[PolicyType, tuple[str, str]] = {
    "identity-based": ("an", "identity-based policy"),
    "permissions boundary": ("a", "permissions boundary"),
    "session": ("a", "session policy"),
}


def verdict(permissions: Permissions, session_policy: str | None, caller: Caller, action: str, resource: str,
            context: Context) -> Verdict:
    """As AWS evaluates them: an explicit Deny in any policy wins; otherwise the identity policies must allow,
    and so must the permissions boundary and the session policy when there is one (a boundary or session
    policy only ever narrows). An implicit denial is blamed on the first of identity, boundary, session that
    does not allow."""
    request = engine.AuthzRequest(principal_arn=caller.arn, action=action, resource=resource, context=context)
    parsed = [engine.parse_policy(d) for d in permissions.identity]
    result = engine.evaluate(parsed, request)
    if result.explicit:
        return Verdict(False, True)
    blame: PolicyType | None = None if result.allowed else "identity-based"
    if permissions.boundary is not None:
        bounded = engine.evaluate([engine.parse_policy(permissions.boundary)], request)
        if bounded.explicit:
            return Verdict(False, True, "permissions boundary")
        if not bounded.allowed and blame is None:
            blame = "permissions boundary"
    base, scoped = session_policies.split(session_policy)  # scoped: GetScopedCredentials' layers, each must allow
    for document in ([base] if base is not None or caller.kind == "federated-user" else []) + list(scoped):
        second = engine.evaluate([engine.parse_policy(document)] if document else [], request)
        if second.explicit:
            return Verdict(False, True, "session")
        if not second.allowed and blame is None:
            blame = "session"
    return Verdict(True) if blame is None else Verdict(False, False, blame)


def decide(permissions: Permissions, session_policy: str | None, caller: Caller, action: str, resource: str,
           context: Context) -> tuple[bool, bool]:
    """(allowed, explicitly denied): `verdict` without the blame."""
    found = verdict(permissions, session_policy, caller, action, resource, context)
    return found.allowed, found.explicit
