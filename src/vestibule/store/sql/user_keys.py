"""SSH public keys, signing certificates and service-specific credentials of IAM users (and the root user's
signing certificates)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from ..models import Account, IamUser, ServiceSpecificCredential, SigningCertificate, SshPublicKey
from .base import Repository, rowcount
from .keyset import page_of


class SshPublicKeys(Repository):
    async def add(self, key: SshPublicKey) -> None:
        await self._add(key)

    async def get(self, key_id: str) -> SshPublicKey | None:
        return await self.db.get(SshPublicKey, key_id)

    async def for_principal(self, principal_key: str) -> Sequence[SshPublicKey]:
        stmt = (select(SshPublicKey).where(SshPublicKey.principal_key == principal_key)
                .order_by(SshPublicKey.uploaded_at, SshPublicKey.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def delete(self, key: SshPublicKey) -> None:
        await self.db.delete(key)
        await self.db.flush()


class SigningCertificates(Repository):
    async def add(self, certificate: SigningCertificate) -> None:
        await self._add(certificate)

    async def get(self, certificate_id: str) -> SigningCertificate | None:
        return await self.db.get(SigningCertificate, certificate_id)

    async def for_principal(self, principal_key: str) -> Sequence[SigningCertificate]:
        stmt = (select(SigningCertificate).where(SigningCertificate.principal_key == principal_key)
                .order_by(SigningCertificate.uploaded_at, SigningCertificate.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def by_digest(self, account_id: str, der_sha256: str) -> SigningCertificate | None:
        stmt = select(SigningCertificate).where(SigningCertificate.account_id == account_id,
                                                SigningCertificate.der_sha256 == der_sha256)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def delete(self, certificate: SigningCertificate) -> None:
        await self.db.delete(certificate)
        await self.db.flush()


class ServiceCredentials(Repository):
    async def add(self, credential: ServiceSpecificCredential) -> None:
        await self._add(credential)

    async def get(self, credential_id: str) -> ServiceSpecificCredential | None:
        return await self.db.get(ServiceSpecificCredential, credential_id)

    async def for_principal(self, principal_key: str, service_name: str | None = None
                            ) -> Sequence[ServiceSpecificCredential]:
        stmt = select(ServiceSpecificCredential).where(ServiceSpecificCredential.principal_key == principal_key)
        if service_name is not None:
            stmt = stmt.where(ServiceSpecificCredential.service_name == service_name)
        stmt = stmt.order_by(ServiceSpecificCredential.created_at, ServiceSpecificCredential.id)
        return (await self.db.execute(stmt)).scalars().all()

    async def in_account(self, account_id: str, service_name: str | None = None
                         ) -> Sequence[ServiceSpecificCredential]:
        """Every credential of the account (the lists read `page_in_account`)."""
        stmt = select(ServiceSpecificCredential).where(ServiceSpecificCredential.account_id == account_id)
        if service_name is not None:
            stmt = stmt.where(ServiceSpecificCredential.service_name == service_name)
        stmt = stmt.order_by(ServiceSpecificCredential.created_at, ServiceSpecificCredential.id)
        return (await self.db.execute(stmt)).scalars().all()

    async def page_in_account(self, account_id: str, service_name: str | None, after: tuple[float, str] | None,
                              limit: int) -> Sequence[tuple[ServiceSpecificCredential, str]]:
        """Up to `limit + 1` of the account's credentials after the key (created_at, id), each with its user's
        name ("" once the user is gone), from ix_service_specific_credentials_account_created."""
        stmt = select(ServiceSpecificCredential).where(ServiceSpecificCredential.account_id == account_id)
        if service_name is not None:
            stmt = stmt.where(ServiceSpecificCredential.service_name == service_name)
        stmt = page_of(stmt, (ServiceSpecificCredential.created_at, ServiceSpecificCredential.id), after, limit)
        rows = (await self.db.execute(stmt)).scalars().all()
        owners = {c.principal_key.removeprefix("user:") for c in rows}
        names: dict[str, str] = {}
        if owners:
            found = await self.db.execute(select(IamUser.id, IamUser.name).where(IamUser.id.in_(owners)))
            names = {user_id: name for user_id, name in found.all()}
        return [(c, names.get(c.principal_key.removeprefix("user:"), "")) for c in rows]

    async def delete(self, credential: ServiceSpecificCredential) -> None:
        await self.db.delete(credential)
        await self.db.flush()


class CredentialOwners(Repository):
    """Serializes changes counted against one owner's quota: a no-op UPDATE holds the owner's row until the unit
    ends (on SQLite it takes the write lock, which SELECT ... FOR UPDATE does not), so a second request counts
    after the first has committed."""

    async def lock_user(self, user_id: str) -> bool:
        """False when the user is gone (deleted by a request that held the row first)."""
        result = await self.db.execute(update(IamUser).where(IamUser.id == user_id).values(name=IamUser.name)
                                       .execution_options(synchronize_session=False))
        return rowcount(result) > 0

    async def lock_account(self, account_id: str) -> None:
        await self.db.execute(update(Account).where(Account.id == account_id).values(name=Account.name)
                              .execution_options(synchronize_session=False))
