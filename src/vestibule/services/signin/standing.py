"""After a right password: a suspended or closed account is refused with its own page (the password's owner
may know; a wrong password never gets this far and sees the usual answer)."""

from __future__ import annotations

from ...core.flows.console_signin import ConsoleSignInFlow, ConsoleSignInState
from ...core.principals import PrincipalKind, PrincipalRef
from ...store.models import Account
from ...store.repositories import UnitOfWork
from .. import flows
from ..account_lifecycle import CLOSED, AccountState, AccountUnavailable, Standing, state_of
from ..context import Client, Deps
from ..principals import LoadedPrincipal, load_ref, root_principal
from .gate import record_failure


async def refuse_unless_active(deps: Deps, client: Client, account: Account, *, kind: PrincipalKind,
                               principal_arn: str, may_reopen: bool = False) -> AccountState:
    """The account's state when it is active (or closed and `may_reopen`: its root user); else the failed
    attempt is audited and AccountUnavailable raised."""
    async with deps.store.unit() as uow:
        state = await state_of(uow, account, deps.clock())
    if state.standing is Standing.ACTIVE or (may_reopen and state.standing is Standing.CLOSED):
        return state
    await record_failure(deps, client, kind=kind, account_id=account.id, principal=principal_arn,
                         method="password", reason=f"account {state.standing.value}")
    raise AccountUnavailable(state)


async def load_for_flow(uow: UnitOfWork, ref: PrincipalRef, reopening: bool) -> LoadedPrincipal | None:
    """The flow's principal; for a closed account's root user on the way to reopening it, that root user too
    (closed accounts load as nobody everywhere else)."""
    if reopening and ref.kind is PrincipalKind.ROOT:
        account = await uow.accounts.get(ref.id)
        if account is None or account.status != CLOSED:
            return None
        return LoadedPrincipal(root_principal(account), account, None)
    return await load_ref(uow, ref)


async def to_reopen_page(deps: Deps, flow: ConsoleSignInFlow) -> ConsoleSignInFlow:
    """Every step passed for a closed account's root user: the flow waits on the reopen page."""
    flow.advance(ConsoleSignInState.REOPEN)
    async with deps.store.unit() as uow:
        await flows.save(uow, flow)
    return flow
