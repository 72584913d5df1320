"""What a REST-JSON handler receives: the validated input members, the API call when the operation is
SigV4-signed, and where the request came from (and, for a proof of possession such as DPoP, its headers and
the URLs it was sent to)."""

from __future__ import annotations

from dataclasses import dataclass

from ...services.api_call import ApiCall
from ...services.context import Client, Deps
from ..json_values import JsonObject
from ..operations import OperationTable
from .codec import RestInput


@dataclass(frozen=True)
class RestRequest:
    deps: Deps
    call: ApiCall | None
    input: RestInput
    client_ip: str
    user_agent: str
    request_id: str
    headers: tuple[tuple[str, str], ...] = ()  # every header as received, names lower-cased, repeats kept
    urls: tuple[str, ...] = ()  # the request's own URL without query: the public origin's, and as it arrived

    @property
    def client(self) -> Client:
        return Client(ip=self.client_ip, user_agent=self.user_agent)


RestTable = OperationTable[RestRequest, JsonObject]
