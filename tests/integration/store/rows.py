"""Rows for the contract suites: valid defaults, every field overridable."""

from __future__ import annotations

import itertools

from vestibule.store.models import (
    AccessKey,
    Account,
    FlowRecord,
    IamGroup,
    IamRole,
    IamUser,
    ManagedPolicy,
    MfaDevice,
    OutboxMail,
    RecoveryToken,
    Session,
    TemporaryCredential,
)

NOW = 1_800_000_000.0
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def account(account_id: str = "111122223333", alias: str | None = "acme", email: str = "owner@example.com") -> Account:
    return Account(id=account_id, name="Acme", alias=alias, root_email=email, root_password_hash="$argon2id$h",
                   root_password_changed_at=NOW, status="active", created_at=NOW)


def user(account_id: str = "111122223333", name: str = "Alice", user_id: str | None = None) -> IamUser:
    return IamUser(id=user_id or f"AIDA{_n():017d}", account_id=account_id, name=name, name_lower=name.lower(),
                   path="/", created_at=NOW)


def session(id_hash: str, principal_key: str = "root:111122223333", *, created_at: float = NOW,
            expires_at: float = NOW + 3600, revoked_at: float | None = None) -> Session:
    return Session(id_hash=id_hash, account_id="111122223333", principal_key=principal_key, created_at=created_at,
                   last_seen_at=created_at, expires_at=expires_at, idle_seconds=900, revoked_at=revoked_at,
                   mfa_used=False, csrf_secret="c" * 43, client_ip="203.0.113.7", user_agent="test")


def flow(flow_id: str, *, expires_at: float = NOW + 600, data: dict[str, object] | None = None) -> FlowRecord:
    return FlowRecord(id=flow_id, kind="root_signin", state="choose", browser_hash="b" * 64, issued_at=NOW,
                      expires_at=expires_at, data=dict(data or {}))


def recovery_token(token_hash: str, *, expires_at: float = NOW + 3600) -> RecoveryToken:
    return RecoveryToken(token_hash=token_hash, account_id="111122223333", created_at=NOW, expires_at=expires_at)


def access_key(key_id: str, principal_key: str = "root:111122223333", created_at: float = NOW) -> AccessKey:
    return AccessKey(id=key_id, account_id="111122223333", principal_key=principal_key, secret_sealed="sealed",
                     status="Active", created_at=created_at)


def temporary_credential(key_id: str, *, expires_at: float = NOW + 3600) -> TemporaryCredential:
    return TemporaryCredential(id=key_id, account_id="111122223333", secret_sealed="sealed", token_hash="t" * 64,
                               kind="session", source_principal_key="root:111122223333",
                               arn="arn:aws:iam::111122223333:root", user_id="111122223333", created_at=NOW,
                               expires_at=expires_at)


def mfa_device(serial: str, principal_key: str | None = "root:111122223333", *,
               enabled_at: float | None = NOW) -> MfaDevice:
    return MfaDevice(account_id="111122223333", principal_key=principal_key, name=serial.rsplit("/", 1)[-1],
                     serial=serial, secret_sealed="sealed", enabled_at=enabled_at, created_at=NOW)


def group(name: str, path: str = "/") -> IamGroup:
    return IamGroup(id=f"AGPA{_n():017d}", account_id="111122223333", name=name, name_lower=name.lower(), path=path,
                    created_at=NOW)


def role(name: str, path: str = "/") -> IamRole:
    return IamRole(id=f"AROA{_n():017d}", account_id="111122223333", name=name, name_lower=name.lower(), path=path,
                   trust_policy="{}", created_at=NOW)


def policy(name: str, path: str = "/") -> ManagedPolicy:
    return ManagedPolicy(arn=f"arn:aws:iam::111122223333:policy{path}{name}", id=f"ANPA{_n():017d}",
                         account_id="111122223333", name=name, path=path, document="{}", created_at=NOW,
                         updated_at=NOW)


def outbox_mail(mail_id: str, *, status: str = "pending", created_at: float = NOW, next_attempt_at: float = NOW,
                expires_at: float = NOW + 3600, finished_at: float | None = None, body_sealed: str = "v1.k.sealed",
                recipient: str = "owner@example.com") -> OutboxMail:
    return OutboxMail(id=mail_id, kind="signin_code", recipient=recipient, subject="Your code",
                      body_sealed=body_sealed, status=status, attempts=0, created_at=created_at,
                      next_attempt_at=next_attempt_at, expires_at=expires_at, claim="", claimed_until=0.0,
                      finished_at=finished_at, last_error="")
