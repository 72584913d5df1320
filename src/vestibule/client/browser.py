"""The browser half of the authorization code grant with PKCE (RFC 7636, RFC 8252) that `vestibule login` and
`vestibule sso login` share: the verifier and its challenge, opening the page (or saying where it is), and what
the loopback listener brought back."""

from __future__ import annotations

import base64
import hashlib
import secrets
import webbrowser

from .errors import AuthorizationExpired, Denied, SignInError
from .loopback import Callback


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): 86 characters of [A-Za-z0-9_-] (RFC 7636 4.1), and its base64url SHA-256."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
    return verifier, challenge


def open_url(url: str) -> bool:
    """True when a browser was started on `url`."""
    try:
        return webbrowser.open(url, new=1)
    except webbrowser.Error:
        return False


def where_to_sign_in(url: str, opened: bool) -> str:
    """What the terminal says about the sign-in page, whether or not a browser opened it."""
    return ("Your browser opens the sign-in page. If it does not, open this URL on this computer:"
            if opened else "Open this URL in a browser on this computer to sign in:") + f"\n\n  {url}\n"


def approved_code(answer: Callback | None, wait: float, what: str) -> str:
    """The authorization code the listener took within `wait` seconds; otherwise the error that says why there is
    none, naming `what` the user runs ("login", "sign-in")."""
    if answer is None:
        raise AuthorizationExpired(f"no answer from the browser within {int(wait)} seconds; run the {what} again")
    if answer.error == "access_denied":
        raise Denied(f"the {what} was denied in the browser; nothing was saved")
    if answer.code is None:
        raise SignInError(f"the {what} failed: {answer.error}: {answer.error_description or ''}".rstrip(": "))
    return answer.code
