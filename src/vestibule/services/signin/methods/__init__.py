"""Sign-in methods as strategies: each answers Verified, Failed or NotResponsible for an attempt."""

from .base import (
    Attempt,
    Credential,
    Failed,
    MethodResult,
    NotResponsible,
    SignInMethod,
    Verified,
    WebAuthnAttempt,
    ask_in_turn,
)
from .email_code import EmailCodeMethod
from .password import PasswordMethod
from .totp import TotpMethod
from .webauthn import WebAuthnMethod

__all__ = [
    "Attempt", "Credential", "EmailCodeMethod", "Failed", "MethodResult", "NotResponsible", "PasswordMethod",
    "SignInMethod", "TotpMethod", "Verified", "WebAuthnAttempt", "WebAuthnMethod", "ask_in_turn",
]
