"""Trusted browsers of a personal profile: the client network a trust is bound to, and when a row still trusts
a browser (same profile, same user agent, same network, not expired)."""

from __future__ import annotations

import pytest

from vestibule.core.profile_trust import TRUST_LIFETIME, TrustBinding, network_of, still_trusted, user_agent_hash

UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"
T = 1_700_000_000.0
PROFILE = "p" + "a" * 20


@pytest.mark.parametrize(("ip", "network"), [
    ("203.0.113.7", "203.0.113.0/24"),
    (" 203.0.113.250 ", "203.0.113.0/24"),
    ("::ffff:203.0.113.7", "203.0.113.0/24"),  # an IPv4 client seen through an IPv6 socket
    ("2001:db8:1:2::7", "2001:db8:1::/48"),
    ("2001:db8:1:ffff:1::1", "2001:db8:1::/48"),
    ("", None),
    ("testclient", None),
    ("203.0.113.7/24", None),
])
def test_network_of(ip: str, network: str | None) -> None:
    assert network_of(ip) == network


def _binding() -> TrustBinding:
    return TrustBinding(PROFILE, user_agent_hash(UA), "203.0.113.0/24", T + TRUST_LIFETIME)


def test_the_same_browser_on_the_same_network_is_trusted() -> None:
    assert still_trusted(_binding(), PROFILE, UA, "203.0.113.7", T)
    assert still_trusted(_binding(), PROFILE, UA, "203.0.113.200", T + TRUST_LIFETIME - 1)  # a new address, same /24


@pytest.mark.parametrize(("profile_id", "user_agent", "ip", "now"), [
    ("p" + "b" * 20, UA, "203.0.113.7", T),  # another profile's row
    (PROFILE, UA + " Edg/120.0", "203.0.113.7", T),  # another user agent
    (PROFILE, "", "203.0.113.7", T),
    (PROFILE, UA, "203.0.114.7", T),  # another network
    (PROFILE, UA, "2001:db8::1", T),
    (PROFILE, UA, "", T),  # no address
    (PROFILE, UA, "203.0.113.7", T + TRUST_LIFETIME),  # expired
])
def test_anything_else_asks_for_mfa_again(profile_id: str, user_agent: str, ip: str, now: float) -> None:
    assert not still_trusted(_binding(), profile_id, user_agent, ip, now)


def test_user_agent_hash_is_a_sha256_hex() -> None:
    digest = user_agent_hash(UA)
    assert len(digest) == 64 and digest == user_agent_hash(UA) and digest != user_agent_hash(UA + " ")
