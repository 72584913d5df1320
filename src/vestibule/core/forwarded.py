"""Who the client is behind trusted reverse proxies: `Forwarded` (RFC 7239) or `X-Forwarded-For`.

A proxy appends one hop per connection it received, so the list is read right to left: every hop that a trusted
proxy reported about another trusted proxy is skipped, and the first address outside the trusted networks is the
client. Anything left of that hop was written by the client and is never believed. An `unknown`, obfuscated
(`_hidden`) or unreadable hop stops the walk: the client is then the last address walked (the trusted proxy that
reported the unreadable hop), never a guess. A connection from an untrusted peer keeps the peer's address, and its
headers are ignored. `Forwarded` wins over the `X-Forwarded-*` headers when present."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES = frozenset({"http", "https"})
# a host as RFC 3986 allows it in an authority (reg-name, IPv4 or a bracketed IPv6), with an optional port
_HOST = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=%-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
_PORT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True)
class Client:
    """Where the request came from: `address` always; `port`, `scheme` and `host` as the proxy reported them."""

    address: str
    port: int = 0
    scheme: str | None = None
    host: str | None = None
    forwarded: bool = False  # the address came from a trusted proxy's header, not from the connection


@dataclass(frozen=True)
class _Hop:
    address: Address | None  # None: unknown, obfuscated or unreadable
    port: int = 0
    scheme: str | None = None
    host: str | None = None


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """The trusted networks from addresses or CIDR ranges (`10.0.0.7`, `10.0.0.0/8`, `::1`)."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def trusted(address: Address, trusted_networks: Sequence[Network]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return any(address in network for network in trusted_networks)


def resolve(peer: str, trusted_networks: Sequence[Network], *, forwarded: Sequence[str] = (),
            x_forwarded_for: Sequence[str] = (), x_forwarded_proto: Sequence[str] = (),
            x_forwarded_host: Sequence[str] = (), peer_port: int = 0) -> Client:
    """The client of a request whose connection comes from `peer`; each header as its lines (several allowed)."""
    peer_address = parse_address(peer)
    if peer_address is None or not trusted_networks or not trusted(peer_address, trusted_networks):
        return Client(peer, peer_port)
    return reported(peer, peer_port, trusted_networks, forwarded=forwarded, x_forwarded_for=x_forwarded_for,
                    x_forwarded_proto=x_forwarded_proto, x_forwarded_host=x_forwarded_host)


def reported(peer: str, peer_port: int, trusted_networks: Sequence[Network], *, forwarded: Sequence[str] = (),
             x_forwarded_for: Sequence[str] = (), x_forwarded_proto: Sequence[str] = (),
             x_forwarded_host: Sequence[str] = ()) -> Client:
    """`resolve` for a peer already known to be trusted. Hops are read right to left, only as far as the walk."""
    hops: Iterator[_Hop]
    if any(line.strip() for line in forwarded):
        hops = (_forwarded_hop(element) for element in reversed(_split_elements(",".join(forwarded))))
    elif any(line.strip() for line in x_forwarded_for):
        # X-Forwarded-Proto and -Host are one value per request: the nearest proxy's (the rightmost), the one a
        # client cannot forge through a proxy that appends
        scheme = (_last_value(x_forwarded_proto) or "").lower()
        host = _last_value(x_forwarded_host) or ""
        shown_scheme = scheme if scheme in _SCHEMES else None
        shown_host = host if _HOST.fullmatch(host) else None
        parts = [part.strip() for part in ",".join(x_forwarded_for).split(",")]
        hops = (_Hop(*_node(part), shown_scheme, shown_host) for part in reversed(parts) if part)
    else:
        return Client(peer, peer_port)
    return _walk(peer, peer_port, hops, trusted_networks)


