"""A one-time code mailed during a flow (sign-in on a new browser, sign-up): only its hash is kept."""

from __future__ import annotations

from dataclasses import dataclass

from .base import JsonObject, PayloadReader

EMAIL_CODE_LIFETIME = 10 * 60
MAX_RESENDS = 3


@dataclass(frozen=True)
class EmailCode:
    code_hash: str
    expires_at: float
    resent: int = 0

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def encode(self) -> JsonObject:
        return {"code_hash": self.code_hash, "expires_at": self.expires_at, "resent": self.resent}

    @classmethod
    def decode(cls, data: PayloadReader) -> EmailCode:
        return cls(data.string("code_hash"), data.number("expires_at"), data.integer("resent"))
