"""A one-time code mailed during a flow (sign-in on a new browser, sign-up): only its hash is kept."""

from __future__ import annotations

from dataclasses import dataclass

from .base import JsonObject, PayloadReader

EMAIL_CODE_LIFETIME = 10 * 60
MAX_RESENDS = 3
RESEND_WAIT = 30  # seconds after a code was mailed before a new one may be asked for (sign-up)


@dataclass(frozen=True)
class EmailCode:
    code_hash: str
    expires_at: float
    resent: int = 0

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def resend_wait(self, now: float) -> int:
        """Whole seconds left before a new code may be mailed (0: now); a code is mailed when it is issued."""
        sent_at = self.expires_at - EMAIL_CODE_LIFETIME
        return max(0, int(sent_at + RESEND_WAIT - now + 0.999))

    def encode(self) -> JsonObject:
        return {"code_hash": self.code_hash, "expires_at": self.expires_at, "resent": self.resent}

    @classmethod
    def decode(cls, data: PayloadReader) -> EmailCode:
        return cls(data.string("code_hash"), data.number("expires_at"), data.integer("resent"))
