"""STS over the query protocol: caller identity, session tokens, role assumption, federation tokens."""

from __future__ import annotations

import json
import re
from typing import Any

from ..core import policy as engine
from ..core import totp
from ..services import audit, authorization
from ..services.context import Client
from ..services.temporary_credentials import Issued, issue
from ..store.repositories import UnitOfWork
from .errors import (
    AccessDenied,
    InvalidParameterValue,
    MalformedPolicyDocument,
    ValidationError,
)
from .registry import CallContext, Result, operation
from .xml import Timestamp

SESSION_NAME = r"[\w+=,.@-]*"
ROLE_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):role/(?:[\u0021-\u007E]*/)?([\w+=,.@-]{1,64})")
FEDERATED_NAME = r"[\w+=,.@-]*"


def _credentials(issued: Issued) -> dict[str, Any]:
    return {"AccessKeyId": issued.access_key_id, "SecretAccessKey": issued.secret_access_key,
            "SessionToken": issued.session_token, "Expiration": Timestamp(issued.expires_at)}


def _inline_session_policy(ctx: CallContext) -> str | None:
    """The `Policy` parameter, checked before anything is looked up."""
    document = ctx.params.text("Policy", low=1, high=2048)
    if document is not None:
        try:
            engine.parse_policy(document)
        except engine.MalformedPolicy as exc:
            raise MalformedPolicyDocument(str(exc)) from None
    return document


async def _session_policy(ctx: CallContext, uow: UnitOfWork, inline: str | None, account_id: str) -> str | None:
    """`Policy` and `PolicyArns` together as one document (the union of their statements); None when
    neither is given. Managed session policies may be built-in ones or customer policies of `account_id`."""
    arns = [m.get("arn") or "" for m in ctx.params.structs("PolicyArns")]
    if not arns:
        return inline
    if len(arns) > 10:
        raise ValidationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
                              "Member must have length less than or equal to 10")
    documents = [inline] if inline is not None else []
    for arn in arns:
        document = None
        if arn.split(":")[4:5] in (["aws"], [account_id]):
            document = await authorization.managed_document(uow, arn)
        if document is None:
            raise InvalidParameterValue(f"Policy {arn} does not exist or is not attachable.")
        documents.append(document)
    statements: list[Any] = []
    for document in documents:
        body = json.loads(document)["Statement"]
        # Sids are dropped: they need only be unique within each document, not across them
        statements.extend({k: v for k, v in statement.items() if k != "Sid"}
                          for statement in (body if isinstance(body, list) else [body]))
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


async def _mfa_check(ctx: CallContext, uow: UnitOfWork, owner_key: str | None) -> bool:
    """Verify SerialNumber + TokenCode when given; True when MFA was presented and valid."""
    serial = ctx.params.text("SerialNumber", pattern=r"[\w+=/:,.@-]*", low=9, high=256)
    code = ctx.params.text("TokenCode", pattern=r"[\d]*", low=6, high=6)
    if serial is None and code is None:
        return False
    if serial is None or code is None:
        raise ValidationError("SerialNumber and TokenCode must be given together.")
    device = await uow.mfa.by_serial(serial)
    if device is None or device.enabled_at is None or (owner_key is not None and device.principal_key != owner_key):
        raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    secret = ctx.deps.box.open(device.secret_sealed, f"mfa:{device.serial}").decode()
    check = totp.verify(secret, code, ctx.deps.clock(), device.last_used_step)
    if not check.accepted or check.step is None or not await uow.mfa.mark_used(device.id, check.step):
        raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    return True


@operation("sts", "GetCallerIdentity")
async def get_caller_identity(ctx: CallContext) -> Result:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


