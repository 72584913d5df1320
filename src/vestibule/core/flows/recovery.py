"""Root password recovery. It is not a stored flow: it is a single-use emailed link (a token whose
hash is a `recovery_tokens` row). This module holds that link's rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LINK_LIFETIME = 3600


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
