"""The REST-JSON endpoint: the request path picks the service (through the services table), the method and
path pick the operation; SigV4 is verified for the operations whose row says they are signed; the declared
members are read from the body, query string and headers and validated before the handler runs. Errors carry
the code in `x-amzn-ErrorType` (added by the front) and, for SSO-OIDC, the OAuth `error` members; the sign-in
service's carry `error` (its model's OAuth2ErrorCode), and a query parameter that names another operation of the
same path (one not served) is an unknown operation, not the path's operation."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

from ...core import oauth, sigv4
from ...errors import VestibuleError
from ...observe import current_request_id, note_error, note_operation
from ...services.context import Deps
from ...services.metrics import UNKNOWN, AwsRequestSeen, record_aws_request
from ..calls import api_call, run, user_agent_of
from ..errors import AwsError, translate
from ..json_values import JsonValue
from ..services import Service, rest_json_service
from ..sigv4_auth import SigV4Authenticator
from .codec import RestInput, dump, parse_body
from .errors import (
    DOMAIN_ERRORS,
    InternalServerException,
    RestJsonError,
    UnknownOperationException,
    in_signin_shape,
    oauth_error,
    signin_oauth_error,
)
from .request import RestRequest
from .signin import QUERY_NAMED

log = logging.getLogger("vestibule.aws")

_OAUTH_SHAPED = frozenset({"sso-oidc"})  # services whose errors also carry `error` and `error_description`
_SIGNIN = "signin"  # its errors carry `error` (an OAuth2ErrorCode) and no description
# per service: query parameters that name an operation of a served path that is not served (with its name)
_QUERY_NAMED: Mapping[str, Mapping[str, str]] = {_SIGNIN: QUERY_NAMED}


def _operation_for(service: Service, method: str, path: str) -> str | None:
    for name, operation in service.operations.items():
        if operation.http == (method, path):
            return name
    return None


class RestJsonEndpoint:
    def __init__(self, deps: Deps, auth: SigV4Authenticator) -> None:
        self.deps = deps
        self.auth = auth

    async def handle(self, method: str, path: str, raw_path: str, query: str, headers: list[tuple[str, str]],
                     payload: bytes, client_ip: str, secure: bool) -> tuple[int, bytes, str, str]:
        """(status, JSON body, request ID, error type or '') for one request, counted in the metrics."""
        started = time.perf_counter()
        answer = await self._answer(method, path, raw_path, query, headers, payload, client_ip, secure)
        service = rest_json_service(path)
        name = _operation_for(service, method, path) if service is not None else None
        seen = AwsRequestSeen(service.name if service is not None else UNKNOWN, name or UNKNOWN, answer[3])
        record_aws_request(seen, time.perf_counter() - started)
        note_error(seen.error_code)  # the access line's error code
        return answer

    async def _answer(self, method: str, path: str, raw_path: str, query: str, headers: list[tuple[str, str]],
                      payload: bytes, client_ip: str, secure: bool) -> tuple[int, bytes, str, str]:
        request_id = current_request_id()
        service = rest_json_service(path)
        try:
            name = _operation_for(service, method, path) if service is not None else None
            if service is None or name is None:
                raise UnknownOperationException(f"No operation answers {method} {path}"
                                                + (f" on {service.name} yet." if service else "."))
            note_operation(service.name, name)
            params = dict(parse_qsl(query, keep_blank_values=True))
            named = _QUERY_NAMED.get(service.name, {})
            for param in params:
                if param in named:
                    raise UnknownOperationException(
                        f"{named[param]} (the query parameter {param} on {method} {path}) is not served; "
                        f"{name} takes no such parameter.")
            operation = service.operations[name]
            lowered = {k.lower(): v for k, v in headers}
            call = None
            if operation.signed:
                signed = sigv4.SignedRequest(method=method, path=raw_path, query=query, headers=headers,
                                             body=payload, now=self.deps.clock())
                caller = await self.auth.authenticate(signed, service.signing_name)
                call = api_call(self.deps, caller, service.name, operation, source_ip=client_ip, secure=secure,
                                user_agent=user_agent_of(signed.grouped_headers))
            body = parse_body(payload) if method == "POST" else {}
            members = RestInput(operation.inputs, body, params, lowered)
            request = RestRequest(self.deps, call, members, client_ip, lowered.get("user-agent", "")[:256],
                                  request_id, tuple((k.lower(), v) for k, v in headers),
                                  self._urls(raw_path))
            reply = await (run(operation, call, request) if call is not None else operation.handler(request))
            return 200, dump(reply), request_id, ""
        except sigv4.SigV4Error as exc:
            return exc.status, _body(service, exc.code, exc.message), request_id, exc.code
        except AwsError as exc:
            if service is not None and service.name == _SIGNIN:
                exc = in_signin_shape(exc)
            return exc.status, _body(service, exc.code, exc.message, _oauth_code(exc)), request_id, exc.code
        except oauth.OAuthError as exc:
            wire = signin_oauth_error(exc) if service is not None and service.name == _SIGNIN else oauth_error(exc)
            return wire.status, _body(service, wire.code, wire.message, wire.error), request_id, wire.code
        except VestibuleError as exc:
            table = DOMAIN_ERRORS.get(service.name) if service is not None else None
            mapped = translate(exc, table) if table is not None else None
            if mapped is not None:
                return (mapped.status, _body(service, mapped.code, mapped.message, _oauth_code(mapped)), request_id,
                        mapped.code)
            log.exception("unmapped domain error (request %s)", request_id)
        except Exception:
            log.exception("internal error (request %s)", request_id)
        failure = InternalServerException("An internal error occurred; the request ID identifies it in the log.")
        return failure.status, _body(service, failure.code, failure.message, failure.error), request_id, failure.code

    def _urls(self, raw_path: str) -> tuple[str, ...]:
        """What a DPoP proof's `htu` may name: the request's URL without query as the public origin names it.
        Never the Host the request carries: a proof made for another server (one the client was pointed at)
        would then be accepted here with that Host header (RFC 9449 4.3, check 9)."""
        return (f"{self.deps.settings.public_origin}{raw_path}",)


def _oauth_code(exc: AwsError) -> str:
    return exc.error if isinstance(exc, RestJsonError) else "invalid_request"


def _body(service: Service | None, code: str, message: str, error: str = "invalid_request") -> bytes:
    shaped: dict[str, JsonValue] = {"__type": code, "message": message}
    if service is not None and service.name in _OAUTH_SHAPED:
        shaped.update(error=error, error_description=message)
    elif service is not None and service.name == _SIGNIN:
        shaped["error"] = error
    return dump(shaped)
