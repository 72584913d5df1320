"""Contract: the report ports on SQLite and PostgreSQL: last access moves only forward and is written in one
statement for a batch; a credential report row made once, locked, finished only by the generation that started it;
report jobs per account and kind; account settings upserted; account details read a page at a time."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.models import AuditEvent, ReportJob
from vestibule.store.repositories import Store
from vestibule.store.sql.reports import AccessNote

ACCT, OTHER = "111122223333", "444455556666"


@pytest.fixture
async def accounts(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.accounts.add(rows.account(OTHER, alias="other", email="other@example.com"))
    return store


def _note(at: float, action: str = "GetUser", region: str = "us-east-1", key: str = "user:A") -> AccessNote:
    return AccessNote(key, ACCT, "iam", action, at, region)


async def test_last_access_only_moves_forward(accounts: Store) -> None:
    async with accounts.unit() as uow:
        await uow.last_accessed.note([_note(100.0), _note(50.0, "ListUsers"), _note(10.0, key="role:R")])
        await uow.last_accessed.note([])
    async with accounts.unit() as uow:
        await uow.last_accessed.note([_note(90.0, region="eu-west-1"), _note(60.0, "ListUsers", "eu-west-1")])
    async with accounts.unit() as uow:
        found = [(r.principal_key, r.action, r.last_at, r.region) for r in await uow.last_accessed.of(
            ["user:A", "role:R"], since=0)]
        assert found == [("user:A", "GetUser", 100.0, "us-east-1"), ("user:A", "ListUsers", 60.0, "eu-west-1"),
                         ("role:R", "GetUser", 10.0, "us-east-1")]
        assert [r.action for r in await uow.last_accessed.of(["user:A"], since=70.0)] == ["GetUser"]
        assert await uow.last_accessed.of([], since=0) == []


async def test_credential_report_row(accounts: Store) -> None:
    async with accounts.unit() as uow:
        await uow.credential_reports.ensure(ACCT)
        await uow.credential_reports.ensure(ACCT)  # a second time: still one row
        row = await uow.credential_reports.get(ACCT, lock=True)
        assert row is not None and row.content is None and row.generating_since is None
        row.generating_since = 5.0
    async with accounts.unit() as uow:
        assert await uow.credential_reports.finish(ACCT, "user,arn\n", 7.0, started=4.0) is False  # not its run
        assert await uow.credential_reports.finish(ACCT, "user,arn\n", 7.0, started=5.0) is True
    async with accounts.unit() as uow:
        row = await uow.credential_reports.get(ACCT)
        assert row is not None and (row.content, row.generated_at, row.generating_since) == ("user,arn\n", 7.0, None)
        assert await uow.credential_reports.get(OTHER) is None


async def test_report_jobs_and_settings(accounts: Store) -> None:
    async with accounts.unit() as uow:
        for job_id, at in (("a" * 36, 10.0), ("b" * 36, 20.0)):
            await uow.report_jobs.add(ReportJob(id=job_id, account_id=ACCT, kind="service-access", subject="x",
                                                granularity="SERVICE_LEVEL", status="COMPLETED", created_at=at,
                                                completed_at=at, result="{}"))
        await uow.account_settings.set_token_version(ACCT, 2)
    async with accounts.unit() as uow:
        assert await uow.report_jobs.get("a" * 36, ACCT, "service-access") is not None
        assert await uow.report_jobs.get("a" * 36, OTHER, "service-access") is None
        assert await uow.report_jobs.get("a" * 36, ACCT, "organizations") is None
        await uow.report_jobs.purge_before(ACCT, 15.0)
        await uow.account_settings.set_token_version(ACCT, 1)
    async with accounts.unit() as uow:
        assert await uow.report_jobs.get("a" * 36, ACCT, "service-access") is None
        assert await uow.report_jobs.get("b" * 36, ACCT, "service-access") is not None
        settings = await uow.account_settings.get(ACCT)
        assert settings is not None and settings.global_endpoint_token_version == 1
        assert await uow.account_settings.get(OTHER) is None


async def test_account_details_pages(accounts: Store) -> None:
    async with accounts.unit() as uow:
        for name in ("carol", "Alice", "bob", "dave"):
            await uow.users.add(rows.user(name=name, user_id=f"AIDA{name.upper():0>17}"[:21]))
        await uow.users.add(rows.user(OTHER, name="zed"))
        await uow.access_keys.add(rows.access_key("AKIAKEY2", "user:AIDA" + "BOB".rjust(17, "0"), rows.NOW + 5))
        await uow.access_keys.add(rows.access_key("AKIAKEY1", "user:AIDA" + "BOB".rjust(17, "0"), rows.NOW))
    async with accounts.unit() as uow:
        first = await uow.account_details.users_after(ACCT, None, 2)
        assert [u.name for u in first] == ["Alice", "bob"]
        rest = await uow.account_details.users_after(ACCT, first[-1].name_lower, 10)
        assert [u.name for u in rest] == ["carol", "dave"]
        keys = await uow.account_details.access_keys_of(["user:AIDA" + "BOB".rjust(17, "0"), "user:none"])
        assert [k.id for k in keys] == ["AKIAKEY1", "AKIAKEY2"]  # oldest first: access_key_1, access_key_2
        assert await uow.account_details.access_keys_of([]) == []
        assert await uow.account_details.with_mfa(["user:none"]) == set()
        root = "arn:aws:iam::111122223333:root"
        assert await uow.account_details.last_console_sign_in(ACCT, root) is None
        for at, result, event in ((10.0, "Success", "ConsoleLogin"), (30.0, "Failure", "ConsoleLogin"),
                                  (20.0, "Success", "ConsoleLogin"), (40.0, "Success", "PasswordChanged")):
            await uow.audit.add(AuditEvent(at=at, account_id=ACCT, principal=root, event=event, result=result))
    async with accounts.unit() as uow:
        assert await uow.account_details.last_console_sign_in(ACCT, root) == 20.0
