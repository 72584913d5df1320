"""The relying party's side of the OpenID Connect authorization code flow (OpenID Connect Core 1.0, section 3.1)
with PKCE (RFC 7636, S256): the authorization request's URL and the session name an ID token gives."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

CALLBACK_PATH = "/oidc/callback"
_SESSION_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]")


@dataclass(frozen=True)
class Pkce:
    verifier: str  # 64 characters of [A-Za-z0-9_-] (RFC 7636 4.1: 43 to 128 unreserved characters)
    challenge: str  # BASE64URL(SHA256(verifier)), no padding


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    return Pkce(verifier, pkce_challenge(verifier))


def scope_for(scopes_supported: object) -> str:
    """`openid`, and `email` when the provider's discovery document lists it (or lists no scopes)."""
    if isinstance(scopes_supported, list) and "email" not in scopes_supported:
        return "openid"
    return "openid email"


def authorization_url(endpoint: str, *, client_id: str, redirect_uri: str, state: str, nonce: str,
                      challenge: str, scope: str = "openid email") -> str:
    """The provider's authorization endpoint with the request's parameters added to any query it has."""
    parts = urlsplit(endpoint)
    params = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                        "scope": scope, "state": state, "nonce": nonce, "code_challenge": challenge,
                        "code_challenge_method": "S256"})
    query = f"{parts.query}&{params}" if parts.query else params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def session_name(claims: Mapping[str, object]) -> str:
    """The role session name: the token's `email`, else its `sub`, with characters a session name may not hold
    (`[\\w+=,.@-]`) replaced by `-`, cut to 64; `oidc-user` when neither gives two characters."""
    for claim in ("email", "sub"):
        value = claims.get(claim)
        if isinstance(value, str):
            name = "".join(c if _SESSION_NAME.fullmatch(c) else "-" for c in value[:64])
            if len(name.strip("-")) >= 2:
                return name
    return "oidc-user"
