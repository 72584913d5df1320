"""A personal profile's forgotten password: a single-use mailed link (one hour), then a page bound to the
browser that opened it, so the token is in one request's URL only.

Both are flows of this kind. The link is an API flow (bound to no browser) whose ID is the SHA-256 of the
mailed token, so the token itself is stored nowhere; opening it makes a browser flow (state `new_password`)
that names the link. Setting the password completes both. A link also dies when the profile's password changed
after it was mailed (any other link used, a change on Security), so only links newer than the password work, and
when the profile's address changed since (the link went to the old mailbox)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader

LINK_LIFETIME = 3600  # DESIGN: reset links <= 1 hour
PAGE_LIFETIME = 15 * 60


class ProfileResetState(StrEnum):
    LINK = "link"  # mailed, not used yet (the API flow named by the token's hash)
    NEW_PASSWORD = "new_password"  # the link opened in this browser: the new password next
    DONE = "done"


@dataclass(frozen=True)
class ProfileReset:
    profile_id: str
    password_changed_at: float  # the profile's password when the link was mailed: a newer one kills the link
    email: str = ""  # the address it was mailed to: an email change since kills the link too
    link_id: str = ""  # the browser flow's link (its flow ID); "" in the link itself


class _Codec:
    def encode(self, payload: ProfileReset) -> JsonObject:
        return {"profile_id": payload.profile_id, "password_changed_at": payload.password_changed_at,
                "email": payload.email, "link_id": payload.link_id}

    def decode(self, data: PayloadReader) -> ProfileReset:
        return ProfileReset(data.string("profile_id"), data.number("password_changed_at"), data.string("email"),
                            data.string("link_id"))


_S = ProfileResetState

SPEC: FlowSpec[ProfileResetState, ProfileReset] = FlowSpec(
    kind=FlowKind.PROFILE_RESET,
    states=ProfileResetState,
    initial=_S.LINK,
    done=_S.DONE,
    transitions={_S.LINK: frozenset({_S.DONE}), _S.NEW_PASSWORD: frozenset({_S.DONE})},
    lifetime=LINK_LIFETIME,
    codec=_Codec(),
)

ProfileResetFlow = Flow[ProfileResetState, ProfileReset]
