"""Sign-in of a personal profile: email -> password (+CAPTCHA when risky; "This is a trusted device" may be
ticked) -> the second factor when the profile has one and the browser is not trusted -> done."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ..principals import PrincipalRef
from ..webauthn import PendingChallenge
from .base import Flow, FlowDataInvalid, FlowKind, FlowOutOfOrder, FlowSpec, JsonObject, PayloadReader

LIFETIME = 15 * 60


class ProfileSignInState(StrEnum):
    PASSWORD = "password"  # the email taken, the password next
    MFA = "mfa"  # the password verified, a second factor next
    DONE = "done"


@dataclass(frozen=True)
class ProfileSignIn:
    """What the flow knows so far; `principal` is set once the password is verified."""

    email: str  # lower-cased, as typed (known or not)
    principal: PrincipalRef | None = None
    trust: bool = False  # "This is a trusted device" was ticked: a passed MFA step trusts this browser
    risky: bool = False
    webauthn: PendingChallenge | None = None  # the MFA page's WebAuthn challenge (hashed), spent by an answer

    def verified_principal(self) -> PrincipalRef:
        if self.principal is None:
            raise FlowOutOfOrder()
        return self.principal

    def password_verified(self, principal: PrincipalRef, *, trust: bool, risky: bool) -> ProfileSignIn:
        return replace(self, principal=principal, trust=trust, risky=risky)


class _Codec:
    def encode(self, payload: ProfileSignIn) -> JsonObject:
        return {"email": payload.email, "principal": payload.principal.key if payload.principal else None,
                "trust": payload.trust, "risky": payload.risky,
                "webauthn": dict(payload.webauthn.encode()) if payload.webauthn else None}

    def decode(self, data: PayloadReader) -> ProfileSignIn:
        challenge = data.optional_nested("webauthn")
        try:
            webauthn = PendingChallenge.decode(dict(challenge.data)) if challenge else None
        except ValueError:
            raise FlowDataInvalid("unreadable WebAuthn challenge") from None
        return ProfileSignIn(data.string("email"), data.optional_principal("principal"), data.flag("trust"),
                             data.flag("risky"), webauthn)


_S = ProfileSignInState

SPEC: FlowSpec[ProfileSignInState, ProfileSignIn] = FlowSpec(
    kind=FlowKind.PROFILE_SIGNIN,
    states=ProfileSignInState,
    initial=_S.PASSWORD,
    done=_S.DONE,
    transitions={
        _S.PASSWORD: frozenset({_S.MFA, _S.DONE}),
        _S.MFA: frozenset({_S.DONE}),
    },
    lifetime=LIFETIME,
    codec=_Codec(),
)

ProfileSignInFlow = Flow[ProfileSignInState, ProfileSignIn]
