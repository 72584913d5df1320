"""The sign-in hot path's units of work: plain functions of a synchronous connection, Core statements built once
(`Statement`, `insert`: also the building blocks of the other store modules' hot units, e.g. the access portal's
in `identity_center.py`).

Run them with `Store.run(unit, ...)` (a transaction of their own, one hand-off; `sync_units.py`) or, to join
a larger change, `UnitOfWork.run(unit, ...)` (inside that unit's transaction). Rows come back as detached
model instances, like those a closed unit of work hands out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import class_mapper
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from ...core.flows.base import FlowNotFound
from ..models import (
    Account,
    AuditEvent,
    Base,
    FlowRecord,
    IamUser,
    KnownBrowser,
    MailLanguage,
    MfaDevice,
    Profile,
    Session,
    ThrottleCounter,
    WebAuthnCredential,
)
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
_mail_languages = cast(sa.Table, MailLanguage.__table__)
_profiles = cast(sa.Table, Profile.__table__)

_ACCOUNT_COLS = tuple(_accounts.c)
_USER_COLS = tuple(_users.c)
_SESSION_COLS = tuple(_sessions.c)


_NEW_INSTANCE: dict[type[Any], Callable[[], Any]] = {}


def new_row(cls: type[M], values: dict[str, Any]) -> M:
    """A model instance holding `values` (read like any other; in no session, nothing to flush unless added).

    Built as the ORM's loader builds instances (`new_instance`, then the instance dict), not through the
    constructor, which routes every attribute through its change tracking."""
    new = _NEW_INSTANCE.get(cls)
    if new is None:  # the mappers configured first, as the constructor would
        new = _NEW_INSTANCE[cls] = class_mapper(cls).class_manager.new_instance
    obj: M = new()
    vars(obj).update(values)
    return obj


def _model(cls: type[M], cols: Sequence[sa.Column[Any]], row: Sequence[Any], offset: int = 0) -> M:
    return new_row(cls, {c.key: row[offset + i] for i, c in enumerate(cols)})


def _insert_keys(table: sa.Table) -> tuple[str, ...]:
    """Every column an INSERT of a new row names (all but an autoincrement key)."""
    return tuple(c.key for c in table.c if not (c.primary_key and c.autoincrement is True))


def _values(obj: object, table: sa.Table, keys: Sequence[str]) -> dict[str, Any]:
    """The column values of a new (transient) model instance, the columns' Python defaults where unset."""
    state = vars(obj)
    values: dict[str, Any] = {}
    for key in keys:
        if key in state:
            values[key] = state[key]
            continue
        default = table.c[key].default
        if default is None:
            values[key] = None
        elif isinstance(default, CallableColumnDefault):
            # no execution context here: our defaults take no argument, SQLAlchemy wraps them to ignore it
            values[key] = default.arg(None)  # type: ignore[arg-type]
        elif isinstance(default, ScalarElementColumnDefault):
            values[key] = default.arg
        else:
            raise TypeError(f"{table.name}.{key}: a hot unit cannot apply a {type(default).__name__} default")
    return values


# ---- statements run with less machinery on the hot-unit thread's own sqlite3 connection ---------


class _Plan:
    """One statement compiled for one dialect: its SQL, where each positional parameter comes from (a
    caller's key, or a fixed value of the statement's own), the bind and result processors."""

    __slots__ = ("results", "slots", "sql")

    def __init__(self, stmt: sa.Executable, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled = cast(SQLCompiler, cast(sa.ClauseElement, stmt).compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys else None))
        self.sql = str(compiled)
        slots: list[tuple[str | None, Any, Any]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            proc = bind.type._cached_bind_processor(dialect)
            if bind.required:
                slots.append((name, None, proc))
            else:
                fixed = bind.effective_value
                slots.append((None, proc(fixed) if proc is not None else fixed, None))
        self.slots = tuple(slots)
        columns: Any = getattr(stmt, "selected_columns", None)
        if columns is None:  # INSERT / UPDATE ... RETURNING
            columns = getattr(stmt, "exported_columns", ())
        self.results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)

    def params(self, given: dict[str, Any]) -> list[Any]:
        out = []
        for name, fixed, proc in self.slots:
            if name is None:
                out.append(fixed)
            else:
                value = given[name]
                out.append(proc(value) if proc is not None else value)
        return out

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(v if p is None else p(v) for p, v in zip(self.results, raw, strict=True))


