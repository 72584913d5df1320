"""Compact JWTs signed RS256 and ES384, and their JWKs: what a relying party's verification accepts and refuses."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from vestibule.core import jws


@pytest.mark.parametrize("algorithm", jws.ALGORITHMS)
def test_signed_token_verifies_with_its_public_jwk(algorithm: jws.Algorithm) -> None:
    key = jws.new_key(algorithm)
    kid = jws.key_id(key)
    token = jws.sign({"sub": "arn:aws:iam::123456789012:user/a", "n": 1}, key, algorithm, kid)
    jwk = jws.public_jwk(key, algorithm, kid)
    assert jwk["alg"] == algorithm and jwk["kid"] == kid and jwk["use"] == "sig"
    assert jws.verify(token, jwk) == {"sub": "arn:aws:iam::123456789012:user/a", "n": 1}
    header = json.loads(jws.b64url_decode(token.split(".")[0]))
    assert header == {"alg": algorithm, "typ": "JWT", "kid": kid}
    # the key survives its PEM form (as stored, sealed)
    again = jws.from_pem(jws.to_pem(key), algorithm)
    assert jws.public_jwk(again, algorithm, kid) == jwk


def test_es384_signature_is_raw_r_and_s() -> None:
    key = jws.new_key("ES384")
    token = jws.sign({"a": 1}, key, "ES384", "k")
    assert len(jws.b64url_decode(token.split(".")[2])) == 96
    jwk = jws.public_jwk(key, "ES384", "k")
    assert jwk["crv"] == "P-384" and len(jws.b64url_decode(jwk["x"])) == 48


def test_rs256_signature_is_pkcs1_v15_sha256() -> None:
    key = jws.new_key("RS256")
    token = jws.sign({"a": 1}, key, "RS256", "k")
    head, body, signature = token.split(".")
    assert isinstance(key, rsa.RSAPrivateKey)
    key.public_key().verify(jws.b64url_decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(),
                            hashes.SHA256())


@pytest.mark.parametrize("algorithm", jws.ALGORITHMS)
def test_tampered_or_foreign_tokens_are_refused(algorithm: jws.Algorithm) -> None:
    key, other = jws.new_key(algorithm), jws.new_key(algorithm)
    token = jws.sign({"sub": "me"}, key, algorithm, "k")
    head, _, signature = token.split(".")
    forged = f"{head}.{jws.b64url(json.dumps({'sub': 'root'}).encode())}.{signature}"
    for bad in (forged, token[:-4] + "AAAA", "a.b", "x.y.z"):
        with pytest.raises(ValueError):
            jws.verify(bad, jws.public_jwk(key, algorithm, "k"))
    with pytest.raises(ValueError):
        jws.verify(token, jws.public_jwk(other, algorithm, "k"))
    with pytest.raises(ValueError):  # the token names another key ID
        jws.verify(token, jws.public_jwk(key, algorithm, "other"))


def test_keys_sign_only_their_algorithm() -> None:
    with pytest.raises(ValueError):
        jws.sign({}, jws.new_key("RS256"), "ES384", "k")
    with pytest.raises(ValueError):
        jws.sign({}, ec.generate_private_key(ec.SECP384R1()), "RS256", "k")
    with pytest.raises(ValueError):
        jws.from_pem(jws.to_pem(jws.new_key("ES384")), "RS256")
