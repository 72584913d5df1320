"""In Chromium: the mailed reset link leaves the address bar at once (exchanged for a flow of this browser),
no request the reset or sign-in pages make (their stylesheet, the form posts) carries the token or the flow ID
in `Referer`, and the forms still work (the browser then sends `Origin: null` with `Sec-Fetch-Site:
same-origin`, which the server accepts)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Request

from e2e.browser_support import Site, run_async
from vestibule.core.flows.recovery import LINK_LIFETIME
from vestibule.core.tokens import hash_token, new_token
from vestibule.runtime import Runtime
from vestibule.services import accounts
from vestibule.store.models import RecoveryToken


def _reset_link(site: Site, account_id: str) -> str:
    """A live reset link for the account, as `request_reset` stores it."""
    token = new_token()

    async def work(rt: Runtime) -> None:
        now = time.time()
        async with rt.deps.store.unit() as uow:
            account = await accounts.require(uow, account_id)
            await uow.recovery.add(RecoveryToken(token_hash=hash_token(token), account_id=account.id,
                                                 created_at=now, expires_at=now + LINK_LIFETIME, used_at=None))

    run_async(site.settings, work)
    return token


@pytest.mark.browser
def test_reset_page_and_its_assets_do_not_carry_the_token(site: Site) -> None:
    account = site.create_account("forgetful@example.com", "Old password 1")
    token = _reset_link(site, account.account_id)
    page = site.new_browser()
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r))

    page.goto(f"/recovery/reset?token={token}")
    assert token not in page.url
    flow = re.search(r"/recovery/reset\?flow=([A-Za-z0-9_-]+)$", page.url)
    assert flow is not None, page.url
    site.shot(page, "reset-form")
    page.fill("input[name=new_password]", "Brand new password 2")
    page.fill("input[name=confirm_password]", "Brand new password 2")
    page.get_by_role("button", name="Reset password").click()
    page.wait_for_load_state()
    assert page.locator("#recovery-done").is_visible(), page.content()
    site.shot(page, "reset-done")

    stylesheets = [r for r in seen if r.url.endswith("/static/vestibule.css")]
    assert stylesheets, "the pages loaded no stylesheet"
    posts = [r for r in seen if r.method == "POST"]
    assert len(posts) == 1 and posts[0].headers.get("origin") == "null"
    for r in seen:
        referer = r.headers.get("referer", "")
        assert token not in referer and flow.group(1) not in referer, (r.url, referer)
    # the reset really happened: the old password no longer works
    site.start_root_sign_in(page, account.email, "Old password 1", "old-password")
    assert page.locator("#error").is_visible()


@pytest.mark.browser
def test_sign_in_flow_pages_send_no_flow_id_in_referer(site: Site) -> None:
    account = site.create_account("owner@example.com", "Root password 1")
    page = site.new_browser()
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r))
    site.sign_in_root_with_mailed_code(page, account)
    flow_ids = {m.group(1) for r in seen if (m := re.search(r"[?&]flow=([A-Za-z0-9_-]+)", r.url))}
    assert flow_ids, "no flow page was visited"
    assert [r for r in seen if r.method == "POST" and "flow=" in r.url], "no form was posted from a flow page"
    for r in seen:
        referer = r.headers.get("referer", "")
        assert not any(f in referer for f in flow_ids), (r.url, referer)
