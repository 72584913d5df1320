"""Service-specific credentials of IAM users: a user name and password for CodeCommit or Amazon Keyspaces, or a
long-term API key for Amazon Bedrock or CloudWatch Logs (an alias and a secret, optionally expiring). The secret
is shown when it is created and when it is reset, never again: only its SHA-256 is stored (it is 264 random bits,
and nothing here signs in with it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ...core import arns
from ...core.pagination import Page, PageRequest
from ...core.principals import PrincipalRef
from ...core.tokens import hash_token
from ...errors import InvalidMarker, InvalidValue, LimitExceeded, NotFound, RejectedMaterial
from ...store.models import IamUser, ServiceSpecificCredential
from ...store.repositories import UnitOfWork
from ..api_call import ApiCall
from .common import markers, moment_key, named_user, no_such_user, target_user

BEDROCK = "bedrock.amazonaws.com"
# these answer an alias and a secret, and may expire (CredentialAgeDays)
API_KEY_SERVICES = frozenset({BEDROCK, "logs.amazonaws.com"})
SERVICES = frozenset({"codecommit.amazonaws.com", "cassandra.amazonaws.com", *API_KEY_SERVICES})
MAX_PER_SERVICE = 2
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_DAY = 86400.0


@dataclass(frozen=True)
class Listed:
    credential: ServiceSpecificCredential
    user_name: str
    status: str  # Expired once an API key's age has passed


@dataclass(frozen=True)
class Issued:
    listed: Listed
    secret: str  # the password or API key secret, shown this once


def _check_service(service_name: str) -> None:
    if service_name not in SERVICES:
        raise RejectedMaterial("NotSupportedService",
                               f"No such service {service_name[:64]} is supported for Service-Specific Credentials")


def _status(call: ApiCall, credential: ServiceSpecificCredential) -> str:
    if credential.expires_at is not None and credential.expires_at <= call.now():
        return "Expired"
    return credential.status


def _new_secret(service_name: str) -> str:
    if service_name == BEDROCK:
        return "ABSK" + secrets.token_urlsafe(33)
    return secrets.token_urlsafe(33)


async def create(call: ApiCall, user_name: str, service_name: str, age_days: int | None) -> Issued:
    _check_service(service_name)
    if age_days is not None and service_name not in API_KEY_SERVICES:
        raise InvalidValue("CredentialAgeDays is only valid for services that support long-term API keys.")
    async with call.unit() as uow:
        user = await named_user(call, uow, user_name)
        if not await uow.credential_owners.lock_user(user.id):
            raise no_such_user(user.name)
        owner = PrincipalRef.iam_user(user.id).key
        if len(await uow.service_credentials.for_principal(owner, service_name)) >= MAX_PER_SERVICE:
            raise LimitExceeded(f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
                                f"{MAX_PER_SERVICE}")
        now = call.now()
        if service_name in API_KEY_SERVICES:  # the user name, then version and creation
            login = f"{user.name}-at-{call.account_id}+v1-{int(now)}"
        else:
            login = f"{user.name}-at-{call.account_id}"
        secret = _new_secret(service_name)
        credential = ServiceSpecificCredential(
            id="ACCA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)), account_id=call.account_id,
            principal_key=owner, service_name=service_name, service_user_name=login, secret_hash=hash_token(secret),
            status="Active", created_at=now, expires_at=None if age_days is None else now + age_days * _DAY)
        await uow.service_credentials.add(credential)
        await call.record(uow, user=user.name, service_specific_credential_id=credential.id, service=service_name)
    return Issued(Listed(credential, user.name, "Active"), secret)


def _listed_key(listed: Listed) -> tuple[str, str]:
    return moment_key(listed.credential.created_at), listed.credential.id


async def list_credentials(call: ApiCall, user_name: str | None, service_name: str | None, all_users: bool,
                           request: PageRequest) -> Page[Listed]:
    """A page of a user's credentials (at most 2 a service: cut in memory), or with `all_users` of the account's,
    read page by page from the store; oldest first."""
    if service_name is not None:
        _check_service(service_name)
    async with call.unit() as uow:
        if all_users:
            if user_name is not None:
                raise InvalidValue("AllUsers cannot be specified together with UserName.")
            await call.authorize(uow, arns.user_arn(call.account_id, "*"))
            codec = markers(call, "ListServiceSpecificCredentials", "*", service_name or "")
            after = codec.after(request)
            try:
                start = None if after is None else (float(after[0]), after[1])
            except ValueError:
                raise InvalidMarker(request.marker or "") from None  # signed by us, so never
            found = await uow.service_credentials.page_in_account(call.account_id, service_name, start, request.limit)
            return codec.page([Listed(c, name, _status(call, c)) for c, name in found], request,
                              lambda item: (repr(item.credential.created_at), item.credential.id))  # exact, for SQL
        user = await target_user(call, uow, user_name)
        owner = PrincipalRef.iam_user(user.id).key if user is not None else f"root:{call.account_id}"
        rows = [] if user is None else await uow.service_credentials.for_principal(owner, service_name)
        listed = [Listed(c, user.name, _status(call, c)) for c in rows if user is not None]  # root: none
    return markers(call, "ListServiceSpecificCredentials", owner, service_name or "").page_in_memory(
        listed, request, _listed_key)


async def _owned(call: ApiCall, uow: UnitOfWork, user_name: str | None,
                 credential_id: str) -> tuple[IamUser, ServiceSpecificCredential]:
    user = await target_user(call, uow, user_name)
    if user is None:
        raise InvalidValue("Must specify userName when calling with non-User credentials")
    credential = await uow.service_credentials.get(credential_id)
    if credential is None or credential.principal_key != PrincipalRef.iam_user(user.id).key:
        raise NotFound(f"No such credential {credential_id} exists")
    return user, credential


async def update(call: ApiCall, user_name: str | None, credential_id: str, status: str) -> None:
    if status not in ("Active", "Inactive"):
        raise InvalidValue(f"A service-specific credential can be made Active or Inactive, not {status}.")
    async with call.unit() as uow:
        user, credential = await _owned(call, uow, user_name, credential_id)
        credential.status = status
        await call.record(uow, user=user.name, service_specific_credential_id=credential_id, status=status)


async def reset(call: ApiCall, user_name: str | None, credential_id: str) -> Issued:
    async with call.unit() as uow:
        user, credential = await _owned(call, uow, user_name, credential_id)
        secret = _new_secret(credential.service_name)
        credential.secret_hash = hash_token(secret)
        await call.record(uow, user=user.name, service_specific_credential_id=credential_id)
        listed = Listed(credential, user.name, _status(call, credential))
    return Issued(listed, secret)


async def delete(call: ApiCall, user_name: str | None, credential_id: str) -> None:
    async with call.unit() as uow:
        user, credential = await _owned(call, uow, user_name, credential_id)
        await uow.service_credentials.delete(credential)
        await call.record(uow, user=user.name, service_specific_credential_id=credential_id)
