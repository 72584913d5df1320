"""Query-protocol error codes (IAM and STS), and the one table from domain errors to them."""

from __future__ import annotations

from ... import errors as domain
from ...core.federation_failures import Cause, FederationFailure
from ...core.secretbox import SecretBox
from ...services import authorization_messages
from ..errors import AwsError, DomainMapping
from ..members import violation


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


class PackedPolicyTooLarge(_Sender):
    code = "PackedPolicyTooLarge"


class Throttling(_Sender):
    code = "Throttling"


class OrganizationNotFoundException(_Sender):
    code = "OrganizationNotFoundException"


class AccountNotManagementOrDelegatedAdministratorException(_Sender):
    code = "AccountNotManagementOrDelegatedAdministratorException"


class ServiceAccessNotEnabledException(_Sender):
    code = "ServiceAccessNotEnabledException"


class InvalidAuthorizationMessageException(_Sender):
    code = "InvalidAuthorizationMessageException"


class InvalidSubjectCredentials(_Sender):
    code = "InvalidSubjectCredentials"


class InsufficientSessionLifetime(_Sender):
    code = "InsufficientSessionLifetime"


class JWTPayloadSizeExceededException(_Sender):
    code = "JWTPayloadSizeExceededException"


class InvalidIdentityToken(_Sender):
    code = "InvalidIdentityToken"


class ExpiredTokenException(_Sender):
    code = "ExpiredTokenException"


class IDPCommunicationError(_Sender):
    code = "IDPCommunicationError"


class IDPRejectedClaim(AwsError):
    code = "IDPRejectedClaim"
    status = 403


class OutboundWebIdentityFederationDisabledException(AwsError):
    code = "OutboundWebIdentityFederationDisabledException"
    status = 403


class SessionDurationEscalationException(AwsError):
    code = "SessionDurationEscalationException"
    status = 403


class FeatureEnabled(AwsError):
    code = "FeatureEnabled"
    status = 409


class FeatureDisabled(AwsError):
    code = "FeatureDisabled"
    status = 404


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


class ReportNotPresent(AwsError):
    code = "ReportNotPresent"
    status = 410


class ReportExpired(AwsError):
    code = "ReportExpired"
    status = 410


class ReportInProgress(AwsError):
    code = "ReportInProgress"
    status = 404


_REPORT_STATES: dict[str, type[AwsError]] = {
    "not_present": ReportNotPresent, "expired": ReportExpired, "in_progress": ReportInProgress}


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


