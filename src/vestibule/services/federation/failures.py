"""A federated sign-in that failed: kept under a reference ID the user is shown, so the administrator can read
the details (`vestibule federation diagnose --reference ID`, and the `FederatedSignInFailed` audit event).

Every door of a federated sign-in calls `record_failure` with the `FederationFailure` it caught, in a transaction
of its own (the failing step's transaction may have been rolled back), and shows the page of
`web/federation/failure.py` with the reference it returns."""

from __future__ import annotations

import base64
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.federation_failures import Cause, FederationFailure
from ...store.models import FederationFailureRecord
from ...store.repositories import Conflict
from .. import audit
from ..context import Client, Deps

log = logging.getLogger("vestibule.federation")

EVENT = "FederatedSignInFailed"
# where a federated sign-in enters, and the audit event's `method` for it
DOORS: Mapping[str, str] = {
    "saml": "saml",  # the console's assertion consumer, POST /saml
    "oidc-console": "oidc",  # the console's "Sign in with ..." buttons
    "federation-endpoint": "federation",  # GET /federation?Action=login
    "portal-saml": "saml",  # an access portal whose identity source is a SAML IdP
    "portal-ldap": "ldap",  # an access portal whose identity source is an LDAP directory
}
REFERENCE = re.compile(r"F-[A-Z2-7]{16}")
_MAX_VALUES = 32
_MAX_VALUE = 1024
_MAX_PROVIDER = 2048


@dataclass(frozen=True)
class Diagnosis:
    """What the administrator reads about one failure."""

    reference: str
    at: float
    door: str
    cause: Cause | str  # a str only for a cause this version no longer knows
    account_id: str | None
    provider: str
    principal: str
    message: str  # the failure's own one-line detail (English, for the administrator)
    user: Mapping[str, str]  # the values the failure page showed the user
    admin: Mapping[str, str]  # fingerprints, times, the expected and received values


def new_reference() -> str:
    """`F-` and 16 base32 characters: 80 random bits."""
    return "F-" + base64.b32encode(secrets.token_bytes(10)).decode("ascii")


def normalize_reference(text: str) -> str | None:
    """The reference as stored (case and surrounding spaces forgiven), or None when it cannot be one."""
    value = text.strip().upper()
    return value if REFERENCE.fullmatch(value) else None


def _bounded(values: Mapping[str, str]) -> dict[str, str]:
    return {str(k)[:64]: str(v)[:_MAX_VALUE] for k, v in list(values.items())[:_MAX_VALUES]}


async def record_failure(deps: Deps, client: Client, failure: FederationFailure, *, door: str,
                         account_id: str | None = None, provider: str = "", principal: str = "") -> str:
    """Store the failure and its audit event in one transaction of its own; returns the reference ID.
    `provider`: the provider's ARN (or the issuer when no provider matched); `principal`: who tried, when known
    (the NameID, the token's subject, the LDAP user name)."""
    if door not in DOORS:
        raise ValueError(f"unknown door {door!r}")
    now = deps.clock()
    retention = deps.settings.audit_retention_days
    user, admin = _bounded(failure.user), _bounded(failure.admin)
    message = str(failure.detail or failure.cause.value)[:_MAX_VALUE]
    provider, principal = provider[:_MAX_PROVIDER], principal[:256]
    detail: dict[str, Any] = {"message": message, "user": user, "admin": admin, "principal": principal}
    for _ in range(3):
        reference = new_reference()
        try:
            async with deps.store.unit() as uow:
                await uow.federation_failures.add(FederationFailureRecord(
                    reference=reference, at=now, account_id=account_id, door=door, cause=failure.cause.value,
                    provider=provider, detail=detail,
                    expires_at=now + retention * 86400.0 if retention > 0 else None))
                await audit.record(uow, at=now, event=EVENT, result="failure", client=client,
                                   account_id=account_id, principal=principal, method=DOORS[door],
                                   reference=reference, cause=failure.cause.value, door=door, provider=provider,
                                   message=message, user=user, admin=admin)
        except Conflict:
            continue
        log.info("federated sign-in failed: reference=%s door=%s cause=%s", reference, door, failure.cause.value)
        return reference
    raise RuntimeError("no free failure reference after three tries")


async def diagnose(deps: Deps, reference: str) -> Diagnosis | None:
    """The failure stored under `reference` (any case), or None when there is none (or it was purged)."""
    wanted = normalize_reference(reference)
    if wanted is None:
        return None
    async with deps.store.unit() as uow:
        row = await uow.federation_failures.get(wanted)
    if row is None:
        return None
    detail = row.detail if isinstance(row.detail, dict) else {}

    def strings(name: str) -> dict[str, str]:
        value = detail.get(name)
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    try:
        cause: Cause | str = Cause(row.cause)
    except ValueError:
        cause = row.cause
    return Diagnosis(reference=row.reference, at=row.at, door=row.door, cause=cause, account_id=row.account_id,
                     provider=row.provider, principal=str(detail.get("principal", "")),
                     message=str(detail.get("message", "")), user=strings("user"), admin=strings("admin"))
