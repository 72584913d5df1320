"""Turning domain errors into translated form messages and HTTP statuses."""

from __future__ import annotations

from ..core.flows import FlowError, FlowExpired, FlowNotFound
from ..errors import (
    AlreadyExists,
    InvalidInput,
    PasswordRejected,
    PasswordsDiffer,
    TooManyAttempts,
    VestibuleError,
)
from .i18n import Translator


def message_for(exc: Exception, t: Translator) -> str:
    if isinstance(exc, TooManyAttempts):
        return t("throttle.wait", seconds=exc.retry_after)
    if isinstance(exc, PasswordRejected):
        return " ".join(t(problem, maximum=exc.maximum_length) if problem == "password.too_long" else t(problem)
                        for problem in exc.problems)
    if isinstance(exc, (InvalidInput, AlreadyExists)):
        translated = t(f"{exc.code}.{exc.field}")
        if translated != f"{exc.code}.{exc.field}":
            return translated
        return exc.message if t.locale == "en" else t(exc.code)
    if isinstance(exc, (VestibuleError, FlowError)):
        return t(exc.code)
    return t("error.generic")


def status_for(exc: Exception, default: int = 200) -> int:
    """The HTTP status of a page re-rendered after `exc`; `default` for errors without one of their own."""
    if isinstance(exc, TooManyAttempts):
        return 429
    if isinstance(exc, FlowNotFound):
        return 404
    if isinstance(exc, FlowExpired):
        return 410
    if isinstance(exc, FlowError):
        return 400
    if isinstance(exc, (InvalidInput, AlreadyExists, PasswordRejected, PasswordsDiffer)):
        return 400
    return default
