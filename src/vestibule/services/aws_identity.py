"""Who is calling the AWS APIs: access keys (long-term and temporary) resolved to callers."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, replace
from typing import Literal

from ..core import arns
from ..core.principals import InvalidPrincipalKey, PrincipalKind, PrincipalRef
from ..core.tokens import token_matches
from ..store.repositories import UnitOfWork
from .context import Deps
from .invalidation import ACCESS_KEY, ACCOUNT, SESSION

CACHE_SECONDS = 5.0
CallerKind = Literal["root", "user", "assumed-role", "federated-user"]


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str
    user_id: str
    kind: CallerKind
    principal: PrincipalRef  # root, IAM user, or the role behind a role session
    access_key_id: str
    temporary: bool = False
    session_credentials: bool = False  # from GetSessionToken
    user_name: str | None = None
    role_id: str | None = None
    session_policy: str | None = None
    mfa_authenticated: bool = False
    mfa_authenticated_at: float | None = None
    source_identity: str | None = None  # role sessions: AssumeRole's SourceIdentity, kept across chaining
    # STS session tags (AssumeRole, GetFederationToken): aws:PrincipalTag/<key>, over the role's or user's own
    # tags of the same key; the transitive ones (their keys) go on into sessions chained from a role session
    session_tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def principal_key(self) -> str:
        """The stored form of `principal` (`root:<account>`, `user:<id>`, `role:<id>`)."""
        return self.principal.key


@dataclass(frozen=True)
class KeyRecord:
    """What a key ID resolves to; `token_hash` only for temporary keys."""

    caller: Caller
    secret: str
    active: bool
    expires_at: float | None = None
    token_hash: str | None = None
    login_session: str | None = None  # kind login: the login session (sessions.id_hash) they die with

    def token_ok(self, token: str | None) -> bool:
        if self.token_hash is None:
            return not token
        return bool(token) and token_matches(token or "", self.token_hash)


class KeyDirectory:
    """Resolves access key IDs, caching each answer per process.

    A cached answer is fresh for `ttl` seconds; after that it is still served (for at most `max_stale`
    more seconds) while one background lookup refreshes it, so a busy key never sends every in-flight
    request to the database at once. Key changes are published on the invalidation bus ("access-key", key
    ID) once committed; the directory subscribes and forgets, at once in this process, moments later in others.
    Credentials of a login session (`vestibule login`) are forgotten the same way when that session ends
    ("session", its ID hash): a reverse map gives the key IDs cached for it.
    """

    def __init__(self, deps: Deps, ttl: float = CACHE_SECONDS, max_stale: float = 30.0) -> None:
        self._deps = deps
        self._ttl = ttl
        self._max_stale = max_stale
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}
        self._inflight: dict[str, asyncio.Future[KeyRecord | None]] = {}
        self._last_used: dict[str, float] = {}
        self._by_session: dict[str, set[str]] = {}
        deps.bus.subscribe(ACCESS_KEY, self.forget, on_gap=self.forget_all)
        deps.bus.subscribe(SESSION, self.forget_session)
        deps.bus.subscribe(ACCOUNT, lambda _account_id: self.forget_all())  # closed or suspended: rare

    def forget(self, key_id: str) -> None:
        self._cache.pop(key_id, None)
        self._inflight.pop(key_id, None)  # a lookup already running may have read the old row

    def forget_session(self, session_hash: str) -> None:
        """A login session ended: forget the credentials issued for it (and every lookup in flight, which may
        have read the session while it was alive)."""
        for key_id in self._by_session.pop(session_hash, ()):
            self._cache.pop(key_id, None)
        self._inflight.clear()

    def forget_all(self) -> None:
        """After missed invalidations (a dropped Redis connection): nothing cached can be trusted."""
        self._cache.clear()
        self._inflight.clear()
        self._by_session.clear()

    async def lookup(self, key_id: str) -> KeyRecord | None:
        now = time.monotonic()
        hit = self._cache.get(key_id)
        if hit is not None:
            age = now - hit[0]
            if age < self._ttl:
                return hit[1]
            if age < self._ttl + self._max_stale:
                if key_id not in self._inflight:
                    self._start_refresh(key_id)
                return hit[1]
        pending = self._inflight.get(key_id)
        if pending is None:
            pending = self._start_refresh(key_id)
        return await asyncio.shield(pending)

    def _start_refresh(self, key_id: str) -> asyncio.Future[KeyRecord | None]:
        task = asyncio.ensure_future(self._load(key_id))
        self._inflight[key_id] = task

        def _done(finished: asyncio.Future[KeyRecord | None]) -> None:
            if self._inflight.get(key_id) is finished:
                del self._inflight[key_id]

        task.add_done_callback(_done)
        return task

    async def _load(self, key_id: str) -> KeyRecord | None:
        started = asyncio.current_task()
        async with self._deps.store.unit() as uow:
            record = await _load(self._deps, uow, key_id)
        if self._inflight.get(key_id) is started:  # not forgotten meanwhile
            if len(self._cache) > 50_000:
                self._cache.clear()
                self._by_session.clear()
            self._cache[key_id] = (time.monotonic(), record)
            if record is not None and record.login_session is not None:
                self._by_session.setdefault(record.login_session, set()).add(key_id)
        return record

    async def note_use(self, key_id: str, service: str, region: str) -> None:
        """Record last use at most once a minute per key, so signed calls rarely write."""
        now = self._deps.clock()
        if now - self._last_used.get(key_id, 0.0) < 60:
            return
        self._last_used[key_id] = now
        if not key_id.startswith("AKIA"):
            return
        async with self._deps.store.unit() as uow:
            key = await uow.access_keys.get(key_id)
            if key is not None:
                key.last_used_at, key.last_used_service, key.last_used_region = now, service, region


async def _load(deps: Deps, uow: UnitOfWork, key_id: str) -> KeyRecord | None:
    record = await _load_key(deps, uow, key_id)
    if record is None:
        return None
    account = await uow.accounts.get(record.caller.account_id)  # a closed or suspended account's keys: unknown
    return record if account is not None and account.status == "active" else None


async def _load_key(deps: Deps, uow: UnitOfWork, key_id: str) -> KeyRecord | None:
    if key_id.startswith("AKIA"):
        key = await uow.access_keys.get(key_id)
        if key is None:
            return None
        caller = await caller_for_principal(uow, key.principal_key, key_id)
        if caller is None:
            return None
        secret = deps.box.open(key.secret_sealed, f"access-key:{key.id}").decode()
        return KeyRecord(caller, secret, key.status == "Active")
    if key_id.startswith("ASIA"):
        cred = await uow.temp_credentials.get(key_id)
        if cred is None:
            return None
        secret = deps.box.open(cred.secret_sealed, f"temp-key:{cred.id}").decode()
        kind: CallerKind = "assumed-role" if cred.kind == "assumed-role" else (
            "federated-user" if cred.kind == "federated-user" else "user")
        source = await caller_for_principal(uow, cred.source_principal_key, key_id)
        if source is None and cred.kind in ("session", "login"):
            return None
        if not await _source_account_active(uow, cred.source_principal_key, source):
            return None
        if cred.kind == "login" and source is not None:
            # `vestibule login`: the user (or root) itself, temporary, alive while its login session is
            login = await uow.sessions.get(cred.login_session_hash) if cred.login_session_hash else None
            if login is None or login.revoked_at is not None or deps.clock() >= login.expires_at:
                return None
            caller = replace(source, temporary=True, mfa_authenticated=cred.mfa_authenticated,
                             mfa_authenticated_at=cred.mfa_authenticated_at)
            return KeyRecord(caller, secret, True, cred.expires_at, cred.token_hash, cred.login_session_hash)
        if cred.kind == "session" and source is not None:
            # session_policy: the scope-down layers GetScopedCredentials added to a GetSessionToken session
            caller = replace(source, temporary=True, session_credentials=True, session_policy=cred.session_policy,
                             mfa_authenticated=cred.mfa_authenticated,
                             mfa_authenticated_at=cred.mfa_authenticated_at)
        else:
            user_name = source.user_name if source is not None else None
            caller = Caller(account_id=cred.account_id, arn=cred.arn, user_id=cred.user_id, kind=kind,
                            principal=(PrincipalRef.role(cred.role_id) if cred.role_id
                                       else PrincipalRef.parse(cred.source_principal_key)),
                            access_key_id=key_id, temporary=True, user_name=user_name, role_id=cred.role_id,
                            session_policy=cred.session_policy, mfa_authenticated=cred.mfa_authenticated,
                            mfa_authenticated_at=cred.mfa_authenticated_at, source_identity=cred.source_identity,
                            session_tags=_pairs(cred.session_tags),
                            transitive_tag_keys=_keys(cred.transitive_tag_keys))
        return KeyRecord(caller, secret, True, cred.expires_at, cred.token_hash)
    return None


async def _source_account_active(uow: UnitOfWork, principal_key: str, source: Caller | None) -> bool:
    """Every temporary credential dies with its source principal's account (closed or suspended), whatever
    its kind: a role another account's user assumed stops when that account is suspended, not only when the
    role's own account is (checked by `_load`). One lookup by primary key; the `account` bus message clears
    the whole cache, so a suspension reaches these at their next request too. A source that no longer exists
    (a deleted user, a deleted source role of a chained session) keeps the role session alive as before (AWS
    does the same); a root source of an inactive account is refused by `caller_for_principal` already."""
    if source is not None:
        account_id = source.account_id
    else:
        try:
            principal = PrincipalRef.parse(principal_key)
        except InvalidPrincipalKey:
            return False
        if principal.kind is PrincipalKind.ROOT:
            return False  # caller_for_principal refused it: the account is unknown, closed or suspended
        if principal.kind is not PrincipalKind.ROLE:
            return True
        role = await uow.roles.get(principal.id)  # role chaining: the role the session was assumed from
        if role is None:
            return True
        account_id = role.account_id
    account = await uow.accounts.get(account_id)
    return account is not None and account.status == "active"


def _pairs(stored: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(value)) for key, value in json.loads(stored)) if stored else ()


def _keys(stored: str | None) -> tuple[str, ...]:
    return tuple(str(key) for key in json.loads(stored)) if stored else ()


async def caller_for_principal(uow: UnitOfWork, principal_key: str, key_id: str) -> Caller | None:
    try:
        principal = PrincipalRef.parse(principal_key)
    except InvalidPrincipalKey:
        return None
    if principal.kind is PrincipalKind.ROOT:
        account = await uow.accounts.get(principal.id)
        if account is None or account.status != "active":
            return None
        return Caller(account.id, arns.root_arn(account.id), account.id, "root", principal, key_id)
    if principal.kind is PrincipalKind.IAM_USER:
        user = await uow.users.get(principal.id)
        if user is None:
            return None
        return Caller(user.account_id, arns.user_arn(user.account_id, user.name, user.path), user.id, "user",
                      principal, key_id, user_name=user.name)
    return None
