"""The test OIDC provider itself: discovery, JWKS, the code flow with PKCE, and the tokens it mints verify
(or, the broken ones, do not) with PyJWT against its published keys."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from oidc_idp import OidcProvider, User, pkce_pair


@pytest.fixture
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(clients={"app": None, "confidential": "s3cret"},
                      users=(User("alice", "pw", {"email": "alice@example.com"}),)) as provider:
        yield provider


def _verify(idp: OidcProvider, token: str, audience: str = "app") -> dict[str, object]:
    jwks = jwt.PyJWKSet.from_dict(httpx.get(f"{idp.issuer}/jwks").json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims: dict[str, object] = jwt.decode(token, key, algorithms=["RS256", "ES256"], audience=audience,
                                           issuer=idp.issuer)
    return claims


def test_discovery_names_the_issuer_and_its_endpoints(idp: OidcProvider) -> None:
    document = httpx.get(f"{idp.issuer}/.well-known/openid-configuration").json()
    assert document["issuer"] == idp.issuer and document["jwks_uri"] == f"{idp.issuer}/jwks"
    assert idp.url == f"127.0.0.1:{idp.port}"
    assert idp.count("/.well-known/openid-configuration") == 1


def test_rs256_and_es256_tokens_verify_and_rotation_changes_the_keys(idp: OidcProvider) -> None:
    for alg in ("RS256", "ES256"):
        assert _verify(idp, idp.id_token("alice", alg=alg))["email"] == "alice@example.com"
    old = idp.key("RS256")
    new = idp.rotate("RS256")
    assert new.kid != old.kid and {k["kid"] for k in idp.jwks()["keys"]} == {new.kid, idp.key("ES256").kid}
    with pytest.raises(StopIteration):
        _verify(idp, idp.id_token("alice", key=old))


def test_broken_tokens_are_refused_by_a_careful_verifier(idp: OidcProvider) -> None:
    claims = idp.claims("alice")
    assert jwt.get_unverified_header(idp.unsigned(claims))["alg"] == "none"
    with pytest.raises(jwt.InvalidAlgorithmError):
        _verify(idp, idp.hs256_with_public_key(claims))
    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(idp, idp.id_token("alice", lifetime=-600))
    with pytest.raises(jwt.InvalidAudienceError):
        _verify(idp, idp.id_token("alice", aud="other"))
    with pytest.raises(jwt.InvalidIssuerError):
        _verify(idp, idp.id_token("alice", iss="https://elsewhere.example"))


def test_code_flow_with_pkce_state_nonce_and_a_client_secret(idp: OidcProvider) -> None:
    verifier, challenge = pkce_pair()
    asked = {"response_type": "code", "client_id": "confidential", "redirect_uri": "http://127.0.0.1:1/cb",
             "scope": "openid email", "state": "st", "nonce": "n-1", "code_challenge": challenge,
             "code_challenge_method": "S256"}
    form = httpx.get(f"{idp.issuer}/authorize", params=asked)
    assert form.status_code == 200 and 'name="username"' in form.text
    wrong = httpx.post(f"{idp.issuer}/authorize", data={**asked, "username": "alice", "password": "no"})
    assert "Incorrect user name or password." in wrong.text
    back = httpx.post(f"{idp.issuer}/authorize", data={**asked, "username": "alice", "password": "pw"})
    assert back.status_code == 302
    query = parse_qs(urlsplit(back.headers["location"]).query)
    assert query["state"] == ["st"]
    exchange = {"grant_type": "authorization_code", "code": query["code"][0], "client_id": "confidential",
                "redirect_uri": asked["redirect_uri"], "code_verifier": verifier}
    assert httpx.post(f"{idp.issuer}/token", data=exchange).status_code == 401  # no client secret
    answer = httpx.post(f"{idp.issuer}/token", data={**exchange, "client_secret": "s3cret"})
    assert _verify(idp, answer.json()["id_token"], "confidential")["nonce"] == "n-1"
    again = httpx.post(f"{idp.issuer}/token", data={**exchange, "client_secret": "s3cret"})
    assert again.json()["error"] == "invalid_grant"  # a code is single use
    back = httpx.post(f"{idp.issuer}/authorize", data={**asked, "username": "alice", "password": "pw"})
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    bad = httpx.post(f"{idp.issuer}/token", data={**exchange, "code": code, "client_secret": "s3cret",
                                                   "code_verifier": "x" * 43})
    assert bad.json()["error"] == "invalid_grant"


def test_auto_approval_and_the_id_token_carries_the_nonce() -> None:
    with OidcProvider(clients={"app": None}, approve_as="bob", path="/tenant") as idp:
        verifier, challenge = pkce_pair()
        back = httpx.get(f"{idp.issuer}/authorize", params={
            "response_type": "code", "client_id": "app", "redirect_uri": "http://127.0.0.1:1/cb",
            "scope": "openid", "nonce": "n-2", "code_challenge": challenge, "code_challenge_method": "S256"})
        code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
        tokens = httpx.post(f"{idp.issuer}/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": "app",
            "redirect_uri": "http://127.0.0.1:1/cb", "code_verifier": verifier}).json()
        claims = _verify(idp, tokens["id_token"])
        assert claims["sub"] == "bob" and claims["nonce"] == "n-2" and idp.issuer.endswith("/tenant")
        idp.failing_status = 503
        assert httpx.get(f"{idp.issuer}/jwks").status_code == 503
