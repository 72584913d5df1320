"""What a JSON 1.1 handler receives."""

from __future__ import annotations

from dataclasses import dataclass

from ...services.api_call import ApiCall
from ..json_values import JsonObject
from ..operations import OperationTable
from .codec import JsonInput


@dataclass(frozen=True)
class JsonRequest:
    call: ApiCall
    input: JsonInput
    request_id: str


JsonTable = OperationTable[JsonRequest, JsonObject]