def _cursor(conn: Connection, raw: sqlite3.Connection, plan: _Plan, params: dict[str, Any]) -> sqlite3.Cursor:
    """Runs the plan on the DBAPI cursor; `before_cursor_execute` listeners (statement counters in the tests
    and benchmarks) still see the statement."""
    args = plan.params(params)
    cursor = raw.cursor()
    if getattr(conn, "_has_events", False) or getattr(conn.engine, "_has_events", False):
        conn.dispatch.before_cursor_execute(conn, cursor, plan.sql, args, None, False)
    return cursor.execute(plan.sql, args)


class Statement:
    """A statement built once (at import, or once per shape): the building block of the hot units here and in
    the other store modules. On a plain sqlite3 connection (the hot-unit thread's) it runs compiled once, with
    positional parameters on the DBAPI cursor; anywhere else (PostgreSQL, a unit of work's connection) through
    `Connection.execute`, as before."""

    __slots__ = ("_plan", "column_keys", "stmt")

    def __init__(self, stmt: sa.Executable, column_keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.column_keys = tuple(column_keys) if column_keys else None
        self._plan: _Plan | None = None

    def _raw(self, conn: Connection) -> sqlite3.Connection | None:
        raw: object = conn.connection.dbapi_connection
        return raw if type(raw) is sqlite3.Connection else None

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        raw = self._raw(conn)
        if raw is None:
            return [tuple(r) for r in conn.execute(self.stmt, params)]
        plan = self._plan_for(conn)
        return [plan.row(r) for r in _cursor(conn, raw, plan, params).fetchall()]

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        raw = self._raw(conn)
        if raw is None:
            row = conn.execute(self.stmt, params).first()
            return None if row is None else tuple(row)
        plan = self._plan_for(conn)
        found = _cursor(conn, raw, plan, params).fetchone()
        return None if found is None else plan.row(found)

    def write(self, conn: Connection, params: dict[str, Any]) -> int:
        """Runs an INSERT, UPDATE or upsert; the rows it touched."""
        raw = self._raw(conn)
        if raw is None:
            return rowcount(conn.execute(self.stmt, params))
        plan = self._plan_for(conn)
        return int(_cursor(conn, raw, plan, params).rowcount)

    def _plan_for(self, conn: Connection) -> _Plan:
        plan = self._plan
        if plan is None:
            plan = self._plan = _Plan(self.stmt, conn.dialect, self.column_keys)
        return plan


_INSERTS: dict[sa.Table, tuple[Statement, tuple[str, ...]]] = {}


def insert(conn: Connection, row: Base) -> None:
    """Inserts a new (transient) model instance, its columns' Python defaults where unset; the instance stays
    detached (an autoincrement key is not read back). One INSERT statement per table, built once."""
    table = cast(sa.Table, row.__table__)
    found = _INSERTS.get(table)
    if found is None:
        keys = _insert_keys(table)
        found = _INSERTS[table] = (Statement(sa.insert(table), keys), keys)
    stmt, keys = found
    stmt.write(conn, _values(row, table, keys))


# ---- throttle counters ---------------------------------------------------------------------------

_THROTTLE_MANY: dict[int, Statement] = {}


def _throttle_many(n: int) -> Statement:
    """The counters among n keys (one statement per n, built once; n is small and fixed per caller)."""
    stmt = _THROTTLE_MANY.get(n)
    if stmt is None:
        stmt = _THROTTLE_MANY[n] = Statement(
            sa.select(_throttle.c.key, _throttle.c.failures, _throttle.c.last_failure_at).where(
                _throttle.c.key.in_([sa.bindparam(f"k{i}") for i in range(n)])))
    return stmt


def throttle_rows(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, float]]:
    """Failures and last failure time of the counters that exist among `keys`."""
    if not keys:
        return {}
    rows = _throttle_many(len(keys)).rows(conn, {f"k{i}": k for i, k in enumerate(keys)})
    return {r[0]: (int(r[1]), float(r[2])) for r in rows}


class ThrottleUnchanged(Exception):
    """Raised inside `throttle_update` when the change is refused, so that its unit rolls back."""


def _throttle_values(n: int) -> list[dict[str, Any]]:
    return [{"key": sa.bindparam(f"k{i}"), "failures": sa.bindparam(f"f{i}"), "last_failure_at": sa.bindparam(f"t{i}")}
            for i in range(n)]


