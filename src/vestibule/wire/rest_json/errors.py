"""REST-JSON error codes, rendered as botocore's rest-json parser reads them: the code in the `x-amzn-ErrorType`
header, `{"message": ...}` in the body, and for SSO-OIDC also the OAuth members its model declares (`error`, the
RFC 6749/8628 code, and `error_description`); the sign-in service's errors carry `error` (the model's
OAuth2ErrorCode) and no description. One table maps the `core.oauth` errors to their AWS names, one per
service maps domain errors."""

from __future__ import annotations

from collections.abc import Mapping

from ... import errors as domain
from ...core import oauth
from ...services import cli_login, signin_sessions
from ...services.identity_center import sso_oidc
from ..errors import AwsError, DomainMapping


class RestJsonError(AwsError):
    status = 400
    error = "invalid_request"  # the OAuth code SSO-OIDC answers with it


class UnknownOperationException(RestJsonError):
    code = "UnknownOperationException"
    status = 404


class InvalidRequestException(RestJsonError):
    code = "InvalidRequestException"


class InternalServerException(RestJsonError):
    code = "InternalServerException"
    status = 500
    sender_fault = False
    error = "server_error"


# ---- the SSO portal ----------------------------------------------------------------------------------------

class UnauthorizedException(RestJsonError):
    """A bad, expired or revoked bearer token (botocore: UnauthorizedSSOTokenError, "sign in again")."""

    code = "UnauthorizedException"
    status = 401


class ForbiddenException(RestJsonError):
    """A role or account not assigned to the token's user; AWS answers this unmodelled code, "No access"."""

    code = "ForbiddenException"
    status = 403


class ResourceNotFoundException(RestJsonError):
    code = "ResourceNotFoundException"
    status = 404


class TooManyRequestsException(RestJsonError):
    code = "TooManyRequestsException"
    status = 429


# ---- SSO-OIDC ----------------------------------------------------------------------------------------------

class InvalidClientException(RestJsonError):
    code = "InvalidClientException"
    status = 401
    error = "invalid_client"


class InvalidGrantException(RestJsonError):
    code = "InvalidGrantException"
    error = "invalid_grant"


class UnauthorizedClientException(RestJsonError):
    code = "UnauthorizedClientException"
    error = "unauthorized_client"


class UnsupportedGrantTypeException(RestJsonError):
    code = "UnsupportedGrantTypeException"
    error = "unsupported_grant_type"


class InvalidScopeException(RestJsonError):
    code = "InvalidScopeException"
    error = "invalid_scope"


class InvalidClientMetadataException(RestJsonError):
    code = "InvalidClientMetadataException"
    error = "invalid_client_metadata"


class InvalidRedirectUriException(RestJsonError):
    code = "InvalidRedirectUriException"
    error = "invalid_redirect_uri"


class AuthorizationPendingException(RestJsonError):
    code = "AuthorizationPendingException"
    error = "authorization_pending"


class SlowDownException(RestJsonError):
    code = "SlowDownException"
    error = "slow_down"


class ExpiredTokenException(RestJsonError):
    code = "ExpiredTokenException"
    error = "expired_token"


class AccessDeniedException(RestJsonError):
    code = "AccessDeniedException"
    error = "access_denied"


OAUTH_ERRORS: Mapping[type[oauth.OAuthError], type[RestJsonError]] = {
    oauth.InvalidRequest: InvalidRequestException,
    oauth.InvalidClient: InvalidClientException,
    oauth.InvalidGrant: InvalidGrantException,
    oauth.UnauthorizedClient: UnauthorizedClientException,
    oauth.UnsupportedGrantType: UnsupportedGrantTypeException,
    oauth.InvalidScope: InvalidScopeException,
    oauth.InvalidClientMetadata: InvalidClientMetadataException,
    oauth.InvalidRedirectUri: InvalidRedirectUriException,
    oauth.AuthorizationPending: AuthorizationPendingException,
    oauth.SlowDown: SlowDownException,
    oauth.ExpiredToken: ExpiredTokenException,
    oauth.AccessDenied: AccessDeniedException,
}


def oauth_error(exc: oauth.OAuthError) -> RestJsonError:
    """The AWS exception for an OAuth error: the entry of its nearest class (an unknown subclass of
    OAuthError is an invalid request)."""
    for cls in type(exc).__mro__:
        if cls in OAUTH_ERRORS:
            return OAUTH_ERRORS[cls](exc.description)
    return InvalidRequestException(exc.description)


_UNAUTHORIZED = "Session token not found or invalid"

PORTAL_ERRORS: DomainMapping = {
    sso_oidc.InvalidBearerToken: lambda e: UnauthorizedException(_UNAUTHORIZED),
    domain.PermissionDenied: lambda e: ForbiddenException("No access"),
    domain.NotFound: lambda e: ResourceNotFoundException(e.detail or "Not found."),
    domain.TooManyAttempts: lambda e: TooManyRequestsException("Too many requests; try again later."),
    domain.InvalidInput: lambda e: InvalidRequestException(str(e)),
    domain.InvalidValue: lambda e: InvalidRequestException(e.detail),
    domain.NotSupported: lambda e: UnknownOperationException(e.detail),
}