class _Material(_Sender):
    """Uploaded key or certificate material refused; the code is the domain error's reason."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


_MATERIAL_STATUS = {"DuplicateCertificate": 409, "NotSupportedService": 404}


def _rejected_material(exc: domain.VestibuleError) -> AwsError:
    reason = exc.reason if isinstance(exc, domain.RejectedMaterial) else "InvalidInput"
    return _Material(reason, _MATERIAL_STATUS.get(reason, 400), _message(exc))


def _password_violation(exc: domain.VestibuleError) -> AwsError:
    problems = exc.problems if isinstance(exc, domain.PasswordRejected) else []
    return PasswordPolicyViolation("Password does not conform to the account password policy: "
                                   + ", ".join(_PROBLEM_WORDS.get(p) or p.split(".", 1)[1].replace("_", " ")
                                               for p in problems) + ".")


_PROBLEM_WORDS = {"password.breached": "it is known from data breaches"}


def _report_not_ready(exc: domain.VestibuleError) -> AwsError:
    state = exc.state if isinstance(exc, domain.ReportNotReady) else "not_present"
    return _REPORT_STATES[state](_message(exc))


def _outbound_state(exc: domain.VestibuleError) -> AwsError:
    if isinstance(exc, domain.OutboundFederationState) and exc.vending:
        return OutboundWebIdentityFederationDisabledException(_message(exc))
    enabled = isinstance(exc, domain.OutboundFederationState) and exc.enabled
    return FeatureEnabled(_message(exc)) if enabled else FeatureDisabled(_message(exc))


def _bad_marker(exc: domain.VestibuleError) -> AwsError:
    marker = exc.marker if isinstance(exc, domain.InvalidMarker) else ""
    return ValidationError("1 validation error detected: " + violation(
        "marker", "Member must be a marker from an earlier page", marker))


_FEDERATION_CODES: dict[Cause, type[AwsError]] = {
    Cause.EXPIRED: ExpiredTokenException, Cause.IDP_ERROR: IDPCommunicationError,
    Cause.CLOCK_SKEW: IDPRejectedClaim, Cause.STATE_MISMATCH: IDPRejectedClaim, Cause.NO_TRUSTED_ROLE: AccessDenied}


def _federation_failure(exc: domain.VestibuleError) -> AwsError:
    """A web identity token or SAML assertion refused: expired, the provider unreachable, a claim not valid yet,
    no role trusting it; any other cause (signature, issuer, audience, format) is InvalidIdentityToken."""
    code = _FEDERATION_CODES.get(exc.cause, InvalidIdentityToken) if isinstance(exc, FederationFailure) else None
    return (code or InvalidIdentityToken)(_message(exc))


def _message(exc: domain.VestibuleError) -> str:
    if isinstance(exc, (domain.InvalidInput, domain.AlreadyExists)):
        return exc.message
    return exc.detail or exc.code


DOMAIN_ERRORS: DomainMapping = {
    domain.NotFound: lambda e: NoSuchEntity(_message(e)),
    domain.AlreadyExists: lambda e: EntityAlreadyExists(_message(e)),
    domain.LimitExceeded: lambda e: LimitExceeded(_message(e)),
    domain.InUse: lambda e: DeleteConflict(_message(e)),
    domain.PermissionDenied: lambda e: AccessDenied(_message(e)),
    domain.InvalidPolicy: lambda e: MalformedPolicyDocument(_message(e)),
    domain.InvalidMfaCode: lambda e: InvalidAuthenticationCode(_message(e)),
    domain.InvalidInput: lambda e: InvalidInput(_message(e)),
    domain.InvalidValue: lambda e: ValidationError(_message(e)),
    domain.InvalidMarker: _bad_marker,
    domain.UnknownReference: lambda e: InvalidParameterValue(_message(e)),
    domain.WrongPrincipalType: lambda e: InvalidUserType(_message(e)),
    domain.PasswordRejected: _password_violation,
    domain.PasswordsDiffer: lambda e: InvalidInput("The passwords do not match."),
    domain.NotSupported: lambda e: InvalidAction(_message(e)),
    domain.SessionPolicyTooLarge: lambda e: PackedPolicyTooLarge(_message(e)),
    domain.TooManyAttempts: lambda e: Throttling("Rate exceeded"),
    domain.RejectedMaterial: _rejected_material,
    domain.ReportNotReady: _report_not_ready,
    domain.NotInOrganization: lambda e: OrganizationNotFoundException(_message(e)),
    domain.NotManagementAccount: lambda e: AccountNotManagementOrDelegatedAdministratorException(_message(e)),
    domain.ServiceAccessNotEnabled: lambda e: ServiceAccessNotEnabledException(_message(e)),
    domain.InvalidAuthorizationMessage: lambda e: InvalidAuthorizationMessageException(_message(e)),
    domain.InvalidSubjectCredentials: lambda e: InvalidSubjectCredentials(_message(e)),
    domain.InsufficientSessionLifetime: lambda e: InsufficientSessionLifetime(_message(e)),
    domain.Unmodifiable: lambda e: UnmodifiableEntity(_message(e)),
    domain.OutboundFederationState: _outbound_state,
    domain.SessionDurationEscalation: lambda e: SessionDurationEscalationException(_message(e)),
    domain.TokenPayloadTooLarge: lambda e: JWTPayloadSizeExceededException(_message(e)),
    FederationFailure: _federation_failure,
}


def with_encoded_message(wire: AwsError, exc: domain.VestibuleError, box: SecretBox) -> AwsError:
    """A policy's AccessDenied also carries the encoded authorization failure message (readable with
    DecodeAuthorizationMessage), after AWS's readable message."""
    if not isinstance(exc, domain.AuthorizationDenied):
        return wire
    encoded = authorization_messages.encode(box, exc)
    return AccessDenied(f"{wire.message}. Encoded authorization failure message: {encoded}")
