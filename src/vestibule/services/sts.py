"""STS use cases: session tokens, role assumption, federation tokens, access key info. `assume_role` is the one
path to role credentials: the STS API calls it, and so will the SSO portal and console role sessions."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from ..core import arns, session_policies
from ..core import policy as engine
from ..errors import InvalidValue, PermissionDenied, SessionPolicyTooLarge, UnknownReference
from ..store.repositories import UnitOfWork
from . import authorization, authorization_messages, mfa
from .api_call import ApiCall, Target
from .aws_identity import Caller
from .iam.documents import checked_document
from .temporary_credentials import Issued, issue

MAX_POLICY_ARNS = 10
ROOT_SESSION_MAX = 3600
USER_SESSION_MAX = 129600
ROLE_CHAINING_MAX = 3600
PACKED_POLICY_MAX = 2048

log = logging.getLogger("vestibule.sts")

TagPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MfaProof:
    serial: str
    code: str


@dataclass(frozen=True)
class SessionPolicy:
    """An inline document and managed policy ARNs; together they limit what the session may do."""

    document: str | None = None
    arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssumeRoleRequest:
    role_arn: str
    session_name: str
    duration: int | None = None
    external_id: str | None = None
    mfa: MfaProof | None = None
    policy: SessionPolicy = SessionPolicy()
    source_identity: str | None = None
    tags: TagPairs = ()  # session tags: aws:PrincipalTag/<key> of the session
    transitive_tag_keys: tuple[str, ...] = ()  # which of `tags` go on into sessions chained from this one


@dataclass(frozen=True)
class RoleSession:
    credentials: Issued
    assumed_role_id: str
    arn: str
    packed_policy_size: int
    source_identity: str | None = None


@dataclass(frozen=True)
class FederatedSession:
    credentials: Issued
    federated_user_id: str
    arn: str
    packed_policy_size: int


def _packed_chars(session_policy: str | None, tags: TagPairs) -> int:
    """What a session's policy and tags take of the packed space: the policy's characters and each tag's key and
    value (an approximation of AWS's packed binary form, which is not documented; transitivity costs nothing)."""
    return len(session_policy or "") + sum(len(key) + len(value) for key, value in tags)


def _packed_size(session_policy: str | None, tags: TagPairs = ()) -> int:
    """PackedPolicySize: the percentage of the packed space used."""
    return min(100, _packed_chars(session_policy, tags) * 100 // PACKED_POLICY_MAX)


def _check_packed(document: str | None, tags: TagPairs) -> None:
    """PackedPolicyTooLarge when the inline session policy and the session tags together do not fit."""
    used = _packed_chars(document, tags)
    if used > PACKED_POLICY_MAX:
        what = "Packed policy and session tags consume" if tags else "Packed policy consumes"
        raise SessionPolicyTooLarge(f"{what} {used * 100 // PACKED_POLICY_MAX}% of allotted space, please use "
                                    f"smaller policy{' and fewer or shorter tags' if tags else ''} for this request.")


def _tag_detail(tags: TagPairs, transitive: tuple[str, ...]) -> dict[str, str]:
    """What the audit event says of a session's tags: their keys, and which are transitive."""
    detail = {"session_tag_keys": ",".join(key for key, _ in tags)} if tags else {}
    return {**detail, "transitive_tag_keys": ",".join(transitive)} if transitive else detail


def _distinct_keys(tags: TagPairs) -> None:
    keys = [key.lower() for key, _ in tags]
    if len(set(keys)) != len(keys):
        raise InvalidValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def _session_tags(caller: Caller, request: AssumeRoleRequest) -> tuple[TagPairs, tuple[str, ...]]:
    """The new role session's tags and the keys of its transitive ones: the tags asked for, and those the
    calling role session passes on (its transitive tags, which stay transitive). A tag asked for may not have
    the key of an inherited one (AWS: "If you pass a session tag with the same key as an inherited tag, the
    operation fails")."""
    _distinct_keys(request.tags)
    asked = {key.lower() for key, _ in request.tags}
    for key in request.transitive_tag_keys:
        if key.lower() not in asked:
            raise InvalidValue(f"The transitive tag key {key[:128]} is not the key of one of the session tags "
                               "passed in Tags.")
    carried = {key.lower() for key in caller.transitive_tag_keys} if caller.kind == "assumed-role" else set()
    inherited = tuple((key, value) for key, value in caller.session_tags if key.lower() in carried)
    for key, _ in request.tags:
        if key.lower() in carried:
            raise PermissionDenied(f"User: {caller.arn} is not authorized to perform: sts:TagSession on resource: "
                                   f"{request.role_arn}: the session tag {key} is a transitive tag of the calling "
                                   "session and cannot be passed again")
    transitive = tuple(key for key, _ in inherited) + tuple(
        key for key, _ in request.tags if key.lower() in {k.lower() for k in request.transitive_tag_keys})
    return inherited + request.tags, transitive


def _denied(call: ApiCall, action: str, resource: str, explicit: bool = False) -> PermissionDenied:
    return authorization_messages.denied(call.caller, action, resource, explicit=explicit, context=call.context())


async def _session_policy(uow: UnitOfWork, policy: SessionPolicy, account_id: str) -> str | None:
    """`Policy` and `PolicyArns` as one document (the union of their statements); None when neither is given.
    Managed session policies may be built-in ones or customer policies of `account_id`."""
    if not policy.arns:
        return policy.document
    if len(policy.arns) > MAX_POLICY_ARNS:
        raise InvalidValue("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
                           f"Member must have length less than or equal to {MAX_POLICY_ARNS}")
    documents = [policy.document] if policy.document is not None else []
    for arn in policy.arns:
        document = None
        if arns.account_of(arn) in ("aws", account_id):
            document = await authorization.managed_document(uow, arn)
        if document is None:
            raise UnknownReference(f"Policy {arn} does not exist or is not attachable.")
        documents.append(document)
    statements: list[Any] = []
    for document in documents:
        body = json.loads(document)["Statement"]
        # Sids are dropped: they need only be unique within each document, not across them
        statements.extend({k: v for k, v in statement.items() if k != "Sid"}
                          for statement in (body if isinstance(body, list) else [body]))
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


async def _mfa_presented(call: ApiCall, proof: MfaProof | None, owner_key: str | None) -> bool:
    """True when a code was presented and valid; PermissionDenied when it was presented and is not, and
    TooManyAttempts while the device's or its owner's counters refuse guesses. The device must be the
    caller's own (`owner_key`), or at least in the caller's account. Opens its own units (before the
    caller's): each failure is counted and audited even though the call fails."""
    if proof is None:
        return False
    denied = PermissionDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    async with call.unit() as uow:
        device = await uow.mfa.by_serial(proof.serial)
    if (device is None or device.principal_key is None or device.account_id != call.caller.account_id
            or (owner_key is not None and device.principal_key != owner_key)):
        async with call.unit() as uow:
            await call.record(uow, result="Failure", mfa_used=True, reason="not the caller's MFA device",
                              serial=proof.serial[:256])
        raise denied
    attempt = mfa.CodeAttempt(device.principal_key, call.client, call.caller.account_id, call.caller.arn,
                              call.event or "", "api")
    if not await mfa.verify_device_code(call.deps, device, proof.code, attempt):
        raise denied
    return True


def mfa_proof(serial: str | None, code: str | None) -> MfaProof | None:
    if serial is None and code is None:
        return None
    if serial is None or code is None:
        raise InvalidValue("SerialNumber and TokenCode must be given together.")
    return MfaProof(serial, code)


async def get_session_token(call: ApiCall, duration: int | None, proof: MfaProof | None) -> Issued:
    caller = call.caller
    if caller.temporary:
        raise PermissionDenied("Cannot call GetSessionToken with session credentials")
    limit = ROOT_SESSION_MAX if caller.is_root else USER_SESSION_MAX
    seconds = min(duration or (ROOT_SESSION_MAX if caller.is_root else 43200), limit)
    presented = await _mfa_presented(call, proof, caller.principal_key)
    async with call.unit() as uow:
        issued = await issue(call.deps, uow, account_id=caller.account_id, kind="session",
                             source_principal_key=caller.principal_key, arn=caller.arn, user_id=caller.user_id,
                             duration=seconds, mfa_authenticated=presented,
                             mfa_authenticated_at=call.now() if presented else None)
        await call.record(uow, mfa_used=presented)
    return issued


async def assume_role(call: ApiCall, request: AssumeRoleRequest) -> RoleSession:
    caller = call.caller
    target = arns.parse_role_arn(request.role_arn)
    if target is None:
        raise InvalidValue(f"{request.role_arn} is invalid")
    if caller.is_root:
        raise PermissionDenied("Roles may not be assumed by root accounts.")
    denied = _denied(call, "sts:AssumeRole", request.role_arn)
    if caller.kind == "federated-user":
        # AWS: federation token credentials may call no STS operation but GetCallerIdentity
        raise denied
    if request.policy.document is not None:
        checked_document(request.policy.document)
    session_tags, transitive_keys = _session_tags(caller, request)
    _check_packed(request.policy.document, session_tags)
    account_id, role_name = target
    mfa_now = await _mfa_presented(call, request.mfa, caller.principal_key if caller.kind == "user" else None)
    async with call.unit() as uow:
        session_policy = await _session_policy(uow, request.policy, account_id)
        role = await uow.roles.by_name(account_id, role_name)
        # a role's ARN is case sensitive and carries its path: only the stored role's own ARN names it (the
        # lookup ignores case, so `role/prod` or `role/zz/Prod` would otherwise reach `/Prod`)
        if role is None or arns.role_arn(role.account_id, role.name, role.path) != request.role_arn:
            raise denied
        mfa_used = mfa_now or caller.mfa_authenticated
        source_identity = _source_identity(call, request)
        documents = await authorization.documents_for(uow, caller)
        context = await call.full_context(
            uow, [role.trust_policy, *documents.documents(caller.session_policy)], action="sts:AssumeRole",
            target=Target.role(role), mfa_present=mfa_used, external_id=request.external_id,
            extra={"sts:RoleSessionName": request.session_name,
                   **({"sts:SourceIdentity": source_identity} if source_identity else {}),
                   **({"sts:TransitiveTagKeys": list(request.transitive_tag_keys)}
                      if request.transitive_tag_keys else {})})
        try:
            trust = engine.parse_policy(role.trust_policy, kind="trust")
        except engine.MalformedPolicy as exc:  # stored before a stricter parser: it allows no one
            log.warning("role %s: stored trust policy does not parse (%s); AssumeRole refused", role.id, exc)
            raise denied from None
        principal = engine.TrustPrincipal.aws(
            caller.arn, role_arn=arns.role_of_session(caller.arn) if caller.kind == "assumed-role" else None)
        if not engine.evaluate_trust(trust, principal, action="sts:AssumeRole", context=context).allowed:
            raise denied
        # The caller's identity policies are always consulted: an explicit Deny there wins over any trust
        # policy, and across accounts they must allow sts:AssumeRole as well. Only inside the role's own
        # account may a trust policy naming the caller's own ARN stand in for a missing identity Allow (never
        # for a scope-down policy of GetScopedCredentials: each must allow).
        allowed, explicit = authorization.decide(documents, caller.session_policy, caller, "sts:AssumeRole",
                                                 request.role_arn, context)
        trusted_by_name = caller.account_id == account_id and _names_caller(trust, caller.arn)
        if explicit or not (allowed or (trusted_by_name and _scope_down_allows(caller, "sts:AssumeRole",
                                                                              request.role_arn, context))):
            raise _denied(call, "sts:AssumeRole", request.role_arn, explicit)
        # AWS: setting (or carrying along, when chaining) a source identity needs sts:SetSourceIdentity, and
        # passing session tags (or carrying transitive ones along) sts:TagSession, in the trust policy and in
        # the caller's own policies
        for needed, action in ((source_identity is not None, "sts:SetSourceIdentity"),
                               (bool(session_tags), "sts:TagSession")):
            if not needed:
                continue
            trusted = engine.evaluate_trust(trust, principal, action=action, context=context)
            allowed, explicit = authorization.decide(documents, caller.session_policy, caller, action,
                                                     request.role_arn, context)
            if not trusted.allowed or explicit or not (allowed or (trusted_by_name and _scope_down_allows(
                    caller, action, request.role_arn, context))):
                raise _denied(call, action, request.role_arn, explicit or trusted.explicit)
        call.authorized_by_rule()
        maximum = ROLE_CHAINING_MAX if caller.kind == "assumed-role" else role.max_session_duration
        duration = request.duration or 3600
        if duration > maximum:
            raise InvalidValue(f"The requested DurationSeconds exceeds the MaxSessionDuration set for this role "
                               f"({maximum} seconds).")
        arn = arns.assumed_role_arn(account_id, role.name, request.session_name)
        issued = await issue(call.deps, uow, account_id=account_id, kind="assumed-role",
                             source_principal_key=caller.principal_key, arn=arn,
                             user_id=f"{role.id}:{request.session_name}", duration=duration, role_id=role.id,
                             session_name=request.session_name, session_policy=session_policy,
                             mfa_authenticated=mfa_used,
                             mfa_authenticated_at=call.now() if mfa_now else caller.mfa_authenticated_at,
                             source_identity=source_identity, session_tags=session_tags,
                             transitive_tag_keys=transitive_keys)
        role.last_used_at, role.last_used_region = call.now(), call.region or None
        await call.record(uow, account_id=account_id, mfa_used=mfa_used, role=request.role_arn,
                          session=request.session_name, source_identity=source_identity,
                          **_tag_detail(session_tags, transitive_keys))
    return RoleSession(issued, f"{role.id}:{request.session_name}", arn,
                       _packed_size(session_policy, session_tags), source_identity)


def _source_identity(call: ApiCall, request: AssumeRoleRequest) -> str | None:
    """The session's source identity: the one asked for, or the calling role session's, which a chained
    session keeps and cannot change."""
    inherited = call.caller.source_identity
    if inherited is not None and request.source_identity not in (None, inherited):
        raise PermissionDenied(f"User: {call.caller.arn} is not authorized to perform: sts:SetSourceIdentity on "
                               f"resource: {request.role_arn}: the source identity of a role session cannot be "
                               "changed")
    return request.source_identity or inherited


def _scope_down_allows(caller: Caller, action: str, resource: str, context: authorization.Context) -> bool:
    """Whether each scope-down policy (GetScopedCredentials) of the caller's session allows the request."""
    request = engine.AuthzRequest(principal_arn=caller.arn, action=action, resource=resource, context=context)
    return all(engine.evaluate([engine.parse_policy(document)], request).allowed
               for document in session_policies.split(caller.session_policy)[1])


def _names_caller(trust: engine.Policy, caller_arn: str) -> bool:
    """True when an Allow statement lists the caller's own ARN (not just its account)."""
    for statement in trust.statements:
        if (statement.effect is engine.Effect.ALLOW and not statement.not_principal
                and any(kind == "AWS" and value == caller_arn for kind, value in statement.principals)):
            return True
    return False


async def get_federation_token(call: ApiCall, name: str, duration: int | None, policy: SessionPolicy,
                               tags: TagPairs = ()) -> FederatedSession:
    """`tags`: session tags, the federated user's principal tags (over its IAM user's tags of the same key)."""
    caller = call.caller
    if caller.temporary:
        raise PermissionDenied("Cannot call GetFederationToken with session credentials")
    limit = ROOT_SESSION_MAX if caller.is_root else USER_SESSION_MAX
    seconds = min(duration or (ROOT_SESSION_MAX if caller.is_root else 43200), limit)
    if policy.document is not None:
        checked_document(policy.document)
    _distinct_keys(tags)
    _check_packed(policy.document, tags)
    arn = arns.federated_user_arn(caller.account_id, name)
    async with call.unit() as uow:
        if caller.is_root:
            call.authorized_by_rule()
        else:
            # an IAM user needs sts:GetFederationToken in its own policies (GetSessionToken needs nothing), and
            # sts:TagSession to pass session tags
            await call.authorize(uow, arn)
            if tags:
                await call.authorize(uow, arn, action="sts:TagSession")
        session_policy = await _session_policy(uow, policy, caller.account_id)
        issued = await issue(call.deps, uow, account_id=caller.account_id, kind="federated-user",
                             source_principal_key=caller.principal_key, arn=arn,
                             user_id=f"{caller.account_id}:{name}", duration=seconds, session_policy=session_policy,
                             session_tags=tags)
        await call.record(uow, mfa_used=False, federated_user=name, **_tag_detail(tags, ()))
    return FederatedSession(issued, f"{caller.account_id}:{name}", arn, _packed_size(session_policy, tags))


async def get_access_key_info(call: ApiCall, key_id: str) -> str:
    """The account that owns `key_id` (long-term or temporary). The caller needs sts:GetAccessKeyInfo (AWS: an
    action of its own, resource `*`); federation token credentials may call no STS operation but
    GetCallerIdentity."""
    if call.caller.kind == "federated-user":
        raise _denied(call, "sts:GetAccessKeyInfo", "*")
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        key = await uow.access_keys.get(key_id) if key_id.startswith("AKIA") else None
        temp = await uow.temp_credentials.get(key_id) if key is None and key_id.startswith("ASIA") else None
    account = key.account_id if key else (temp.account_id if temp else None)
    if account is None:
        raise UnknownReference(f"The access key ID {key_id} is not valid.")
    return account
