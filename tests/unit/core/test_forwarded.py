"""The client address behind trusted proxies: spoofed chains, IPv6, ports, several proxies and header lines,
unreadable hops, and `Forwarded` over `X-Forwarded-For`."""

from __future__ import annotations

import pytest

from vestibule.core.forwarded import Client, networks, resolve

PROXIES = networks(["10.0.0.0/8", "2001:db8:ffff::/48", "127.0.0.1"])


def test_an_untrusted_peer_keeps_its_address_and_its_headers_are_ignored() -> None:
    got = resolve("198.51.100.7", PROXIES, x_forwarded_for=["203.0.113.9"], x_forwarded_proto=["https"],
                  forwarded=["for=203.0.113.10;proto=https"], peer_port=5555)
    assert got == Client("198.51.100.7", 5555)


def test_no_trusted_networks_means_no_header_is_believed() -> None:
    assert resolve("10.0.0.1", (), x_forwarded_for=["203.0.113.9"]) == Client("10.0.0.1")


def test_a_trusted_peer_without_headers_is_the_client() -> None:
    assert resolve("10.0.0.1", PROXIES, peer_port=80) == Client("10.0.0.1", 80)


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client() -> None:
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["203.0.113.9"], x_forwarded_proto=["HTTPS"],
                  x_forwarded_host=["signin.example.com"])
    assert got == Client("203.0.113.9", 0, "https", "signin.example.com", forwarded=True)


def test_a_spoofed_left_part_of_the_chain_is_never_believed() -> None:
    # the client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it saw
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["1.2.3.4, 203.0.113.9"])
    assert got.address == "203.0.113.9"


def test_a_client_claiming_a_trusted_address_is_the_leftmost_hop_when_every_hop_is_trusted() -> None:
    # every hop is trusted: the walk ends at the leftmost address, which a trusted proxy wrote or passed on
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["10.9.9.9, 10.0.0.2"])
    assert got.address == "10.9.9.9"


def test_several_proxies_are_skipped_right_to_left() -> None:
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2"])
    assert got.address == "203.0.113.9"


def test_several_header_lines_are_one_list() -> None:
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["6.6.6.6, 203.0.113.9", "10.2.2.2"])
    assert got.address == "203.0.113.9"
    got = resolve("10.0.0.1", PROXIES, forwarded=["for=6.6.6.6", "for=203.0.113.9, for=10.2.2.2"])
    assert got.address == "203.0.113.9"


def test_x_forwarded_for_with_ports_and_ipv6() -> None:
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=["203.0.113.9:4711"]) == Client(
        "203.0.113.9", 4711, forwarded=True)
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=["[2001:db8::1]:4711"]).address == "2001:db8::1"
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=["2001:DB8::1"]).address == "2001:db8::1"
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=["[2001:db8::1]"]).address == "2001:db8::1"


def test_an_ipv6_peer_and_an_ipv4_mapped_address() -> None:
    got = resolve("2001:db8:ffff::5", PROXIES, forwarded=['for="[2001:db8::1]:4711";proto=https'])
    assert got == Client("2001:db8::1", 4711, "https", None, forwarded=True)
    assert resolve("::ffff:10.0.0.1", PROXIES, x_forwarded_for=["203.0.113.9"]).address == "203.0.113.9"
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=["::ffff:203.0.113.9"]).address == "203.0.113.9"


def test_forwarded_wins_over_x_forwarded_for() -> None:
    got = resolve("10.0.0.1", PROXIES, forwarded=["for=203.0.113.10;proto=http;host=a.example"],
                  x_forwarded_for=["203.0.113.9"], x_forwarded_proto=["https"], x_forwarded_host=["b.example"])
    assert got == Client("203.0.113.10", 0, "http", "a.example", forwarded=True)


def test_forwarded_rfc_7239_examples() -> None:
    got = resolve("10.0.0.1", PROXIES, forwarded=['for="_gazonk"'])
    assert got.address == "10.0.0.1"  # obfuscated: the proxy that reported it is the client
    got = resolve("10.0.0.1", PROXIES, forwarded=['For="[2001:db8:cafe::17]:4711"'])
    assert got.address == "2001:db8:cafe::17" and got.port == 4711
    got = resolve("10.0.0.1", PROXIES, forwarded=["for=192.0.2.60;proto=http;by=203.0.113.43"])
    assert got == Client("192.0.2.60", 0, "http", None, forwarded=True)
    got = resolve("10.0.0.1", PROXIES, forwarded=["for=192.0.2.43, for=198.51.100.17"])
    assert got.address == "198.51.100.17"


