"""X.509 signing certificates of IAM users and of the root user: upload, list, activate or deactivate, delete;
at most two per user, and one certificate belongs to one user of the account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ...core.pagination import Page, PageRequest
from ...core.principals import PrincipalRef
from ...errors import InvalidInput, LimitExceeded, NotFound, RejectedMaterial
from ...store.models import IamUser, SigningCertificate
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall
from .common import markers, moment_key, no_such_user, target_user
from .key_material import read_certificate

MAX_CERTIFICATES_PER_USER = 2
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class OwnedCertificates:
    user_name: str | None  # None: the root user's
    certificates: Page[SigningCertificate]


def _owner(call: ApiCall, user: IamUser | None) -> str:
    return (PrincipalRef.root(call.account_id) if user is None else PrincipalRef.iam_user(user.id)).key


def _duplicate() -> RejectedMaterial:
    return RejectedMaterial("DuplicateCertificate",
                            "The same certificate is associated with an IAM user in the account.")


async def upload(call: ApiCall, user_name: str | None, body: str) -> tuple[str | None, SigningCertificate]:
    material = read_certificate(body)
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        if user is None:
            await uow.credential_owners.lock_account(call.account_id)
        else:
            if not await uow.credential_owners.lock_user(user.id):
                raise no_such_user(user.name)
        owner = _owner(call, user)
        if await uow.signing_certificates.by_digest(call.account_id, material.der_sha256) is not None:
            raise _duplicate()
        if len(await uow.signing_certificates.for_principal(owner)) >= MAX_CERTIFICATES_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for CertificatesPerUser: {MAX_CERTIFICATES_PER_USER}")
        certificate = SigningCertificate(
            id="".join(secrets.choice(_ID_ALPHABET) for _ in range(32)), account_id=call.account_id,
            principal_key=owner, body=material.body, der_sha256=material.der_sha256, status="Active",
            uploaded_at=call.now())
        try:
            await uow.signing_certificates.add(certificate)
        except Conflict:
            raise _duplicate() from None
        await call.record(uow, owner=owner, certificate_id=certificate.id)
    return (user.name if user else None), certificate


async def list_certificates(call: ApiCall, user_name: str | None, request: PageRequest) -> OwnedCertificates:
    """A page of the user's (or root user's) certificates (at most 2: cut in memory), oldest first."""
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        owner = _owner(call, user)
        certificates = await uow.signing_certificates.for_principal(owner)
    listed = markers(call, "ListSigningCertificates", owner).page_in_memory(
        certificates, request, lambda c: (moment_key(c.uploaded_at), c.id))
    return OwnedCertificates(user.name if user else None, listed)


async def _owned(call: ApiCall, uow: UnitOfWork, user_name: str | None, certificate_id: str) -> SigningCertificate:
    user = await target_user(call, uow, user_name)
    certificate = await uow.signing_certificates.get(certificate_id)
    if certificate is None or certificate.principal_key != _owner(call, user):
        raise NotFound(f"The Certificate with id {certificate_id} cannot be found.")
    return certificate


async def update(call: ApiCall, user_name: str | None, certificate_id: str, status: str) -> None:
    if status not in ("Active", "Inactive"):
        raise InvalidInput("status", f"A signing certificate can be made Active or Inactive, not {status}.")
    async with call.unit() as uow:
        certificate = await _owned(call, uow, user_name, certificate_id)
        certificate.status = status
        await call.record(uow, owner=certificate.principal_key, certificate_id=certificate_id, status=status)


async def delete(call: ApiCall, user_name: str | None, certificate_id: str) -> None:
    async with call.unit() as uow:
        certificate = await _owned(call, uow, user_name, certificate_id)
        await uow.signing_certificates.delete(certificate)
        await call.record(uow, owner=certificate.principal_key, certificate_id=certificate_id)