def _walk(peer: str, peer_port: int, hops: Iterable[_Hop], trusted_networks: Sequence[Network]) -> Client:
    """Over the hops from the right, while trusted; the hop where the walk stops also tells scheme and host."""
    address, port, walked = peer, peer_port, False
    scheme = host = None
    for hop in hops:
        scheme, host = hop.scheme, hop.host
        if hop.address is None:
            break
        address, port, walked = _shown(hop.address), hop.port, True
        if not trusted(hop.address, trusted_networks):
            break
    return Client(address, port, scheme, host, forwarded=walked)


@functools.lru_cache(maxsize=4096)  # the same clients and proxies come back: ipaddress parsing is slow
def parse_address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _shown(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _node(text: str) -> tuple[Address | None, int]:
    """A node as RFC 7239 6 writes it (`192.0.2.60`, `192.0.2.60:4711`, `[2001:db8::1]:4711`), also as
    `X-Forwarded-For` carries it; a bare IPv6 address is accepted. (None, 0) for unknown, obfuscated or garbage,
    and for an IPv6 zone ID (`fe80::1%eth0`): a zone names an interface of the proxy, meaningless to this node, and
    would let a client put any text into the address that audit events, throttling and logs show."""
    if "%" in text:
        return None, 0
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None, 0
        address = parse_address(text[1:end])
        if not isinstance(address, ipaddress.IPv6Address):
            return None, 0
        rest = text[end + 1:]
        if not rest:
            return address, 0
        if not rest.startswith(":"):
            return None, 0
        port = _port(rest[1:])
        return (address, port) if port is not None else (None, 0)
    address = parse_address(text)
    if address is not None:
        return address, 0
    host, colon, port_text = text.rpartition(":")
    if colon and "." in host:
        v4 = parse_address(host)
        port = _port(port_text)
        if isinstance(v4, ipaddress.IPv4Address) and port is not None:
            return v4, port
    return None, 0


def _port(text: str) -> int | None:
    """A port number; an obfuscated port (`_abc`) reads as 0, garbage as None."""
    if text.startswith("_") and len(text) > 1:
        return 0
    if not _PORT.fullmatch(text) or not 0 < int(text) < 65536:
        return None
    return int(text)


def _split_elements(value: str) -> list[str]:
    """Split on commas outside quoted strings; an unterminated quote makes its element unreadable."""
    elements: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            elements.append("".join(current))
            current = []
            continue
        current.append(ch)
    elements.append("\0" if quoted else "".join(current))
    return [e for e in elements if e.strip()]


def _forwarded_hop(element: str) -> _Hop:
    pairs = _pairs(element)
    if pairs is None or "for" not in pairs:
        return _Hop(None)
    address, port = _node(pairs["for"])
    proto = pairs.get("proto", "").lower()
    host = pairs.get("host", "")
    return _Hop(address, port, proto if proto in _SCHEMES else None, host if _HOST.fullmatch(host) else None)


def _pairs(element: str) -> dict[str, str] | None:
    """`for=...;proto=...;host=...` with token or quoted-string values (RFC 7239 4); None when unreadable or a
    parameter is repeated."""
    out: dict[str, str] = {}
    i, n = 0, len(element)
    while i < n:
        while i < n and element[i] in " \t;":
            i += 1
        if i >= n:
            break
        eq = element.find("=", i)
        if eq < 0:
            return None
        name = element[i:eq].strip().lower()
        if not name or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name) or name in out:
            return None
        i = eq + 1
        if i < n and element[i] == '"':
            value, i = _quoted(element, i)
            if value is None:
                return None
            while i < n and element[i] in " \t":
                i += 1
            if i < n and element[i] != ";":
                return None
        else:
            end = element.find(";", i)
            end = n if end < 0 else end
            value = element[i:end].strip()
            i = end
        out[name] = value
    return out


def _quoted(text: str, start: int) -> tuple[str | None, int]:
    out, i = [], start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return None, i


def _last_value(lines: Sequence[str]) -> str | None:
    values = [v.strip() for v in ",".join(lines).split(",") if v.strip()]
    return values[-1] if values else None
