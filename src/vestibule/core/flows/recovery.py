"""Root password recovery: a single-use emailed link (a token whose hash is a `recovery_tokens` row), and
the short flow it is exchanged for on first use, so the token leaves the address bar (and every log and
`Referer` after that first request): the flow is bound to the browser that opened the link."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader

LINK_LIFETIME = 3600
FLOW_LIFETIME = 15 * 60


class RecoveryLinkState(StrEnum):
    ISSUED = "issued"
    USED = "used"  # followed once, or superseded by a newer link
    EXPIRED = "expired"  # past its hour


@dataclass(frozen=True)
class RecoveryLink:
    account_id: str
    created_at: float
    expires_at: float
    used_at: float | None

    def state(self, now: float) -> RecoveryLinkState:
        if self.used_at is not None:
            return RecoveryLinkState.USED
        if now >= self.expires_at:
            return RecoveryLinkState.EXPIRED
        return RecoveryLinkState.ISSUED

    def usable(self, now: float) -> bool:
        return self.state(now) == RecoveryLinkState.ISSUED


class RecoveryState(StrEnum):
    NEW_PASSWORD = "new_password"  # the link was opened in this browser; the new password comes next
    DONE = "done"


@dataclass(frozen=True)
class RecoveryReset:
    token_hash: str  # which link this flow was opened from; the link itself is still what is consumed


class _Codec:
    def encode(self, payload: RecoveryReset) -> JsonObject:
        return {"token_hash": payload.token_hash}

    def decode(self, data: PayloadReader) -> RecoveryReset:
        return RecoveryReset(data.string("token_hash"))


SPEC: FlowSpec[RecoveryState, RecoveryReset] = FlowSpec(
    kind=FlowKind.RECOVERY,
    states=RecoveryState,
    initial=RecoveryState.NEW_PASSWORD,
    done=RecoveryState.DONE,
    transitions={RecoveryState.NEW_PASSWORD: frozenset({RecoveryState.DONE})},
    lifetime=FLOW_LIFETIME,
    codec=_Codec(),
)

RecoveryFlow = Flow[RecoveryState, RecoveryReset]
