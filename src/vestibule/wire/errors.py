"""AWS errors as classes whose attributes are their wire code and HTTP status."""

from __future__ import annotations


class AwsError(Exception):
    code = "InternalFailure"
    status = 500
    sender_fault = True

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


class _Sender(AwsError):
    status = 400


class ValidationError(_Sender):
    code = "ValidationError"


class InvalidInput(_Sender):
    code = "InvalidInput"


class InvalidParameterValue(_Sender):
    code = "InvalidParameterValue"


class MalformedQueryString(_Sender):
    code = "MalformedQueryString"


class MissingParameter(_Sender):
    code = "MissingParameter"


class InvalidAction(_Sender):
    code = "InvalidAction"


class MissingAction(_Sender):
    code = "MissingAction"


class MalformedPolicyDocument(_Sender):
    code = "MalformedPolicyDocument"


class PasswordPolicyViolation(_Sender):
    code = "PasswordPolicyViolation"


class InvalidUserType(_Sender):
    code = "InvalidUserType"


class UnmodifiableEntity(_Sender):
    code = "UnmodifiableEntity"


class NoSuchEntity(AwsError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(AwsError):
    code = "EntityAlreadyExists"
    status = 409


class LimitExceeded(AwsError):
    code = "LimitExceeded"
    status = 409


class DeleteConflict(AwsError):
    code = "DeleteConflict"
    status = 409


class InvalidAuthenticationCode(AwsError):
    code = "InvalidAuthenticationCode"
    status = 403


class AccessDenied(AwsError):
    code = "AccessDenied"
    status = 403


class ServiceFailure(AwsError):
    code = "ServiceFailure"
    status = 500
    sender_fault = False


class Throttling(_Sender):
    code = "Throttling"
