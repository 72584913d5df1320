"""Loading and saving typed flows in the `flows` table (payload in the JSON `data` column)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from ..core.flows.base import Flow, FlowNotFound, FlowSpec, FlowType, decode_flow, encode_data, new_flow
from ..core.tokens import new_token
from ..store.models import FlowRecord
from ..store.repositories import UnitOfWork

S = TypeVar("S", bound=StrEnum)
P = TypeVar("P")

_MAX_ID = 64


async def create(uow: UnitOfWork, spec: FlowSpec[S, P], browser_hash: str, now: float, payload: P,
                 flow_type: FlowType = FlowType.BROWSER) -> Flow[S, P]:
    flow = new_flow(spec, new_token(), browser_hash, now, payload, flow_type)
    await uow.flows.add(FlowRecord(id=flow.id, kind=spec.kind.value, state=flow.state.value, browser_hash=browser_hash,
                                   issued_at=now, expires_at=flow.expires_at, data=encode_data(flow)))
    return flow


async def load(uow: UnitOfWork, spec: FlowSpec[S, P], flow_id: str) -> Flow[S, P]:
    """The flow `flow_id` of kind `spec`; FlowNotFound for an unknown ID, another kind or unreadable data."""
    record = await uow.flows.get(flow_id) if flow_id and len(flow_id) <= _MAX_ID else None
    if record is None or record.kind != spec.kind.value:
        raise FlowNotFound()
    return decode_flow(spec, flow_id=record.id, state=record.state, browser_hash=record.browser_hash,
                       issued_at=record.issued_at, expires_at=record.expires_at, data=record.data or {})


async def save(uow: UnitOfWork, flow: Flow[S, P]) -> None:
    record = await uow.flows.get(flow.id)
    if record is None:
        raise FlowNotFound()
    record.state = flow.state.value
    record.data = encode_data(flow)
    record.expires_at = flow.expires_at
    await uow.flows.save(record)
