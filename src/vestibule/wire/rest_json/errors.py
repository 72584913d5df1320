"""REST-JSON error codes, rendered as botocore's rest-json parser reads them: the code in the `x-amzn-ErrorType`
header, `{"message": ...}` in the body, and for SSO-OIDC also the OAuth members its model declares (`error`, the
RFC 6749/8628 code, and `error_description`). One table maps the `core.oauth` errors to their AWS names, one per
service maps domain errors."""

from __future__ import annotations

from collections.abc import Mapping

from ... import errors as domain
from ...core import oauth
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

DOMAIN_ERRORS: Mapping[str, DomainMapping] = {"sso": PORTAL_ERRORS, "sso-oidc": OIDC_ERRORS}
