"""When a personal profile's browser counts as trusted (its sign-ins skip MFA): the cookie's token names a row
of this profile that has not expired, and the browser's user agent and client network are the ones the row was
made from. The network is the client's /24 (IPv4) or /48 (IPv6): an address that changes inside one home or
office network keeps the trust, another network asks for MFA again."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from .tokens import same

TRUST_LIFETIME = 90 * 86400  # a trusted browser's row and cookie
_PREFIX = {4: 24, 6: 48}


def network_of(ip: str) -> str | None:
    """`203.0.113.0/24`, `2001:db8:1::/48`; an IPv4-mapped IPv6 address as its IPv4 network; None for no address
    (such a client is never trusted)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(ipaddress.ip_network(f"{address}/{_PREFIX[address.version]}", strict=False))


def user_agent_hash(user_agent: str) -> str:
    return hashlib.sha256(user_agent.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class TrustBinding:
    """What a trusted browser's row holds about the browser it trusts."""

    profile_id: str
    user_agent_hash: str
    network: str
    expires_at: float


def still_trusted(binding: TrustBinding, profile_id: str, user_agent: str, ip: str, now: float) -> bool:
    """The row (found by the cookie's token hash) trusts this browser now, for this profile."""
    network = network_of(ip)
    return (network is not None and now < binding.expires_at and same(binding.profile_id, profile_id)
            and same(binding.user_agent_hash, user_agent_hash(user_agent)) and same(binding.network, network))
