"""The WebAuthn challenge of a personal profile's deletion page: one flow per session (its ID derived from the
session), bound to the browser, short-lived. A reload shows the same challenge while it has time left; an answer
spends it (cleared, one attempt counted, compare-and-set) before it is checked.

pending -> done"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from ..principals import PrincipalRef
from ..webauthn import CHALLENGE_LIFETIME, PendingChallenge
from .base import Flow, FlowDataInvalid, FlowKind, FlowSpec, JsonObject, PayloadReader

LIFETIME = CHALLENGE_LIFETIME  # the page is shown again (a new challenge) after it


class ProfileDeleteState(StrEnum):
    PENDING = "pending"
    DONE = "done"


@dataclass(frozen=True)
class ProfileDelete:
    principal: PrincipalRef
    webauthn: PendingChallenge | None = None


class _Codec:
    def encode(self, payload: ProfileDelete) -> JsonObject:
        return {"principal": payload.principal.key,
                "webauthn": dict(payload.webauthn.encode()) if payload.webauthn else None}

    def decode(self, data: PayloadReader) -> ProfileDelete:
        challenge = data.optional_nested("webauthn")
        try:
            webauthn = PendingChallenge.decode(dict(challenge.data)) if challenge else None
        except ValueError:
            raise FlowDataInvalid("unreadable WebAuthn challenge") from None
        return ProfileDelete(data.principal("principal"), webauthn)


SPEC: FlowSpec[ProfileDeleteState, ProfileDelete] = FlowSpec(
    kind=FlowKind.PROFILE_DELETE,
    states=ProfileDeleteState,
    initial=ProfileDeleteState.PENDING,
    done=ProfileDeleteState.DONE,
    transitions={ProfileDeleteState.PENDING: frozenset({ProfileDeleteState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

ProfileDeleteFlow = Flow[ProfileDeleteState, ProfileDelete]


def flow_id_of(session_hash: str) -> str:
    """The deletion flow of one session (64 hex characters, as a flow ID may be)."""
    return hashlib.sha256(f"profile-delete:{session_hash}".encode()).hexdigest()
