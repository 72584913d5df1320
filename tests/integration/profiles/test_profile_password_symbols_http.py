"""A personal profile's password may take any character that is not a letter or digit as its symbol (the
red team's finding: `Quiet.Harbor.42` was refused, only IAM's 19 symbols counted); one is still required."""

from __future__ import annotations

import httpx
import pytest

from http_steps import error_of
from profile_steps import sign_up_profile, start_signup, step
from support import last_code
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")
zh = Translator("zh-TW")


@pytest.mark.parametrize("password", ["Quiet.Harbor.42", "Quiet~Harbor~42", "Quiet Harbor 42?"])
async def test_sign_up_with_any_symbol(client: httpx.AsyncClient, mailbox: DevMailbox, password: str) -> None:
    await sign_up_profile(client, mailbox, password=password)


async def test_a_symbol_is_still_required_and_the_page_says_what_counts(client: httpx.AsyncClient,
                                                                       mailbox: DevMailbox) -> None:
    flow_url = await start_signup(client)
    assert (await step(client, flow_url, "name", name="Mei Maker")).status_code == 303
    r = await step(client, flow_url, "verify", verification_code=last_code(mailbox, "maker@example.com"))
    assert r.status_code == 303
    r = await step(client, flow_url, "password", password="QuietHarbor42", confirm_password="QuietHarbor42")
    assert r.status_code == 400 and error_of(r.text) == t("password.needs_any_symbol"), r.text[:300]
    assert "! @ #" not in t("password.needs_any_symbol") and zh("password.needs_any_symbol") != \
        t("password.needs_any_symbol")
