"""The sign-in service's sessions API (ListSessions, GetSession, BatchRevokeSessions) and the console security
page's list of one's own sessions: login sessions (kind `cli`, made by `vestibule login`, see `cli_login`) and
console sessions, each named by its ARN `arn:aws:signin::<account>:session/<public id>`. One's own sessions
need no permission; another principal's need the operation's action on the session ARN, checked before the
session is looked up. Ending one ends what was issued for it on every node (`cli_login.end_login`)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..core import arns
from ..core.principals import InvalidPrincipalKey, PrincipalKind, PrincipalRef
from ..core.secretbox import SecretBoxError
from ..errors import InvalidInput, PermissionDenied, VestibuleError
from ..store.models import CliLogin
from ..store.models import Session as SessionRow
from ..store.repositories import SessionFilter, UnitOfWork
from . import audit, sessions
from .api_call import ApiCall
from .aws_identity import Caller
from .cli_login import end_login
from .context import Client, Deps
from .sessions import CLI, SignedInSession


class SessionNotFound(VestibuleError):
    """GetSession / BatchRevokeSessions: no such session for that principal in the caller's account (another
    account's session is reported the same way)."""

    code = "signin.session_not_found"


@dataclass(frozen=True)
class SessionInfo:
    """A login session (kind "cli") or a console session (kind "console"), for ListSessions/GetSession and the
    console's security page."""

    session_arn: str  # arn:aws:signin::<account>:session/<public id>
    principal_arn: str
    kind: Literal["cli", "console"]
    status: Literal["ACTIVE", "REVOKED"]
    client_id: str | None  # cli sessions: SAME_DEVICE or CROSS_DEVICE
    issued_at: float
    expires_at: float
    last_used_at: float
    client_ip: str
    user_agent: str
    issued_in_region: str | None
    current: bool = False  # the security page: the browser session showing the page


_DEFAULT_PAGE = 50
_MAX_PAGE = 100
_LIST_CONTEXT = "signin-sessions-next:"


def _own_key(caller: Caller) -> str | None:
    """The principal key of the caller's own sessions (root and IAM users; roles have none here)."""
    if caller.kind == "root":
        return PrincipalRef.root(caller.account_id).key
    if caller.kind == "user":
        return caller.principal_key
    return None


async def _principal_arn_of(uow: UnitOfWork, row: SessionRow) -> str | None:
    try:
        ref = PrincipalRef.parse(row.principal_key)
    except InvalidPrincipalKey:
        return None
    if ref.kind == PrincipalKind.ROOT:
        return arns.root_arn(ref.id)
    if ref.kind == PrincipalKind.IAM_USER:
        user = await uow.users.get(ref.id)
        return arns.user_arn(user.account_id, user.name, user.path) if user is not None else None
    return None


def _info(row: SessionRow, login: CliLogin | None, principal_arn: str, now: float,
          current: str | None = None) -> SessionInfo:
    kind: Literal["cli", "console"] = "cli" if row.kind == CLI else "console"
    status: Literal["ACTIVE", "REVOKED"] = "ACTIVE" if sessions.is_alive(row, now) else "REVOKED"
    return SessionInfo(
        session_arn=arns.signin_session(row.account_id, row.public_id) if row.public_id else "",
        principal_arn=principal_arn, kind=kind, status=status, client_id=login.client_id if login else None,
        issued_at=row.created_at, expires_at=row.expires_at, last_used_at=row.last_seen_at, client_ip=row.client_ip,
        user_agent=row.user_agent, issued_in_region=(login.region or None) if login else None,
        current=current is not None and row.id_hash == current)


@dataclass(frozen=True)
class _Target:
    """Whose sessions a call names: one principal (its key, or None when it has no sessions here), or the
    whole account (`everyone`)."""

    account_id: str
    principal_key: str | None
    everyone: bool = False


