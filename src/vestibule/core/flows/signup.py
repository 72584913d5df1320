"""Public sign-up: details + CAPTCHA -> the code mailed to the address -> account created and signed in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader
from .email_codes import EmailCode

LIFETIME = 30 * 60


class SignUpState(StrEnum):
    VERIFY_EMAIL = "verify_email"  # details taken, the mailed code next
    DONE = "done"


@dataclass(frozen=True)
class SignUp:
    email: str
    account_name: str
    password_hash: str  # the argon2id hash of the chosen password, never the password
    email_code: EmailCode


class _Codec:
    def encode(self, payload: SignUp) -> JsonObject:
        return {"email": payload.email, "account_name": payload.account_name,
                "password_hash": payload.password_hash, "email_code": payload.email_code.encode()}

    def decode(self, data: PayloadReader) -> SignUp:
        return SignUp(data.string("email"), data.string("account_name"), data.string("password_hash"),
                      EmailCode.decode(data.nested("email_code")))


SPEC: FlowSpec[SignUpState, SignUp] = FlowSpec(
    kind=FlowKind.SIGNUP,
    states=SignUpState,
    initial=SignUpState.VERIFY_EMAIL,
    done=SignUpState.DONE,
    transitions={SignUpState.VERIFY_EMAIL: frozenset({SignUpState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

SignUpFlow = Flow[SignUpState, SignUp]
