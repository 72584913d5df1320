"""The mail outbox's rules: a message's states, its retry schedule and when it is given up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENT = "sent"  # the mail server accepted it
    FAILED = "failed"  # given up: attempts used, refused for good, or past what it carries
    DROPPED = "dropped"  # nothing to send (a forgot-password request for an address without an account)


class MailKind(StrEnum):
    RECOVERY_LINK = "recovery_link"
    RECOVERY_NONE = "recovery_none"  # the address has no account: recorded, never sent
    PASSWORD_CHANGED = "password_changed"
    SIGNIN_CODE = "signin_code"
    SIGNUP_CODE = "signup_code"
    SIGNUP_TAKEN = "signup_taken"
    ACCOUNT_CLOSURE_CODE = "account_closure_code"
    ACCOUNT_NOTICE = "account_notice"  # closed, reopened, suspended, reinstated
    ROOT_EMAIL_CODE = "root_email_code"  # a root email change: the code to the new address
    ROOT_EMAIL_TAKEN = "root_email_taken"  # ... or the notice that the address is in use
    ROOT_EMAIL_CHANGED = "root_email_changed"  # the notice (and undo link) to the old address
    ROOT_EMAIL_RESTORED = "root_email_restored"
    MFA_RECOVERY_LINK = "mfa_recovery_link"  # lost root MFA: the sign-in link
    MFA_RECOVERED = "mfa_recovered"  # lost root MFA: the notice of the recovered sign-in
    PROFILE_SIGNUP_CODE = "profile_signup_code"  # a personal profile's sign-up: the code
    PROFILE_SIGNUP_TAKEN = "profile_signup_taken"  # ... or the notice that the address has a profile
    PROFILE_EMAIL_CODE = "profile_email_code"  # a profile's email change: the code to the new address
    PROFILE_EMAIL_TAKEN = "profile_email_taken"  # ... or the notice that another profile uses the address
    PROFILE_EMAIL_CHANGED = "profile_email_changed"  # the notice to the old address
    PROFILE_PASSWORD_CHANGED = "profile_password_changed"
    PROFILE_EXPORT_READY = "profile_export_ready"  # a personal profile's data export: the download link
    PROFILE_DELETED = "profile_deleted"  # the notice that a personal profile was deleted


NOTICE_LIFETIME = 86400  # a notice without a secret is still worth sending for a day


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `first_delay`, doubling after each failure up to `max_delay`, at most
    `max_attempts` attempts, and never past the mail's own expiry (a code mailed after it expired is noise)."""

    max_attempts: int = 8
    first_delay: float = 10.0
    max_delay: float = 600.0

    def delay(self, attempts: int) -> float:
        """Wait after the `attempts`-th failed attempt (1 = the first)."""
        return float(min(self.max_delay, self.first_delay * 2 ** max(0, attempts - 1)))

    def next_attempt(self, attempts: int, now: float, expires_at: float, *, permanent: bool = False,
                     jitter: float = 1.0) -> float | None:
        """When to try again after `attempts` failed attempts, or None to give up."""
        if permanent or attempts >= self.max_attempts:
            return None
        at = now + self.delay(attempts) * jitter
        return at if at < expires_at else None


@dataclass(frozen=True)
class QueuedMail:
    """A message claimed for sending: its body still sealed."""

    id: str
    kind: str
    recipient: str
    subject: str
    body_sealed: str
    attempts: int
    expires_at: float


@dataclass(frozen=True)
class MailEntry:
    """What `vestibule mail queue` shows of a message: never its body (links and codes)."""

    id: str
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float | None
    finished_at: float | None
    last_error: str


def body_context(mail_id: str) -> str:
    """The sealing context of a body: a sealed body opens only as the body of its own row."""
    return f"mail_outbox:{mail_id}"
