"""User codes (RFC 8628 6.1), PKCE S256 (RFC 7636), start URLs of this server's portals, loopback redirect URIs
(RFC 8252 7.3) and the errors' RFC codes."""

from __future__ import annotations

import math
import re

import pytest

from vestibule.core import oauth

ORIGIN = "https://sso.example.com"


def test_user_codes_have_the_promised_shape_and_entropy() -> None:
    codes = {oauth.new_user_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", code), code
    assert math.log2(len(oauth.USER_CODE_ALPHABET) ** oauth.USER_CODE_LENGTH) > 34.5
    assert not set("AEIOUY01") & set(oauth.USER_CODE_ALPHABET)  # no vowels (no words), no look-alikes
    used = {c for code in codes for c in code if c != "-"}
    assert used == set(oauth.USER_CODE_ALPHABET)  # every letter is drawn


@pytest.mark.parametrize(("typed", "stored"), [
    ("BCDF-GHJK", "BCDFGHJK"), ("bcdf-ghjk", "BCDFGHJK"), ("bcdfghjk", "BCDFGHJK"), (" BCDF GHJK\t", "BCDFGHJK"),
    ("BCDF-GHJ", None), ("BCDF-GHJKL", None), ("ABCD-EFGH", None), ("BCDF-GHJ1", None), ("", None),
    ("BCDF_GHJK", None),
])
def test_typed_user_codes_normalize(typed: str, stored: str | None) -> None:
    assert oauth.normalize_user_code(typed) == stored
    if stored is not None:
        assert oauth.display_user_code(stored) == f"{stored[:4]}-{stored[4:]}"


def test_s256_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oauth.s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert oauth.valid_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert oauth.verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not oauth.verifier_matches(verifier[:-1] + "l", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


@pytest.mark.parametrize(("verifier", "valid"), [
    ("a" * 43, True), ("a" * 128, True), ("a" * 42, False), ("a" * 129, False), ("a" * 42 + "~", True),
    ("a" * 42 + "+", False), ("a" * 42 + "=", False), ("a" * 42 + "é", False),
])
def test_verifier_grammar(verifier: str, valid: bool) -> None:
    assert oauth.valid_verifier(verifier) is valid
    # a verifier outside the grammar never matches, not even its own challenge
    if verifier.isascii():
        assert oauth.verifier_matches(verifier, oauth.s256_challenge(verifier)) is valid


@pytest.mark.parametrize("challenge", ["", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "+", "a" * 42 + "/"])
def test_malformed_challenges(challenge: str) -> None:
    assert not oauth.valid_challenge(challenge)


@pytest.mark.parametrize(("url", "name"), [
    (f"{ORIGIN}/portal/d-1234567890/start", "d-1234567890"),
    (f"{ORIGIN}/portal/d-1234567890/start/", "d-1234567890"),
    (f"{ORIGIN}/portal/d-1234567890/start#/", "d-1234567890"),
    (f"{ORIGIN}/portal/d-1234567890/start/#/", "d-1234567890"),
    (f"{ORIGIN}/portal/acme", "acme"),
    (f"{ORIGIN}/portal/acme/", "acme"),
    ("HTTPS://SSO.EXAMPLE.COM/portal/acme/start", "acme"),
    (f"{ORIGIN}/portal/acme/start?x=1", None),
    (f"{ORIGIN}/portal/acme/elsewhere", None),
    (f"{ORIGIN}/portal/acme/start/more", None),
    (f"{ORIGIN}/portal//start", None),
    (f"{ORIGIN}/portal/", None),
    (f"{ORIGIN}/start", None),
    ("http://sso.example.com/portal/acme/start", None),  # another scheme
    ("https://sso.example.com.evil.example/portal/acme/start", None),
    ("https://evil.example/portal/acme/start", None),
    ("https://user@sso.example.com/portal/acme/start", None),
    ("not a url", None),
    ("https://[::1/portal/acme/start", None),  # unparsable
])
def test_start_urls(url: str, name: str | None) -> None:
    assert oauth.portal_name_in(url, ORIGIN) == name


def test_start_urls_under_a_path_prefix() -> None:
    assert oauth.portal_name_in("https://h.example/vestibule/portal/acme/start", "https://h.example/vestibule/") \
        == "acme"
    assert oauth.portal_name_in("https://h.example/portal/acme/start", "https://h.example/vestibule") is None


@pytest.mark.parametrize(("uri", "ok"), [
    ("http://127.0.0.1/oauth/callback", True),
    ("http://127.0.0.1:49152/oauth/callback", True),
    ("http://localhost:8080/cb", True),
    ("http://[::1]:8080/cb", True),
    ("http://127.0.0.2/cb", False),  # loopback, but not one the approval page may send a browser to
    ("http://127.0.0.1/c\x00b", False),
    ("http://127.0.0.1/c b", False),
    ("https://127.0.0.1/cb", False),  # RFC 8252: loopback redirects are plain http
    ("http://127.0.0.1.evil.example/cb", False),
    ("http://evil.example/cb", False),
    ("http://user@127.0.0.1/cb", False),
    ("http://127.0.0.1/cb#frag", False),
    ("http://127.0.0.1:0/cb", False),
    ("http://127.0.0.1:99999/cb", False),
    ("myapp://callback", False),
    ("", False),
])
def test_loopback_redirects(uri: str, ok: bool) -> None:
    assert oauth.is_loopback_redirect(uri) is ok


def test_redirect_matches_apart_from_the_port() -> None:
    registered = "http://127.0.0.1/oauth/callback"
    assert oauth.redirect_matches(registered, "http://127.0.0.1:53123/oauth/callback")
    assert oauth.redirect_matches(registered, registered)
    assert not oauth.redirect_matches(registered, "http://127.0.0.1:53123/oauth/other")
    assert not oauth.redirect_matches(registered, "http://localhost:53123/oauth/callback")
    assert not oauth.redirect_matches(registered, "http://127.0.0.1:53123/oauth/callback?x=1")
    assert not oauth.redirect_matches("https://evil.example/oauth/callback", "https://evil.example/oauth/callback")


def test_errors_carry_their_rfc_codes() -> None:
    codes = {cls.__name__: cls.error for cls in oauth.OAuthError.__subclasses__()}
    assert codes == {
        "InvalidRequest": "invalid_request", "InvalidClient": "invalid_client", "InvalidGrant": "invalid_grant",
        "UnauthorizedClient": "unauthorized_client", "UnsupportedGrantType": "unsupported_grant_type",
        "InvalidScope": "invalid_scope", "InvalidClientMetadata": "invalid_client_metadata",
        "InvalidRedirectUri": "invalid_redirect_uri", "AuthorizationPending": "authorization_pending",
        "SlowDown": "slow_down", "ExpiredToken": "expired_token", "AccessDenied": "access_denied"}
    assert oauth.SlowDown().description == "slow_down"
    assert oauth.InvalidGrant("reused").description == "reused" and str(oauth.InvalidGrant("reused")) == "reused"


def test_lifetimes() -> None:
    assert oauth.DEVICE_CODE_LIFETIME <= 600 and oauth.POLL_INTERVAL == 5
    assert oauth.AUTHORIZATION_CODE_LIFETIME <= 600 and oauth.ACCESS_TOKEN_LIFETIME == 3600
    assert oauth.CLIENT_SECRET_LIFETIME == 90 * 86400
