"""OpenID Connect ID tokens (JWS compact serialization, RFC 7515/7519; OIDC Core 3.1.3.7), verified against a
provider's published keys with PyJWT: only the asymmetric algorithms below (never `none`, never an HMAC keyed with
a public key), `iss` exactly the provider's, `aud` one of its client IDs, `exp`/`nbf`/`iat` within a skew, the
`nonce` when the caller sent one. Pure: the keys are handed in (services/federation/oidc_keys.py fetches them).

Every refusal is a `FederationFailure` whose cause says what kind it is: EXPIRED (past `exp`), CLOCK_SKEW (not
yet valid: `nbf` or `iat` in the future, the provider's clock is ahead), STATE_MISMATCH (the nonce), and the
causes of a token that is not acceptable at all (MALFORMED, UNSIGNED, CERTIFICATE_MISMATCH: signed with no key
the provider publishes, UNKNOWN_PROVIDER, AUDIENCE). `UnknownKey` (a CERTIFICATE_MISMATCH) says the token names
a key ID the key set lacks: the caller may fetch the key set again once."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from .federation_failures import Cause, FederationFailure

ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
SKEW = 300.0
MAX_TOKEN = 20000  # characters: AssumeRoleWithWebIdentity's WebIdentityToken maximum
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}

Jwk = Mapping[str, Any]


@dataclass(frozen=True)
class ParsedToken:
    """A token split and decoded, nothing verified yet."""

    text: str
    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    @property
    def alg(self) -> str:
        return str(self.header.get("alg", ""))

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def issuer(self) -> str:
        iss = self.claims.get("iss")
        return iss if isinstance(iss, str) else ""


@dataclass(frozen=True)
class VerifiedToken:
    claims: Mapping[str, Any]
    subject: str
    audience: str  # the client ID of the provider's that `aud` names
    amr: tuple[str, ...]
    issuer: str


class UnknownKey(FederationFailure):
    """The token names a key ID the provider's key set does not hold (maybe a new key: fetch the set again)."""

    def __init__(self, kid: str) -> None:
        super().__init__(Cause.CERTIFICATE_MISMATCH, "The token was signed with a key the identity provider does "
                         "not publish.", admin={"kid": kid[:128]})
        self.kid = kid


def _malformed(detail: str = "The token is not a well-formed JSON Web Token.") -> FederationFailure:
    return FederationFailure(Cause.MALFORMED, detail)


def _segment(text: str) -> Mapping[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _malformed() from None
    if not isinstance(value, dict):
        raise _malformed()
    return value


def parse(token: str) -> ParsedToken:
    """The token's header and claims, not verified; MALFORMED, or UNSIGNED for an algorithm outside ALGORITHMS."""
    token = token.strip()
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        raise _malformed()
    pieces = token.split(".")
    if len(pieces) != 3:  # a JWE (5 pieces) is not an ID token this verifies
        raise _malformed()
    header, claims = _segment(pieces[0]), _segment(pieces[1])
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise FederationFailure(Cause.UNSIGNED, f"The token's algorithm {str(alg)[:16]!r} is not allowed; "
                                "it must be signed with RSA or ECDSA (RS256, PS256, ES256 and their siblings).",
                                admin={"alg": str(alg)[:16]})
    if "crit" in header or "b64" in header:
        raise _malformed("The token uses JWS header parameters this service does not understand (crit, b64).")
    if not pieces[2]:
        raise FederationFailure(Cause.UNSIGNED, "The token carries no signature.")
    return ParsedToken(token, header, claims)


def _fits(jwk: Jwk, alg: str) -> bool:
    """Whether `jwk` is a signing key for `alg`: its type (and curve), its `alg` and `use` if it says them."""
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", alg) != alg:
        return False
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and "verify" not in ops:
        return False
    if alg in _CURVES:
        return jwk.get("kty") == "EC" and jwk.get("crv") == _CURVES[alg]
    return jwk.get("kty") == "RSA"


def candidate_keys(token: ParsedToken, keys: Sequence[Jwk]) -> list[Jwk]:
    """The keys that may have signed `token`: the one its `kid` names, or without a kid every key for its
    algorithm. UnknownKey when the kid names none; CERTIFICATE_MISMATCH when no key suits the algorithm."""
    usable = [k for k in keys if isinstance(k, Mapping) and _fits(k, token.alg)]
    if token.kid is not None:
        named = [k for k in usable if k.get("kid") == token.kid]
        if not named:
            raise UnknownKey(token.kid)
        return named
    if not usable:
        raise FederationFailure(Cause.CERTIFICATE_MISMATCH, f"The identity provider publishes no {token.alg} key.",
                                admin={"alg": token.alg})
    return usable


def _signature_ok(token: ParsedToken, jwk: Jwk) -> bool:
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=token.alg)
        jwt.api_jws.decode_complete(token.text, key=key.key, algorithms=[token.alg])
    except jwt.InvalidSignatureError:
        return False
    except (jwt.PyJWTError, ValueError, TypeError):
        return False  # a published key PyJWT cannot load cannot have signed it either
    return True


