"""Issuing STS temporary credentials (ASIA... key, secret, session token)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.tokens import hash_token
from ..store.models import TemporaryCredential
from ..store.repositories import UnitOfWork
from .access_keys import new_key_id, new_secret
from .context import Deps


@dataclass(frozen=True)
class Issued:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float


async def issue(deps: Deps, uow: UnitOfWork, *, account_id: str, kind: str, source_principal_key: str, arn: str,
                user_id: str, duration: int, role_id: str | None = None, session_name: str | None = None,
                session_policy: str | None = None, mfa_authenticated: bool = False,
                mfa_authenticated_at: float | None = None, source_identity: str | None = None,
                session_tags: Sequence[tuple[str, str]] = (), transitive_tag_keys: Sequence[str] = (),
                login_session_hash: str | None = None) -> Issued:
    """`session_tags`: AssumeRole's or GetFederationToken's Tags (with a chained session's inherited transitive
    ones); `transitive_tag_keys`: those a session chained from this one inherits; `login_session_hash`: kind
    `login`, the login session (`vestibule login`) they die with."""
    row, issued = new_credential(
        deps, account_id=account_id, kind=kind, source_principal_key=source_principal_key, arn=arn, user_id=user_id,
        duration=duration, role_id=role_id, session_name=session_name, session_policy=session_policy,
        mfa_authenticated=mfa_authenticated, mfa_authenticated_at=mfa_authenticated_at,
        source_identity=source_identity, session_tags=session_tags, transitive_tag_keys=transitive_tag_keys,
        login_session_hash=login_session_hash)
    await uow.temp_credentials.add(row)
    return issued


def new_credential(deps: Deps, *, account_id: str, kind: str, source_principal_key: str, arn: str, user_id: str,
                   duration: int, role_id: str | None = None, session_name: str | None = None,
                   session_policy: str | None = None, mfa_authenticated: bool = False,
                   mfa_authenticated_at: float | None = None, source_identity: str | None = None,
                   session_tags: Sequence[tuple[str, str]] = (), transitive_tag_keys: Sequence[str] = (),
                   login_session_hash: str | None = None) -> tuple[TemporaryCredential, Issued]:
    """The row `issue` stores (for a hot unit that writes it itself) and the credentials it stands for."""
    now = deps.clock()
    key_id = new_key_id("ASIA")
    secret = new_secret()
    token = "Vst" + secrets.token_urlsafe(96)
    expires = now + duration
    row = TemporaryCredential(
        id=key_id, account_id=account_id, secret_sealed=deps.box.seal(secret.encode(), f"temp-key:{key_id}"),
        token_hash=hash_token(token), kind=kind, source_principal_key=source_principal_key, arn=arn,
        user_id=user_id, role_id=role_id, session_name=session_name, session_policy=session_policy,
        mfa_authenticated=mfa_authenticated, mfa_authenticated_at=mfa_authenticated_at, created_at=now,
        expires_at=expires, source_identity=source_identity,
        session_tags=json.dumps([[k, v] for k, v in session_tags]) if session_tags else None,
        transitive_tag_keys=json.dumps(list(transitive_tag_keys)) if transitive_tag_keys else None,
        login_session_hash=login_session_hash,
    )
    return row, Issued(key_id, secret, token, expires)
