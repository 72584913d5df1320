"""The last step of a closed account's root sign-in: reopen the account and sign in, in one transaction."""

from __future__ import annotations

from ...core.flows.base import FlowOutOfOrder
from ...core.flows.console_signin import Audience, ConsoleSignInState
from ...errors import InvalidCredentials
from .. import account_lifecycle
from ..context import Client, Deps
from ..principals import root_principal
from .completion import SignedIn, complete_sign_in
from .steps import load_flow


async def submit_reopen(deps: Deps, client: Client, flow_id: str, previous_session: str = "") -> SignedIn:
    flow = await load_flow(deps, client, flow_id, ConsoleSignInState.REOPEN)
    if flow.payload.audience != Audience.ROOT or not flow.payload.reopening:
        raise FlowOutOfOrder()
    ref = flow.payload.verified_principal()
    method = "password+mfa" if flow.payload.mfa_used else "password+email_code"
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(ref.id)
        if account is None:
            raise InvalidCredentials()
        await account_lifecycle.reopen(deps, uow, account, client, method=method)
        return await complete_sign_in(deps.session_ports, within=uow, principal=root_principal(account),
                                      client=client, method=method, mfa_used=flow.payload.mfa_used, flow=flow,
                                      previous_session=previous_session)
