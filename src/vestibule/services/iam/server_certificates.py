"""Server certificates through IAM: upload (the private key must match the certificate, then is forgotten), get,
list, rename or move, delete, tags; at most 20 per account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ...core.pagination import Page, PageRequest
from ...errors import AlreadyExists, LimitExceeded, NotFound
from ...store.models import ServerCertificate
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall
from .common import TagPairs, markers, put_tags, tag_key, tags_of
from .key_material import read_server_certificate

MAX_PER_ACCOUNT = 20
TAG_KIND = "srvcert"
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def certificate_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:server-certificate{path}{name}"


@dataclass(frozen=True)
class Tagged:
    certificate: ServerCertificate
    tags: TagPairs


def _exists(name: str) -> AlreadyExists:
    return AlreadyExists("ServerCertificateName", f"The Server Certificate with name {name} already exists.")


async def _named(call: ApiCall, uow: UnitOfWork, name: str) -> ServerCertificate:
    """The certificate `name`, after authorizing the call on its ARN (so a denied caller learns nothing)."""
    certificate = await uow.server_certificates.by_name(call.account_id, name)
    await call.authorize(uow, certificate_arn(call.account_id, certificate.name, certificate.path) if certificate
                         else certificate_arn(call.account_id, name))  # the stored name: names match without case
    if certificate is None:
        raise NotFound(f"The Server Certificate with name {name} cannot be found.")
    return certificate


async def upload(call: ApiCall, name: str, path: str, body: str, private_key: str, chain: str | None,
                 tags: TagPairs) -> ServerCertificate:
    material = read_server_certificate(body, private_key, chain)
    async with call.unit() as uow:
        await call.authorize(uow, certificate_arn(call.account_id, name, path))
        await uow.credential_owners.lock_account(call.account_id)
        if await uow.server_certificates.by_name(call.account_id, name) is not None:
            raise _exists(name)
        if await uow.server_certificates.count_in_account(call.account_id) >= MAX_PER_ACCOUNT:
            raise LimitExceeded(f"Cannot exceed quota for ServerCertificatesPerAccount: {MAX_PER_ACCOUNT}")
        certificate = ServerCertificate(
            id="ASCA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)), account_id=call.account_id,
            name=name, name_lower=name.lower(), path=path, body=material.body, chain=material.chain,
            expires_at=material.expires_at, uploaded_at=call.now())
        try:
            await uow.server_certificates.add(certificate)
        except Conflict:
            raise _exists(name) from None
        await put_tags(uow, call.account_id, TAG_KIND, certificate.id, tags)
        await call.record(uow, server_certificate=name, server_certificate_id=certificate.id)
    return certificate


async def get(call: ApiCall, name: str) -> Tagged:
    async with call.unit() as uow:
        certificate = await _named(call, uow, name)
        return Tagged(certificate, await tags_of(uow, TAG_KIND, certificate.id))


async def list_certificates(call: ApiCall, path_prefix: str, request: PageRequest) -> Page[ServerCertificate]:
    codec = markers(call, "ListServerCertificates", path_prefix)
    after = codec.after(request)
    async with call.unit() as uow:
        await call.authorize(uow, f"arn:aws:iam::{call.account_id}:server-certificate{path_prefix}*")
        rows = await uow.server_certificates.page(call.account_id, path_prefix, after, request.limit)
    return codec.page(rows, request, lambda c: (c.name_lower, c.id))


async def update(call: ApiCall, name: str, new_name: str | None, new_path: str | None) -> None:
    async with call.unit() as uow:
        certificate = await _named(call, uow, name)
        stored = certificate.name
        target_name, target_path = new_name or certificate.name, new_path or certificate.path
        # renaming or moving needs the action on the new ARN as well
        await call.authorize(uow, certificate_arn(call.account_id, target_name, target_path))
        if (target_name.lower() != certificate.name_lower
                and await uow.server_certificates.by_name(call.account_id, target_name) is not None):
            raise _exists(target_name)
        try:
            await uow.server_certificates.rename(certificate, target_name, target_path)
        except Conflict:
            raise _exists(target_name) from None
        await call.record(uow, server_certificate=stored, new_name=target_name, new_path=target_path)


async def delete(call: ApiCall, name: str) -> None:
    async with call.unit() as uow:
        certificate = await _named(call, uow, name)
        await uow.tags.remove_all(TAG_KIND, certificate.id)
        await uow.server_certificates.delete(certificate)
        await call.record(uow, server_certificate=certificate.name, server_certificate_id=certificate.id)


async def tag(call: ApiCall, name: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        certificate = await _named(call, uow, name)
        await put_tags(uow, call.account_id, TAG_KIND, certificate.id, tags)
        await call.record(uow, server_certificate=certificate.name, keys=",".join(k for k, _ in tags))


async def untag(call: ApiCall, name: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        certificate = await _named(call, uow, name)
        await uow.tags.remove(TAG_KIND, certificate.id, keys)
        await call.record(uow, server_certificate=certificate.name, keys=",".join(keys))


async def list_tags(call: ApiCall, name: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        certificate = await _named(call, uow, name)
        tags = await tags_of(uow, TAG_KIND, certificate.id)
    return markers(call, "ListServerCertificateTags", certificate.id).page_in_memory(tags, request, tag_key)
