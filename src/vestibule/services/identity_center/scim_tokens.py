"""SCIM bearer tokens: issued by the administrator for one identity store (shown once, stored as SHA-256),
listed without their secret, revoked; every SCIM request is authenticated here.

A token nobody issued is a guess: it is counted on the client address's SCIM counter (the client rule of the
sign-in throttle) before the lookup and taken back when the token turns out to be one of ours, so a client
that keeps guessing is refused (TooManyAttempts) while a revoked or expired token is merely refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from ...core.throttle import Scope, ThrottleKey
from ...core.tokens import hash_token, new_token, token_matches
from ...errors import InvalidBearerToken, InvalidInput, NotFound, TooManyAttempts
from ...store.models import ScimToken
from .. import audit, metrics
from ..context import Client, Deps
from .instances import by_identity_store_id

TOKEN_PREFIX = "vscim_"
MAX_EXPIRY_DAYS = 3650
LAST_USE_GRANULARITY = 60.0  # seconds: last use is written at most once a minute per token


@dataclass(frozen=True)
class ScimTokenInfo:
    token_id: str
    identity_store_id: str
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None

    def status(self, now: float) -> str:
        if self.revoked_at is not None:
            return "REVOKED"
        if self.expires_at is not None and self.expires_at <= now:
            return "EXPIRED"
        return "ACTIVE"


    def shown(self, now: float) -> dict[str, object]:
        """As `vestibule sso scim-token list` prints it (never the secret)."""
        return {"TokenId": self.token_id, "IdentityStoreId": self.identity_store_id,
                "CreatedAt": _iso(self.created_at), "ExpiresAt": _iso(self.expires_at),
                "LastUsedAt": _iso(self.last_used_at), "RevokedAt": _iso(self.revoked_at),
                "Status": self.status(now)}


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class IssuedToken:
    info: ScimTokenInfo
    token: str  # the secret: shown once

    def shown(self) -> dict[str, object]:
        """As `vestibule sso scim-token create` prints it: the one time the token is shown."""
        return {"Token": self.token, "TokenId": self.info.token_id, "IdentityStoreId": self.info.identity_store_id,
                "CreatedAt": _iso(self.info.created_at), "ExpiresAt": _iso(self.info.expires_at)}


@dataclass(frozen=True)
class ScimCaller:
    """An authenticated SCIM request: the token, its identity store and the store owner's account."""

    token_id: str
    identity_store_id: str
    owner_account_id: str
    client: Client

    @property
    def principal(self) -> str:
        return f"scim-token/{self.token_id}"


def _info(row: ScimToken) -> ScimTokenInfo:
    return ScimTokenInfo(row.id, row.identity_store_id, row.created_at, row.expires_at, row.last_used_at,
                         row.revoked_at)


async def _owner(deps: Deps, identity_store_id: str) -> str:
    async with deps.store.unit() as uow:
        instance = await by_identity_store_id(uow, identity_store_id)
    if instance is None:
        raise NotFound(f"Identity store {identity_store_id} does not exist.")
    return instance.owner_account_id


async def create(deps: Deps, identity_store_id: str, expires_in_days: int | None = None,
                 client: Client = Client(ip="cli")) -> IssuedToken:
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput("expires-in-days", f"--expires-in-days must be between 1 and {MAX_EXPIRY_DAYS}.")
    owner = await _owner(deps, identity_store_id)
    now = deps.clock()
    secret = TOKEN_PREFIX + new_token()
    row = ScimToken(id=str(uuid.uuid4()), identity_store_id=identity_store_id, owner_account_id=owner,
                    token_hash=hash_token(secret), created_at=now,
                    expires_at=None if expires_in_days is None else now + expires_in_days * 86400.0,
                    last_used_at=None, revoked_at=None)
    async with deps.store.unit() as uow:
        await uow.scim_tokens.add(row)
        await audit.record(uow, at=now, event="CreateScimToken", result="success", client=client, account_id=owner,
                           principal="administrator", method="cli", identity_store_id=identity_store_id,
                           token_id=row.id)
        await uow.commit()
    return IssuedToken(_info(row), secret)


async def list_tokens(deps: Deps, identity_store_id: str) -> list[ScimTokenInfo]:
    await _owner(deps, identity_store_id)
    async with deps.store.unit() as uow:
        return [_info(row) for row in await uow.scim_tokens.of_store(identity_store_id)]


async def revoke(deps: Deps, identity_store_id: str, token_id: str, client: Client = Client(ip="cli")) -> None:
    owner = await _owner(deps, identity_store_id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        if not await uow.scim_tokens.revoke(identity_store_id, token_id, now):
            raise NotFound(f"No active SCIM token {token_id} in identity store {identity_store_id}.")
        await audit.record(uow, at=now, event="RevokeScimToken", result="success", client=client, account_id=owner,
                           principal="administrator", method="cli", identity_store_id=identity_store_id,
                           token_id=token_id)
        await uow.commit()


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > 256:
        return None
    return value


async def authenticate(deps: Deps, authorization: str | None, client: Client) -> ScimCaller:
    """The caller of one SCIM request (InvalidBearerToken, or TooManyAttempts while its address is refused)."""
    token = _bearer(authorization)
    if token is None:
        raise InvalidBearerToken("missing bearer token")
    keys = [ThrottleKey(Scope.CLIENT, f"scim:{client.ip}")]
    now = deps.clock()
    refused = await deps.throttle.reserve(keys, now, captcha_solved=False)
    metrics.record_throttle("token", "allowed" if refused is None else "delayed")
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after or 60))
    digest = hash_token(token)
    async with deps.store.unit() as uow:
        row = await uow.scim_tokens.by_hash(digest)
    if row is None or not token_matches(token, row.token_hash):
        raise InvalidBearerToken("unknown token")  # stays counted: a guess
    await deps.throttle.settle((), keys)
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise InvalidBearerToken("revoked or expired token")
    async with deps.store.unit() as uow:
        instance = await by_identity_store_id(uow, row.identity_store_id)
        if instance is None or instance.owner_account_id != row.owner_account_id:
            raise InvalidBearerToken("identity store gone")
        if row.last_used_at is None or row.last_used_at < now - LAST_USE_GRANULARITY:
            await uow.scim_tokens.note_use(row.id, now, now - LAST_USE_GRANULARITY)
            await uow.commit()
    return ScimCaller(row.id, row.identity_store_id, row.owner_account_id, client)
