"""Password: argon2id off the event loop; an unknown principal is checked against the dummy hash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ....store.repositories import UnitOfWork
from .base import Attempt, Credential, Failed, MethodResult, NotResponsible, Verified

PasswordCheck = Callable[[str | None, str], Awaitable[bool]]


@dataclass(frozen=True)
class PasswordMethod:
    check: PasswordCheck  # (stored hash or None, password) -> matches
    name: str = "password"

    async def verify(self, attempt: Attempt, uow: UnitOfWork | None) -> MethodResult:
        if attempt.credential != Credential.PASSWORD:
            return NotResponsible()
        stored = attempt.password_hash if attempt.principal is not None else None
        matches = await self.check(stored, attempt.secret)
        if attempt.principal is None:
            return Failed(self.name, "unknown principal")
        return Verified(self.name) if matches else Failed(self.name, "wrong password")
