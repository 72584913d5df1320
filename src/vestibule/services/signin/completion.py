"""The one end of every sign-in: flow done, known browser, previous session ended, new session, audit.

It runs inside the caller's unit of work, so all of it commits together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from ...core.flows.base import Flow
from ...core.principals import PrincipalKind
from ...store.repositories import UnitOfWork
from .. import audit, flows, sessions
from ..context import Client, SessionPorts
from ..principals import Principal
from ..sessions import NewSession

S = TypeVar("S", bound=StrEnum)
P = TypeVar("P")

# Principals whose sign-in asks whether the browser is new (a mailed code on an unknown browser).
_BROWSER_AWARE = frozenset({PrincipalKind.ROOT})


@dataclass(frozen=True)
class SignedIn:
    session: NewSession
    principal: Principal


async def complete_sign_in(uow: UnitOfWork, ports: SessionPorts, *, principal: Principal, client: Client,
                           method: str, mfa_used: bool, flow: Flow[S, P] | None = None,
                           previous_session: str = "") -> SignedIn:
    """`previous_session`: the session token this browser held before (its cookie), ended here."""
    now = ports.clock()
    if flow is not None:
        flow.complete()
        await flows.save(uow, flow)
    if principal.ref.kind in _BROWSER_AWARE:
        await uow.browsers.remember(principal.key, client.browser_hash, now)
    if previous_session:
        await sessions.end(uow, ports, previous_session)
    session = await sessions.start(uow, ports, principal.ref, principal.account_id, client, mfa_used)
    await audit.record(uow, at=now, event="ConsoleLogin", result="Success", client=client,
                       account_id=principal.account_id, principal=principal.arn, method=method, mfa_used=mfa_used)
    return SignedIn(session, principal)
