"""What a REST-JSON handler receives: the API call when the operation is SigV4-signed, else only the request."""

from __future__ import annotations

from dataclasses import dataclass

from ...services.api_call import ApiCall
from ...services.context import Deps
from ..json_values import JsonObject, JsonValue
from ..operations import OperationTable


@dataclass(frozen=True)
class RestRequest:
    deps: Deps
    call: ApiCall | None
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, JsonValue]
    client_ip: str
    request_id: str


RestTable = OperationTable[RestRequest, JsonObject]
