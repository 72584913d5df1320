"""Self-service flows as explicit state machines (sign-in, sign-up, recovery, MFA enrolment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SIGNIN_LIFETIME = 15 * 60
SIGNUP_LIFETIME = 30 * 60
ENROL_LIFETIME = 15 * 60
EMAIL_CODE_LIFETIME = 10 * 60
MAX_CODE_ATTEMPTS = 5


class FlowKind(StrEnum):
    SIGNIN = "signin"
    SIGNUP = "signup"
    MFA_ENROL = "mfa_enrol"


class FlowState(StrEnum):
    PASSWORD = "password"  # identifier known, password (and CAPTCHA if risky) next
    MFA = "mfa"  # password verified, an MFA code next
    EMAIL_CODE = "email_code"  # password verified, the mailed one-time code next
    NEW_PASSWORD = "new_password"  # verified, but the password must be changed first
    VERIFY_EMAIL = "verify_email"  # sign-up details taken, the mailed code next
    ENROL = "enrol"  # MFA device secret shown, two codes next
    DONE = "done"


_ALLOWED: dict[FlowKind, dict[FlowState, set[FlowState]]] = {
    FlowKind.SIGNIN: {
        FlowState.PASSWORD: {FlowState.MFA, FlowState.EMAIL_CODE, FlowState.NEW_PASSWORD, FlowState.DONE},
        FlowState.MFA: {FlowState.NEW_PASSWORD, FlowState.DONE},
        FlowState.EMAIL_CODE: {FlowState.DONE},
        FlowState.NEW_PASSWORD: {FlowState.DONE},
    },
    FlowKind.SIGNUP: {FlowState.VERIFY_EMAIL: {FlowState.DONE}},
    FlowKind.MFA_ENROL: {FlowState.ENROL: {FlowState.DONE}},
}

INITIAL: dict[FlowKind, FlowState] = {
    FlowKind.SIGNIN: FlowState.PASSWORD,
    FlowKind.SIGNUP: FlowState.VERIFY_EMAIL,
    FlowKind.MFA_ENROL: FlowState.ENROL,
}

LIFETIME: dict[FlowKind, int] = {
    FlowKind.SIGNIN: SIGNIN_LIFETIME,
    FlowKind.SIGNUP: SIGNUP_LIFETIME,
    FlowKind.MFA_ENROL: ENROL_LIFETIME,
}


class FlowError(Exception):
    """Base of the flow failures; `code` is the message key the page shows."""

    code = "flow.invalid"


class FlowExpired(FlowError):
    code = "flow.expired"


class FlowNotFound(FlowError):
    code = "flow.not_found"


class FlowWrongBrowser(FlowError):
    code = "flow.wrong_browser"


class FlowOutOfOrder(FlowError):
    code = "flow.out_of_order"


@dataclass
class Flow:
    id: str
    kind: FlowKind
    state: FlowState
    browser_hash: str
    issued_at: float
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)

    def check(self, browser_hash: str, now: float, expected: FlowState | set[FlowState]) -> None:
        """Raise unless this flow belongs to this browser, is alive and is at an expected state."""
        if self.browser_hash != browser_hash:
            raise FlowWrongBrowser()
        if now >= self.expires_at or self.state == FlowState.DONE:
            raise FlowExpired()
        wanted = expected if isinstance(expected, set) else {expected}
        if self.state not in wanted:
            raise FlowOutOfOrder()

    def advance(self, to: FlowState) -> None:
        if to not in _ALLOWED[self.kind].get(self.state, set()):
            raise FlowOutOfOrder()
        self.state = to