def _number(claims: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1e12:
        raise _malformed(f"The token's {name} claim is {'missing' if value is None else 'not a time'}.")
    return float(value)


def _audience(claims: Mapping[str, Any], client_ids: Sequence[str]) -> str:
    """The client ID the token is for. With several audiences the token must say which party it was issued to
    (`azp`, OIDC Core 2 and 3.1.3.7): that one must be in `aud` and be one of `client_ids`, so a token another
    client obtained that merely lists this one is refused."""
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not named or not all(isinstance(a, str) for a in named):
        raise _malformed("The token's aud claim is missing or not a string or a list of strings.")
    azp = claims.get("azp")
    if azp is not None and not isinstance(azp, str):
        raise _malformed("The token's azp claim is not a string.")
    refused = FederationFailure(Cause.AUDIENCE, "Incorrect token audience", user={"received": str(named[0])[:128]},
                                admin={"audience": ",".join(str(a)[:128] for a in named[:5]),
                                       "azp": str(azp or "")[:128],
                                       "expected": ",".join(c[:128] for c in client_ids[:5])})
    if len(set(named)) > 1:
        if azp is None or azp not in named or azp not in client_ids:
            raise refused
        return azp
    if named[0] not in client_ids:
        raise refused
    return str(named[0])


def verify(token: ParsedToken, keys: Sequence[Jwk], *, issuer: str, client_ids: Sequence[str], now: float,
           nonce: str | None = None, skew: float = SKEW) -> VerifiedToken:
    """`token` verified with one of `keys` (a JWKS's `keys`) and its claims checked for `issuer` (exact) and one
    of `client_ids`, at `now`; `nonce`: the value the ID token must carry (OIDC Core 3.1.3.7, 11)."""
    if not any(_signature_ok(token, jwk) for jwk in candidate_keys(token, keys)):
        raise FederationFailure(Cause.CERTIFICATE_MISMATCH, "The token's signature does not verify with the "
                                "identity provider's keys.", admin={"kid": (token.kid or "")[:128]})
    claims = token.claims
    if token.issuer != issuer:
        raise FederationFailure(Cause.UNKNOWN_PROVIDER, "The token's issuer is not this identity provider.",
                                admin={"iss": token.issuer[:256], "expected": issuer})
    audience = _audience(claims, client_ids)
    expires = _number(claims, "exp", True)
    assert expires is not None
    if now > expires + skew:
        raise FederationFailure(Cause.EXPIRED, f"Token expired: current date/time {int(now)} must be before the "
                                f"expiration date/time {int(expires)}",
                                user={"minutes": str(int((now - expires) // 60))},
                                admin={"exp": str(int(expires)), "now": str(int(now))})
    for name in ("nbf", "iat"):
        at = _number(claims, name, name == "iat")
        if at is not None and at > now + skew:
            minutes = int((at - now) // 60)
            raise FederationFailure(Cause.CLOCK_SKEW, f"The token is not valid yet: its {name} is {minutes} "
                                    "minutes ahead of this service's clock.",
                                    user={"minutes": str(minutes), "direction": "ahead"},
                                    admin={name: str(int(at)), "now": str(int(now))})
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise _malformed("The token's sub claim is missing or longer than 255 characters.")
    if nonce is not None and claims.get("nonce") != nonce:
        raise FederationFailure(Cause.STATE_MISMATCH, "The token's nonce is not the one this sign-in sent.")
    amr = claims.get("amr")
    methods = (amr,) if isinstance(amr, str) else tuple(str(m) for m in amr) if isinstance(amr, list) else ()
    return VerifiedToken(claims, subject, audience, methods, issuer)
