"""A root email change: the new address gets a 6-digit code (10 minutes, a few resends, each after a short
wait); the right code in the same session and browser changes the address. The old address then gets an
undo link (7 days, single use), opened as a short flow bound to the browser that opened it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader
from .email_codes import EmailCode

LIFETIME = 30 * 60
RESEND_WAIT = 30  # seconds between two codes of one change
UNDO_LIFETIME = 7 * 86400
UNDO_FLOW_LIFETIME = 15 * 60


class RootEmailState(StrEnum):
    VERIFY_CODE = "verify_code"  # the code was mailed to the new address
    DONE = "done"


@dataclass(frozen=True)
class RootEmailChangeRequest:
    account_id: str
    session_hash: str  # the session that asked: another session (or a copied flow ID) cannot finish it
    old_email: str
    new_email: str
    email_code: EmailCode
    sent_at: float  # when the last code was queued (the next waits RESEND_WAIT)
    deliverable: bool  # False when the address cannot be used: a notice went there instead of a code

    def resend_in(self, now: float) -> int:
        """Seconds before another code may be sent (0: now)."""
        return max(0, int(self.sent_at + RESEND_WAIT - now + 0.999))


class _Codec:
    def encode(self, p: RootEmailChangeRequest) -> JsonObject:
        return {"account_id": p.account_id, "session_hash": p.session_hash, "old_email": p.old_email,
                "new_email": p.new_email, "email_code": p.email_code.encode(), "sent_at": p.sent_at,
                "deliverable": p.deliverable}

    def decode(self, data: PayloadReader) -> RootEmailChangeRequest:
        return RootEmailChangeRequest(data.string("account_id"), data.string("session_hash"),
                                      data.string("old_email"), data.string("new_email"),
                                      EmailCode.decode(data.nested("email_code")), data.number("sent_at"),
                                      data.flag("deliverable"))


SPEC: FlowSpec[RootEmailState, RootEmailChangeRequest] = FlowSpec(
    kind=FlowKind.ROOT_EMAIL,
    states=RootEmailState,
    initial=RootEmailState.VERIFY_CODE,
    done=RootEmailState.DONE,
    transitions={RootEmailState.VERIFY_CODE: frozenset({RootEmailState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

RootEmailFlow = Flow[RootEmailState, RootEmailChangeRequest]


class UndoState(StrEnum):
    CONFIRM = "confirm"  # the link was opened in this browser; the owner confirms next
    DONE = "done"


@dataclass(frozen=True)
class UndoLink:
    token_hash: str


class _UndoCodec:
    def encode(self, p: UndoLink) -> JsonObject:
        return {"token_hash": p.token_hash}

    def decode(self, data: PayloadReader) -> UndoLink:
        return UndoLink(data.string("token_hash"))


UNDO_SPEC: FlowSpec[UndoState, UndoLink] = FlowSpec(
    kind=FlowKind.EMAIL_UNDO,
    states=UndoState,
    initial=UndoState.CONFIRM,
    done=UndoState.DONE,
    transitions={UndoState.CONFIRM: frozenset({UndoState.DONE})},
    lifetime=UNDO_FLOW_LIFETIME,
    codec=_UndoCodec(),
)

UndoFlow = Flow[UndoState, UndoLink]
