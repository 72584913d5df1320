"""Loading and saving typed flows in the `flows` table (payload in the JSON `data` column)."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from ..core.flows.base import (
    Flow,
    FlowConflict,
    FlowNotFound,
    FlowSpec,
    FlowType,
    decode_flow,
    encode_data,
    new_flow,
)
from ..core.tokens import new_token
from ..store.models import FlowRecord
from ..store.repositories import Store, UnitOfWork

S = TypeVar("S", bound=StrEnum)
P = TypeVar("P")

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # new_token()'s alphabet, or a token's hex hash


async def create(uow: UnitOfWork, spec: FlowSpec[S, P], browser_hash: str, now: float, payload: P,
                 flow_type: FlowType = FlowType.BROWSER, flow_id: str | None = None) -> Flow[S, P]:
    """`flow_id`: a caller's own unguessable ID (one flow per secret and browser), else a new token."""
    flow = new_flow(spec, flow_id or new_token(), browser_hash, now, payload, flow_type)
    await uow.flows.add(FlowRecord(id=flow.id, kind=spec.kind.value, state=flow.state.value, browser_hash=browser_hash,
                                   issued_at=now, expires_at=flow.expires_at, data=encode_data(flow)))
    return flow


async def load(uow: UnitOfWork, spec: FlowSpec[S, P], flow_id: str) -> Flow[S, P]:
    """The flow `flow_id` of kind `spec`; FlowNotFound for an unknown ID, another kind or unreadable data."""
    record = await uow.flows.get(flow_id) if _ID.fullmatch(flow_id) else None  # no NUL reaches the database
    if record is None or record.kind != spec.kind.value:
        raise FlowNotFound()
    return decode_flow(spec, flow_id=record.id, state=record.state, browser_hash=record.browser_hash,
                       issued_at=record.issued_at, expires_at=record.expires_at, data=record.data or {},
                       version=record.version or 0)


async def save(uow: UnitOfWork, flow: Flow[S, P]) -> None:
    """Compare-and-set on the version the flow was loaded at: FlowConflict when another request changed it
    since (two submissions racing in one flow: one wins, the other sees the conflict)."""
    if not await uow.flows.replace(flow.id, flow.version, state=flow.state.value, data=encode_data(flow),
                                   expires_at=flow.expires_at):
        raise FlowConflict()
    flow.version += 1


_RESERVE_TRIES = 50


async def reserve_attempt(store: Store, spec: FlowSpec[S, P], flow: Flow[S, P],
                          still_valid: Callable[[Flow[S, P]], None]) -> Flow[S, P]:
    """Count one attempt on `flow` before its code is checked, compare-and-set: concurrent submissions each
    get their own count, and no more than `max_attempts` are ever checked. After losing a race the flow is
    loaded again and `still_valid` (browser, expiry, state) checked on it. FlowExpired when none is left."""
    for _ in range(_RESERVE_TRIES):
        flow.reserve_attempt()
        async with store.unit() as uow:
            try:
                await save(uow, flow)
                return flow
            except FlowConflict:
                pass
        async with store.unit() as uow:
            flow = await load(uow, spec, flow.id)
        still_valid(flow)
    raise FlowConflict()