@operation("sts", "GetAccessKeyInfo")
async def get_access_key_info(ctx: CallContext) -> Result:
    key_id = ctx.params.text("AccessKeyId", pattern=r"[\w]*", low=16, high=128, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        key = await uow.access_keys.get(key_id) if key_id.startswith("AKIA") else None
        temp = await uow.temp_credentials.get(key_id) if key is None and key_id.startswith("ASIA") else None
    account = key.account_id if key else (temp.account_id if temp else None)
    if account is None:
        raise InvalidParameterValue(f"The access key ID {key_id} is not valid.")
    return {"Account": account}


@operation("sts", "GetSessionToken")
async def get_session_token(ctx: CallContext) -> Result:
    caller = ctx.caller
    if caller.temporary:
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    limit = 3600 if caller.is_root else 129600
    duration = ctx.params.integer("DurationSeconds", 43200 if not caller.is_root else 3600, 900, 129600) or 3600
    duration = min(duration, limit)
    async with ctx.deps.store.unit() as uow:
        mfa = await _mfa_check(ctx, uow, caller.principal_key)
        issued = await issue(ctx.deps, uow, account_id=caller.account_id, kind="session",
                             source_principal_key=caller.principal_key, arn=caller.arn, user_id=caller.user_id,
                             duration=duration, mfa_authenticated=mfa,
                             mfa_authenticated_at=ctx.deps.clock() if mfa else None)
        await audit.record(uow, at=ctx.deps.clock(), event="GetSessionToken", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=caller.account_id, principal=caller.arn,
                           method="api", mfa_used=mfa)
    return {"Credentials": _credentials(issued)}


@operation("sts", "AssumeRole")
async def assume_role(ctx: CallContext) -> Result:
    caller = ctx.caller
    role_arn = ctx.params.text("RoleArn", low=20, high=2048, required=True) or ""
    session_name = ctx.params.text("RoleSessionName", pattern=SESSION_NAME, low=2, high=64, required=True) or ""
    external_id = ctx.params.text("ExternalId", pattern=r"[\w+=,.@:/-]*", low=2, high=1224)
    match = ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ValidationError(f"{role_arn} is invalid")
    if caller.is_root:
        raise AccessDenied("Roles may not be assumed by root accounts.")
    if caller.kind == "federated-user":
        # AWS: federation token credentials may call no STS operation but GetCallerIdentity
        raise AccessDenied(engine.access_denied_message(caller.arn, "sts:AssumeRole", role_arn, explicit=False))
    inline_policy = _inline_session_policy(ctx)
    account_id, role_name = match.group(1), match.group(2)
    async with ctx.deps.store.unit() as uow:
        session_policy = await _session_policy(ctx, uow, inline_policy, account_id)
        role = await uow.roles.by_name(account_id, role_name)
        denied = AccessDenied(engine.access_denied_message(caller.arn, "sts:AssumeRole", role_arn, explicit=False))
        if role is None:
            raise denied
        mfa_now = await _mfa_check(ctx, uow, caller.principal_key if caller.kind == "user" else None)
        mfa = mfa_now or caller.mfa_authenticated
        context = authorization.request_context(caller, source_ip=ctx.source_ip, secure=ctx.secure_transport,
                                                now=ctx.deps.clock())
        context["aws:MultiFactorAuthPresent"] = "true" if mfa else "false"
        if external_id is not None:
            context["sts:ExternalId"] = external_id
        trust = engine.parse_policy(role.trust_policy, kind="trust")
        principal = engine.TrustPrincipal.aws(
            caller.arn, role_arn=_role_iam_arn(caller.arn) if caller.kind == "assumed-role" else None)
        decision = engine.evaluate_trust(trust, principal, action="sts:AssumeRole", context=context)
        if not decision.allowed:
            raise denied
        # The caller's identity policies are always consulted: an explicit Deny there wins over any trust
        # policy, and across accounts they must allow sts:AssumeRole as well. Only inside the role's own
        # account may a trust policy naming the caller's own ARN stand in for a missing identity Allow.
        documents = await authorization.documents_for(uow, caller)
        allowed, explicit = authorization.decide(documents, caller.session_policy, caller, "sts:AssumeRole",
                                                 role_arn, context)
        trusted_by_name = caller.account_id == account_id and _names_caller(trust, caller.arn)
        if explicit or not (allowed or trusted_by_name):
            raise AccessDenied(engine.access_denied_message(caller.arn, "sts:AssumeRole", role_arn, explicit))
        maximum = 3600 if caller.kind == "assumed-role" else role.max_session_duration
        duration = ctx.params.integer("DurationSeconds", 3600, 900, 43200) or 3600
        if duration > maximum:
            raise ValidationError(f"The requested DurationSeconds exceeds the MaxSessionDuration set for this role "
                                  f"({maximum} seconds).")
        arn = f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{session_name}"
        issued = await issue(ctx.deps, uow, account_id=account_id, kind="assumed-role",
                             source_principal_key=caller.principal_key, arn=arn,
                             user_id=f"{role.id}:{session_name}", duration=duration, role_id=role.id,
                             session_name=session_name, session_policy=session_policy, mfa_authenticated=mfa,
                             mfa_authenticated_at=(ctx.deps.clock() if mfa_now else caller.mfa_authenticated_at))
        role.last_used_at = ctx.deps.clock()
        await audit.record(uow, at=ctx.deps.clock(), event="AssumeRole", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=account_id, principal=caller.arn,
                           method="api", mfa_used=mfa, role=role_arn, session=session_name)
    return {"Credentials": _credentials(issued),
            "AssumedRoleUser": {"AssumedRoleId": f"{role.id}:{session_name}", "Arn": arn},
            "PackedPolicySize": 0 if session_policy is None else min(100, len(session_policy) * 100 // 2048)}


def _role_iam_arn(session_arn: str) -> str:
    parts = session_arn.split(":", 5)
    role_name = parts[5].split("/")[1]
    return f"arn:aws:iam::{parts[4]}:role/{role_name}"


def _names_caller(trust: engine.Policy, caller_arn: str) -> bool:
    """True when an Allow statement lists the caller's own ARN (not just its account)."""
    for statement in trust.statements:
        if statement.effect is engine.Effect.ALLOW and not statement.not_principal:
            if any(kind == "AWS" and value == caller_arn for kind, value in statement.principals):
                return True
    return False


@operation("sts", "GetFederationToken")
async def get_federation_token(ctx: CallContext) -> Result:
    caller = ctx.caller
    if caller.temporary:
        raise AccessDenied("Cannot call GetFederationToken with session credentials")
    name = ctx.params.text("Name", pattern=FEDERATED_NAME, low=2, high=32, required=True) or ""
    limit = 3600 if caller.is_root else 129600
    duration = min(ctx.params.integer("DurationSeconds", 43200 if not caller.is_root else 3600, 900, 129600) or 3600,
                   limit)
    inline_policy = _inline_session_policy(ctx)
    arn = f"arn:aws:sts::{caller.account_id}:federated-user/{name}"
    async with ctx.deps.store.unit() as uow:
        if not caller.is_root:
            # an IAM user needs sts:GetFederationToken in its own policies (GetSessionToken needs nothing)
            context = authorization.request_context(caller, source_ip=ctx.source_ip, secure=ctx.secure_transport,
                                                    now=ctx.deps.clock())
            documents = await authorization.documents_for(uow, caller)
            allowed, explicit = authorization.decide(documents, caller.session_policy, caller,
                                                     "sts:GetFederationToken", arn, context)
            if not allowed:
                raise AccessDenied(engine.access_denied_message(caller.arn, "sts:GetFederationToken", arn,
                                                                explicit))
        session_policy = await _session_policy(ctx, uow, inline_policy, caller.account_id)
        issued = await issue(ctx.deps, uow, account_id=caller.account_id, kind="federated-user",
                             source_principal_key=caller.principal_key, arn=arn,
                             user_id=f"{caller.account_id}:{name}", duration=duration,
                             session_policy=session_policy)
        await audit.record(uow, at=ctx.deps.clock(), event="GetFederationToken", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=caller.account_id, principal=caller.arn,
                           method="api", federated_user=name)
    return {"Credentials": _credentials(issued),
            "FederatedUser": {"FederatedUserId": f"{caller.account_id}:{name}", "Arn": arn},
            "PackedPolicySize": 0 if session_policy is None else min(100, len(session_policy) * 100 // 2048)}
