"""SQL implementations of the storage ports, one module per repository group, and the unit of work."""

from .access_keys import AccessKeys, TemporaryCredentials
from .accounts import Accounts
from .audit import AuditEvents
from .base import Conflict, Repository, rowcount
from .expiry import ExpiredRows
from .flows import Captchas, Flows, RecoveryTokens
from .iam import Groups, Policies, Roles, Tags
from .iam_users import Users
from .mfa import MfaDevices, VirtualMfa
from .outbox import MailOutbox
from .passwords import PasswordHistories
from .sessions import Browsers, Sessions
from .throttle import ThrottleCounters
from .unit import AfterCommit, Store, UnitOfWork

__all__ = [
    "AccessKeys", "Accounts", "AfterCommit", "AuditEvents", "Browsers", "Captchas", "Conflict", "ExpiredRows",
    "Flows", "Groups", "MailOutbox", "MfaDevices", "PasswordHistories", "Policies", "RecoveryTokens", "Repository",
    "Roles",
    "Sessions", "Store", "Tags", "TemporaryCredentials", "ThrottleCounters", "UnitOfWork", "Users", "VirtualMfa",
    "rowcount",
]
