"""REST-JSON error codes, rendered as botocore's rest-json parser reads them (the `x-amzn-ErrorType` header
and `{"message": ...}`), and the one table from domain errors to them."""

from __future__ import annotations

from ... import errors as domain
from ..errors import AwsError, DomainMapping


class UnknownOperationException(AwsError):
    code = "UnknownOperationException"
    status = 404


class InvalidRequestException(AwsError):
    code = "InvalidRequestException"
    status = 400


class UnauthorizedException(AwsError):
    code = "UnauthorizedException"
    status = 401


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"
    status = 404


class InternalServerException(AwsError):
    code = "InternalServerException"
    status = 500
    sender_fault = False


DOMAIN_ERRORS: DomainMapping = {
    domain.NotFound: lambda e: ResourceNotFoundException(e.detail),
    domain.PermissionDenied: lambda e: UnauthorizedException(e.detail),
    domain.InvalidInput: lambda e: InvalidRequestException(str(e)),
    domain.InvalidValue: lambda e: InvalidRequestException(e.detail),
    domain.NotSupported: lambda e: UnknownOperationException(e.detail),
}


