"""What a query-protocol handler receives: the API call (caller, action, audit event) and its validated input;
for an unsigned operation (its row's `signed=False`: AssumeRoleWithWebIdentity, AssumeRoleWithSAML) no call,
only where the request came from: the use case authenticates by the token the request carries."""

from __future__ import annotations

from dataclasses import dataclass

from ...services.api_call import ApiCall
from ...services.context import Client, Deps
from ..operations import OperationTable
from .params import Input
from .xml import Result


@dataclass(frozen=True)
class QueryRequest:
    signed_call: ApiCall | None  # None exactly when the operation's row says `signed=False`
    input: Input
    request_id: str
    deps: Deps
    client: Client
    secure: bool = False

    @property
    def call(self) -> ApiCall:
        """The API call of a SigV4-signed operation; an unsigned operation's handler must not ask for it."""
        if self.signed_call is None:
            raise AssertionError("an unsigned operation has no API call")
        return self.signed_call


QueryTable = OperationTable[QueryRequest, Result]
