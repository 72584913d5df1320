"""The pure WebAuthn rules: the relying party from the public URL, what each kind of authenticator is asked for,
the pending challenge (hash, expiry, constant-time match, its stored form) and the IAM serial of a security key."""

from __future__ import annotations

import pytest

from vestibule.core.webauthn import (
    CHALLENGE_LIFETIME,
    CredentialKind,
    PendingChallenge,
    b64url,
    challenge_hash,
    choices_for,
    from_b64url,
    is_u2f_serial,
    kind_of,
    relying_party,
    serial_label,
    u2f_serial,
)


@pytest.mark.parametrize(("url", "rp_id", "origin"), [
    ("https://signin.example.com", "signin.example.com", "https://signin.example.com"),
    ("https://Signin.Example.com:443/base/", "signin.example.com", "https://signin.example.com"),
    ("https://signin.example.com:8443", "signin.example.com", "https://signin.example.com:8443"),
    ("http://localhost:8080", "localhost", "http://localhost:8080"),
    ("http://testserver", "testserver", "http://testserver"),
])
def test_relying_party_is_the_public_urls_host(url: str, rp_id: str, origin: str) -> None:
    rp = relying_party(url)
    assert (rp.id, rp.origin, rp.name) == (rp_id, origin, "Vestibule")


@pytest.mark.parametrize("url", ["", "ftp://example.com", "https://"])
def test_a_public_url_without_an_http_host_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        relying_party(url)


def test_passkeys_verify_the_user_security_keys_are_asked_to() -> None:
    key, passkey, built_in = (choices_for(k) for k in CredentialKind)
    assert (key.attachment, key.resident_key, key.user_verification) == ("cross-platform", "discouraged", "preferred")
    assert not key.verification_required
    assert (passkey.attachment, passkey.resident_key, passkey.verification_required) == (None, "required", True)
    assert (built_in.attachment, built_in.verification_required) == ("platform", True)
    assert kind_of("passkey") is CredentialKind.PASSKEY and kind_of("bogus") is None


def test_pending_challenge_matches_only_its_challenge_and_expires() -> None:
    challenge = b"\x01" * 32
    pending = PendingChallenge(challenge_hash(challenge), 1000.0 + CHALLENGE_LIFETIME, False)
    assert pending.matches(challenge) and not pending.matches(b"\x02" * 32)
    assert not pending.expired(1000.0) and pending.expired(1000.0 + CHALLENGE_LIFETIME)
    assert challenge.hex() not in str(pending.encode())  # only its hash is kept
    assert PendingChallenge.decode(dict(pending.encode())) == pending
    with pytest.raises(ValueError):
        PendingChallenge.decode({"challenge_hash": "h", "expires_at": True, "user_verification": False})


def test_base64url_round_trip_and_refusal() -> None:
    assert from_b64url(b64url(b"\xfb\xff\x00")) == b"\xfb\xff\x00"
    assert "=" not in b64url(b"ab")
    with pytest.raises(ValueError):
        from_b64url("a+b/")


def test_u2f_serials_as_aws_shows_fido_security_keys() -> None:
    assert u2f_serial("123456789012", "alice", "Blue key", "ABC") == \
        "arn:aws:iam::123456789012:u2f/user/alice/Blue-key-ABC"
    assert u2f_serial("123456789012", None, "Desk", "XYZ") == "arn:aws:iam::123456789012:u2f/root/Desk-XYZ"
    assert serial_label("鑰匙 (公司)") == "key" and serial_label("a/b:c") == "a-b-c"
    assert len(serial_label("x" * 99)) == 32
    assert is_u2f_serial(u2f_serial("123456789012", None, "k", "1"))
    assert not is_u2f_serial("arn:aws:iam::123456789012:mfa/phone")
    assert len(u2f_serial("123456789012", "u" * 64, "k" * 64, "Z" * 26)) <= 256
