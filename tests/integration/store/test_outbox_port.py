"""The mail outbox port on every backend: due rows claimed once, retries and outcomes settled only by the
claim's holder, bodies erased when finished, counts and listings without bodies."""

from __future__ import annotations

import asyncio

from integration.store import rows
from vestibule.core.outbox import MailStatus
from vestibule.store.models import OutboxMail
from vestibule.store.repositories import Store

NOW = rows.NOW


async def _add(store: Store, *mails: OutboxMail) -> None:
    async with store.unit() as uow:
        for mail in mails:
            await uow.outbox.add(mail)


async def test_claims_due_pending_rows_once(store: Store) -> None:
    await _add(store, rows.outbox_mail("due-1", next_attempt_at=NOW - 10), rows.outbox_mail("due-2"),
               rows.outbox_mail("later", next_attempt_at=NOW + 60),
               rows.outbox_mail("sent", status="sent", finished_at=NOW))
    async with store.unit() as uow:
        first = await uow.outbox.claim_due(NOW, "claim-a", NOW + 120, 10)
    assert [m.id for m in first] == ["due-1", "due-2"], "oldest due first; future and finished rows are not taken"
    assert first[0].body_sealed == "v1.k.sealed" and first[0].recipient == "owner@example.com"
    async with store.unit() as uow:
        assert await uow.outbox.claim_due(NOW, "claim-b", NOW + 120, 10) == [], "a live claim is not taken again"
        lapsed = await uow.outbox.claim_due(NOW + 121, "claim-b", NOW + 240, 10)
    assert {m.id for m in lapsed} == {"due-1", "due-2", "later"}, "a lapsed claim is taken over"
    async with store.unit() as uow:
        assert not await uow.outbox.finish("due-1", "claim-a", NOW + 122, MailStatus.SENT, 1), \
            "the old holder cannot settle a row it lost"
        assert await uow.outbox.finish("due-1", "claim-b", NOW + 122, MailStatus.SENT, 1)


async def test_concurrent_claims_are_disjoint(store: Store) -> None:
    await _add(store, *(rows.outbox_mail(f"m{i:02d}") for i in range(30)))

    async def claim(name: str) -> list[str]:
        async with store.unit() as uow:
            return [m.id for m in await uow.outbox.claim_due(NOW, name, NOW + 120, 30)]

    results = await asyncio.gather(*(claim(f"c{i}") for i in range(4)))
    taken = [mail_id for batch in results for mail_id in batch]
    assert len(taken) == len(set(taken)), "no row is claimed by two senders"
    assert len(taken) == 30


async def test_retry_reschedules_and_finish_erases_the_body(store: Store) -> None:
    await _add(store, rows.outbox_mail("m"))
    async with store.unit() as uow:
        (mail,) = await uow.outbox.claim_due(NOW, "c1", NOW + 120, 10)
        assert await uow.outbox.next_due() == NOW + 120, "claimed: due again when the claim lapses"
        assert await uow.outbox.retry("m", "c1", NOW + 30, 1, "ConnectionRefusedError")
        assert await uow.outbox.next_due() == NOW + 30
        assert await uow.outbox.claim_due(NOW + 29, "c2", NOW + 150, 10) == []
        (again,) = await uow.outbox.claim_due(NOW + 30, "c2", NOW + 150, 10)
        assert again.attempts == 1 and again.body_sealed == mail.body_sealed
        assert await uow.outbox.finish("m", "c2", NOW + 31, MailStatus.FAILED, 2, "SMTPRecipientsRefused 550")
        assert await uow.outbox.next_due() is None
        assert not await uow.outbox.retry("m", "c2", NOW + 60, 3, "late"), "a finished row stays finished"
        (entry,) = await uow.outbox.entries([MailStatus.FAILED], 10)
    assert (entry.status, entry.attempts, entry.last_error, entry.finished_at) == \
        ("failed", 2, "SMTPRecipientsRefused 550", NOW + 31)
    assert entry.next_attempt_at is None
    assert not hasattr(entry, "body_sealed"), "listings carry no body"
    async with store.unit() as uow:
        assert await uow.outbox.claim_due(NOW + 1000, "c3", NOW + 1200, 10) == []
        row = await uow.db.get(OutboxMail, "m")
        assert row is not None and row.body_sealed == "", "a finished row keeps no link or code"


async def test_counts_and_newest_first_listing(store: Store) -> None:
    await _add(store, rows.outbox_mail("old", created_at=NOW - 60), rows.outbox_mail("new", created_at=NOW),
               rows.outbox_mail("sent", status="sent", finished_at=NOW),
               rows.outbox_mail("dropped", status="dropped", finished_at=NOW, recipient=""))
    async with store.unit() as uow:
        counts = await uow.outbox.counts()
        pending = await uow.outbox.entries([MailStatus.PENDING], 10)
        one = await uow.outbox.entries([MailStatus.PENDING, MailStatus.SENT], 1)
    assert counts == {"pending": 2, "sent": 1, "failed": 0, "dropped": 1}
    assert [e.id for e in pending] == ["new", "old"]
    assert pending[0].next_attempt_at == NOW
    assert len(one) == 1


async def test_a_rolled_back_unit_leaves_no_mail(store: Store) -> None:
    class Abort(Exception):
        pass

    try:
        async with store.unit() as uow:
            await uow.outbox.add(rows.outbox_mail("never"))
            raise Abort()
    except Abort:
        pass
    async with store.unit() as uow:
        assert (await uow.outbox.counts())["pending"] == 0
