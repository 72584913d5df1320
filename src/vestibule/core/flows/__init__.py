"""Self-service flows: the generic stored flow (`base`) and one module per kind."""

from . import console_signin, mfa_enrolment, portal_signin, recovery, signup
from .base import (
    MAX_ATTEMPTS,
    Flow,
    FlowConflict,
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

__all__ = [
    "MAX_ATTEMPTS", "Flow", "FlowConflict", "FlowDataInvalid", "FlowError", "FlowExpired", "FlowKind", "FlowNotFound",
    "FlowOutOfOrder", "FlowSpec", "FlowType", "FlowWrongBrowser", "console_signin", "mfa_enrolment", "portal_signin",
    "recovery", "signup",
]