async def _target(uow: UnitOfWork, caller: Caller, principal_arn: str | None) -> _Target:
    if principal_arn is None:
        return _Target(caller.account_id, _own_key(caller))
    if principal_arn == f"arn:aws:iam::{arns.account_of(principal_arn)}:*" and arns.account_of(principal_arn):
        return _Target(arns.account_of(principal_arn), None, everyone=True)
    root = arns.parse_root_arn(principal_arn)
    if root is not None:
        return _Target(root, PrincipalRef.root(root).key)
    user = arns.parse_user_arn(principal_arn)
    if user is not None:
        found = await uow.users.by_name(user[0], user[1]) if user[0] == caller.account_id else None
        return _Target(user[0], f"user:{found.id}" if found is not None else None)
    role = arns.parse_role_arn(principal_arn)
    if role is not None or principal_arn.startswith("arn:aws:sts::"):
        return _Target(arns.account_of(principal_arn), None)
    raise InvalidInput("principalArn", "principalArn must be a root, user or role ARN, or arn:aws:iam::<account>:*.")


def _fingerprint(where: SessionFilter) -> str:
    raw = json.dumps([where.account_id, where.principal_key, where.active, where.client_id, where.issued_after,
                      where.issued_before])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _next_token(deps: Deps, where: SessionFilter, row: SessionRow) -> str:
    body = json.dumps({"c": row.created_at, "p": row.public_id, "f": _fingerprint(where)}).encode()
    sealed = deps.box.seal(body, _LIST_CONTEXT + where.account_id)
    return base64.urlsafe_b64encode(sealed.encode()).decode().rstrip("=")


def _after(deps: Deps, where: SessionFilter, token: str) -> tuple[float, str]:
    invalid = InvalidInput("nextToken", "nextToken is not one this call returned for these filters.")
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        body = json.loads(deps.box.open(sealed, _LIST_CONTEXT + where.account_id))
    except (ValueError, UnicodeDecodeError, SecretBoxError):
        raise invalid from None
    if (not isinstance(body, dict) or body.get("f") != _fingerprint(where)
            or not isinstance(body.get("c"), int | float) or not isinstance(body.get("p"), str)):
        raise invalid
    return float(body["c"]), str(body["p"])


async def list_sessions(call: ApiCall, *, principal_arn: str | None, max_results: int | None,
                        next_token: str | None, status: str | None, client_id: str | None,
                        issued_after: int | None, issued_before: int | None
                        ) -> tuple[list[SessionInfo], str | None]:
    """ListSessions: the caller's own sessions (principal_arn omitted), one user's or the root's, or the whole
    account's (`arn:aws:iam::<account>:*`). Another principal's sessions need `signin:ListSessions`
    (PermissionDenied); times are epoch milliseconds. (items, next token)."""
    if status not in (None, "ACTIVE", "REVOKED"):
        raise InvalidInput("status", "status must be ACTIVE or REVOKED.")
    limit = _DEFAULT_PAGE if max_results is None else max_results
    if not 1 <= limit <= _MAX_PAGE:
        raise InvalidInput("maxResults", f"maxResults must be between 1 and {_MAX_PAGE}.")
    now = call.now()
    async with call.unit() as uow:
        target = await _target(uow, call.caller, principal_arn)
        own = not target.everyone and target.principal_key is not None and target.principal_key == _own_key(
            call.caller)
        if own:
            call.authorized_by_rule()
        else:
            await call.authorize(uow, arns.signin_sessions(target.account_id))
        if not target.everyone and target.principal_key is None:
            return [], None
        where = SessionFilter(target.account_id, None if target.everyone else target.principal_key,
                              None if status is None else status == "ACTIVE", client_id,
                              issued_after / 1000 if issued_after is not None else None,
                              issued_before / 1000 if issued_before is not None else None)
        after = _after(call.deps, where, next_token) if next_token else None
        rows = await uow.sessions.page(where, now, limit + 1, after)
        items: list[SessionInfo] = []
        for row, login in rows[:limit]:
            arn = await _principal_arn_of(uow, row)
            if arn is not None:
                items.append(_info(row, login, arn, now))
    more = _next_token(call.deps, where, rows[limit - 1][0]) if len(rows) > limit else None
    return items, more


async def _session_by_arn(uow: UnitOfWork, account_id: str, session_arn: str
                          ) -> tuple[SessionRow, CliLogin | None, str] | None:
    """A root's or IAM user's session of `account_id` by its ARN, with its principal's ARN; None otherwise."""
    parsed = arns.parse_signin_session(session_arn)
    if parsed is None or parsed[0] != account_id:
        return None
    found = await uow.sessions.by_public_id(parsed[1])
    if found is None or found[0].account_id != account_id:
        return None
    principal_arn = await _principal_arn_of(uow, found[0])
    return None if principal_arn is None else (found[0], found[1], principal_arn)


