"""One AWS API call as the use cases see it: who calls, from where, the IAM action that authorizes it and the
audit event it records. The wire endpoint builds it from the operation's row; the use case decides *what*
resource is at stake and calls `authorize` once it knows it, and `record` when the change is made, both in
the use case's own transaction. The endpoint then checks that both happened."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from ..core import arns
from ..core.policy_conditions import ContextValue
from ..errors import PermissionDenied
from ..store.models import IamRole, IamUser
from ..store.repositories import UnitOfWork
from . import audit, authorization, authorization_messages
from .aws_identity import Caller
from .context import Client, Deps

AuditValue = str | int | bool | None
TagPairs = Sequence[tuple[str, str]]

# The actions whose request context holds iam:PermissionsBoundary (the IAM service authorization reference):
# the boundary asked for (CreateUser, CreateRole, Put...PermissionsBoundary) or the one the user or role has.
BOUNDARY_KEY_ACTIONS = frozenset(f"iam:{name}" for name in (
    "CreateUser", "CreateRole", "PutUserPermissionsBoundary", "PutRolePermissionsBoundary",
    "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary", "AttachUserPolicy", "AttachRolePolicy",
    "DetachUserPolicy", "DetachRolePolicy", "PutUserPolicy", "PutRolePolicy", "DeleteUserPolicy",
    "DeleteRolePolicy"))


@dataclass(frozen=True)
class Target:
    """The entity a call is about, as its request context sees it: its tags are aws:ResourceTag/<key> (and, for
    users and roles, iam:ResourceTag/<key>), and a user's or role's permissions boundary is
    iam:PermissionsBoundary for the actions of BOUNDARY_KEY_ACTIONS."""

    tag_kind: str  # as the tags table keys it: user, role, policy, instance-profile, ...
    entity_id: str
    permissions_boundary: str | None = None

    @classmethod
    def user(cls, user: IamUser) -> Target:
        return cls("user", user.id, user.permissions_boundary)

    @classmethod
    def role(cls, role: IamRole) -> Target:
        return cls("role", role.id, role.permissions_boundary)


@dataclass
class ApiCall:
    deps: Deps
    caller: Caller
    service: str
    action: str | None
    event: str | None
    source_ip: str = ""
    secure: bool = False
    user_agent: str = ""
    region: str = ""  # the region the request was signed for
    request_tags: TagPairs | None = None  # the request's Tags (Create..., Tag...): aws:RequestTag/<key>
    tag_keys: Sequence[str] | None = None  # aws:TagKeys: the keys of `request_tags`, or Untag...'s TagKeys
    authorized: bool = field(default=False, init=False)
    recorded: bool = field(default=False, init=False)

    @property
    def account_id(self) -> str:
        return self.caller.account_id

    @property
    def client(self) -> Client:
        return Client(ip=self.source_ip, user_agent=self.user_agent)

    @property
    def method(self) -> str:
        """How the call was authenticated, as its audit events say: SigV4 with a long-term access key, or
        with temporary credentials (from AssumeRole, GetSessionToken or GetFederationToken)."""
        return "sigv4:temporary-credentials" if self.caller.temporary else "sigv4:access-key"

    def now(self) -> float:
        return self.deps.clock()

    def unit(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self.deps.store.unit()

    def context(self, *, mfa_present: bool | None = None, external_id: str | None = None,
                extra: Mapping[str, ContextValue] | None = None) -> authorization.Context:
        """The request's condition keys that need no lookup: the global ones, the request's tags, `extra`."""
        context = authorization.request_context(self.caller, source_ip=self.source_ip, secure=self.secure,
                                                now=self.now(), mfa_present=mfa_present, external_id=external_id)
        for key, value in self.request_tags or ():
            context[f"aws:RequestTag/{key}"] = value
        keys = self.tag_keys if self.tag_keys is not None else [k for k, _ in self.request_tags or ()]
        if keys:
            context["aws:TagKeys"] = list(keys)
        context.update(extra or {})
        return context

    async def full_context(self, uow: UnitOfWork, documents: Iterable[str], *, action: str | None = None,
                           target: Target | None = None, mfa_present: bool | None = None,
                           external_id: str | None = None,
                           extra: Mapping[str, ContextValue] | None = None) -> authorization.Context:
        """`context()` and the keys that need the store: the caller's tags (aws:PrincipalTag/<key>, its session
        tags over its user's or role's) and the target's (aws:ResourceTag/<key>), each read only when one of
        `documents` (the policies that will decide) mentions it, and the target's permissions boundary for
        `action` (iam:PermissionsBoundary)."""
        documents = list(documents)
        context = self.context(mfa_present=mfa_present, external_id=external_id)
        caller = self.caller
        if ((caller.session_tags or authorization.principal_tag_subject(caller) is not None)
                and authorization.mentions(documents, authorization.PRINCIPAL_TAG)):
            context.update((f"{authorization.PRINCIPAL_TAG}{key}", value)
                           for key, value in await authorization.principal_tags(uow, caller))
        if target is not None:
            families = [authorization.RESOURCE_TAG]
            if target.tag_kind in ("user", "role"):
                families.append(authorization.IAM_RESOURCE_TAG)
            if any(authorization.mentions(documents, family) for family in families):
                context.update(await authorization.tag_keys(uow, (target.tag_kind, target.entity_id), families))
            if target.permissions_boundary is not None and (action or self.action) in BOUNDARY_KEY_ACTIONS:
                context["iam:PermissionsBoundary"] = target.permissions_boundary
        context.update(extra or {})
        return context

    async def authorize(self, uow: UnitOfWork, resource: str, *, action: str | None = None,
                        target: Target | None = None, context: Mapping[str, ContextValue] | None = None) -> None:
        """PermissionDenied unless the caller's policies allow the operation's action on `resource` (or another
        `action` the operation also needs, such as `iam:PassRole`). `target` is the entity `resource` names,
        when it exists; `context` adds condition keys of this request (`iam:PermissionsBoundary` asked for,
        `iam:PassedToService`)."""
        assert self.action is not None, "an operation without an IAM action has nothing to authorize"
        if action is None:
            self.authorized = True
        caller, action = self.caller, action or self.action
        if (resource.startswith("arn:") and arns.account_of(resource) not in (caller.account_id, "")
                and not arns.is_aws_managed(resource)):
            raise authorization_messages.denied(caller, action, resource, explicit=False, context=self.context())
        if caller.is_root and not caller.temporary:
            return
        if caller.session_credentials and self.service == "iam" and not caller.mfa_authenticated:
            raise PermissionDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: "
                                   f"{resource} with session credentials that were issued without MFA authentication")
        if caller.is_root and caller.session_policy is None:
            return  # the root may do everything; its scoped sessions only what every scope-down layer allows
        permissions = await authorization.documents_for(uow, caller)
        keys = await self.full_context(uow, permissions.documents(caller.session_policy), action=action,
                                       target=target, extra=context)
        found = authorization.verdict(permissions, caller.session_policy, caller, action, resource, keys)
        if not found.allowed:
            raise authorization_messages.denied(caller, action, resource, explicit=found.explicit, context=keys,
                                                documents=permissions.identity, others=(permissions.boundary,),
                                                message=found.message(caller.arn, action, resource))

    def authorized_by_rule(self) -> None:
        """The use case decided access by a rule of its own (a trust policy, an account setting)."""
        self.authorized = True

    async def record(self, uow: UnitOfWork, *, result: str = "Success", mfa_used: bool = False,
                     account_id: str | None = None, **detail: AuditValue) -> None:
        """The operation's audit event, in the transaction that made the change; `mfa_used` also when the
        call's credentials were issued with MFA."""
        assert self.event is not None, "this operation declares no audit event"
        self.recorded = self.recorded or result == "Success"
        await audit.record(uow, at=self.now(), event=self.event, result=result, client=self.client,
                           account_id=account_id or self.caller.account_id, principal=self.caller.arn,
                           method=self.method, mfa_used=mfa_used or self.caller.mfa_authenticated, **detail)
