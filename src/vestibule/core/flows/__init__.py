"""Self-service flows: the generic stored flow (`base`) and one module per kind."""

from .base import (
    MAX_ATTEMPTS,
    Flow,
    FlowDataInvalid,
    FlowError,
    FlowExpired,
    FlowKind,
    FlowNotFound,
    FlowOutOfOrder,
    FlowSpec,
    FlowType,
    FlowWrongBrowser,
)
from . import console_signin, mfa_enrolment, recovery, signup

__all__ = [
    "MAX_ATTEMPTS", "Flow", "FlowDataInvalid", "FlowError", "FlowExpired", "FlowKind", "FlowNotFound",
    "FlowOutOfOrder", "FlowSpec", "FlowType", "FlowWrongBrowser", "console_signin", "mfa_enrolment",
    "recovery", "signup",
]