def _throttle_lock(dialect: Any, n: int) -> Statement:
    new = dialect.insert(_throttle).values(_throttle_values(n))
    # a no-op update: it locks each row (waiting for a concurrent writer; rows in the order given) and
    # returns its committed values; a missing row is created at 0
    return Statement(new.on_conflict_do_update(index_elements=[_throttle.c.key],
                                                set_={"failures": _throttle.c.failures})
                      .returning(_throttle.c.key, _throttle.c.failures, _throttle.c.last_failure_at))


def _throttle_set(dialect: Any, n: int) -> Statement:
    new = dialect.insert(_throttle).values(_throttle_values(n))
    return Statement(new.on_conflict_do_update(
        index_elements=[_throttle.c.key],
        set_={"failures": new.excluded.failures, "last_failure_at": new.excluded.last_failure_at}))


def _throttle_drop(n: int) -> Statement:
    return Statement(sa.delete(_throttle).where(_throttle.c.key.in_([sa.bindparam(f"k{i}") for i in range(n)])))


# One statement of each kind per dialect and number of keys (a few, fixed per caller), built once.
_THROTTLE_STATEMENTS: dict[tuple[str, str, int], Statement] = {}
_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}


def _throttle_statement(kind: str, dialect_name: str, n: int) -> Statement:
    stmt = _THROTTLE_STATEMENTS.get((kind, dialect_name, n))
    if stmt is None:
        dialect = _DIALECTS[dialect_name]
        stmt = (_throttle_lock(dialect, n) if kind == "lock" else _throttle_set(dialect, n) if kind == "set"
                else _throttle_drop(n))
        _THROTTLE_STATEMENTS[(kind, dialect_name, n)] = stmt
    return stmt


ThrottleChange = Callable[[list[tuple[int, float]]], list[tuple[int, float]] | None]


@dataclass(frozen=True, slots=True)
class ThrottleSettle:
    """A `throttle_update` to run inside another unit (`SignInEnd.throttle`): the keys and their change."""

    keys: tuple[str, ...]
    change: ThrottleChange


def throttle_update(conn: Connection, keys: Sequence[str], change: ThrottleChange) -> None:
    """Read-decide-write on the counters of `keys`, atomically: each row is locked (created at 0 when
    missing; in key order, so two units never wait on each other in a circle), `change` gets their
    (failures, last failure) in the order of `keys` and returns the new values, written back (a count of 0
    deletes the row). When it returns None, ThrottleUnchanged: nothing is written, the unit rolls back.
    At most three statements whatever the number of keys: lock all, write the counts, delete the zeros."""
    dialect = conn.dialect.name
    ordered = sorted(set(keys))
    params: dict[str, Any] = {}
    for i, key in enumerate(ordered):
        params[f"k{i}"], params[f"f{i}"], params[f"t{i}"] = key, 0, 0.0
    current = {str(r[0]): (int(r[1]), float(r[2]))
               for r in _throttle_statement("lock", dialect, len(ordered)).rows(conn, params)}
    new = change([current[key] for key in keys])
    if new is None:
        raise ThrottleUnchanged()
    final = dict(zip(keys, new, strict=True))
    kept = [(key, final[key]) for key in ordered if final[key][0] > 0]
    dropped = [key for key in ordered if final[key][0] <= 0]
    if kept:
        values: dict[str, Any] = {}
        for i, (key, (failures, at)) in enumerate(kept):
            values[f"k{i}"], values[f"f{i}"], values[f"t{i}"] = key, failures, at
        _throttle_statement("set", dialect, len(kept)).write(conn, values)
    if dropped:
        _throttle_statement("drop", dialect, len(dropped)).write(conn, {f"k{i}": k for i, k in enumerate(dropped)})


# ---- IAM user sign-in ----------------------------------------------------------------------------

_webauthn = cast(sa.Table, WebAuthnCredential.__table__)
_HAS_MFA = sa.or_(  # a TOTP device or a passkey / security key
    sa.select(sa.literal(1))
    .where(_mfa.c.principal_key == sa.literal("user:") + _users.c.id, _mfa.c.enabled_at.is_not(None)).exists(),
    sa.select(sa.literal(1)).where(_webauthn.c.principal_key == sa.literal("user:") + _users.c.id).exists())
_IAM_FROM = _accounts.outerjoin(_users, sa.and_(_users.c.account_id == _accounts.c.id,
                                                _users.c.name_lower == sa.bindparam("name")))
_IAM_BY_ID = Statement(sa.select(*_ACCOUNT_COLS, *_USER_COLS, _HAS_MFA).select_from(_IAM_FROM).where(
    _accounts.c.id == sa.bindparam("ref")))
