"""CaptchaService on the store (SQLite and PostgreSQL): one sealed challenge per browser, answered by its
proof of work, its image text or its audio digits, consumed by any check, including by racing requests."""

from __future__ import annotations

import asyncio

from http_steps import use_clock
from vestibule.core import proof_of_work
from vestibule.runtime import Runtime
from vestibule.services.captcha import LIFETIME, CaptchaService

CHEAP = 1 << 10


def _service(runtime: Runtime) -> CaptchaService:
    return CaptchaService(runtime.deps, lambda: "HXK7PR", work=CHEAP, digits_source=lambda: "402917")


async def test_each_way_of_answering_passes_once(runtime: Runtime) -> None:
    service = _service(runtime)
    for answer in ("HXK7PR", " hxk 7pr ", "402917", "solve"):
        challenge = await service.issue("browser-1")
        assert (challenge.text, challenge.digits) == ("HXK7PR", "402917")
        assert await service.current("browser-1") == challenge
        if answer == "solve":
            answer, _ = proof_of_work.solve(challenge.puzzle)
        assert await service.check("browser-1", answer)
        assert await service.current("browser-1") is None
        assert not await service.check("browser-1", answer), "consumed"


async def test_a_wrong_answer_uses_the_challenge_up(runtime: Runtime) -> None:
    service = _service(runtime)
    for wrong in ("HXK7PX", "402918", "~" + "A" * 24, "", "   "):
        challenge = await service.issue("browser-1")
        assert not await service.check("browser-1", wrong)
        assert not await service.check("browser-1", proof_of_work.solve(challenge.puzzle)[0])


async def test_challenges_are_per_browser_sealed_and_expire(runtime: Runtime) -> None:
    clock = use_clock(runtime)
    service = _service(runtime)
    mine = await service.issue("browser-1")
    theirs = await service.issue("browser-2")
    assert mine.puzzle.seed != theirs.puzzle.seed
    assert not await service.check("browser-2", proof_of_work.solve(mine.puzzle)[0])
    async with runtime.deps.store.unit() as uow:
        row = await uow.captchas.get("browser-1")
    assert row is not None and "HXK7PR" not in row.answer_sealed and "402917" not in row.answer_sealed
    clock.advance(LIFETIME + 1)
    assert await service.current("browser-1") is None
    assert not await service.check("browser-1", "HXK7PR")
    fresh = await service.current_or_new("browser-1")
    assert fresh.puzzle.seed != mine.puzzle.seed


async def test_a_row_from_before_reads_as_no_challenge(runtime: Runtime) -> None:
    """The previous version sealed only the text: such a row is not an answerable challenge."""
    service = _service(runtime)
    sealed = runtime.deps.box.seal(b"HXK7PR", "captcha:browser-1")
    async with runtime.deps.store.unit() as uow:
        await uow.captchas.put("browser-1", sealed, runtime.deps.clock() + 60)
    assert await service.current("browser-1") is None
    assert not await service.check("browser-1", "HXK7PR")
    assert (await service.current_or_new("browser-1")).text == "HXK7PR"


async def test_one_proof_sent_by_many_racing_requests_passes_once(runtime: Runtime) -> None:
    service = _service(runtime)
    proof, _ = proof_of_work.solve((await service.issue("browser-1")).puzzle)
    results = await asyncio.gather(*(service.check("browser-1", proof) for _ in range(20)))
    assert sum(results) == 1
