"""Domain errors. Each carries a message key (`code`) that pages translate, and its data."""

from __future__ import annotations


class VestibuleError(Exception):
    code = "error.generic"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


class InvalidCredentials(VestibuleError):
    """Unknown account, alias, user or email, wrong password, disabled user: one answer for all."""

    code = "signin.invalid_credentials"


class InvalidCode(VestibuleError):
    code = "signin.invalid_code"


class CodeExpired(VestibuleError):
    code = "signin.code_expired"


class ReauthenticationRequired(VestibuleError):
    """A credential change in a session whose password was not confirmed in the last few minutes."""

    code = "reauth.required"


class CaptchaRequired(VestibuleError):
    code = "captcha.required"


class CaptchaInvalid(VestibuleError):
    code = "captcha.invalid"


class TooManyAttempts(VestibuleError):
    code = "throttle.wait"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class PasswordRejected(VestibuleError):
    """The new password breaks the policy; `problems` lists message keys (`maximum_length`: for too_long)."""

    code = "password.rejected"

    def __init__(self, problems: list[str], maximum_length: int = 128) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems
        self.maximum_length = maximum_length


class PasswordsDiffer(VestibuleError):
    code = "password.mismatch"


class PasswordChangeNotAllowed(VestibuleError):
    code = "password.change_not_allowed"


class PasswordExpired(VestibuleError):
    """Hard expiry: only an administrator can set a new password."""

    code = "password.hard_expired"


class InvalidInput(VestibuleError):
    code = "input.invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class AlreadyExists(VestibuleError):
    code = "input.exists"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotFound(VestibuleError):
    code = "input.not_found"


class LimitExceeded(VestibuleError):
    code = "limit.exceeded"


class SignupDisabled(VestibuleError):
    code = "signup.disabled"


class SessionPolicyTooLarge(VestibuleError):
    """A session policy over the packed size STS allows (AWS: PackedPolicyTooLarge)."""

    code = "policy.session_too_large"


class InUse(VestibuleError):
    """The entity cannot be deleted or changed while something still refers to it."""

    code = "input.in_use"


class PermissionDenied(VestibuleError):
    """The caller may not do this; `detail` is the message AWS clients show."""

    code = "permission.denied"


class InvalidPolicy(VestibuleError):
    """A policy document that does not parse or breaks the grammar."""

    code = "policy.invalid"


class InvalidMfaCode(VestibuleError):
    code = "mfa.invalid_code"


class InvalidValue(VestibuleError):
    """A parameter value that breaks a rule the request format cannot express (AWS: ValidationError)."""

    code = "input.invalid_value"


class InvalidMarker(InvalidValue):
    """A page marker this service did not hand out for this list: forged, edited, or another list's (AWS:
    ValidationError on `marker`)."""

    code = "input.invalid_marker"

    def __init__(self, marker: str) -> None:
        super().__init__("not a marker from an earlier page")
        self.marker = marker


class UnknownReference(VestibuleError):
    """A parameter names something that does not exist where existence is not the point (AWS:
    InvalidParameterValue), such as a session policy ARN."""

    code = "input.unknown_reference"


class WrongPrincipalType(VestibuleError):
    """The operation is not for this kind of principal (AWS: InvalidUserType)."""

    code = "principal.wrong_type"


class NotSupported(VestibuleError):
    """A known operation this server does not serve yet."""

    code = "operation.not_supported"


class RejectedMaterial(VestibuleError):
    """Uploaded key or certificate material refused; `reason` names why (each is an AWS error code)."""

    code = "input.rejected_material"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class ReportNotReady(VestibuleError):
    """A report that cannot be read: `state` is `not_present`, `expired` or `in_progress`."""

    code = "report.not_ready"

    def __init__(self, state: str, detail: str) -> None:
        super().__init__(detail)
        self.state = state


class NotInOrganization(VestibuleError):
    """An AWS Organizations feature asked of an account that belongs to no organization."""

    code = "organizations.not_found"


class AuthorizationDenied(PermissionDenied):
    """Denied by policy evaluation; `failure` is the decoded authorization message (what was asked, by whom,
    in which context, and which statements decided), which AWS clients receive encoded."""

    def __init__(self, detail: str, failure: dict[str, object], account_id: str) -> None:
        super().__init__(detail)
        self.failure = failure
        self.account_id = account_id  # the denied principal's: only that account may decode the message


class InvalidAuthorizationMessage(VestibuleError):
    """DecodeAuthorizationMessage was given a message this installation did not encode for the caller's account."""

    code = "authorization.invalid_message"


class InvalidSubjectCredentials(VestibuleError):
    """The calling credentials cannot be scoped down (GetScopedCredentials needs temporary credentials)."""

    code = "sts.invalid_subject_credentials"


class InsufficientSessionLifetime(VestibuleError):
    """The requested lifetime goes past the calling session's own expiry."""

    code = "sts.insufficient_session_lifetime"


class Unmodifiable(VestibuleError):
    """The entity is managed by a service (a service-linked role) and cannot be changed directly."""

    code = "input.unmodifiable"


class OutboundFederationState(VestibuleError):
    """Outbound web identity federation is not in the state the call needs: `enabled` is what it is now, and
    `vending` whether the caller asked for a token (STS) rather than a change of the setting (IAM)."""

    code = "federation.outbound_state"

    def __init__(self, enabled: bool, detail: str, *, vending: bool = False) -> None:
        super().__init__(detail)
        self.enabled = enabled
        self.vending = vending


class SessionDurationEscalation(VestibuleError):
    """A token asked to outlive the credentials of the session asking for it."""

    code = "sts.session_duration_escalation"


class TokenPayloadTooLarge(VestibuleError):
    code = "sts.token_payload_too_large"


class InvalidBearerToken(VestibuleError):
    """A SCIM request without a bearer token this service issued and still honours (missing, unknown, revoked,
    expired, or of an identity store that is gone): one answer for all."""

    code = "scim.invalid_token"


class StaleRevision(VestibuleError):
    """A change named a revision of the resource that is no longer its current one (AWS: ConflictException)."""

    code = "input.stale_revision"


class AlreadyInOrganization(VestibuleError):
    """The account already belongs to an AWS Organizations organization."""

    code = "organizations.already_member"


class NotManagementAccount(VestibuleError):
    """Only the management account of the organization may do this."""

    code = "organizations.not_management"


class ServiceAccessNotEnabled(VestibuleError):
    """The operation needs trusted access of a service in AWS Organizations, which is not enabled."""

    code = "organizations.service_access_not_enabled"


class RootEmailUnchanged(VestibuleError):
    """The new root email is the one the account already has."""

    code = "contact.email_same"


class RootEmailNotUsable(VestibuleError):
    """The verified address became another account's root email (or was kept for its undo link) meanwhile."""

    code = "contact.email_not_usable"


class InvalidContactDetails(VestibuleError):
    """Contact details that break their rules: `problems` lists (field, message key); `detail` says it in English."""

    code = "contact.invalid"

    def __init__(self, problems: list[tuple[str, str]], detail: str) -> None:
        super().__init__(detail)
        self.problems = problems
        self.message = detail
