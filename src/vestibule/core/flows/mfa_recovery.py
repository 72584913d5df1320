"""Signing in as the root user without the MFA device ("Trouble signing in?" on the MFA step).

Started from a console sign-in whose password was verified (so a stranger never reaches it). Two proofs are
needed, in one browser: the single-use link mailed to the root email (it names this flow and carries a token
whose hash the flow keeps) and one of the root user's recovery codes, typed on the page the link opens.

link_sent -> done"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from ..principals import PrincipalRef
from ..tokens import token_matches
from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader

LINK_LIFETIME = 3600  # the mailed link: one hour at most (DESIGN: reset links <= 1 h); the flow lasts as long
MAX_RESENDS = 3


class MfaRecoveryState(StrEnum):
    LINK_SENT = "link_sent"  # the link is mailed: opening it in this browser asks for a recovery code
    DONE = "done"


@dataclass(frozen=True)
class MfaRecovery:
    principal: PrincipalRef  # the root user whose password was verified
    account_id: str
    link_hash: str  # SHA-256 of the newest mailed link's token (a resend replaces it)
    link_expires_at: float
    resent: int = 0

    def link_matches(self, token: str, now: float) -> bool:
        """Constant-time comparison with the newest link, while it is alive."""
        return bool(token) and now < self.link_expires_at and token_matches(token, self.link_hash)

    def new_link(self, link_hash: str, expires_at: float) -> MfaRecovery:
        return replace(self, link_hash=link_hash, link_expires_at=expires_at, resent=self.resent + 1)


class _Codec:
    def encode(self, payload: MfaRecovery) -> JsonObject:
        return {"principal": payload.principal.key, "account_id": payload.account_id,
                "link_hash": payload.link_hash, "link_expires_at": payload.link_expires_at,
                "resent": payload.resent}

    def decode(self, data: PayloadReader) -> MfaRecovery:
        return MfaRecovery(data.principal("principal"), data.string("account_id"), data.string("link_hash"),
                           data.number("link_expires_at"), data.integer("resent"))


SPEC: FlowSpec[MfaRecoveryState, MfaRecovery] = FlowSpec(
    kind=FlowKind.MFA_RECOVERY,
    states=MfaRecoveryState,
    initial=MfaRecoveryState.LINK_SENT,
    done=MfaRecoveryState.DONE,
    transitions={MfaRecoveryState.LINK_SENT: frozenset({MfaRecoveryState.DONE})},
    lifetime=LINK_LIFETIME,
    codec=_Codec(),
)

MfaRecoveryFlow = Flow[MfaRecoveryState, MfaRecovery]


# ---- new recovery codes waiting to be shown, once ---------------------------------------------------------
# The codes are made by a POST (a device added, a new set asked for) that answers with a redirect; the page it
# leads to shows them once. Until then they wait here, sealed, under an ID derived from the session, in the
# browser that asked: the first page that shows them completes the flow (compare-and-set), so none shows twice.

REVEAL_LIFETIME = 10 * 60


class CodesRevealState(StrEnum):
    PENDING = "pending"
    DONE = "done"


@dataclass(frozen=True)
class CodesReveal:
    principal: PrincipalRef
    codes_sealed: str


class _RevealCodec:
    def encode(self, payload: CodesReveal) -> JsonObject:
        return {"principal": payload.principal.key, "codes_sealed": payload.codes_sealed}

    def decode(self, data: PayloadReader) -> CodesReveal:
        return CodesReveal(data.principal("principal"), data.string("codes_sealed"))


REVEAL_SPEC: FlowSpec[CodesRevealState, CodesReveal] = FlowSpec(
    kind=FlowKind.CODES_REVEAL,
    states=CodesRevealState,
    initial=CodesRevealState.PENDING,
    done=CodesRevealState.DONE,
    transitions={CodesRevealState.PENDING: frozenset({CodesRevealState.DONE})},
    lifetime=REVEAL_LIFETIME,
    codec=_RevealCodec(),
)

CodesRevealFlow = Flow[CodesRevealState, CodesReveal]


def reveal_id(session_hash: str) -> str:
    """The reveal flow of one session (64 hex characters, as a flow ID may be)."""
    return hashlib.sha256(f"recovery-codes-reveal:{session_hash}".encode()).hexdigest()
