"""ID token verification: the allowed algorithms only, the key the kid names, iss/aud/exp/nbf/iat/nonce, and
each refusal's cause."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from oidc_idp import OidcProvider, SigningKey
from vestibule.core import oidc_tokens
from vestibule.core.federation_failures import Cause, FederationFailure

ISSUER = "https://idp.example.com/tenant"
NOW = 1_800_000_000.0
RSA = SigningKey.generate("RS256", "rsa-1")
EC = SigningKey.generate("ES256", "ec-1")
KEYS = [RSA.public_jwk(), EC.public_jwk()]


def _claims(**extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": ISSUER, "sub": "user-1", "aud": "app", "iat": int(NOW), "exp": int(NOW) + 3600,
                              "amr": ["pwd", "mfa"]}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: SigningKey = RSA, **header: Any) -> str:
    return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid, **header})


def _verify(token: str, keys: list[dict[str, Any]] | None = None, **kw: Any) -> oidc_tokens.VerifiedToken:
    return oidc_tokens.verify(oidc_tokens.parse(token), KEYS if keys is None else keys, issuer=ISSUER,
                              client_ids=kw.pop("client_ids", ("other", "app")), now=kw.pop("now", NOW), **kw)


def _cause(token: str, **kw: Any) -> Cause:
    with pytest.raises(FederationFailure) as refused:
        _verify(token, **kw)
    return refused.value.cause


@pytest.mark.parametrize("key", [RSA, EC, SigningKey.generate("PS256", "ps-1"), SigningKey.generate("ES384", "e3")])
def test_asymmetric_tokens_verify(key: SigningKey) -> None:
    verified = _verify(_sign(_claims(), key), [*KEYS, key.public_jwk()])
    assert (verified.subject, verified.audience, verified.amr, verified.issuer) == ("user-1", "app",
                                                                                     ("pwd", "mfa"), ISSUER)


def test_audience_list_and_the_matching_client_id() -> None:
    assert _verify(_sign(_claims(aud=["x", "app"], azp="app"))).audience == "app"
    assert _verify(_sign(_claims(aud=["app", "app"]))).audience == "app"
    # several audiences: the party it was issued to (azp) must be named, be in aud and be one of ours
    for claims in (_claims(aud=["x", "app"]), _claims(aud=["x", "app"], azp="x"),
                   _claims(aud=["x", "app"], azp="other"), _claims(aud="x", azp="app")):
        assert _cause(_sign(claims)) is Cause.AUDIENCE
    assert _cause(_sign(_claims(aud=["x", "app"], azp=["app"]))) is Cause.MALFORMED
    assert _verify(_sign(_claims(azp="mobile-app"))).audience == "app"  # one audience: issued for it
    with pytest.raises(FederationFailure) as refused:
        _verify(_sign(_claims(aud="someone-else")))
    assert refused.value.cause is Cause.AUDIENCE and refused.value.detail == "Incorrect token audience"


def test_alg_none_and_hs256_keyed_with_the_public_key_are_refused() -> None:
    assert _cause(OidcProvider.unsigned(_claims(), kid=RSA.kid)) is Cause.UNSIGNED
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": RSA.kid}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=").decode()
    assert _cause(f"{header}.{body}.c2lnbmF0dXJl") is Cause.UNSIGNED
    assert _cause(_sign(_claims())[:-1] + ".") is not None  # any tampering: refused


def test_signature_kid_and_key_type() -> None:
    other = SigningKey.generate("RS256", RSA.kid)  # same kid, another key: a forgery
    assert _cause(_sign(_claims(), other)) is Cause.CERTIFICATE_MISMATCH
    with pytest.raises(oidc_tokens.UnknownKey) as unknown:
        _verify(_sign(_claims(), SigningKey.generate("RS256", "new-kid")))
    assert unknown.value.kid == "new-kid"
    assert _cause(_sign(_claims(), EC, kid=RSA.kid)) is not None  # an ES256 token naming the RSA key
    no_kid = jwt.encode(_claims(), EC.private, algorithm="ES256")
    assert _verify(no_kid).subject == "user-1"  # no kid: every key for the algorithm is tried


def test_issuer_and_time_claims() -> None:
    assert _cause(_sign(_claims(iss="https://idp.example.com"))) is Cause.UNKNOWN_PROVIDER
    assert _cause(_sign(_claims(exp=int(NOW) - 301))) is Cause.EXPIRED
    assert _verify(_sign(_claims(exp=int(NOW) - 299))).subject == "user-1"  # within the skew
    assert _cause(_sign(_claims(nbf=int(NOW) + 400))) is Cause.CLOCK_SKEW
    assert _cause(_sign(_claims(iat=int(NOW) + 900))) is Cause.CLOCK_SKEW
    assert _cause(_sign(_claims(iat=None))) is Cause.MALFORMED
    assert _cause(_sign(_claims(exp="soon"))) is Cause.MALFORMED
    assert _cause(_sign(_claims(sub=None))) is Cause.MALFORMED


def test_expired_says_by_how_much() -> None:
    with pytest.raises(FederationFailure) as refused:
        _verify(_sign(_claims(exp=int(NOW) - 3600)))
    assert refused.value.user == {"minutes": "60"}
    assert refused.value.detail.startswith("Token expired: current date/time")


def test_nonce_when_asked() -> None:
    assert _verify(_sign(_claims(nonce="n-1")), nonce="n-1").subject == "user-1"
    assert _cause(_sign(_claims(nonce="n-2")), nonce="n-1") is Cause.STATE_MISMATCH
    assert _cause(_sign(_claims()), nonce="n-1") is Cause.STATE_MISMATCH


@pytest.mark.parametrize("text", ["", "abc", "a.b", "a.b.c.d.e", "x" * 20001, "ééé.b.c", "e30.e30.", "W10.e30.c2ln"])
def test_malformed_tokens(text: str) -> None:
    with pytest.raises(FederationFailure) as refused:
        oidc_tokens.parse(text)
    assert refused.value.cause in (Cause.MALFORMED, Cause.UNSIGNED)


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e300])
def test_times_that_are_not_times_are_malformed(claim: str, value: float) -> None:
    """JSON's Infinity/NaN (Python reads them) would never expire, or overflow an int: refused, not a 500."""
    assert _cause(_sign(_claims(**{claim: value}))) is Cause.MALFORMED


def test_keys_named_in_the_header_are_never_used() -> None:
    """jwk, jku, x5u, x5c: the attacker's own key in the header verifies nothing; only the published keys do."""
    evil = SigningKey.generate("RS256", "rsa-1")
    for header in ({"jwk": evil.public_jwk()}, {"jku": "https://evil.example/jwks"},
                   {"x5u": "https://evil.example/cert"}, {"x5c": ["MIIB"]}):
        assert _cause(_sign(_claims(), evil, **header)) is Cause.CERTIFICATE_MISMATCH
        no_kid = jwt.encode(_claims(), evil.private, algorithm="RS256", headers=header)
        assert _cause(no_kid) is Cause.CERTIFICATE_MISMATCH


def test_crit_header_refused() -> None:
    with pytest.raises(FederationFailure):
        oidc_tokens.parse(_sign(_claims(), crit=["exp"]))


def test_live_tokens_of_the_test_provider_verify() -> None:
    with OidcProvider(clients={"app": None}) as idp:
        keys = idp.jwks()["keys"]
        for alg in ("RS256", "ES256"):
            verified = oidc_tokens.verify(oidc_tokens.parse(idp.id_token("bob", alg=alg)), keys, issuer=idp.issuer,
                                          client_ids=("app",), now=time.time())
            assert verified.subject == "bob"
