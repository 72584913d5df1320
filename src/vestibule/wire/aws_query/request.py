"""What a query-protocol handler receives: the API call (caller, action, audit event) and its validated input."""

from __future__ import annotations

from dataclasses import dataclass

from ...services.api_call import ApiCall
from ..operations import OperationTable
from .params import Input
from .xml import Result


@dataclass(frozen=True)
class QueryRequest:
    call: ApiCall
    input: Input
    request_id: str


QueryTable = OperationTable[QueryRequest, Result]
