"""CAPTCHA challenges, one per browser, single use, answers sealed at rest."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from ..core.tokens import same
from .context import Deps

ALPHABET = "ABCDEFHJKLMNPRSTUVWXYZ2345678"
LENGTH = 6
LIFETIME = 10 * 60


def random_text() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


class CaptchaService:
    """`text_source` makes the challenge text; tests pass one that also tells them the answer."""

    def __init__(self, deps: Deps, text_source: Callable[[], str] = random_text) -> None:
        self._deps = deps
        self._text_source = text_source

    async def issue(self, browser_hash: str) -> None:
        text = self._text_source()
        async with self._deps.store.unit() as uow:
            sealed = self._deps.box.seal(text.encode(), f"captcha:{browser_hash}")
            await uow.captchas.put(browser_hash, sealed, self._deps.clock() + LIFETIME)

    async def current_text(self, browser_hash: str) -> str | None:
        async with self._deps.store.unit() as uow:
            row = await uow.captchas.get(browser_hash)
        if row is None or row.expires_at <= self._deps.clock():
            return None
        return self._deps.box.open(row.answer_sealed, f"captcha:{browser_hash}").decode()

    async def check(self, browser_hash: str, answer: str) -> bool:
        """Consume the browser's challenge and say whether `answer` solved it."""
        async with self._deps.store.unit() as uow:
            row = await uow.captchas.take(browser_hash)
        if row is None or row.expires_at <= self._deps.clock() or not answer:
            return False
        text = self._deps.box.open(row.answer_sealed, f"captcha:{browser_hash}").decode()
        return same(text.upper(), answer.strip().upper().replace(" ", ""))
