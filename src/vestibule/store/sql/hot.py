"""The sign-in hot path's units of work: plain functions of a synchronous connection, Core statements built once.

Run them with `Store.run(unit, ...)` (a transaction of their own, one hand-off; `sync_units.py`) or, to join
a larger change, `UnitOfWork.run(unit, ...)` (inside that unit's transaction). Rows come back as detached
model instances, like those a closed unit of work hands out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ...core.flows.base import FlowNotFound
from ..models import Account, AuditEvent, FlowRecord, IamUser, KnownBrowser, MfaDevice, Session, ThrottleCounter
from .base import rowcount

M = TypeVar("M")

_accounts = cast(sa.Table, Account.__table__)
_users = cast(sa.Table, IamUser.__table__)
_sessions = cast(sa.Table, Session.__table__)
_mfa = cast(sa.Table, MfaDevice.__table__)
_audit = cast(sa.Table, AuditEvent.__table__)
_throttle = cast(sa.Table, ThrottleCounter.__table__)
_flows = cast(sa.Table, FlowRecord.__table__)
_browsers = cast(sa.Table, KnownBrowser.__table__)

_ACCOUNT_COLS = tuple(_accounts.c)
_USER_COLS = tuple(_users.c)
_SESSION_COLS = tuple(_sessions.c)


def _model(cls: type[M], cols: Sequence[sa.Column[Any]], row: Sequence[Any], offset: int = 0) -> M:
    return cls(**{c.key: row[offset + i] for i, c in enumerate(cols)})


def _values(obj: object, table: sa.Table) -> dict[str, Any]:
    """The column values set on a new (transient) model instance."""
    state = vars(obj)
    return {c.key: state[c.key] for c in table.c if c.key in state}


# ---- throttle counters ---------------------------------------------------------------------------

_THROTTLE_MANY = sa.select(_throttle.c.key, _throttle.c.failures, _throttle.c.last_failure_at).where(
    _throttle.c.key.in_(sa.bindparam("keys", expanding=True)))


def throttle_rows(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, float]]:
    """Failures and last failure time of the counters that exist among `keys`."""
    return {r[0]: (int(r[1]), float(r[2])) for r in conn.execute(_THROTTLE_MANY, {"keys": list(keys)})}


# ---- IAM user sign-in ----------------------------------------------------------------------------

_HAS_MFA = (sa.select(sa.literal(1))
            .where(_mfa.c.principal_key == sa.literal("user:") + _users.c.id, _mfa.c.enabled_at.is_not(None))
            .exists())
_IAM_FROM = _accounts.outerjoin(_users, sa.and_(_users.c.account_id == _accounts.c.id,
                                                _users.c.name_lower == sa.bindparam("name")))
_IAM_BY_ID = sa.select(*_ACCOUNT_COLS, *_USER_COLS, _HAS_MFA).select_from(_IAM_FROM).where(
    _accounts.c.id == sa.bindparam("ref"))
_IAM_BY_ALIAS = sa.select(*_ACCOUNT_COLS, *_USER_COLS, _HAS_MFA).select_from(_IAM_FROM).where(
    _accounts.c.alias == sa.bindparam("ref"))


def iam_sign_in_lookup(conn: Connection, ref: str, by_id: bool, username: str
                       ) -> tuple[Account | None, IamUser | None, bool]:
    """The account (active only), the user by name in it, whether that user has an enabled MFA device:
    one statement, the same one whether or not the account or the user exist."""
    row = conn.execute(_IAM_BY_ID if by_id else _IAM_BY_ALIAS, {"ref": ref, "name": username.lower()}).first()
    if row is None:
        return None, None, False
    account = _model(Account, _ACCOUNT_COLS, row)
    if account.status != "active":
        return None, None, False
    if row[len(_ACCOUNT_COLS)] is None:  # no such user
        return account, None, False
    return account, _model(IamUser, _USER_COLS, row, len(_ACCOUNT_COLS)), bool(row[-1])


# ---- the end of a sign-in ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowDone:
    """A flow's new state, payload and expiry (`flows.data`)."""

    id: str
    state: str
    data: dict[str, Any]
    expires_at: float


@dataclass(frozen=True, slots=True)
class PasswordUse:
    """An IAM user's password just used: its last use, and its new hash when the parameters changed."""

    user_id: str
    at: float
    rehashed: str | None = None


@dataclass(frozen=True, slots=True)
class SignInEnd:
    """Everything that ends a sign-in, written in one transaction by `finish_sign_in`."""

    at: float
    session: Session
    audit: AuditEvent
    flow: FlowDone | None = None
    remember_browser: tuple[str, str] | None = None  # (principal key, browser hash)
    previous_session: str | None = None  # the id hash of the session the browser held
    password_use: PasswordUse | None = None


