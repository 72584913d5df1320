"""Deciding IAM API calls: the caller's identity policies, evaluated by the pure policy core."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core import arns
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


async def documents_for(uow: UnitOfWork, caller: Caller) -> list[str]:
    """Identity-based policy documents that apply to the caller (not the session policy)."""
    docs: list[str] = []
    if caller.role_id is not None:
        targets = [("role", caller.role_id)]
    elif caller.principal_key.startswith("user:"):
        user_id = caller.principal_key.split(":", 1)[1]
        targets = [("user", user_id)] + [("group", g.id) for g in await uow.groups.of_user(user_id)]
    elif caller.principal_key.startswith("root:"):
        # Sessions of the root user (a federated user from the root's keys): the root may do everything,
        # so only the session policy limits them.
        return [ROOT_POLICY]
    else:
        return docs
    for kind, target_id in targets:
        for arn in await uow.policies.attached_to(kind, target_id):
            document = await managed_document(uow, arn)
            if document is not None:
                docs.append(document)
        docs.extend(row.document for row in await uow.policies.inline_of(kind, target_id))
    return docs


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
    return dict(built)


def decide(documents: list[str], session_policy: str | None, caller: Caller, action: str, resource: str,
           context: Context) -> tuple[bool, bool]:
    """(allowed, explicitly denied)."""
    request = engine.AuthzRequest(principal_arn=caller.arn, action=action, resource=resource, context=context)
    parsed = [engine.parse_policy(d) for d in documents]
    result = engine.evaluate(parsed, request)
    if result.explicit:
        return False, True
    allowed = result.allowed
    if session_policy is not None or caller.kind == "federated-user":
        session = [engine.parse_policy(session_policy)] if session_policy else []
        second = engine.evaluate(session, request)
        if second.explicit:
            return False, True
        allowed = allowed and second.allowed
    return allowed, False
