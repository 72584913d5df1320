"""The JSON 1.1 endpoint: `POST /` with `X-Amz-Target: <prefix>.<Operation>`, routed by the target prefix
through the services table, SigV4-verified before the operation is looked up."""

from __future__ import annotations

import logging
import time

from ...core import sigv4
from ...errors import VestibuleError
from ...observe import current_request_id, note_error, note_operation
from ...services.context import Deps
from ...services.metrics import UNKNOWN, AwsRequestSeen, record_aws_request
from ..calls import api_call, run, user_agent_of
from ..errors import AwsError, translate
from ..services import JSON_BY_TARGET_PREFIX, Service
from ..sigv4_auth import SigV4Authenticator
from .codec import JsonInput, dump, parse_body
from .errors import DOMAIN_ERRORS, InternalServerException, UnknownOperationException, ValidationException, body
from .request import JsonRequest

log = logging.getLogger("vestibule.aws")


def _code(error: AwsError, service: Service | None) -> str:
    """The error's code as the service's model names it: invalid input is `ValidationException` for most JSON 1.1
    services, `InvalidInputException` for Organizations."""
    if isinstance(error, ValidationException) and service is not None:
        return service.validation_code
    return error.code


class JsonEndpoint:
    def __init__(self, deps: Deps, auth: SigV4Authenticator) -> None:
        self.deps = deps
        self.auth = auth

    async def handle(self, target: str, raw_path: str, query: str, headers: list[tuple[str, str]], payload: bytes,
                     client_ip: str, secure: bool) -> tuple[int, bytes, str]:
        """(status, JSON body, request ID) for one request, counted in the metrics."""
        seen = AwsRequestSeen()
        started = time.perf_counter()
        answer = await self._answer(seen, target, raw_path, query, headers, payload, client_ip, secure)
        record_aws_request(seen, time.perf_counter() - started)
        note_error(seen.error_code)  # the access line's error code
        return answer

    async def _answer(self, seen: AwsRequestSeen, target: str, raw_path: str, query: str,
                      headers: list[tuple[str, str]], payload: bytes, client_ip: str,
                      secure: bool) -> tuple[int, bytes, str]:
        request_id = current_request_id()
        service: Service | None = None
        try:
            prefix, _, name = target.partition(".")
            service = JSON_BY_TARGET_PREFIX.get(prefix)
            if service is None:
                raise UnknownOperationException(f"No service answers the target {target}.")
            seen.service, seen.operation = service.name, name if name in service.operations else UNKNOWN
            note_operation(service.name, name)
            signed = sigv4.SignedRequest(method="POST", path=raw_path, query=query, headers=headers, body=payload,
                                         now=self.deps.clock())
            caller = await self.auth.authenticate(signed, service.signing_name)
            operation = service.operations.get(name)
            if operation is None:
                raise UnknownOperationException(f"{service.name} does not serve {name or 'an empty operation'} yet.")
            call = api_call(self.deps, caller, service.name, operation, source_ip=client_ip, secure=secure,
                            user_agent=user_agent_of(signed.grouped_headers))
            reply = await run(operation, call, JsonRequest(call, JsonInput(parse_body(payload), operation.inputs),
                                                           request_id))
            return 200, dump(reply), request_id
        except sigv4.SigV4Error as exc:
            seen.error_code = exc.code
            return exc.status, body(exc.code, exc.message), request_id
        except AwsError as exc:
            seen.error_code = _code(exc, service)
            return exc.status, body(seen.error_code, exc.message), request_id
        except VestibuleError as exc:
            wire = translate(exc, DOMAIN_ERRORS)
            if wire is not None:
                seen.error_code = _code(wire, service)
                return wire.status, body(seen.error_code, wire.message), request_id
            log.exception("unmapped domain error (request %s)", request_id)
        except Exception:
            log.exception("internal error (request %s)", request_id)
        failure = InternalServerException("An internal error occurred; the request ID identifies it in the log.")
        seen.error_code = failure.code
        return failure.status, body(failure.code, failure.message), request_id
