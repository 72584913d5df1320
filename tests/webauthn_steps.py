"""WebAuthn steps the console, access portal and personal-profile tests share: the options and hidden fields of a
page's WebAuthn form (web/templates/_webauthn_forms.html), the registration form answered by the software
authenticator (`webauthn_authenticator.py`), and Chromium's virtual authenticator for the e2e journeys."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import CDPSession, Page

from support import csrf_of
from webauthn_authenticator import SoftAuthenticator

_OPTIONS = re.compile(r'data-webauthn-options="([^"]*)"')


def options_of(page: str) -> str:
    match = _OPTIONS.search(page)
    assert match, "no WebAuthn options on the page"
    return html.unescape(match.group(1))


def field_of(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return html.unescape(match.group(1))


async def register_from(client: httpx.AsyncClient, form: httpx.Response, register_url: str, key: SoftAuthenticator,
                        *, kind: str, name: str, resident: bool) -> httpx.Response:
    """The registration page `form` (the shared form, its label and script) -> a name and the key's answer."""
    assert form.status_code == 200 and 'data-webauthn="create"' in form.text, form.text
    assert '<label for="key_name">' in form.text and '<script src="/static/webauthn.js" defer></script>' in form.text
    return await client.post(register_url, data={
        "csrf_token": csrf_of(form.text), "flow": field_of(form.text, "flow"), "kind": kind, "key_name": name,
        "webauthn_response": key.register(options_of(form.text), resident=resident)})


@dataclass(frozen=True)
class VirtualAuthenticator:
    """A DevTools-protocol virtual authenticator attached to one page's browser context (ctap2, user verified)."""

    cdp: CDPSession
    id: str

    def credentials(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.cdp.send("WebAuthn.getCredentials",
                                                    {"authenticatorId": self.id})["credentials"]
        return found


def virtual_authenticator(page: Page, *, transport: str = "usb", resident: bool = False) -> VirtualAuthenticator:
    """A security key (usb, no resident key) by default; `transport="internal", resident=True`: a passkey."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": transport, "hasResidentKey": resident, "hasUserVerification": True,
        "isUserVerified": True}})["authenticatorId"]
    return VirtualAuthenticator(cdp, authenticator)
