"""The AWS query protocol endpoint (`POST /` or `GET /?Action=...`): STS and IAM.

Routes by `Version`, else by the credential scope's service. Every request is SigV4-verified before any
handler runs, except for the operations whose row says `signed=False` (the model's `noAuth` ones: the token
the request carries authenticates it); every response carries a request ID.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from urllib.parse import parse_qsl

from ...core import sigv4
from ...errors import VestibuleError
from ...observe import current_request_id, note_error, note_operation
from ...services.context import Client, Deps
from ...services.metrics import UNKNOWN, AwsRequestSeen, record_aws_request
from ..calls import api_call, run, user_agent_of
from ..errors import AwsError, translate
from ..operations import AnyOperation
from ..services import QUERY_BY_SIGNING_NAME, QUERY_BY_VERSION, Service
from ..sigv4_auth import SigV4Authenticator
from . import xml
from .errors import (
    DOMAIN_ERRORS,
    InvalidAction,
    MalformedQueryString,
    MissingAction,
    ServiceFailure,
    with_encoded_message,
)
from .iam.unserved import UNSERVED
from .params import Input, QueryParams
from .request import QueryRequest

log = logging.getLogger("vestibule.aws")

_FALLBACK = QUERY_BY_VERSION["2010-05-08"]


class QueryEndpoint:
    def __init__(self, deps: Deps, auth: SigV4Authenticator) -> None:
        self.deps = deps
        self.auth = auth

    async def handle(self, method: str, raw_path: str, query: str, raw_headers: Iterable[tuple[bytes, bytes]],
                     body: bytes, client_ip: str, secure: bool) -> tuple[int, str, str]:
        """`raw_headers` as ASGI gives them (bytes pairs): SigV4 groups them in one pass. Counted in the metrics."""
        seen = AwsRequestSeen()
        started = time.perf_counter()
        answer = await self._answer(seen, method, raw_path, query, raw_headers, body, client_ip, secure)
        record_aws_request(seen, time.perf_counter() - started)
        note_error(seen.error_code)  # the access line's error code
        return answer

    async def _answer(self, seen: AwsRequestSeen, method: str, raw_path: str, query: str,
                      raw_headers: Iterable[tuple[bytes, bytes]], body: bytes, client_ip: str,
                      secure: bool) -> tuple[int, str, str]:
        request_id = current_request_id()
        service = _FALLBACK
        try:
            pairs = parse_qsl(query, keep_blank_values=True) if query else []
            if body and method == "POST":
                try:
                    pairs += _form_pairs(body.decode("utf-8"))
                except UnicodeDecodeError:
                    raise MalformedQueryString("The request body is not valid UTF-8.") from None
            params = QueryParams(pairs)
            version, action = params.get("Version"), params.get("Action")
            signed = sigv4.SignedRequest.from_asgi(method=method, path=raw_path, query=query,
                                                   raw_headers=raw_headers, body=body, now=self.deps.clock())
            parts = None
            if version in QUERY_BY_VERSION:
                service = QUERY_BY_VERSION[version]
            else:
                parts = sigv4.parse_authorization(signed)
                service = QUERY_BY_SIGNING_NAME.get(parts.service, _FALLBACK)
            note_operation(service.name, action)
            seen.service, seen.operation = service.name, action if action and action in service.operations else UNKNOWN
            unserved = UNSERVED.get(service.name, {}).get(action or "")
            if unserved is not None:  # an operation of the model that Vestibule does not serve: say why
                raise InvalidAction(f"{action} is not served by Vestibule: {unserved}.")
            operation = service.operations.get(action or "")
            user_agent = user_agent_of(signed.grouped_headers)
            if operation is not None and not operation.signed:  # the token in the request authenticates it
                client = Client(ip=client_ip, user_agent=user_agent[:256])
                request = QueryRequest(None, Input(params, operation.inputs), request_id, self.deps, client, secure)
                result = await operation.handler(request)
                return 200, xml.response(operation.name, _namespace(service), result, request_id), request_id
            parts = parts or sigv4.parse_authorization(signed)
            caller = await self.auth.authenticate(signed, service.signing_name, parts)
            if not action:
                raise MissingAction("Missing Action")
            if operation is None:
                raise InvalidAction(f"Could not find operation {action} for version "
                                    f"{version or 'NO_VERSION_SPECIFIED'}")
            inputs = Input(params, operation.inputs)
            tags, tag_keys = _request_tags(operation, inputs)
            call = api_call(self.deps, caller, service.name, operation, source_ip=client_ip, secure=secure,
                            user_agent=user_agent, region=parts.region, request_tags=tags, tag_keys=tag_keys)
            result = await run(operation, call, QueryRequest(call, inputs, request_id, self.deps, call.client,
                                                             secure))
            return 200, xml.response(action, _namespace(service), result, request_id), request_id
        except sigv4.SigV4Error as exc:
            seen.error_code = exc.code
            return exc.status, xml.error(exc.code, exc.message, request_id, _namespace(service)), request_id
        except AwsError as exc:
            seen.error_code = exc.code
            return exc.status, _error(exc, request_id, service), request_id
        except VestibuleError as exc:
            wire = translate(exc, DOMAIN_ERRORS)
            if wire is not None:
                wire = with_encoded_message(wire, exc, self.deps.box)
                seen.error_code = wire.code
                return wire.status, _error(wire, request_id, service), request_id
            log.exception("unmapped domain error (request %s)", request_id)
        except Exception:
            log.exception("internal error (request %s)", request_id)
        failure = ServiceFailure("An internal error occurred; the request ID identifies it in the server log.")
        seen.error_code = failure.code
        return 500, _error(failure, request_id, service), request_id


def _request_tags(operation: AnyOperation, inputs: Input) -> tuple[list[tuple[str, str]] | None, list[str] | None]:
    """The Tags (Create..., Tag...) and TagKeys (Untag...) of a request, as its request context holds them."""
    tags = keys = None
    for member in operation.inputs:
        if member.name == "Tags":
            tags = [(item.get("Key", ""), item.get("Value", "")) for item in inputs.structs("Tags")]
        elif member.name == "TagKeys":
            keys = inputs.strings("TagKeys")
    return tags, keys


def _form_pairs(form: str) -> list[tuple[str, str]]:
    """`parse_qsl(form, keep_blank_values=True)`, with a fast path for the usual body with nothing encoded."""
    if "%" in form or "+" in form:
        return parse_qsl(form, keep_blank_values=True)
    return [(name, value) for name, _, value in (piece.partition("=") for piece in form.split("&") if piece)]


def _namespace(service: Service) -> str:
    return service.namespace or ""


def _error(exc: AwsError, request_id: str, service: Service) -> str:
    return xml.error(exc.code, exc.message, request_id, _namespace(service), exc.sender_fault)
