"""DPoP proof checks (RFC 9449 4.3) on proofs made by botocore's own `_build_dpop_header` (with its awscrt key)
and on proofs built here with `cryptography` to break one rule at a time; RFC 7638 thumbprints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from awscrt.crypto import EC, ECType
from botocore.credentials import _build_dpop_header
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from vestibule.core import dpop
from vestibule.core.dpop import InvalidProof

URL = "https://signin.example.com/v1/token"
NOW = 1_800_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _part(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


class Key:
    """A P-256 key that makes proofs as botocore does, or with one part changed."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk: dict[str, Any] = {"kty": "EC", "x": _b64(numbers.x.to_bytes(32, "big")),
                                    "y": _b64(numbers.y.to_bytes(32, "big")), "crv": "P-256"}

    def header(self, **changes: Any) -> dict[str, Any]:
        return {"typ": "dpop+jwt", "alg": "ES256", "jwk": dict(self.jwk), **changes}

    @staticmethod
    def claims(**changes: Any) -> dict[str, Any]:
        return {"htm": "POST", "htu": URL, "iat": NOW, "jti": str(uuid.uuid4()), **changes}

    def sign(self, signing_input: str) -> str:
        r, s = decode_dss_signature(self.private.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def proof(self, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None) -> str:
        signing_input = f"{_part(header or self.header())}.{_part(claims or self.claims())}"
        return f"{signing_input}.{self.sign(signing_input)}"


def _by_hand(x: bytes, y: bytes) -> str:
    """RFC 7638 for a P-256 key: SHA-256 of {"crv","kty","x","y"} in that order, coordinates at full length."""
    members = f'"crv":"P-256","kty":"EC","x":"{_b64(x.rjust(32, bytes(1)))}","y":"{_b64(y.rjust(32, bytes(1)))}"'
    return _b64(hashlib.sha256(("{" + members + "}").encode()).digest())


def _check(proof: str, *, method: str = "POST", urls: tuple[str, ...] = (URL,), now: float = NOW) -> dpop.Proof:
    return dpop.verify(proof, method=method, urls=urls, now=now)


def _refused(proof: str | None, **kwargs: Any) -> str:
    with pytest.raises(InvalidProof) as caught:
        dpop.verify(proof, method=kwargs.get("method", "POST"), urls=kwargs.get("urls", (URL,)),
                    now=kwargs.get("now", NOW))
    return str(caught.value)


def test_a_proof_made_by_botocore_is_accepted_with_its_key_thumbprint() -> None:
    key = EC.new_generate(ECType.P_256)
    proof = _build_dpop_header(key, URL, uid="jti-1", ts=NOW)
    checked = _check(proof)
    x, y = key.get_public_coords()
    assert checked == dpop.Proof(_by_hand(x, y), "jti-1", NOW)
    assert _check(_build_dpop_header(key, URL, ts=NOW)).jkt == checked.jkt  # the same key, another proof
    assert _check(_build_dpop_header(EC.new_generate(ECType.P_256), URL, ts=NOW)).jkt != checked.jkt


def test_the_signature_must_be_the_jwk_keys() -> None:
    mine, other = Key(), Key()
    header = mine.header()
    signing_input = f"{_part(header)}.{_part(Key.claims())}"
    assert "signature does not match" in _refused(f"{signing_input}.{other.sign(signing_input)}")
    assert "signature does not match" in _refused(other.proof(header=mine.header()))


def test_a_tampered_payload_is_refused() -> None:
    key = Key()
    header, payload, signature = key.proof().split(".")
    forged = _part(Key.claims(htu="https://attacker.example/v1/token"))
    assert "signature does not match" in _refused(f"{header}.{forged}.{signature}")
    assert _refused(f"{header}.{payload}.{signature[:-4]}AAAA")  # a broken signature


def test_htu_and_htm_must_name_this_request() -> None:
    key = Key()
    assert "not for this URL" in _refused(key.proof(claims=Key.claims(htu="https://signin.example.com/v1/other")))
    assert "not for this URL" in _refused(key.proof(claims=Key.claims(htu="https://evil.example/v1/token")))
    assert "not for this URL" in _refused(key.proof(claims=Key.claims(htu=42)))
    assert "not for this method" in _refused(key.proof(claims=Key.claims(htm="GET")))
    # without query and fragment, scheme and host without case, a default port the same as none
    _check(key.proof(claims=Key.claims(htu="HTTPS://Signin.Example.com:443/v1/token?x=1#f")))
    # one of several URLs the request arrived on
    _check(key.proof(claims=Key.claims(htu="http://127.0.0.1:8080/v1/token")),
           urls=(URL, "http://127.0.0.1:8080/v1/token"))
    assert "not for this URL" in _refused(key.proof(claims=Key.claims(htu="http://127.0.0.1:8081/v1/token")),
                                          urls=(URL, "http://127.0.0.1:8080/v1/token"))


def test_iat_must_be_recent_and_not_in_the_future() -> None:
    key = Key()
    _check(key.proof(claims=Key.claims(iat=NOW - dpop.MAX_AGE)))
    _check(key.proof(claims=Key.claims(iat=NOW + dpop.MAX_SKEW)))
    assert "too old" in _refused(key.proof(claims=Key.claims(iat=NOW - dpop.MAX_AGE - 1)))
    assert "in the future" in _refused(key.proof(claims=Key.claims(iat=NOW + dpop.MAX_SKEW + 1)))
    assert "integer" in _refused(key.proof(claims=Key.claims(iat=str(NOW))))
    assert "integer" in _refused(key.proof(claims=Key.claims(iat=True)))
    assert "integer" in _refused(key.proof(claims={k: v for k, v in Key.claims().items() if k != "iat"}))


def test_jti_must_be_a_short_string() -> None:
    key = Key()
    _check(key.proof(claims=Key.claims(jti="j" * dpop.MAX_JTI)))
    for bad in ("", "j" * (dpop.MAX_JTI + 1), 7, None):
        assert "jti" in _refused(key.proof(claims=Key.claims(jti=bad)))


def test_only_es256_dpop_jwts_with_a_public_p256_jwk() -> None:
    key = Key()
    assert "typ" in _refused(key.proof(header=key.header(typ="JWT")))
    assert "ES256" in _refused(key.proof(header=key.header(alg="ES384")))
    # alg none: no signature at all
    unsigned = f"{_part(key.header(alg='none'))}.{_part(Key.claims())}."
    assert "ES256" in _refused(unsigned)
    # HS256 with the public key's bytes as the HMAC secret (the classic confusion)
    header = key.header(alg="HS256")
    signing_input = f"{_part(header)}.{_part(Key.claims())}"
    mac = hmac.new(json.dumps(key.jwk).encode(), signing_input.encode(), hashlib.sha256).digest()
    assert "ES256" in _refused(f"{signing_input}.{_b64(mac)}")
    # a jwk with its private part
    private = key.private.private_numbers().private_value.to_bytes(32, "big")
    assert "private part" in _refused(key.proof(header=key.header(jwk={**key.jwk, "d": _b64(private)})))
    assert "P-256" in _refused(key.proof(header=key.header(jwk={**key.jwk, "crv": "P-384"})))
    assert "P-256" in _refused(key.proof(header=key.header(jwk={"kty": "RSA", "n": "AQAB", "e": "AQAB"})))
    assert "no jwk" in _refused(key.proof(header={"typ": "dpop+jwt", "alg": "ES256"}))
    assert "not a valid P-256" in _refused(key.proof(header=key.header(jwk={**key.jwk, "x": _b64(b"\x01" * 32)})))


def test_malformed_proofs_are_refused_with_a_message() -> None:
    assert "required" in _refused(None)
    assert "required" in _refused("")
    for bad in ("abc", "a.b", "a.b.c.d", "!!.??.**", "x" * 5000, f"{_part({'typ': 'dpop+jwt'})}.e30.AA"):
        assert _refused(bad)
    key = Key()
    header = _part(key.header())
    not_json = _b64(b"not json")
    signing_input = f"{header}.{not_json}"
    assert "payload" in _refused(f"{signing_input}.{key.sign(signing_input)}")
    array = _b64(b"[1,2]")
    assert "payload" in _refused(f"{header}.{array}.{key.sign(f'{header}.{array}')}")


def test_rfc_7638_thumbprints() -> None:
    # RFC 7638 3.1: the RSA example key and its thumbprint
    rsa = {"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
           "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX"
                "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqz"
                "s8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-"
                "G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
    assert dpop.thumbprint(rsa) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    # an EC key (RFC 7517 A.1's P-256 example): SHA-256 of the members crv, kty, x, y in that order, by hand
    x, y = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
    by_hand = _b64(hashlib.sha256(f'{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}'.encode()).digest())
    assert dpop.thumbprint({"kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "enc", "kid": "1"}) == by_hand
    with pytest.raises(InvalidProof):
        dpop.thumbprint({"kty": "EC", "crv": "P-256", "x": x})


def test_replay_keys_differ_per_key_and_jti() -> None:
    assert dpop.replay_key("k1", "j1") == dpop.replay_key("k1", "j1")
    assert len({dpop.replay_key("k1", "j1"), dpop.replay_key("k2", "j1"), dpop.replay_key("k1", "j2"),
                dpop.replay_key("k1\nj", "1")}) == 4


def test_real_time_proofs_from_botocore() -> None:
    proof = _build_dpop_header(EC.new_generate(ECType.P_256), URL)
    assert dpop.verify(proof, method="POST", urls=[URL], now=time.time()).iat <= time.time()


def test_coordinates_without_their_leading_zero_bytes_as_awscrt_gives_them() -> None:
    """botocore's awscrt key drops a coordinate's leading zero bytes (about one key in a hundred): such a proof is
    accepted, with the thumbprint of the full-length key, so the key `vestibule login` bound (made with
    `cryptography`, full length) still matches botocore's proofs at refresh."""
    while True:
        key = Key()
        numbers = key.private.public_key().public_numbers()
        if numbers.x < 2**248:
            break
    short = {**key.jwk, "x": _b64(numbers.x.to_bytes(32, "big").lstrip(b"\0"))}
    assert len(base64.urlsafe_b64decode(short["x"] + "==")) < 32
    full = _check(key.proof())
    stripped = _check(key.proof(header=key.header(jwk=short)))
    assert stripped.jkt == full.jkt
    for bad in ("", "A" * 46, "not base64!", 5):  # empty, 34 bytes, other characters, not a string
        assert _refused(key.proof(header=key.header(jwk={**key.jwk, "x": bad})))


def test_awscrt_keys_of_every_length_verify() -> None:
    """Many botocore proofs from fresh awscrt keys: each is accepted (a short coordinate every hundred or so)."""
    for _ in range(400):
        crt = EC.new_generate(ECType.P_256)
        x, y = crt.get_public_coords()
        assert _check(_build_dpop_header(crt, URL, ts=NOW)).jkt == _by_hand(x, y)


@pytest.mark.parametrize("bad", ["A", "AAAAA", "A" * 45, "A" * 41, "AB", "AAB", "+/AA", "AA==", "AAA=", "A.A",
                                 "\u00e9" * 43, "A" * 43 + "\n", " " + "A" * 42])
def test_a_coordinate_that_is_not_strict_base64url_is_an_invalid_proof(bad: str) -> None:
    """A length of 1 mod 4 (binascii.Error inside base64), padding, the standard alphabet, stray trailing bits,
    other characters: each an InvalidProof (the wire's invalid_request), never another exception."""
    key = Key()
    for member in ("x", "y"):
        assert "base64url" in _refused(key.proof(header=key.header(jwk={**key.jwk, member: bad})))


def test_each_part_of_the_proof_must_be_strict_base64url() -> None:
    key = Key()
    header, payload, signature = key.proof().split(".")
    for bad in ("A", "AAAAA", "A" * 85, "AA==", "+/", "AB", "é"):
        assert "its header is not base64url" in _refused(f"{bad}.{payload}.{signature}")
        assert "its payload is not base64url" in _refused(f"{header}.{bad}.{signature}")
        assert "its signature is not base64url" in _refused(f"{header}.{payload}.{bad}")
        assert "its signature is not base64url" in _refused(f"{header}.{payload}.{signature[:-2]}{bad}")
    assert "compact JWS" in _refused(f"{header}..{signature}")
    assert "signature does not match" in _refused(f"{header}.{payload}.")
    padded = base64.urlsafe_b64encode(json.dumps(key.header()).encode()).decode()
    if padded.endswith("="):
        assert "its header is not base64url" in _refused(f"{padded}.{payload}.{signature}")
    # the unencoded-payload extension (RFC 7797) and critical extensions are not DPoP's
    assert _refused(key.proof(header=key.header(crit=["b64"], b64=False)))
    assert "crit" in _refused(key.proof(header=key.header(crit=["b64"], b64=True)))
    assert "crit" in _refused(key.proof(header=key.header(b64=True)))
