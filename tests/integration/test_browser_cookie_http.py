"""The browser-ID cookie, from which CSRF tokens and the browser binding of flows derive, is issued by the server
(a value the client chose or altered is replaced) and rotated at every sign-in; the Origin check trusts only the
public URL's origin (and the other loopback names of a loopback public URL), never the Host header."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from http_steps import ROOT_EMAIL, make_account, make_user, sign_in_iam, sign_in_root
from support import csrf_of
from vestibule.core.tokens import new_token
from vestibule.runtime import Runtime, master_key_hex
from vestibule.services.mail import DevMailbox
from vestibule.web.security import browser_cookie_value, csrf_token, issued_browser_id, trusted_origins

BROWSER = "vestibule_browser"


def _page_key(runtime: Runtime) -> bytes:
    """The key the app derives from the master key for CSRF tokens (and the browser-ID MAC)."""
    return hmac.new(bytes.fromhex(master_key_hex(runtime.deps.settings)), b"vestibule csrf", hashlib.sha256).digest()


def _browser_cookie_of(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(BROWSER + "="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


async def test_a_browser_id_the_client_chose_is_replaced(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    chosen = new_token()  # the shape of a browser ID, but never issued by the server
    key = _page_key(runtime)
    client.cookies.set(BROWSER, chosen)
    page = await client.get("/")
    issued = _browser_cookie_of(page)
    assert issued is not None and issued != chosen, "the chosen ID was kept"
    assert issued_browser_id(key, issued) is not None
    assert csrf_of(page.text) != csrf_token(key, chosen)
    # the token an attacker computes for the ID they chose (here with the real key) does not pass either
    client.cookies.set(BROWSER, chosen)
    r = await client.post("/", data={"csrf_token": csrf_token(key, chosen), "user_type": "root", "email": ROOT_EMAIL})
    assert r.status_code == 403


async def test_an_altered_browser_cookie_is_replaced(client: httpx.AsyncClient, runtime: Runtime) -> None:
    key = _page_key(runtime)
    genuine = _browser_cookie_of(await client.get("/"))
    assert genuine is not None and issued_browser_id(key, genuine) is not None
    browser_id, mac = genuine.split(".")
    other_id = new_token()
    for forged in (f"{other_id}.{mac}", f"{browser_id}.{'0' * 32}", browser_id, f"{browser_id}.{mac}x",
                   browser_cookie_value(b"another key" * 3, browser_id)):
        client.cookies.set(BROWSER, forged)
        page = await client.get("/")
        replaced = _browser_cookie_of(page)
        assert replaced is not None and replaced != forged, forged
        assert issued_browser_id(key, replaced) is not None
    # the genuine cookie is kept: no new one is set
    client.cookies.set(BROWSER, genuine)
    assert _browser_cookie_of(await client.get("/")) is None


async def test_the_browser_id_is_rotated_at_sign_in(client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    """Session fixation of CSRF: an attacker who planted a browser cookie (one the server issued to the attacker)
    and knows its CSRF token cannot use that token once the victim has signed in with it."""
    await make_account(runtime)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as attacker:
        attacker_page = await attacker.get("/")
        planted = _browser_cookie_of(attacker_page)
        planted_csrf = csrf_of(attacker_page.text)
    assert planted is not None
    client.cookies.set(BROWSER, planted)
    assert csrf_of((await client.get("/")).text) == planted_csrf, "the planted cookie is a genuine one"

    signed_in = await sign_in_root(client, mailbox)
    rotated = _browser_cookie_of(signed_in)
    assert rotated is not None and rotated != planted
    assert issued_browser_id(_page_key(runtime), rotated) is not None
    console = await client.get("/console")
    assert console.status_code == 200
    assert csrf_of(console.text) != planted_csrf

    # the attacker's forged sign-out (or key creation) with the old token is refused; the session lives on
    for path in ("/signout", "/console/access-keys/new"):
        r = await client.post(path, data={"csrf_token": planted_csrf})
        assert r.status_code == 403, path
    assert (await client.get("/console")).status_code == 200
    r = await client.post("/signout", data={"csrf_token": csrf_of(console.text)})
    assert r.status_code == 303


async def test_rotation_keeps_the_browser_known_to_the_root_user(client: httpx.AsyncClient, runtime: Runtime,
                                                                 mailbox: DevMailbox) -> None:
    """The rotated ID is the one remembered: the next sign-in from this browser asks for no mailed code."""
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    codes = len(mailbox.messages)
    assert codes == 1
    await client.post("/signout", data={"csrf_token": csrf_of((await client.get("/console")).text)})
    await sign_in_root(client, mailbox)
    assert len(mailbox.messages) == codes, "a mailed code was asked again: the rotated browser was not remembered"


async def test_iam_sign_in_rotates_the_browser_id_too(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    before = _browser_cookie_of(await client.get("/acme/console"))
    r = await sign_in_iam(client)
    after = _browser_cookie_of(r)
    assert before is not None and after is not None and after != before


async def test_origin_from_the_host_header_is_not_trusted(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    page = await client.get("/")
    csrf = csrf_of(page.text)
    for host in ("evil.example", "testserver.evil.example", "127.0.0.1:8080"):
        r = await client.post("/", headers={"host": host, "origin": f"http://{host}"},
                              data={"csrf_token": csrf, "user_type": "root", "email": ROOT_EMAIL})
        assert r.status_code == 403, host
    r = await client.post("/", headers={"origin": "http://testserver"},
                          data={"csrf_token": csrf, "user_type": "root", "email": ROOT_EMAIL})
    assert r.status_code == 303


async def test_null_origin_only_with_the_browsers_same_origin_mark(client: httpx.AsyncClient,
                                                                   runtime: Runtime) -> None:
    """Pages that send no Referer make browsers send `Origin: null` on their own forms; browsers also send
    `Sec-Fetch-Site: same-origin` then. A null origin from anywhere else is refused."""
    await make_account(runtime)
    page = await client.get("/")
    form = {"csrf_token": csrf_of(page.text), "user_type": "root", "email": ROOT_EMAIL}
    for fetch_site in (None, "cross-site", "same-site", "none"):
        headers = {"origin": "null"} | ({"sec-fetch-site": fetch_site} if fetch_site else {})
        assert (await client.post("/", headers=headers, data=form)).status_code == 403, fetch_site
    r = await client.post("/", headers={"origin": "null", "sec-fetch-site": "same-origin"}, data=form)
    assert r.status_code == 303


def test_trusted_origins() -> None:
    assert trusted_origins("https://id.example.com") == {"https://id.example.com"}
    assert trusted_origins("https://id.example.com/") == {"https://id.example.com"}
    assert trusted_origins("https://id.example.com:8443/base") == {"https://id.example.com:8443"}
    assert trusted_origins("http://testserver") == {"http://testserver"}
    loopback = {"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"}
    assert trusted_origins("http://127.0.0.1:8080") == loopback
    assert trusted_origins("http://localhost:8080") == loopback
    assert trusted_origins("http://[::1]:8080") == loopback
    # an https public URL on a loopback name (a local TLS proxy) trusts only itself
    assert trusted_origins("https://127.0.0.1:8443") == {"https://127.0.0.1:8443"}
