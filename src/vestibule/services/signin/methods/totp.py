"""A code from one of the principal's enabled virtual MFA devices, through the one TOTP path (services/mfa)."""

from __future__ import annotations

from dataclasses import dataclass

from ....store.repositories import UnitOfWork
from ... import mfa
from ...context import Deps
from .base import Attempt, Credential, Failed, MethodResult, NotResponsible, Verified


@dataclass(frozen=True)
class TotpMethod:
    deps: Deps  # services/mfa opens sealed secrets with the box and reads the clock
    name: str = "mfa"

    async def verify(self, attempt: Attempt, uow: UnitOfWork | None) -> MethodResult:
        """Counted, throttled and audited by the one TOTP check (TooManyAttempts while it refuses)."""
        if attempt.credential != Credential.TOTP or attempt.principal is None or attempt.code_attempt is None:
            return NotResponsible()
        if await mfa.verify_principal_code(self.deps, attempt.code_attempt, attempt.secret) is None:
            return Failed(self.name, "wrong or reused MFA code")
        return Verified(self.name, mfa=True)