_IAM_BY_ALIAS = Statement(sa.select(*_ACCOUNT_COLS, *_USER_COLS, _HAS_MFA).select_from(_IAM_FROM).where(
    _accounts.c.alias == sa.bindparam("ref")))


def iam_sign_in_lookup(conn: Connection, ref: str, by_id: bool, username: str
                       ) -> tuple[Account | None, IamUser | None, bool]:
    """The account (of any status: a closed or suspended one is refused after the password), the user by name
    in it, whether that user has an enabled MFA device: one statement, the same one whether or not the account
    or the user exist."""
    row = (_IAM_BY_ID if by_id else _IAM_BY_ALIAS).first(conn, {"ref": ref, "name": username.lower()})
    if row is None:
        return None, None, False
    account = _model(Account, _ACCOUNT_COLS, row)
    if row[len(_ACCOUNT_COLS)] is None:  # no such user
        return account, None, False
    return account, _model(IamUser, _USER_COLS, row, len(_ACCOUNT_COLS)), bool(row[-1])


# ---- the end of a sign-in ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowDone:
    """A flow's new state, payload and expiry (`flows.data`), written only if it is still at `version`."""

    id: str
    state: str
    data: dict[str, Any]
    expires_at: float
    version: int = 0


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
    throttle: ThrottleSettle | None = None  # a right password's attempt taken back, in the same transaction
    mail_language: tuple[str, str] | None = None  # (principal key, the sign-in page's language) to keep


_FLOW_DONE = Statement(sa.update(_flows).where(_flows.c.id == sa.bindparam("b_id"),
                                                 _flows.c.version == sa.bindparam("b_version")).values(
    state=sa.bindparam("state"), data=sa.bindparam("data"), expires_at=sa.bindparam("expires_at"),
    version=sa.bindparam("b_version") + 1))
_BROWSER_ROW: dict[str, Any] = {"principal_key": sa.bindparam("pk"), "browser_hash": sa.bindparam("bh"),
                "first_seen_at": sa.bindparam("at"), "last_seen_at": sa.bindparam("at")}
_sqlite_browser = sqlite.insert(_browsers).values(_BROWSER_ROW)
_pg_browser = postgresql.insert(_browsers).values(_BROWSER_ROW)
_REMEMBER = {
    "sqlite": Statement(_sqlite_browser.on_conflict_do_update(
        index_elements=[_browsers.c.principal_key, _browsers.c.browser_hash],
        set_={"last_seen_at": _sqlite_browser.excluded.last_seen_at})),
    "postgresql": Statement(_pg_browser.on_conflict_do_update(
        index_elements=[_browsers.c.principal_key, _browsers.c.browser_hash],
        set_={"last_seen_at": _pg_browser.excluded.last_seen_at})),
}
_LANGUAGE_ROW: dict[str, Any] = {"principal_key": sa.bindparam("pk"), "language": sa.bindparam("lang"),
                                 "updated_at": sa.bindparam("at")}
_sqlite_language = sqlite.insert(_mail_languages).values(_LANGUAGE_ROW)
_pg_language = postgresql.insert(_mail_languages).values(_LANGUAGE_ROW)
_KEEP_LANGUAGE = {
    "sqlite": Statement(_sqlite_language.on_conflict_do_update(
        index_elements=[_mail_languages.c.principal_key],
        set_={"language": _sqlite_language.excluded.language, "updated_at": _sqlite_language.excluded.updated_at})),
    "postgresql": Statement(_pg_language.on_conflict_do_update(
        index_elements=[_mail_languages.c.principal_key],
        set_={"language": _pg_language.excluded.language, "updated_at": _pg_language.excluded.updated_at})),
}
_REVOKE = Statement(sa.update(_sessions).where(_sessions.c.id_hash == sa.bindparam("b_id_hash"),
                                                _sessions.c.revoked_at.is_(None)).values(revoked_at=sa.bindparam("at")))
_NOTE_USE = Statement(sa.update(_users).where(_users.c.id == sa.bindparam("uid")).values(
    password_last_used_at=sa.bindparam("at")))
_NOTE_USE_REHASH = Statement(sa.update(_users).where(_users.c.id == sa.bindparam("uid")).values(
    password_last_used_at=sa.bindparam("at"), password_hash=sa.bindparam("hash")))
