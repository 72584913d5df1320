"""One AWS API call as the use cases see it: who calls, from where, the IAM action that authorizes it and the
audit event it records. The wire endpoint builds it from the operation's row; the use case decides *what*
resource is at stake and calls `authorize` once it knows it, and `record` when the change is made, both in
the use case's own transaction. The endpoint then checks that both happened."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from ..core import arns
from ..core import policy as engine
from ..errors import PermissionDenied
from ..store.repositories import UnitOfWork
from . import audit, authorization
from .aws_identity import Caller
from .context import Client, Deps

AuditValue = str | int | bool | None


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

    def context(self, *, mfa_present: bool | None = None, external_id: str | None = None) -> authorization.Context:
        return authorization.request_context(self.caller, source_ip=self.source_ip, secure=self.secure,
                                             now=self.now(), mfa_present=mfa_present, external_id=external_id)

    async def authorize(self, uow: UnitOfWork, resource: str, *, action: str | None = None) -> None:
        """PermissionDenied unless the caller's policies allow the operation's action on `resource` (or another
        `action` the operation also needs, such as `iam:PassRole`)."""
        assert self.action is not None, "an operation without an IAM action has nothing to authorize"
        if action is None:
            self.authorized = True
        caller, action = self.caller, action or self.action
        if (resource.startswith("arn:") and arns.account_of(resource) not in (caller.account_id, "")
                and not arns.is_aws_managed(resource)):
            raise PermissionDenied(engine.access_denied_message(caller.arn, action, resource, explicit=False))
        if caller.is_root and not caller.temporary:
            return
        if caller.session_credentials and self.service == "iam" and not caller.mfa_authenticated:
            raise PermissionDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: "
                                   f"{resource} with session credentials that were issued without MFA authentication")
        if caller.is_root:
            return
        documents = await authorization.documents_for(uow, caller)
        allowed, explicit = authorization.decide(documents, caller.session_policy, caller, action, resource,
                                                 self.context())
        if not allowed:
            raise PermissionDenied(engine.access_denied_message(caller.arn, action, resource, explicit=explicit))

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
