"""The confirmation pages of a command-line request over HTTP (`vestibule login`'s and the SSO CLI's): the facts
card, the result a decision shows, and the decision posted with the page's CSRF token."""

from __future__ import annotations

import html
import re

import httpx

from support import csrf_of

_DD = re.compile(r'<dd id="([a-z-]+)">(.*?)</dd>', re.DOTALL)
_RESULT = re.compile(r'id="result" data-result="(allowed|denied)"')


def facts(page: str) -> dict[str, str]:
    """The card's values by their `<dd id>`, as text with its white space folded."""
    return {k: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", v)).split()) for k, v in _DD.findall(page)}


def result_of(page: str) -> str:
    match = _RESULT.search(page)
    assert match, page
    return match.group(1)


async def decide(client: httpx.AsyncClient, confirm: str, decision: str) -> httpx.Response:
    """Open the confirmation page, then post `decision` ("allow" or "deny") with its CSRF token."""
    page = await client.get(confirm)
    assert page.status_code == 200, page.text
    return await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": decision})
