"""Console sign-in of a root user or an IAM user.

root: email -> password (+CAPTCHA when risky) -> MFA code, or a mailed code on a new browser -> done
iam:  account + user name + password -> MFA code -> forced new password -> done
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ..principals import PrincipalRef
from ..webauthn import PendingChallenge
from .base import Flow, FlowDataInvalid, FlowKind, FlowOutOfOrder, FlowSpec, JsonObject, PayloadReader
from .email_codes import EmailCode

LIFETIME = 15 * 60


class ConsoleSignInState(StrEnum):
    PASSWORD = "password"  # identifier known, password (and CAPTCHA if risky) next
    MFA = "mfa"  # password verified, an MFA code next
    EMAIL_CODE = "email_code"  # password verified, the mailed one-time code next
    NEW_PASSWORD = "new_password"  # verified, but the password must be changed first
    REOPEN = "reopen"  # a closed account's root user passed every step: reopen it, or not
    DONE = "done"


class Audience(StrEnum):
    ROOT = "root"
    IAM = "iam"


@dataclass(frozen=True)
class ConsoleSignIn:
    """What the flow knows so far. `principal` is set once the password is verified."""

    audience: Audience
    email: str = ""  # root sign-in: the normalised email typed on the start page
    principal: PrincipalRef | None = None
    account_id: str = ""
    risky: bool = False
    must_change_password: bool = False
    password_expired: bool = False
    mfa_used: bool = False
    email_code: EmailCode | None = None
    reopening: bool = False  # the root user of a closed account: the last step leads to REOPEN, not DONE
    webauthn: PendingChallenge | None = None  # the MFA page's WebAuthn challenge (hashed), spent by an answer

    def verified_principal(self) -> PrincipalRef:
        if self.principal is None:
            raise FlowOutOfOrder()
        return self.principal

    def pending_code(self) -> EmailCode:
        if self.email_code is None:
            raise FlowOutOfOrder()
        return self.email_code

    def password_verified(self, principal: PrincipalRef, account_id: str, *, risky: bool,
                          must_change_password: bool = False, password_expired: bool = False) -> ConsoleSignIn:
        return replace(self, principal=principal, account_id=account_id, risky=risky,
                       must_change_password=must_change_password, password_expired=password_expired)


class _Codec:
    def encode(self, payload: ConsoleSignIn) -> JsonObject:
        return {
            "audience": payload.audience.value,
            "email": payload.email,
            "principal": payload.principal.key if payload.principal else None,
            "account_id": payload.account_id,
            "risky": payload.risky,
            "must_change_password": payload.must_change_password,
            "password_expired": payload.password_expired,
            "mfa_used": payload.mfa_used,
            "email_code": payload.email_code.encode() if payload.email_code else None,
            "reopening": payload.reopening,
            "webauthn": dict(payload.webauthn.encode()) if payload.webauthn else None,
        }

    def decode(self, data: PayloadReader) -> ConsoleSignIn:
        code = data.optional_nested("email_code")
        challenge = data.optional_nested("webauthn")  # absent in flows from before WebAuthn
        try:
            audience = Audience(data.string("audience"))
            webauthn = PendingChallenge.decode(dict(challenge.data)) if challenge else None
        except ValueError:
            raise FlowDataInvalid("unknown audience or WebAuthn challenge") from None
        return ConsoleSignIn(
            audience=audience,
            email=data.string("email"),
            principal=data.optional_principal("principal"),
            account_id=data.string("account_id"),
            risky=data.flag("risky"),
            must_change_password=data.flag("must_change_password"),
            password_expired=data.flag("password_expired"),
            mfa_used=data.flag("mfa_used"),
            email_code=EmailCode.decode(code) if code else None,
            reopening="reopening" in data.data and data.flag("reopening"),  # flows from before 0025
            webauthn=webauthn,
        )


_S = ConsoleSignInState

SPEC: FlowSpec[ConsoleSignInState, ConsoleSignIn] = FlowSpec(
    kind=FlowKind.CONSOLE_SIGNIN,
    states=ConsoleSignInState,
    initial=_S.PASSWORD,
    done=_S.DONE,
    transitions={
        _S.PASSWORD: frozenset({_S.MFA, _S.EMAIL_CODE, _S.NEW_PASSWORD, _S.DONE}),
        _S.MFA: frozenset({_S.NEW_PASSWORD, _S.DONE, _S.REOPEN}),
        _S.EMAIL_CODE: frozenset({_S.DONE, _S.REOPEN}),
        _S.REOPEN: frozenset({_S.DONE}),
        _S.NEW_PASSWORD: frozenset({_S.DONE}),
    },
    lifetime=LIFETIME,
    codec=_Codec(),
)

ConsoleSignInFlow = Flow[ConsoleSignInState, ConsoleSignIn]
