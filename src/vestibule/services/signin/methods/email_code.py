"""A one-time code mailed to an address (the principal's, or one signing up), kept in the flow as a hash."""

from __future__ import annotations

from dataclasses import dataclass

from ....core.tokens import token_matches
from ....store.repositories import UnitOfWork
from .base import Attempt, Credential, Failed, MethodResult, NotResponsible, Verified


@dataclass(frozen=True)
class EmailCodeMethod:
    name: str = "email_code"

    async def verify(self, attempt: Attempt, uow: UnitOfWork | None) -> MethodResult:
        code = attempt.email_code
        if attempt.credential != Credential.EMAIL_CODE or code is None:
            return NotResponsible()
        if code.expired(attempt.now):
            return Failed(self.name, "verification code expired", expired=True)
        if token_matches(attempt.secret.strip(), code.code_hash):
            return Verified(self.name)
        return Failed(self.name, "wrong verification code")
