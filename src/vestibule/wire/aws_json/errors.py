"""JSON 1.1 error codes, rendered as botocore's JSON parser reads them (`{"__type": ..., "message": ...}`),
and the one table from domain errors to them."""

from __future__ import annotations

import json

from ... import errors as domain
from ..errors import AwsError, DomainMapping


class _Client(AwsError):
    status = 400


class UnknownOperationException(_Client):
    code = "UnknownOperationException"


class SerializationException(_Client):
    code = "SerializationException"


class ValidationException(_Client):
    code = "ValidationException"


class ConflictException(_Client):
    code = "ConflictException"
    status = 409


class ResourceNotFoundException(_Client):
    code = "ResourceNotFoundException"
    status = 404


class AccessDeniedException(_Client):
    code = "AccessDeniedException"
    status = 403


class ServiceQuotaExceededException(_Client):
    code = "ServiceQuotaExceededException"
    status = 402


class InternalServerException(AwsError):
    code = "InternalServerException"
    status = 500
    sender_fault = False


DOMAIN_ERRORS: DomainMapping = {
    domain.NotFound: lambda e: ResourceNotFoundException(e.detail),
    domain.AlreadyExists: lambda e: ConflictException(str(e)),
    domain.InUse: lambda e: ConflictException(e.detail),
    domain.StaleRevision: lambda e: ConflictException(e.detail),
    domain.LimitExceeded: lambda e: ServiceQuotaExceededException(e.detail),
    domain.PermissionDenied: lambda e: AccessDeniedException(e.detail),
    domain.InvalidInput: lambda e: ValidationException(str(e)),
    domain.InvalidValue: lambda e: ValidationException(e.detail),
    domain.NotSupported: lambda e: UnknownOperationException(e.detail),
}


def body(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode("utf-8")
