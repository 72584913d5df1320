"""Stable import path for the unit of work and the repositories (they live in `store/sql/`)."""

from .sql import (
    Accounts,
    AfterCommit,
    AuditEvents,
    Browsers,
    Captchas,
    Conflict,
    ExpiredRows,
    Flows,
    MfaDevices,
    PasswordHistories,
    RecoveryTokens,
    Repository,
    Sessions,
    Store,
    ThrottleCounters,
    UnitOfWork,
    Users,
    rowcount,
)
from .sql.sessions import SessionFilter

_Repo = Repository

__all__ = [
    "Accounts", "AfterCommit", "AuditEvents", "Browsers", "Captchas", "Conflict", "ExpiredRows", "Flows",
    "MfaDevices", "PasswordHistories", "RecoveryTokens", "Repository", "SessionFilter", "Sessions", "Store",
    "ThrottleCounters",
    "UnitOfWork", "Users", "rowcount",
]