_FLOW_DONE = sa.update(_flows).where(_flows.c.id == sa.bindparam("b_id")).values(
    state=sa.bindparam("state"), data=sa.bindparam("data"), expires_at=sa.bindparam("expires_at"))
_BROWSER_ROW: dict[str, Any] = {"principal_key": sa.bindparam("pk"), "browser_hash": sa.bindparam("bh"),
                "first_seen_at": sa.bindparam("at"), "last_seen_at": sa.bindparam("at")}
_sqlite_browser = sqlite.insert(_browsers).values(_BROWSER_ROW)
_pg_browser = postgresql.insert(_browsers).values(_BROWSER_ROW)
_REMEMBER = {
    "sqlite": _sqlite_browser.on_conflict_do_update(
        index_elements=[_browsers.c.principal_key, _browsers.c.browser_hash],
        set_={"last_seen_at": _sqlite_browser.excluded.last_seen_at}),
    "postgresql": _pg_browser.on_conflict_do_update(
        index_elements=[_browsers.c.principal_key, _browsers.c.browser_hash],
        set_={"last_seen_at": _pg_browser.excluded.last_seen_at}),
}
_REVOKE = sa.update(_sessions).where(_sessions.c.id_hash == sa.bindparam("b_id_hash"),
                                     _sessions.c.revoked_at.is_(None)).values(revoked_at=sa.bindparam("at"))
_NOTE_USE = sa.update(_users).where(_users.c.id == sa.bindparam("uid")).values(
    password_last_used_at=sa.bindparam("at"))
_NOTE_USE_REHASH = sa.update(_users).where(_users.c.id == sa.bindparam("uid")).values(
    password_last_used_at=sa.bindparam("at"), password_hash=sa.bindparam("hash"))
_INSERT_SESSION = sa.insert(_sessions)
_INSERT_AUDIT = sa.insert(_audit)


def finish_sign_in(conn: Connection, end: SignInEnd) -> bool:
    """Flow done, browser remembered, previous session revoked, password use noted, new session, audit event.

    Returns whether a live previous session was revoked. FlowNotFound (and the whole unit rolled back)
    when the flow is gone."""
    if end.flow is not None:
        flow = end.flow
        done = conn.execute(_FLOW_DONE, {"b_id": flow.id, "state": flow.state, "data": flow.data,
                                         "expires_at": flow.expires_at})
        if rowcount(done) == 0:
            raise FlowNotFound()
    if end.remember_browser is not None:
        principal_key, browser_hash = end.remember_browser
        conn.execute(_REMEMBER[conn.dialect.name], {"pk": principal_key, "bh": browser_hash, "at": end.at})
    revoked = False
    if end.previous_session:
        revoked = rowcount(conn.execute(_REVOKE, {"b_id_hash": end.previous_session, "at": end.at})) > 0
    if end.password_use is not None:
        use = end.password_use
        if use.rehashed is None:
            conn.execute(_NOTE_USE, {"uid": use.user_id, "at": use.at})
        else:
            conn.execute(_NOTE_USE_REHASH, {"uid": use.user_id, "at": use.at, "hash": use.rehashed})
    conn.execute(_INSERT_SESSION, _values(end.session, _sessions))
    conn.execute(_INSERT_AUDIT, _values(end.audit, _audit))
    return revoked


# ---- the signed-in session -----------------------------------------------------------------------

_SESSION_PRINCIPAL = (
    sa.select(*_SESSION_COLS, *_ACCOUNT_COLS, *_USER_COLS)
    .select_from(
        _sessions.join(_accounts, _accounts.c.id == _sessions.c.account_id).outerjoin(
            _users, sa.and_(sa.func.substr(_sessions.c.principal_key, 1, 5) == "user:",
                            _users.c.id == sa.func.substr(_sessions.c.principal_key, 6))))
    .where(_sessions.c.id_hash == sa.bindparam("id_hash"))
)
_TOUCH = sa.update(_sessions).where(_sessions.c.id_hash == sa.bindparam("b_id_hash")).values(
    last_seen_at=sa.bindparam("at"))


def session_principal(conn: Connection, id_hash: str) -> tuple[Session, Account, IamUser | None] | None:
    """A session, its account and (for an IAM user's session) its user, in one statement."""
    row = conn.execute(_SESSION_PRINCIPAL, {"id_hash": id_hash}).first()
    if row is None:
        return None
    n, m = len(_SESSION_COLS), len(_ACCOUNT_COLS)
    session = _model(Session, _SESSION_COLS, row)
    account = _model(Account, _ACCOUNT_COLS, row, n)
    user = _model(IamUser, _USER_COLS, row, n + m) if row[n + m] is not None else None
    return session, account, user


def touch_session(conn: Connection, id_hash: str, at: float) -> None:
    conn.execute(_TOUCH, {"b_id_hash": id_hash, "at": at})