async def _reach(call: ApiCall, uow: UnitOfWork, session_arn: str, principal_arn: str | None
                 ) -> tuple[SessionRow, CliLogin | None, str]:
    """The session a GetSession or BatchRevokeSessions names: one's own needs no permission; any other (and any
    that does not exist) needs the operation's action on the session ARN first, so nothing is told about
    sessions the caller may not see. SessionNotFound when it is not there (or not `principal_arn`'s)."""
    found = await _session_by_arn(uow, call.caller.account_id, session_arn)
    if principal_arn is not None and found is not None:
        target = await _target(uow, call.caller, principal_arn)
        if not target.everyone and target.principal_key != found[0].principal_key:
            found = None
    if found is not None and found[0].principal_key == _own_key(call.caller):
        call.authorized_by_rule()
    else:
        await call.authorize(uow, session_arn if session_arn.startswith("arn:") else "*")
    if found is None:
        raise SessionNotFound(f"No session {session_arn[:256]} in this account.")
    return found


async def get_session(call: ApiCall, *, session_arn: str, principal_arn: str | None) -> SessionInfo:
    """GetSession; SessionNotFound when it is not that principal's (or the caller's) in this account."""
    async with call.unit() as uow:
        row, login, arn = await _reach(call, uow, session_arn, principal_arn)
        return _info(row, login, arn, call.now())


async def batch_revoke(call: ApiCall, *, session_arns: Sequence[str], principal_arn: str | None,
                       reason: str | None) -> tuple[list[str], list[tuple[str, str, str]]]:
    """BatchRevokeSessions (1 to 5 ARNs): (revoked ARNs, [(ARN, code, message)] for those that could not be).
    Revoking an already revoked session succeeds. One's own sessions need no permission (`vestibule logout`);
    another principal's need `signin:BatchRevokeSessions`. Audited per session."""
    if not 1 <= len(session_arns) <= 5:
        raise InvalidInput("sessionArns", "sessionArns must hold 1 to 5 session ARNs.")
    revoked: list[str] = []
    errors: list[tuple[str, str, str]] = []
    now = call.now()
    async with call.unit() as uow:
        for session_arn in dict.fromkeys(session_arns):
            try:
                row, _, _ = await _reach(call, uow, session_arn, principal_arn)
            except SessionNotFound as missing:
                errors.append((session_arn, "RESOURCE_NOT_FOUND", str(missing)))
                continue
            except PermissionDenied as denied:
                errors.append((session_arn, "INSUFFICIENT_PERMISSIONS", str(denied)))
                continue
            ended = await end_login(call.deps, uow, row.id_hash, now)
            await call.record(uow, session_arn=session_arn, session_kind=row.kind, already_revoked=not ended,
                              reason=(reason or "")[:256])
            revoked.append(session_arn)
        if not revoked:  # the call itself succeeds (its errors list says why), and is audited once
            await call.record(uow, revoked=0, refused=len(errors), reason=(reason or "")[:256])
    return revoked, errors


async def sessions_of(deps: Deps, signed_in: SignedInSession) -> list[SessionInfo]:
    """The security page: the signed-in user's live login and console sessions, newest first."""
    now = deps.clock()
    principal = signed_in.principal
    async with deps.store.unit() as uow:
        rows = await uow.sessions.live_for(principal.key, now)
    return [_info(row, login, principal.arn, now, signed_in.session.id_hash) for row, login in rows]


async def end_session(deps: Deps, client: Client, signed_in: SignedInSession, session_arn: str) -> None:
    """The security page's End button: one of the user's own sessions (SessionNotFound otherwise). Audited."""
    principal = signed_in.principal
    now = deps.clock()
    async with deps.store.unit() as uow:
        readable = 0 < len(session_arn) <= 256 and session_arn.isprintable()
        found = await _session_by_arn(uow, principal.account_id, session_arn) if readable else None
        if found is None or found[0].principal_key != principal.key:
            raise SessionNotFound("No such session of yours.")
        row = found[0]
        ended = await end_login(deps, uow, row.id_hash, now)
        await audit.record(uow, at=now, event="EndSession", result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console",
                           session_arn=session_arn, session_kind=row.kind, already_revoked=not ended)
