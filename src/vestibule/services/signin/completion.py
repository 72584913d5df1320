"""The one end of every sign-in: flow done, known browser, previous session ended, new session, audit.

All of it is one hot write unit (`store/sql/hot.finish_sign_in`): a transaction of its own, or, when the
caller changed more in the same step (a new password, a new account), inside the caller's unit of work.
Either way it commits together or not at all."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from ...core.flows.base import Flow, encode_data
from ...core.principals import PrincipalKind
from ...core.tokens import hash_token
from ...store.repositories import UnitOfWork
from ...store.sql import hot
from ...store.sql.hot import PasswordUse
from .. import audit, mail_templates, metrics, sessions
from ..context import Client, SessionPorts
from ..invalidation import SESSION
from ..principals import Principal
from ..sessions import NewSession

S = TypeVar("S", bound=StrEnum)
P = TypeVar("P")

__all__ = ["PasswordUse", "SignedIn", "complete_sign_in"]

# Principals whose sign-in asks whether the browser is new: root users (a mailed code on an unknown browser) and
# access portal users (the "context change" MFA prompt mode).
_BROWSER_AWARE = frozenset({PrincipalKind.ROOT, PrincipalKind.DIRECTORY_USER})
_LOGIN_EVENTS = {PrincipalKind.PROFILE: "ProfileLogin"}  # a personal profile's sign-in is no console sign-in


@dataclass(frozen=True)
class SignedIn:
    session: NewSession
    principal: Principal


async def complete_sign_in(ports: SessionPorts, *, principal: Principal, client: Client, method: str,
                           mfa_used: bool, flow: Flow[S, P] | None = None, previous_session: str = "",
                           password_use: PasswordUse | None = None, within: UnitOfWork | None = None,
                           settle: hot.ThrottleSettle | None = None, lifetime: int | None = None) -> SignedIn:
    """`previous_session`: the session token this browser held before (its cookie), ended here.
    `password_use`: an IAM user's password last use (and new hash) to note in the same transaction.
    `settle`: the password attempt taken back on its throttle counters, in the same transaction.
    `within`: the caller's unit of work, when the sign-in ends a larger change that must commit with it.
    `lifetime`: a session that lasts this long whether or not it is used (an access portal session)."""
    now = ports.clock()
    done: hot.FlowDone | None = None
    if flow is not None:
        flow.complete()
        done = hot.FlowDone(flow.id, flow.state.value, encode_data(flow), flow.expires_at, flow.version)
    new, row = sessions.new_session(ports, principal.ref, principal.account_id, client, mfa_used, now)
    if lifetime is not None:
        row.expires_at, row.idle_seconds = now + lifetime, lifetime
        new = NewSession(new.token, row.expires_at)
    previous = hash_token(previous_session) if previous_session else None
    end = hot.SignInEnd(
        at=now, session=row, flow=done, previous_session=previous, password_use=password_use,
        remember_browser=(principal.key, client.signed_in_browser_hash or client.browser_hash)
        if principal.ref.kind in _BROWSER_AWARE else None,
        audit=audit.new_event(at=now, event=_LOGIN_EVENTS.get(principal.ref.kind, "ConsoleLogin"), result="Success",
                              client=client, account_id=principal.account_id or None, principal=principal.arn,
                              method=method,
                              mfa_used=mfa_used),
        throttle=settle,
        # a sign-in from a page: that page's language is the principal's mail language from now on
        mail_language=(principal.key, language) if (language := mail_templates.known_language(client.language))
        else None,
    )
    if within is None:
        if await ports.store.run(hot.finish_sign_in, end) and previous is not None:
            await ports.bus.publish(SESSION, previous)
    elif await within.run(hot.finish_sign_in, end) and previous is not None:
        within.after_commit(functools.partial(ports.bus.publish, SESSION, previous))
    metrics.record_sign_in(principal.ref.kind, method, success=True)
    return SignedIn(new, principal)
