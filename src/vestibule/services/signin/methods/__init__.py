"""Sign-in methods as strategies: each answers Verified, Failed or NotResponsible for an attempt."""

from .base import (
    Attempt,
    Credential,
    Failed,
    MethodResult,
    NotResponsible,
    SignInMethod,
    Verified,
    ask_in_turn,
)
from .email_code import EmailCodeMethod
from .password import PasswordMethod
from .totp import TotpMethod

__all__ = [
    "Attempt", "Credential", "EmailCodeMethod", "Failed", "MethodResult", "NotResponsible", "PasswordMethod",
    "SignInMethod", "TotpMethod", "Verified", "ask_in_turn",
]
