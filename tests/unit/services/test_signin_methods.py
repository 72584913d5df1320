"""The sign-in methods that need no database: password and mailed code answer Verified, Failed or
NotResponsible; `ask_in_turn` takes the first answer that is not NotResponsible."""

from __future__ import annotations

import asyncio

import pytest

from vestibule.core.flows.email_codes import EmailCode
from vestibule.core.passwords import HashParameters, PasswordHasher
from vestibule.core.principals import PrincipalRef
from vestibule.core.tokens import hash_token
from vestibule.services.signin.methods import (
    Attempt,
    Credential,
    EmailCodeMethod,
    Failed,
    NotResponsible,
    PasswordMethod,
    SignInMethod,
    Verified,
    ask_in_turn,
)

T = 1_700_000_000.0
ROOT = PrincipalRef.root("123456789012")
HASHER = PasswordHasher(HashParameters(memory_kib=1024, time_cost=1, parallelism=1))
STORED = HASHER.hash("correct horse")


async def _check(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(HASHER.verify, stored, password)


PASSWORD = PasswordMethod(_check)
CODE = EmailCodeMethod()
PENDING = EmailCode(hash_token("123456"), T + 600)


def _password(secret: str, principal: PrincipalRef | None = ROOT, stored: str | None = STORED) -> Attempt:
    return Attempt(Credential.PASSWORD, secret, principal, T, password_hash=stored)


def _code(secret: str, code: EmailCode | None = PENDING, now: float = T) -> Attempt:
    return Attempt(Credential.EMAIL_CODE, secret, ROOT, now, email_code=code)


async def test_password_verified() -> None:
    assert await PASSWORD.verify(_password("correct horse"), None) == Verified("password")


async def test_password_wrong() -> None:
    assert await PASSWORD.verify(_password("wrong horse"), None) == Failed("password", "wrong password")


async def test_password_of_unknown_principal_fails_after_hashing() -> None:
    before = HASHER.verifications
    result = await PASSWORD.verify(_password("correct horse", principal=None), None)
    assert result == Failed("password", "unknown principal")
    assert HASHER.verifications == before + 1, "the dummy hash runs, so timing does not tell"


async def test_password_without_stored_hash_fails() -> None:
    assert isinstance(await PASSWORD.verify(_password("correct horse", stored=None), None), Failed)


@pytest.mark.parametrize("credential", [Credential.EMAIL_CODE, Credential.TOTP])
async def test_password_not_responsible_for_codes(credential: Credential) -> None:
    before = HASHER.verifications
    attempt = Attempt(credential, "correct horse", ROOT, T, password_hash=STORED)
    assert await PASSWORD.verify(attempt, None) == NotResponsible()
    assert HASHER.verifications == before


@pytest.mark.parametrize("typed", ["123456", " 123456 "])
async def test_email_code_verified(typed: str) -> None:
    assert await CODE.verify(_code(typed), None) == Verified("email_code")


@pytest.mark.parametrize("typed", ["654321", "", "1234567", "12345"])
async def test_email_code_wrong(typed: str) -> None:
    assert await CODE.verify(_code(typed), None) == Failed("email_code", "wrong verification code")


async def test_email_code_expired_even_when_right() -> None:
    result = await CODE.verify(_code("123456", now=T + 600), None)
    assert isinstance(result, Failed) and result.expired


async def test_email_code_not_responsible_without_a_pending_code_or_for_a_password() -> None:
    assert await CODE.verify(_code("123456", code=None), None) == NotResponsible()
    attempt = Attempt(Credential.PASSWORD, "123456", ROOT, T, email_code=PENDING)
    assert await CODE.verify(attempt, None) == NotResponsible()


async def test_ask_in_turn_skips_methods_that_are_not_responsible() -> None:
    methods: tuple[SignInMethod, ...] = (PASSWORD, CODE)
    assert await ask_in_turn(methods, _code("123456"), None) == Verified("email_code")
    assert await ask_in_turn(methods, _code("000000"), None) == Failed("email_code", "wrong verification code")
    assert await ask_in_turn(methods, _password("correct horse"), None) == Verified("password")
    totp = Attempt(Credential.TOTP, "123456", ROOT, T)
    assert await ask_in_turn(methods, totp, None) == NotResponsible()
    assert await ask_in_turn((), totp, None) == NotResponsible()
