"""One-time use of SAML assertions (table saml_assertion_uses, migration 0033)."""

from __future__ import annotations

from ..models.saml_assertions import SamlAssertionUse
from .base import Repository


class SamlAssertionUses(Repository):
    async def add(self, id_hash: str, expires_at: float) -> None:
        """Records an assertion as used; Conflict when it was used before (a replay), on any node."""
        await self._add(SamlAssertionUse(id_hash=id_hash, expires_at=expires_at))