OIDC_ERRORS: DomainMapping = {
    domain.TooManyAttempts: lambda e: SlowDownException("Too many requests; slow down."),
    domain.PermissionDenied: lambda e: AccessDeniedException(e.detail or "Access denied."),
    domain.NotFound: lambda e: InvalidRequestException(e.detail or "Not found."),
    domain.InvalidInput: lambda e: InvalidRequestException(str(e)),
    domain.InvalidValue: lambda e: InvalidRequestException(e.detail),
    domain.NotSupported: lambda e: UnknownOperationException(e.detail),
}



# ---- the sign-in service (signin) --------------------------------------------------------------------------

class SigninError(RestJsonError):
    """An error of the sign-in service: `error` is the model's OAuth2ErrorCode, per instance where the same
    exception carries several (AccessDeniedException: TOKEN_EXPIRED, USER_CREDENTIALS_CHANGED, ...)."""

    def __init__(self, message: str = "", error: str | None = None) -> None:
        super().__init__(message)
        if error is not None:
            self.error = error


class ValidationException(SigninError):
    code = "ValidationException"
    error = "INVALID_REQUEST"


class SigninAccessDeniedException(SigninError):
    code = "AccessDeniedException"  # the model gives it no status: botocore reads it from the code
    error = "INSUFFICIENT_PERMISSIONS"


class SigninResourceNotFoundException(SigninError):
    code = "ResourceNotFoundException"
    status = 404
    error = "RESOURCE_NOT_FOUND"


class TooManyRequestsError(SigninError):
    code = "TooManyRequestsError"
    status = 429
    error = "rate_exceeded"


class SigninInternalServerException(SigninError):
    code = "InternalServerException"
    status = 500
    sender_fault = False
    error = "server_error"


class SigninUnknownOperationException(SigninError):
    code = "UnknownOperationException"
    status = 404
    error = "invalid_request"


# the reasons of a refused CreateOAuth2Token that mean "this login is over" or "not allowed" (botocore tells the
# user to log in again, or that permissions are missing); every other reason is a validation error
_DENIED_REASONS = frozenset({"TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "INSUFFICIENT_PERMISSIONS",
                             "AUTHCODE_EXPIRED"})


def login_refused(exc: domain.VestibuleError) -> SigninError:
    assert isinstance(exc, cli_login.LoginRefused)
    if exc.reason in _DENIED_REASONS:
        return SigninAccessDeniedException(exc.message, exc.reason)
    return ValidationException(exc.message, exc.reason)


_SIGNIN_OAUTH: Mapping[type[oauth.OAuthError], type[SigninError]] = {
    oauth.AccessDenied: SigninAccessDeniedException,
    oauth.SlowDown: TooManyRequestsError,
}
_SIGNIN_OAUTH_CODES = frozenset({"invalid_request", "invalid_grant", "invalid_client", "unsupported_grant_type",
                                 "invalid_scope"})


def signin_oauth_error(exc: oauth.OAuthError) -> SigninError:
    """A `core.oauth` error in the sign-in service's shape: a ValidationException with its RFC code (one the
    model's OAuth2ErrorCode knows; invalid_request otherwise), AccessDenied and SlowDown as their own."""
    for cls in type(exc).__mro__:
        if cls in _SIGNIN_OAUTH:
            return _SIGNIN_OAUTH[cls](exc.description)
    if isinstance(exc, oauth.ExpiredToken):
        return SigninAccessDeniedException(exc.description, "AUTHCODE_EXPIRED")
    return ValidationException(exc.description, exc.error if exc.error in _SIGNIN_OAUTH_CODES else "invalid_request")


def in_signin_shape(exc: AwsError) -> AwsError:
    """The protocol's own errors (a body that is no JSON object, a member that breaks the model, an unknown
    operation) as the sign-in service's model names them."""
    if isinstance(exc, SigninError):
        return exc
    if isinstance(exc, UnknownOperationException):
        return SigninUnknownOperationException(exc.message)
    if isinstance(exc, InternalServerException):
        return SigninInternalServerException(exc.message)
    if isinstance(exc, RestJsonError) and exc.status == 400:
        return ValidationException(exc.message)
    return exc


SIGNIN_ERRORS: DomainMapping = {
    cli_login.LoginRefused: login_refused,
    signin_sessions.SessionNotFound: lambda e: SigninResourceNotFoundException(e.detail or "Session not found."),
    domain.PermissionDenied: lambda e: SigninAccessDeniedException(e.detail or "Access denied."),
    domain.TooManyAttempts: lambda e: TooManyRequestsError(
        f"Too many requests; try again in {getattr(e, 'retry_after', 60)} seconds."),
    domain.NotFound: lambda e: SigninResourceNotFoundException(e.detail or "Not found."),
    domain.InvalidInput: lambda e: ValidationException(str(e)),
    domain.InvalidValue: lambda e: ValidationException(e.detail),
    domain.NotSupported: lambda e: SigninUnknownOperationException(e.detail),
}

DOMAIN_ERRORS: Mapping[str, DomainMapping] = {"sso": PORTAL_ERRORS, "sso-oidc": OIDC_ERRORS, "signin": SIGNIN_ERRORS}
