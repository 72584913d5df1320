"""Audit events: every sign-in attempt and every credential change."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from ..store.models import AuditEvent
from ..store.repositories import UnitOfWork
from ..store.sql import hot
from .context import Client


def new_event(
    *,
    at: float,
    event: str,
    result: str,
    client: Client,
    account_id: str | None = None,
    principal: str = "",
    method: str = "",
    mfa_used: bool = False,
    **detail: Any,
) -> AuditEvent:
    """An audit event's row (for `record`, or for a hot unit that writes it), built without the ORM
    constructor's change tracking (a quarter of a millisecond per event on the sign-in path)."""
    return hot.new_row(AuditEvent, {
        "at": at, "account_id": account_id, "principal": principal, "event": event, "method": method,
        "mfa_used": mfa_used, "result": result, "client_ip": client.ip[:64], "user_agent": client.user_agent[:512],
        "detail": detail})


async def record(
    uow: UnitOfWork,
    *,
    at: float,
    event: str,
    result: str,
    client: Client,
    account_id: str | None = None,
    principal: str = "",
    method: str = "",
    mfa_used: bool = False,
    **detail: Any,
) -> None:
    await uow.audit.add(new_event(at=at, event=event, result=result, client=client, account_id=account_id,
                                  principal=principal, method=method, mfa_used=mfa_used, **detail))


def as_dict(ev: AuditEvent) -> dict[str, Any]:
    from datetime import datetime

    return {
        "time": datetime.fromtimestamp(ev.at, UTC).isoformat().replace("+00:00", "Z"),
        "account_id": ev.account_id,
        "principal": ev.principal,
        "event": ev.event,
        "method": ev.method,
        "mfa_used": ev.mfa_used,
        "result": ev.result,
        "client_ip": ev.client_ip,
        "user_agent": ev.user_agent,
        "detail": ev.detail,
    }


def as_json_line(ev: AuditEvent) -> str:
    return json.dumps(as_dict(ev), ensure_ascii=False, sort_keys=True)
