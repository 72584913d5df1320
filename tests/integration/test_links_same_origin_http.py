"""Every link, form action and redirect is built from the service's own routes, never from the request path:
with paths such as `//evil.example/x`, `/%2F%2Fevil`, `/\\evil.example/console` sent as they are (raw request
targets on a live server), every href, src, action and Location is a path on this site: one leading `/`,
no `//`, no backslash (browsers read `/\\host` as `//host`)."""

from __future__ import annotations

import asyncio
import html
import http.client
import re
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from support import LiveServer, csrf_of
from vestibule.services import accounts

_LINK = re.compile(r'\b(?:href|src|action)="([^"]*)"')
_COOKIE = re.compile(r"^([^=;]+)=([^;]*)")

HOSTILE_PATHS = [
    "//evil.example/x",
    "//evil.example/console",
    "//evil.example/console/",
    "///evil.example/x",
    "/%2F%2Fevil.example/x",
    "/%2Fevil.example/console",
    "/%2f%2fevil.example/console",
    "/\\evil.example/console",
    "/\\evil.example/console/",
    "/%5Cevil.example/console",
    "/%5cevil.example/console",
    "/%5C%5Cevil.example/console",
    "/\\/evil.example/console",
    "/%5C/evil.example/console",
    "/x/..//evil.example/console",
    "/x/%2e%2e/%2fevil.example/console",
    "/%09/evil.example/console",
    "/evil.example%2F%2F/console",
    "//evil.example/x?lang=zh-TW",
    "/%5Cevil.example/console?lang=zh-TW&next=//evil.example",
    "/signin?flow=//evil.example",
    "/signup/verify?flow=/%5Cevil.example",
    "/recovery/reset?flow=//evil.example",
    "/console/mfa/new?flow=//evil.example",
    "/recovery?type=iam&account=/%5Cevil.example",
    "/recovery?type=iam&account=%2F%2Fevil.example",
    "/?root=1&user_type=//evil.example",
]


class RawBrowser:
    """Sends request targets exactly as written (no client-side normalisation) and keeps cookies."""

    def __init__(self, live: LiveServer) -> None:
        parts = urlsplit(live.url)
        self.host, self.port = parts.hostname or "", parts.port or 80
        self.origin = live.url
        self.cookies: dict[str, str] = {}

    def request(self, method: str, target: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location header or '', body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            body = None
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
            if form is not None:
                from urllib.parse import urlencode

                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Origin"] = self.origin
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("set-cookie") or []:
                match = _COOKIE.match(header)
                if match:
                    name, value = match.groups()
                    if "Max-Age=0" in header:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = value
            return response.status, response.headers.get("location", ""), text
        finally:
            conn.close()


def _assert_on_site(link: str, origin: str, where: str) -> None:
    assert link.startswith("/"), f"{where}: {link!r} is not a path"
    assert not link.startswith("//"), f"{where}: {link!r} names another host"
    assert "\\" not in link, f"{where}: {link!r} has a backslash (read as a slash by browsers)"
    assert not re.search(r"[\x00-\x20\x7f]", link), f"{where}: {link!r} has control characters or spaces"
    resolved = urlsplit(urljoin(origin + "/a/page", link))
    assert f"{resolved.scheme}://{resolved.netloc}" == origin, f"{where}: {link!r} leaves {origin}"


def _assert_page_on_site(status: int, location: str, body: str, origin: str, where: str) -> int:
    assert status < 500, f"{where}: {status}"
    if location:
        _assert_on_site(location, origin, f"{where} Location")
    links = [html.unescape(link) for link in _LINK.findall(body)]
    for link in links:
        _assert_on_site(link, origin, where)
    return len(links)


@pytest.mark.parametrize("target", HOSTILE_PATHS)
def test_hostile_paths_yield_only_links_to_this_site(live_server: LiveServer, target: str) -> None:
    raw = RawBrowser(live_server)
    status, location, body = raw.request("GET", target)
    if status == 400 and not body.startswith("<!doctype"):
        return  # refused by the HTTP parser itself: no page, no link
    links = _assert_page_on_site(status, location, body, raw.origin, target)
    assert links or location, f"{target}: nothing was checked ({status})"


def test_language_link_of_a_hostile_path_is_a_route_of_this_site(live_server: LiveServer) -> None:
    raw = RawBrowser(live_server)
    for target in ("//evil.example/x", "/%2F%2Fevil.example/x", "/%2Fevil.example/console"):
        status, _, body = raw.request("GET", target)
        assert status == 404
        assert 'href="/?lang=zh-TW"' in body, target
    # a real route keeps its own path, with its parameters encoded
    status, _, body = raw.request("GET", "/%5Cevil.example/console")
    assert status == 200
    assert 'href="/%5Cevil.example/console?lang=zh-TW"' in body


def test_captcha_refresh_link_and_form_action_stay_on_this_site(live_server: LiveServer) -> None:
    """With the CAPTCHA showing on the IAM form of a hostile account path, the "new challenge" link, the form
    action and every other link are paths of this site."""

    async def setup() -> None:
        async with live_server.runtime.deps.store.unit() as uow:
            await accounts.create_account(live_server.runtime.deps, uow, email="owner@example.com",
                                          password="root password 1", alias="acme")

    asyncio.run_coroutine_threadsafe(setup(), live_server.server.servers[0].get_loop()).result(30)
    raw = RawBrowser(live_server)
    for target in ("/\\evil.example/console", "/%5C%5Cevil.example/console", "/%5C/evil.example/console"):
        captcha_seen = False
        for _ in range(5):
            status, location, page = raw.request("GET", target)
            if status == 404:
                break
            _assert_page_on_site(status, location, page, raw.origin, target)
            status, location, body = raw.request("POST", target, {
                "csrf_token": csrf_of(page), "username": "alice", "password": "wrong password"})
            _assert_page_on_site(status, location, body, raw.origin, f"POST {target}")
            tag = re.search(r'<a\b[^>]*\bid="captcha-refresh"[^>]*>', body)
            if tag is not None:
                captcha_seen = True
                href = re.search(r'href="([^"]*)"', tag.group(0))
                assert href is not None
                assert html.unescape(href.group(1)) == "/" + quote(target.split("/")[1] if "%" not in target
                                                                   else unquote(target.split("/")[1]), safe="") \
                    + "/console"
                break
        assert captcha_seen or status == 404, f"{target}: the CAPTCHA never showed"
