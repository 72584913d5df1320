"""Sign-up of a personal profile: email -> name -> the code mailed to the address -> password -> done.

The flow goes on the same way whether or not the address already has a profile (that address is mailed a
notice instead of a code, so no code can be right); only the mailbox learns that the address is taken."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .base import Flow, FlowKind, FlowOutOfOrder, FlowSpec, JsonObject, PayloadReader
from .email_codes import EmailCode

LIFETIME = 30 * 60


class ProfileSignUpState(StrEnum):
    NAME = "name"  # the email taken, the name next
    VERIFY_EMAIL = "verify_email"  # the code mailed, to be typed
    PASSWORD = "password"  # the address proven: password, confirmation (and a CAPTCHA when risky)
    DONE = "done"


@dataclass(frozen=True)
class ProfileSignUp:
    email: str  # lower-cased
    name: str = ""
    email_code: EmailCode | None = None
    risky: bool = False  # a CAPTCHA was needed to mail the code: the password step asks one too

    def pending_code(self) -> EmailCode:
        if self.email_code is None:
            raise FlowOutOfOrder()
        return self.email_code

    def named(self, name: str, code: EmailCode, *, risky: bool) -> ProfileSignUp:
        return replace(self, name=name, email_code=code, risky=risky)


class _Codec:
    def encode(self, payload: ProfileSignUp) -> JsonObject:
        return {"email": payload.email, "name": payload.name,
                "email_code": payload.email_code.encode() if payload.email_code else None, "risky": payload.risky}

    def decode(self, data: PayloadReader) -> ProfileSignUp:
        code = data.optional_nested("email_code")
        return ProfileSignUp(data.string("email"), data.string("name"), EmailCode.decode(code) if code else None,
                             data.flag("risky"))


_S = ProfileSignUpState

SPEC: FlowSpec[ProfileSignUpState, ProfileSignUp] = FlowSpec(
    kind=FlowKind.PROFILE_SIGNUP,
    states=ProfileSignUpState,
    initial=_S.NAME,
    done=_S.DONE,
    transitions={
        _S.NAME: frozenset({_S.VERIFY_EMAIL}),
        _S.VERIFY_EMAIL: frozenset({_S.PASSWORD}),
        _S.PASSWORD: frozenset({_S.DONE}),
    },
    lifetime=LIFETIME,
    codec=_Codec(),
)

ProfileSignUpFlow = Flow[ProfileSignUpState, ProfileSignUp]
