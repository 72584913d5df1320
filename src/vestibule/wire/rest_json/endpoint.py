"""The REST-JSON endpoint: the request path picks the service (through the services table), the method and
path pick the operation; SigV4 is verified for the operations whose row says they are signed."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from ...core import sigv4
from ...errors import VestibuleError
from ...services.context import Deps
from ..calls import api_call, run, user_agent_of
from ..errors import AwsError, translate
from ..request_ids import new_request_id
from ..services import Service, rest_json_service
from ..sigv4_auth import SigV4Authenticator
from .codec import dump, parse_body
from .errors import DOMAIN_ERRORS, InternalServerException, UnknownOperationException
from .request import RestRequest

log = logging.getLogger("vestibule.aws")


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
        """(status, JSON body, request ID, error type or '') for one request."""
        request_id = new_request_id()
        try:
            service = rest_json_service(path)
            name = _operation_for(service, method, path) if service is not None else None
            if service is None or name is None:
                raise UnknownOperationException(f"No operation answers {method} {path}"
                                                + (f" on {service.name} yet." if service else "."))
            operation = service.operations[name]
            call = None
            if operation.signed:
                signed = sigv4.SignedRequest(method=method, path=raw_path, query=query, headers=headers,
                                             body=payload, now=self.deps.clock())
                caller = await self.auth.authenticate(signed, service.signing_name)
                call = api_call(self.deps, caller, service.name, operation, source_ip=client_ip, secure=secure,
                                user_agent=user_agent_of(signed.grouped_headers))
            request = RestRequest(self.deps, call, dict(parse_qsl(query, keep_blank_values=True)),
                                  {k.lower(): v for k, v in headers}, parse_body(payload), client_ip, request_id)
            reply = await (run(operation, call, request) if call is not None else operation.handler(request))
            return 200, dump(reply), request_id, ""
        except sigv4.SigV4Error as exc:
            return exc.status, _body(exc.code, exc.message), request_id, exc.code
        except AwsError as exc:
            return exc.status, _body(exc.code, exc.message), request_id, exc.code
        except VestibuleError as exc:
            wire = translate(exc, DOMAIN_ERRORS)
            if wire is not None:
                return wire.status, _body(wire.code, wire.message), request_id, wire.code
            log.exception("unmapped domain error (request %s)", request_id)
        except Exception:
            log.exception("internal error (request %s)", request_id)
        failure = InternalServerException("An internal error occurred; the request ID identifies it in the log.")
        return failure.status, _body(failure.code, failure.message), request_id, failure.code


def _body(code: str, message: str) -> bytes:
    return dump({"__type": code, "message": message})
