"""GetScopedCredentials: new temporary credentials for the caller's own session, with fewer permissions (a
scope-down policy that must allow every request, on top of the session's own policies) and/or a shorter life;
never longer than the calling session's."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core import session_policies
from ..errors import InsufficientSessionLifetime, InvalidSubjectCredentials, InvalidValue, PermissionDenied
from .api_call import ApiCall
from .iam.documents import checked_document
from .temporary_credentials import Issued, issue


@dataclass(frozen=True)
class ScopedSession:
    credentials: Issued
    scoped_session_id: str
    arn: str
    scoped_policies: int
    source_identity: str | None


async def get_scoped_credentials(call: ApiCall, policy: str | None, duration: int | None,
                                 description: str | None = None) -> ScopedSession:
    caller = call.caller
    if not caller.temporary:
        raise InvalidSubjectCredentials(
            "GetScopedCredentials must be called with temporary security credentials (from AssumeRole, "
            "GetSessionToken, GetFederationToken or GetScopedCredentials), not with a long-term access key.")
    if policy is None and duration is None:
        raise InvalidValue("A request must provide at least one of Policy or DurationSeconds.")
    if policy is not None:
        checked_document(policy)
    now = call.now()
    async with call.unit() as uow:
        current = await uow.temp_credentials.get(caller.access_key_id)
        if current is None or current.expires_at <= now:
            raise InvalidSubjectCredentials("The credentials of the calling session could not be resolved.")
        await call.authorize(uow, caller.arn)
        remaining = current.expires_at - now
        if duration is not None and duration > remaining:
            raise InsufficientSessionLifetime(
                f"The requested DurationSeconds ({duration}) is greater than the remaining lifetime of the "
                f"calling session ({int(remaining)} seconds).")
        stored = current.session_policy
        if policy is not None:
            if session_policies.scope_down_layers(stored) >= session_policies.MAX_SCOPE_DOWN_LAYERS:
                raise PermissionDenied(
                    f"User: {caller.arn} is not authorized to perform: sts:GetScopedCredentials because the session "
                    f"already has {session_policies.MAX_SCOPE_DOWN_LAYERS} scope down policies, the most allowed.")
            stored = session_policies.with_scope_down(stored, policy)
        issued = await issue(call.deps, uow, account_id=current.account_id, kind=current.kind,
                             source_principal_key=current.source_principal_key, arn=current.arn,
                             user_id=current.user_id, duration=duration or 1, role_id=current.role_id,
                             session_name=current.session_name, session_policy=stored,
                             mfa_authenticated=current.mfa_authenticated,
                             mfa_authenticated_at=current.mfa_authenticated_at)
        row = await uow.temp_credentials.get(issued.access_key_id)
        assert row is not None
        row.source_identity = current.source_identity
        row.session_tags, row.transitive_tag_keys = current.session_tags, current.transitive_tag_keys
        if duration is None:  # the calling session's own expiry, to the fraction of a second
            row.expires_at = current.expires_at
            issued = replace(issued, expires_at=current.expires_at)
        layers = session_policies.scope_down_layers(stored)
        await call.record(uow, account_id=current.account_id, scoped_policies=layers,
                          description=(description or "")[:256] or None, access_key_id=issued.access_key_id)
    return ScopedSession(issued, caller.user_id, caller.arn, layers, current.source_identity)