def test_quoted_values_may_hold_commas_and_semicolons() -> None:
    got = resolve("10.0.0.1", PROXIES, forwarded=['for=203.0.113.9;host="a.example";ext="x,y;z", for=10.2.2.2'])
    assert got == Client("203.0.113.9", 0, None, "a.example", forwarded=True)


@pytest.mark.parametrize("hop", ["unknown", '"_hidden"', "_hidden", "not-an-address", "300.1.1.1", '"[::1"',
                                 "203.0.113.9:99999", "[2001:db8::1]x", ""])
def test_an_unreadable_hop_stops_the_walk_at_the_proxy_that_reported_it(hop: str) -> None:
    # 10.1.1.1 (trusted) reported the unreadable hop; whatever stands left of it is not believed
    got = resolve("10.0.0.1", PROXIES, forwarded=[f"for=6.6.6.6, for={hop}, for=10.1.1.1"])
    assert got.address == "10.1.1.1"
    xff = hop.strip('"')
    if xff:
        got = resolve("10.0.0.1", PROXIES, x_forwarded_for=[f"6.6.6.6, {xff}, 10.1.1.1"])
        assert got.address == "10.1.1.1"


def test_an_unreadable_first_hop_leaves_the_peer() -> None:
    assert resolve("10.0.0.1", PROXIES, forwarded=["garbage"], peer_port=9).address == "10.0.0.1"
    assert resolve("10.0.0.1", PROXIES, forwarded=["proto=https"]).address == "10.0.0.1"  # no for=
    assert resolve("10.0.0.1", PROXIES, forwarded=["for=1.2.3.4;for=5.6.7.8"]).address == "10.0.0.1"  # repeated
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=["unknown"]).address == "10.0.0.1"
    # an unterminated quote swallows the rest of the header: nothing after it is readable either
    assert resolve("10.0.0.1", PROXIES, forwarded=['for=6.6.6.6, for="1.2.3.4, for=10.1.1.1']).address == "10.0.0.1"


def test_scheme_and_host_must_look_like_a_scheme_and_a_host() -> None:
    got = resolve("10.0.0.1", PROXIES, forwarded=['for=203.0.113.9;proto=javascript;host="a b/c"'])
    assert got == Client("203.0.113.9", 0, None, None, forwarded=True)
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["203.0.113.9"], x_forwarded_proto=["gopher"],
                  x_forwarded_host=["evil.example/path"])
    assert got.scheme is None and got.host is None
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=["203.0.113.9"], x_forwarded_proto=["http, https"],
                  x_forwarded_host=["[2001:db8::1]:8443"])
    assert got.scheme == "https" and got.host == "[2001:db8::1]:8443"


def test_the_scheme_and_host_are_those_of_the_hop_where_the_walk_stops() -> None:
    got = resolve("10.0.0.1", PROXIES, forwarded=["for=203.0.113.9;proto=https;host=outer.example",
                                                  "for=10.1.1.1;proto=http;host=inner.internal"])
    assert got == Client("203.0.113.9", 0, "https", "outer.example", forwarded=True)


def test_a_peer_that_is_not_an_address_is_kept_as_it_is() -> None:
    assert resolve("testclient", PROXIES, x_forwarded_for=["203.0.113.9"]) == Client("testclient")


@pytest.mark.parametrize("hop", ["fe80::1%eth0", "fe80::1%" + "A" * 200, "[2001:db8::5%x]", "[2001:db8::5%x]:4711",
                                 "fe80::1%25eth0", "203.0.113.9%1"])
def test_an_ipv6_zone_id_is_never_a_client_address(hop: str) -> None:
    """A zone names an interface of the proxy; accepted, it would put the client's text into every address shown."""
    got = resolve("10.0.0.1", PROXIES, forwarded=[f'for=6.6.6.6, for="{hop}", for=10.1.1.1'])
    assert got.address == "10.1.1.1"
    got = resolve("10.0.0.1", PROXIES, x_forwarded_for=[f"6.6.6.6, {hop}, 10.1.1.1"])
    assert got.address == "10.1.1.1"
    assert resolve("10.0.0.1", PROXIES, x_forwarded_for=[hop], peer_port=7) == Client("10.0.0.1", 7)
    assert "%" not in resolve("10.0.0.1", PROXIES, forwarded=[f'for="{hop}"']).address
