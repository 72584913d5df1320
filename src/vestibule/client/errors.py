"""What can go wrong on the user's side of a sign-in: each error carries its message and its exit code, so a
script can tell a denied sign-in from an unreachable server."""

from __future__ import annotations


class SignInError(Exception):
    """A failure the user can act on; `exit_code` is what `vestibule sso ...` exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigProblem(SignInError):
    """No such profile or sso-session, or one that lacks a setting sign-in needs (exit 3)."""

    exit_code = 3


class NoSuchPortal(SignInError):
    """The start URL names no access portal of that server (exit 4)."""

    exit_code = 4


class ServerUnreachable(SignInError):
    """Nothing answered at the endpoint, or it timed out (exit 5)."""

    exit_code = 5


class Denied(SignInError):
    """The user chose Deny on the approval page (exit 6)."""

    exit_code = 6


class AuthorizationExpired(SignInError):
    """The code expired before anyone approved it (exit 7)."""

    exit_code = 7


class NotSignedIn(SignInError):
    """The server refused the token (signed out, expired or revoked): sign in again (exit 8)."""

    exit_code = 8


class UntrustedAnswer(SignInError):
    """The server answered something the client will not use, such as a verification page on another host
    (exit 9)."""

    exit_code = 9


class BadInput(SignInError):
    """A flag or typed value that cannot be used, such as an account ID that is not 12 digits (exit 2)."""

    exit_code = 2


class MissingInput(SignInError):
    """A value the wizard needs was neither given as a flag nor typed (exit 2, like a usage error)."""

    exit_code = 2
