"""Which provider URLs may be fetched, and the key cache against the test provider: one discovery per ten
minutes, http refused unless the loopback setting is on."""

from __future__ import annotations

import asyncio
import time

import pytest

from oidc_idp import OidcProvider
from vestibule.core.federation_failures import Cause, FederationFailure
from vestibule.services.federation.oidc_keys import OidcKeys, checked_discovery, checked_url


@pytest.mark.parametrize("url", ["https://idp.example.com/x", "https://127.0.0.1:8443"])
def test_https_is_always_allowed(url: str) -> None:
    assert checked_url(url, insecure_loopback=False) == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:4711", "http://localhost/x", "http://[::1]:80", "http://127.9.9.9"])
def test_http_only_to_loopback_and_only_when_allowed(url: str) -> None:
    assert checked_url(url, insecure_loopback=True) == url
    with pytest.raises(ValueError, match="VESTIBULE_FEDERATION_INSECURE_LOOPBACK"):
        checked_url(url, insecure_loopback=False)


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://idp.example.com", "http://localhost.evil.com",
                                 "ftp://127.0.0.1/", "file:///etc/passwd", "https://", "http://[::ffff:10.0.0.1]"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        checked_url(url, insecure_loopback=True)


def test_cache_and_the_loopback_setting() -> None:
    async def scenario(idp: OidcProvider) -> None:
        keys = OidcKeys()
        with pytest.raises(FederationFailure) as refused:
            await keys.keys(idp.issuer, now=0, insecure_loopback=False)
        assert refused.value.cause is Cause.IDP_ERROR and idp.hits == []  # refused before any request
        first = await keys.keys(idp.issuer, now=0, insecure_loopback=True)
        assert {k["kid"] for k in first} == {k.kid for k in idp.keys}
        assert (await keys.discovery(idp.issuer, now=10, insecure_loopback=True)).jwks_uri == f"{idp.issuer}/jwks"
        await keys.keys(idp.issuer, now=599, insecure_loopback=True)
        assert idp.count("/jwks") == 1 and idp.count("/openid-configuration") == 1
        await keys.keys(idp.issuer, now=601, insecure_loopback=True)  # ten minutes: both fetched again
        assert idp.count("/jwks") == 2 and idp.count("/openid-configuration") == 2
        await keys.refreshed_keys(idp.issuer, now=602, insecure_loopback=True)
        await keys.refreshed_keys(idp.issuer, now=620, insecure_loopback=True)
        assert idp.count("/jwks") == 3 and idp.count("/openid-configuration") == 2
        await keys.refreshed_keys(idp.issuer, now=633, insecure_loopback=True)
        assert idp.count("/jwks") == 4

    with OidcProvider() as provider:
        asyncio.run(scenario(provider))


def _document(issuer: str, **endpoints: str) -> dict[str, str]:
    return {"issuer": issuer, "jwks_uri": f"{issuer}/jwks", "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token", **endpoints}


@pytest.mark.parametrize("name", ["jwks_uri", "authorization_endpoint", "token_endpoint"])
@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "http://localhost/keys", "HTTP://[::1]/x",
                                 "http://idp.example.com/keys", "file:///etc/passwd", "//idp.example.com/k"])
def test_an_https_issuer_gives_only_https_endpoints(name: str, url: str) -> None:
    """Even with the loopback setting on, a remote provider cannot point this service at its loopback."""
    issuer = "https://idp.example.com"
    with pytest.raises(FederationFailure) as refused:
        checked_discovery(issuer, _document(issuer, **{name: url}))
    assert refused.value.cause is Cause.IDP_ERROR and name in refused.value.detail


def test_discovery_documents_that_are_accepted() -> None:
    issuer = "https://idp.example.com/tenant"
    found = checked_discovery(issuer, _document(issuer, jwks_uri="https://keys.example.net/jwks"))
    assert found.jwks_uri == "https://keys.example.net/jwks" and found.token_endpoint == f"{issuer}/token"
    loopback = "http://127.0.0.1:4711"  # a loopback http issuer (the setting checks each fetch)
    assert checked_discovery(loopback, _document(loopback)).authorization_endpoint == f"{loopback}/authorize"
    for document in (_document(issuer + "/"), {"issuer": issuer}):
        with pytest.raises(FederationFailure):
            checked_discovery(issuer, document)


def test_a_provider_dripping_its_answer_is_cut_off_in_time() -> None:
    """The timeout bounds the whole fetch, not only each read: one byte every 0.1 s never trips a 0.5 s read
    timeout, and would hold the issuer's lock (every caller of that provider) for minutes."""
    async def scenario(idp: OidcProvider) -> None:
        keys = OidcKeys(timeout=0.5)
        started = time.monotonic()
        with pytest.raises(FederationFailure) as refused:
            await asyncio.wait_for(keys.keys(idp.issuer, now=0, insecure_loopback=True), 5)
        assert refused.value.cause is Cause.IDP_ERROR and time.monotonic() - started < 3

    with OidcProvider() as provider:
        provider.drip = 0.1
        asyncio.run(scenario(provider))
