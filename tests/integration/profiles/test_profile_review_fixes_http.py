"""The red team's findings on the personal profile's sign-in, each fixed: the trusted browser's cookie lives as
long as its row; the MFA and passkey pages keep their pending challenge on a reload; a passkey flow opened at
the password page's address goes to the passkey page."""

from __future__ import annotations

import httpx

from integration.profiles.test_profile_signin import TRUST_COOKIE, UA, _trusted
from profile_steps import add_profile_totp, make_profile, profile_password, step, totp_now
from vestibule.core.profile_trust import TRUST_LIFETIME
from vestibule.runtime import Runtime
from vestibule.store.models import ProfileTrustedBrowser


async def test_the_trusted_browser_cookie_lasts_as_long_as_its_row(client: httpx.AsyncClient,
                                                                   runtime: Runtime) -> None:
    secret = await add_profile_totp(runtime, await make_profile(runtime))
    client.headers.update(UA)
    flow_url, _ = await profile_password(client, trusted_device="on")
    r = await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, secret))
    assert r.status_code == 303
    [header] = [h for h in r.headers.get_list("set-cookie") if h.startswith(f"{TRUST_COOKIE}=")]
    row: ProfileTrustedBrowser = (await _trusted(runtime))[0]
    assert f"Max-Age={TRUST_LIFETIME}" in header, header
    assert round(row.expires_at - row.created_at) == TRUST_LIFETIME == 90 * 86400
