"""The root user's one-time recovery codes: issued when the first MFA device is added (shown once), regenerated
on the security page after re-authentication, removed with the last MFA device, each used once by the
lost-MFA sign-in (`mfa_recovery.py`). Only the SHA-256 of each code is stored (`core/recovery_codes.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core import recovery_codes as codes
from ..core.flows.base import FlowConflict, FlowError, encode_data, new_flow
from ..core.flows.mfa_recovery import REVEAL_SPEC, CodesReveal, CodesRevealState, reveal_id
from ..core.principals import PrincipalKind
from ..errors import InvalidInput
from ..store.models import FlowRecord
from ..store.repositories import UnitOfWork
from . import audit, flows
from .context import Client, Deps
from .principals import Principal

if TYPE_CHECKING:  # credentials, the IAM API and the CLI import this module: keep its imports few
    from .reauthentication import Reauthenticated


@dataclass(frozen=True)
class CodesStatus:
    left: int  # unused codes
    issued_at: float | None  # None: the root user has no codes


def applies_to(principal: Principal) -> bool:
    """Recovery codes are the root user's (an IAM user's administrator deactivates a lost device)."""
    return principal.ref.kind == PrincipalKind.ROOT


async def issue(deps: Deps, uow: UnitOfWork, client: Client, principal: Principal, *, reason: str) -> list[str]:
    """A new set replacing any older one (used or not): the codes, to be shown once."""
    new = codes.new_codes()
    now = deps.clock()
    await uow.recovery_codes.replace_all(principal.account_id, principal.key, [codes.code_hash(c) for c in new], now)
    await audit.record(uow, at=now, event="RecoveryCodesIssued", result="Success", client=client,
                       account_id=principal.account_id, principal=principal.arn, method="console", reason=reason,
                       count=len(new))
    return new


async def issue_for_first_device(deps: Deps, client: Client, principal: Principal, session_hash: str) -> bool:
    """After a device was added in the console: a root user with MFA and no codes yet (their first device)
    gets a set, held for the next security page of this session to show once; False when none was made (an
    IAM user, or codes already issued)."""
    if not applies_to(principal):
        return False
    async with deps.store.unit() as uow:
        if not await uow.mfa.enabled_for(principal.key) and not await uow.webauthn.for_principal(principal.key):
            return False
        if await uow.recovery_codes.issued_at(principal.key) is not None:
            return False
        new = await issue(deps, uow, client, principal, reason="first MFA device")
        await _hold_for_display(deps, uow, client, principal, session_hash, new)
    return True


async def regenerate(deps: Deps, client: Client, principal: Principal, session_hash: str,
                     proof: Reauthenticated) -> None:
    """A fresh set after the password was confirmed again (the old codes stop working at once), held for
    the next security page of this session to show once."""
    if not applies_to(principal):
        raise InvalidInput("recovery_codes", "Only the root user has recovery codes.")
    async with deps.store.unit() as uow:
        if not await uow.mfa.enabled_for(principal.key) and not await uow.webauthn.for_principal(principal.key):
            raise InvalidInput("recovery_codes", "Add an MFA device first: recovery codes stand in for it.")
        new = await issue(deps, uow, client, principal, reason=f"regenerated (re-authenticated at {proof.at:.0f})")
        await _hold_for_display(deps, uow, client, principal, session_hash, new)


def _reveal_context(session_hash: str) -> str:
    return f"recovery-codes:{session_hash}"


async def _hold_for_display(deps: Deps, uow: UnitOfWork, client: Client, principal: Principal, session_hash: str,
                            new: list[str]) -> None:
    flow_id = reveal_id(session_hash)
    now = deps.clock()
    sealed = deps.box.seal("\n".join(new).encode(), _reveal_context(session_hash))
    flow = new_flow(REVEAL_SPEC, flow_id, client.browser_hash, now, CodesReveal(principal.ref, sealed))
    record = await uow.flows.get(flow_id)
    if record is None:
        await uow.flows.add(FlowRecord(id=flow_id, kind=REVEAL_SPEC.kind.value, state=flow.state.value,
                                       browser_hash=client.browser_hash, issued_at=now, expires_at=flow.expires_at,
                                       data=encode_data(flow)))
    elif not await uow.flows.replace(flow_id, record.version or 0, state=flow.state.value, data=encode_data(flow),
                                     expires_at=flow.expires_at):
        raise FlowConflict()


async def reveal(deps: Deps, client: Client, principal: Principal, session_hash: str) -> list[str] | None:
    """The new codes held for this session, in this browser, once: the first call takes them (compare-and-set);
    None when there are none (shown already, expired, another browser)."""
    if not applies_to(principal):
        return None
    async with deps.store.unit() as uow:
        try:
            flow = await flows.load(uow, REVEAL_SPEC, reveal_id(session_hash))
            flow.check(client.browser_hash, deps.clock(), CodesRevealState.PENDING)
        except FlowError:
            return None
        if flow.payload.principal != principal.ref:
            return None
        flow.complete()
        try:
            await flows.save(uow, flow)
        except FlowConflict:
            return None
    return deps.box.open(flow.payload.codes_sealed, _reveal_context(session_hash)).decode().split("\n")


async def status(deps: Deps, principal: Principal) -> CodesStatus | None:
    """None for a principal without recovery codes by design (IAM users)."""
    if not applies_to(principal):
        return None
    async with deps.store.unit() as uow:
        return CodesStatus(await uow.recovery_codes.unused(principal.key),
                           await uow.recovery_codes.issued_at(principal.key))


async def forget_without_device(deps: Deps, uow: UnitOfWork, client: Client, account_id: str, principal_key: str,
                                principal_arn: str, method: str) -> int:
    """After a device was removed (console, API, CLI): when the principal has no MFA device left its recovery
    codes go too (in the same unit of work); how many were removed."""
    if await uow.mfa.enabled_for(principal_key) or await uow.webauthn.for_principal(principal_key):
        return 0
    removed = await uow.recovery_codes.delete_all(principal_key)
    if removed:
        await audit.record(uow, at=deps.clock(), event="RecoveryCodesRemoved", result="Success", client=client,
                           account_id=account_id, principal=principal_arn, method=method,
                           reason="last MFA device removed", count=removed)
    return removed


async def use(deps: Deps, uow: UnitOfWork, principal_key: str, typed: str) -> bool:
    """Spend one code of the principal (inside the caller's unit: it commits with the sign-in)."""
    normalized = codes.normalize(typed)
    if normalized is None:
        return False
    return await uow.recovery_codes.use(principal_key, codes.code_hash(normalized), deps.clock())
