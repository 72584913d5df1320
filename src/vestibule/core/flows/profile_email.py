"""A personal profile's email change: the new address gets a 6-digit code (10 minutes, a few resends, each after
a short wait); the right code, typed in the same profile session and browser, changes the address.

An address that another profile uses is never refused on the page: the flow goes on the same way, the address
gets a notice instead of a code (`deliverable` False), and no code can finish it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader
from .email_codes import EmailCode

LIFETIME = 30 * 60


class ProfileEmailState(StrEnum):
    VERIFY_CODE = "verify_code"  # the code (or the notice) was mailed to the new address
    DONE = "done"


@dataclass(frozen=True)
class ProfileEmailChange:
    profile_id: str
    session_hash: str  # the session that asked: another session (or a copied flow ID) cannot finish it
    old_email: str
    new_email: str
    email_code: EmailCode  # the last code mailed (its send time is its expiry minus its lifetime)
    deliverable: bool  # False when the address has another profile: a notice went there instead of a code


class _Codec:
    def encode(self, p: ProfileEmailChange) -> JsonObject:
        return {"profile_id": p.profile_id, "session_hash": p.session_hash, "old_email": p.old_email,
                "new_email": p.new_email, "email_code": p.email_code.encode(), "deliverable": p.deliverable}

    def decode(self, data: PayloadReader) -> ProfileEmailChange:
        return ProfileEmailChange(data.string("profile_id"), data.string("session_hash"), data.string("old_email"),
                                  data.string("new_email"), EmailCode.decode(data.nested("email_code")),
                                  data.flag("deliverable"))


SPEC: FlowSpec[ProfileEmailState, ProfileEmailChange] = FlowSpec(
    kind=FlowKind.PROFILE_EMAIL,
    states=ProfileEmailState,
    initial=ProfileEmailState.VERIFY_CODE,
    done=ProfileEmailState.DONE,
    transitions={ProfileEmailState.VERIFY_CODE: frozenset({ProfileEmailState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

ProfileEmailFlow = Flow[ProfileEmailState, ProfileEmailChange]