_SESSION_KEYS = _insert_keys(_sessions)
_AUDIT_KEYS = _insert_keys(_audit)
_INSERT_SESSION = Statement(sa.insert(_sessions), _SESSION_KEYS)
_INSERT_AUDIT = Statement(sa.insert(_audit), _AUDIT_KEYS)


def finish_sign_in(conn: Connection, end: SignInEnd) -> bool:
    """Flow done, browser remembered, mail language kept, previous session revoked, password use noted, new
    session, audit event.

    Returns whether a live previous session was revoked. FlowNotFound (and the whole unit rolled back)
    when the flow is gone or another request changed it since it was loaded (its version moved on)."""
    if end.throttle is not None:
        throttle_update(conn, end.throttle.keys, end.throttle.change)
    if end.flow is not None:
        flow = end.flow
        done = _FLOW_DONE.write(conn, {"b_id": flow.id, "b_version": flow.version, "state": flow.state,
                                       "data": flow.data, "expires_at": flow.expires_at})
        if done == 0:
            raise FlowNotFound()
    if end.remember_browser is not None:
        principal_key, browser_hash = end.remember_browser
        _REMEMBER[conn.dialect.name].write(conn, {"pk": principal_key, "bh": browser_hash, "at": end.at})
    if end.mail_language is not None:
        principal_key, language = end.mail_language
        _KEEP_LANGUAGE[conn.dialect.name].write(conn, {"pk": principal_key, "lang": language, "at": end.at})
    revoked = False
    if end.previous_session:
        revoked = _REVOKE.write(conn, {"b_id_hash": end.previous_session, "at": end.at}) > 0
    if end.password_use is not None:
        use = end.password_use
        if use.rehashed is None:
            _NOTE_USE.write(conn, {"uid": use.user_id, "at": use.at})
        else:
            _NOTE_USE_REHASH.write(conn, {"uid": use.user_id, "at": use.at, "hash": use.rehashed})
    _INSERT_SESSION.write(conn, _values(end.session, _sessions, _SESSION_KEYS))
    _INSERT_AUDIT.write(conn, _values(end.audit, _audit, _AUDIT_KEYS))
    return revoked


# ---- the signed-in session -----------------------------------------------------------------------

_SESSION_PRINCIPAL = Statement(
    sa.select(*_SESSION_COLS, *_ACCOUNT_COLS, *_USER_COLS)
    .select_from(
        _sessions.join(_accounts, _accounts.c.id == _sessions.c.account_id).outerjoin(
            _users, sa.and_(sa.func.substr(_sessions.c.principal_key, 1, 5) == "user:",
                            _users.c.id == sa.func.substr(_sessions.c.principal_key, 6))))
    .where(_sessions.c.id_hash == sa.bindparam("id_hash"))
)
_TOUCH = Statement(sa.update(_sessions).where(_sessions.c.id_hash == sa.bindparam("b_id_hash")).values(
    last_seen_at=sa.bindparam("at")))


def session_principal(conn: Connection, id_hash: str) -> tuple[Session, Account, IamUser | None] | None:
    """A session, its account and (for an IAM user's session) its user, in one statement."""
    row = _SESSION_PRINCIPAL.first(conn, {"id_hash": id_hash})
    if row is None:
        return None
    n, m = len(_SESSION_COLS), len(_ACCOUNT_COLS)
    session = _model(Session, _SESSION_COLS, row)
    account = _model(Account, _ACCOUNT_COLS, row, n)
    user = _model(IamUser, _USER_COLS, row, n + m) if row[n + m] is not None else None
    return session, account, user


_PROFILE_COLS = tuple(_profiles.c)
_SESSION_PROFILE = Statement(
    sa.select(*_SESSION_COLS, *_PROFILE_COLS)
    .select_from(_sessions.join(_profiles, _profiles.c.id == sa.func.substr(_sessions.c.principal_key, 9)))
    .where(_sessions.c.id_hash == sa.bindparam("id_hash"),
           sa.func.substr(_sessions.c.principal_key, 1, 8) == "profile:")
)


def session_profile(conn: Connection, id_hash: str) -> tuple[Session, Profile] | None:
    """A personal profile's session and its profile, in one statement (None for any other principal's)."""
    row = _SESSION_PROFILE.first(conn, {"id_hash": id_hash})
    if row is None:
        return None
    return _model(Session, _SESSION_COLS, row), _model(Profile, _PROFILE_COLS, row, len(_SESSION_COLS))


def touch_session(conn: Connection, id_hash: str, at: float) -> None:
    _TOUCH.write(conn, {"b_id_hash": id_hash, "at": at})
