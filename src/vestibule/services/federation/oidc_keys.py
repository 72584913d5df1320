"""An OpenID Connect provider's discovery document and signing keys, fetched over HTTPS and cached per issuer.

Discovery is `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, 4); its `issuer` must
equal the issuer asked for (4.3), and its `jwks_uri` gives the key set. Both are kept for ten minutes; a token
naming a key ID the cached set lacks makes one fetch of the set again (the provider rotated its keys), at most
one such fetch per issuer every 30 seconds, so a stream of forged key IDs cannot make this service hammer the
provider. Every request has a 5-second timeout (in all, not only between bytes), refuses redirects and answers
larger than 1 MiB, and goes over HTTPS with certificate checks; plain HTTP only to a loopback host when
`federation_insecure_loopback` is on. Any failure is a FederationFailure
IDP_ERROR (AssumeRoleWithWebIdentity answers IDPCommunicationError).

One `OidcKeys` per `Deps` (`deps.oidc_keys`): one per process in a deployment, and one per app in the tests, so
no test sees another's cached keys."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from ...core.federation_failures import Cause, FederationFailure

CACHE_SECONDS = 600.0
REFETCH_SECONDS = 30.0
TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT = 1 << 20
Jwk = Mapping[str, Any]


@dataclass(frozen=True)
class Discovery:
    issuer: str
    jwks_uri: str
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    document: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Entry:
    discovery: Discovery
    keys: tuple[Jwk, ...]
    fetched_at: float  # the service's clock when the key set was last fetched
    refetched_at: float | None = None  # ... when it was last fetched for a key ID it lacked


def _failure(issuer: str, detail: str) -> FederationFailure:
    return FederationFailure(Cause.IDP_ERROR, detail, admin={"issuer": issuer})


def _loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, localhost (the rule of services/iam/identity_providers.is_loopback_host, which this
    module cannot import: Deps holds an OidcKeys, and that module imports the API call, which imports Deps)."""
    name = host.strip("[]").lower().rstrip(".")
    try:
        return name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def checked_url(url: str, *, insecure_loopback: bool) -> str:
    """`url` if this service may fetch it: https, or http to a loopback host when the operator allows it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ValueError(f"{url[:256]} is not a URL") from None
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and insecure_loopback and _loopback(host):
        return url
    hint = "" if insecure_loopback else " (http:// to loopback hosts needs VESTIBULE_FEDERATION_INSECURE_LOOPBACK=on)"
    raise ValueError(f"{url[:256]} is not an https:// URL{hint}")


_ENDPOINTS = ("jwks_uri", "authorization_endpoint", "token_endpoint")


def checked_discovery(issuer: str, document: Mapping[str, Any]) -> Discovery:
    """The discovery document of `issuer`, if it names that issuer and a key set; an https issuer's endpoints
    must be https too (the loopback setting permits http only to an http issuer's own kind of endpoints, never
    a way for a remote provider to point this service at its loopback services)."""
    named, jwks_uri = document.get("issuer"), document.get("jwks_uri")
    if named != issuer:
        raise _failure(issuer, f"The identity provider's discovery document names the issuer "
                               f"{str(named)[:256]!r}, not {issuer!r}.")
    if not isinstance(jwks_uri, str):
        raise _failure(issuer, "The identity provider's discovery document has no jwks_uri.")
    if urlsplit(issuer).scheme == "https":
        for name in _ENDPOINTS:
            value = document.get(name)
            if isinstance(value, str) and not value.lower().startswith("https://"):
                raise _failure(issuer, f"The identity provider's discovery document gives an {name} that is "
                                       f"not https: {value[:256]}.")

    def text(name: str) -> str | None:
        value = document.get(name)
        return value if isinstance(value, str) else None

    return Discovery(issuer, jwks_uri, text("authorization_endpoint"), text("token_endpoint"), document)


class OidcKeys:
    """The cache of discovery documents and key sets, keyed by issuer."""

    def __init__(self, *, cache_seconds: float = CACHE_SECONDS, refetch_seconds: float = REFETCH_SECONDS,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self._cache_seconds = cache_seconds
        self._refetch_seconds = refetch_seconds
        self._timeout = timeout
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def forget(self, issuer: str | None = None) -> None:
        if issuer is None:
            self._entries.clear()
        else:
            self._entries.pop(issuer, None)

    async def discovery(self, issuer: str, *, now: float, insecure_loopback: bool) -> Discovery:
        """The provider's discovery document (cached with its keys). `now`: the service's clock."""
        return (await self._entry(issuer, now, insecure_loopback, refetch=False)).discovery

    async def keys(self, issuer: str, *, now: float, insecure_loopback: bool) -> tuple[Jwk, ...]:
        """The provider's signing keys, from the cache while it is fresh."""
        return (await self._entry(issuer, now, insecure_loopback, refetch=False)).keys

    async def refreshed_keys(self, issuer: str, *, now: float, insecure_loopback: bool) -> tuple[Jwk, ...]:
        """The key set fetched again (a token named an unknown key ID), unless that was done in the last
        30 seconds: then the set in hand."""
        return (await self._entry(issuer, now, insecure_loopback, refetch=True)).keys

    async def _entry(self, issuer: str, now: float, insecure_loopback: bool, *, refetch: bool) -> _Entry:
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            entry = self._entries.get(issuer)
            fresh = entry is not None and now - entry.fetched_at < self._cache_seconds
            if entry is not None and fresh and not (refetch and self._may_refetch(entry, now)):
                return entry
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, verify=True,
                                         trust_env=False) as client:
                discovery = (entry.discovery if entry is not None and fresh
                             else await self._discover(client, issuer, insecure_loopback))
                keys = await self._jwks(client, issuer, discovery.jwks_uri, insecure_loopback)
            refetched_at = now if fresh else entry.refetched_at if entry is not None else None
            entry = _Entry(discovery, keys, now, refetched_at)
            self._entries[issuer] = entry
            return entry

    def _may_refetch(self, entry: _Entry, now: float) -> bool:
        """At most one fetch for unknown key IDs per issuer every 30 seconds (forged key IDs cost nothing)."""
        return entry.refetched_at is None or now - entry.refetched_at >= self._refetch_seconds

    async def _get_json(self, client: httpx.AsyncClient, issuer: str, url: str,
                        insecure_loopback: bool) -> Mapping[str, Any]:
        try:
            checked_url(url, insecure_loopback=insecure_loopback)
        except ValueError as exc:
            raise _failure(issuer, f"The identity provider's URL cannot be fetched: {exc}.") from None
        try:
            async with (asyncio.timeout(self._timeout),  # in all: a provider dripping bytes cannot hold it longer
                        client.stream("GET", url, headers={"Accept": "application/json"}) as answer):
                if answer.status_code != 200:
                    raise _failure(issuer, f"The identity provider answered {answer.status_code} for {url[:256]}.")
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT:
                        raise _failure(issuer, f"The identity provider's answer from {url[:256]} is too large.")
        except (httpx.HTTPError, TimeoutError) as exc:
            raise _failure(issuer, f"Could not reach the identity provider at {url[:256]}: "
                                   f"{type(exc).__name__}.") from None
        try:
            value = json.loads(bytes(body))
        except ValueError:
            raise _failure(issuer, f"The identity provider's answer from {url[:256]} is not JSON.") from None
        if not isinstance(value, dict):
            raise _failure(issuer, f"The identity provider's answer from {url[:256]} is not a JSON object.")
        return value

    async def _discover(self, client: httpx.AsyncClient, issuer: str, insecure_loopback: bool) -> Discovery:
        document = await self._get_json(client, issuer, f"{issuer}/.well-known/openid-configuration",
                                        insecure_loopback)
        return checked_discovery(issuer, document)

    async def _jwks(self, client: httpx.AsyncClient, issuer: str, url: str,
                    insecure_loopback: bool) -> tuple[Jwk, ...]:
        document = await self._get_json(client, issuer, url, insecure_loopback)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise _failure(issuer, "The identity provider's key set has no keys list.")
        return tuple(k for k in keys if isinstance(k, dict))

