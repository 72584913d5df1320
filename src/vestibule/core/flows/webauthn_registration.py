"""Adding a passkey or security key: the options were sent to the browser, its answer is awaited.

Any principal (root user, IAM user, personal profile) registers through this one flow, bound to the browser that
asked; the challenge is kept as its SHA-256 and cleared when an answer is checked (single use)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..webauthn import CredentialKind, PendingChallenge
from .base import Flow, FlowDataInvalid, FlowKind, FlowOutOfOrder, FlowSpec, JsonObject, PayloadReader

LIFETIME = 300


class WebAuthnRegistrationState(StrEnum):
    AWAITING = "awaiting"  # options sent: the authenticator's answer next
    DONE = "done"


@dataclass(frozen=True)
class WebAuthnRegistration:
    principal_key: str
    kind: CredentialKind
    user_handle: str  # base64url of the WebAuthn user ID the options named
    challenge: PendingChallenge | None  # None once an answer was checked

    def pending(self) -> PendingChallenge:
        if self.challenge is None:
            raise FlowOutOfOrder()
        return self.challenge


class _Codec:
    def encode(self, payload: WebAuthnRegistration) -> JsonObject:
        return {"principal_key": payload.principal_key, "kind": payload.kind.value,
                "user_handle": payload.user_handle,
                "challenge": dict(payload.challenge.encode()) if payload.challenge else None}

    def decode(self, data: PayloadReader) -> WebAuthnRegistration:
        challenge = data.optional_nested("challenge")
        try:
            kind = CredentialKind(data.string("kind"))
            pending = PendingChallenge.decode(dict(challenge.data)) if challenge else None
        except ValueError:
            raise FlowDataInvalid("bad WebAuthn registration") from None
        return WebAuthnRegistration(data.string("principal_key"), kind, data.string("user_handle"), pending)


_S = WebAuthnRegistrationState

SPEC: FlowSpec[WebAuthnRegistrationState, WebAuthnRegistration] = FlowSpec(
    kind=FlowKind.WEBAUTHN_REGISTRATION,
    states=WebAuthnRegistrationState,
    initial=_S.AWAITING,
    done=_S.DONE,
    transitions={_S.AWAITING: frozenset({_S.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
    max_attempts=1,
)

WebAuthnRegistrationFlow = Flow[WebAuthnRegistrationState, WebAuthnRegistration]
