"""A sign-in method checks one kind of credential and answers Verified, Failed or NotResponsible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ....core.flows.email_codes import EmailCode
from ....core.principals import PrincipalRef
from ....core.webauthn import PendingChallenge
from ....store.repositories import UnitOfWork
from ...mfa import CodeAttempt
from ...webauthn import AssertionContext


class Credential(StrEnum):
    """What a sign-in form submitted."""

    PASSWORD = "password"
    EMAIL_CODE = "email_code"
    TOTP = "totp"
    WEBAUTHN = "webauthn"  # a passkey's or security key's assertion (the browser's JSON)


@dataclass(frozen=True)
class Attempt:
    credential: Credential
    secret: str  # what the user typed
    principal: PrincipalRef | None  # None: nobody by that identifier (the password method still hashes)
    now: float
    password_hash: str | None = None
    email_code: EmailCode | None = None
    code_attempt: CodeAttempt | None = None  # a TOTP code: whose, from where, the audit event of a failure
    webauthn: WebAuthnAttempt | None = None  # an assertion: the challenge the flow kept (now spent), whose


@dataclass(frozen=True)
class WebAuthnAttempt:
    pending: PendingChallenge | None  # None: the flow held no challenge (the answer is refused)
    context: AssertionContext


@dataclass(frozen=True)
class Verified:
    method: str
    mfa: bool = False


@dataclass(frozen=True)
class Failed:
    method: str
    reason: str  # for the audit event; never shown to the user
    expired: bool = False  # the credential was right in form but no longer valid (a stale code)


@dataclass(frozen=True)
class NotResponsible:
    pass


MethodResult = Verified | Failed | NotResponsible


class SignInMethod(Protocol):
    @property
    def name(self) -> str: ...

    async def verify(self, attempt: Attempt, uow: UnitOfWork | None) -> MethodResult:
        """`uow` is the open transaction when the step runs in one; None when the check must not hold a
        database connection (argon2 runs for ~30 ms; a TOTP check opens its own units)."""
        ...


async def ask_in_turn(methods: Sequence[SignInMethod], attempt: Attempt, uow: UnitOfWork | None) -> MethodResult:
    """The first answer other than NotResponsible; NotResponsible when no method applies."""
    for method in methods:
        result = await method.verify(attempt, uow)
        if not isinstance(result, NotResponsible):
            return result
    return NotResponsible()
