"""A passkey's or security key's assertion, through the one WebAuthn path (services/webauthn): the challenge the
flow kept, the principal's own credential, a counter that moved forward. Failures are audited there."""

from __future__ import annotations

from dataclasses import dataclass

from ....store.repositories import UnitOfWork
from ... import webauthn
from ...context import Deps
from .base import Attempt, Credential, Failed, MethodResult, NotResponsible, Verified


@dataclass(frozen=True)
class WebAuthnMethod:
    deps: Deps
    name: str = "webauthn"

    async def verify(self, attempt: Attempt, uow: UnitOfWork | None) -> MethodResult:
        if attempt.credential != Credential.WEBAUTHN or attempt.webauthn is None:
            return NotResponsible()
        found = await webauthn.verify_assertion(self.deps, attempt.webauthn.context, attempt.webauthn.pending,
                                                attempt.secret)
        if found is None:
            return Failed(self.name, "WebAuthn assertion refused")
        return Verified(self.name, mfa=True)
