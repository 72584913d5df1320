"""Loading and saving self-service flows."""

from __future__ import annotations

from typing import Any

from ..core.flows import INITIAL, LIFETIME, Flow, FlowKind, FlowNotFound, FlowState
from ..core.tokens import new_token
from ..store.models import FlowRecord
from ..store.repositories import UnitOfWork


async def create(uow: UnitOfWork, kind: FlowKind, browser_hash: str, now: float, data: dict[str, Any]) -> Flow:
    flow = Flow(new_token(), kind, INITIAL[kind], browser_hash, now, now + LIFETIME[kind], dict(data))
    await uow.flows.add(
        FlowRecord(id=flow.id, kind=flow.kind.value, state=flow.state.value, browser_hash=browser_hash,
                   issued_at=now, expires_at=flow.expires_at, data=flow.data)
    )
    return flow


async def load(uow: UnitOfWork, flow_id: str, kind: FlowKind) -> Flow:
    record = await uow.flows.get(flow_id) if flow_id and len(flow_id) <= 64 else None
    if record is None or record.kind != kind.value:
        raise FlowNotFound()
    return Flow(record.id, FlowKind(record.kind), FlowState(record.state), record.browser_hash,
                record.issued_at, record.expires_at, dict(record.data or {}))


async def save(uow: UnitOfWork, flow: Flow) -> None:
    record = await uow.flows.get(flow.id)
    if record is None:
        raise FlowNotFound()
    record.state = flow.state.value
    record.data = dict(flow.data)
    record.expires_at = flow.expires_at
    await uow.flows.save(record)
