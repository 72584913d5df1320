"""Steps of the console's OIDC sign-in tests (HTTP and Chromium): an IAM OIDC provider of an account for the
test provider of tests/oidc_idp.py, roles that trust it, a sign-in button, and a browser walking the code flow
(Vestibule in-process, the provider on loopback)."""

from __future__ import annotations

import html
import json
import re
import secrets
from typing import Any

import httpx

from oidc_idp import OidcProvider
from vestibule.core import identifiers as ids
from vestibule.runtime import Runtime
from vestibule.services.federation import console_oidc
from vestibule.store.models import IamRole
from vestibule.store.models import OidcProvider as OidcProviderRow

CLIENT_ID = "vestibule"
_BUTTON = re.compile(r'<a class="button-link oidc-signin-button" href="([^"]+)">([^<]+)</a>')


async def register_provider(runtime: Runtime, account_id: str, idp: OidcProvider,
                            client_ids: tuple[str, ...] = (CLIENT_ID,)) -> str:
    """The IAM OIDC provider for `idp` in the account (as CreateOpenIDConnectProvider stores it); its ARN."""
    arn = f"arn:aws:iam::{account_id}:oidc-provider/{idp.url}"
    async with runtime.deps.store.unit() as uow:
        await uow.oidc_providers.add(OidcProviderRow(
            id="OIDP" + secrets.token_hex(8).upper(), account_id=account_id, url=idp.url, issuer=idp.issuer, arn=arn,
            client_ids=list(client_ids), thumbprints=[], created_at=runtime.deps.clock()))
    return arn


def web_identity_trust(provider_arn: str, conditions: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                                 "Action": "sts:AssumeRoleWithWebIdentity"}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


async def make_role(runtime: Runtime, account_id: str, name: str, trust: str, max_session: int = 3600) -> str:
    async with runtime.deps.store.unit() as uow:
        await uow.roles.add(IamRole(id=ids.new_iam_id("AROA"), account_id=account_id, name=name,
                                    name_lower=name.lower(), path="/", description=None, trust_policy=trust,
                                    max_session_duration=max_session, created_at=runtime.deps.clock()))
    return f"arn:aws:iam::{account_id}:role/{name}"


async def add_button(runtime: Runtime, account_id: str, provider_arn: str, label: str = "Example IdP",
                     client_id: str = CLIENT_ID, secret: str | None = None) -> None:
    async with runtime.deps.store.unit() as uow:
        await console_oidc.add(runtime.deps, uow, account_id, provider_arn, client_id, label, secret)


def buttons_of(page: str) -> list[tuple[str, str]]:
    """(href, text) of the page's "Sign in with ..." buttons."""
    return [(html.unescape(href), html.unescape(text)) for href, text in _BUTTON.findall(page)]


async def to_provider(client: httpx.AsyncClient, account: str = "acme") -> str:
    """Open the account's IAM sign-in page and press its first button: the provider's authorization URL."""
    page = await client.get(f"/{account}/console")
    [(href, _)] = buttons_of(page.text)[:1]
    started = await client.get(href)
    assert started.status_code == 303, started.text
    location: str = started.headers["location"]
    return location


async def at_provider(authorization_url: str) -> str:
    """The provider's answer to the authorization request (it approves its `approve_as` user): the redirect
    back to Vestibule's callback."""
    async with httpx.AsyncClient(follow_redirects=False) as idp_browser:
        answer = await idp_browser.get(authorization_url)
    assert answer.status_code == 302, answer.text
    back: str = answer.headers["location"]
    return back


async def sign_in_with_provider(client: httpx.AsyncClient, account: str = "acme") -> httpx.Response:
    """The whole round trip: button, provider, callback; the callback's answer."""
    back = await at_provider(await to_provider(client, account))
    return await client.get(back.removeprefix("http://testserver"))
