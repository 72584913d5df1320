"""The account's contact details in the console (root user only, after re-authentication, each field checked
with its own message) and with `vestibule account contacts` / `set-email` (JSON, one-line errors); the
migration's tables up and down."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Connection

from http_steps import ROOT_EMAIL, ROOT_PASSWORD, browser, make_account, notice_of, sign_in_root
from support import CHEAP_HASH, CaptchaAnswers, csrf_of, last_code
from vestibule.cli import main
from vestibule.core.contacts import ContactDetails, ContactProblems, checked
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings

GOOD = {"full_name": "Lin Mei-Hua", "phone": "+886 2 2345-6789", "company": "Acme Ltd.",
        "address_line1": "No. 7, Section 5, Xinyi Road", "address_line2": "", "city": "Taipei", "region": "",
        "postal_code": "110", "country": "tw", "security_name": "Chen Security", "security_email": "SEC@Example.com",
        "security_phone": ""}


async def _post(client: httpx.AsyncClient, values: dict[str, str], password: str | None = ROOT_PASSWORD
                ) -> httpx.Response:
    page = await client.get("/console/contacts")
    data = {"csrf_token": csrf_of(page.text), **values}
    if password is not None:
        data["password"] = password
    return await client.post("/console/contacts", data=data)


async def test_root_user_sets_contact_details_after_the_password(client: httpx.AsyncClient, runtime: Runtime,
                                                                 mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    r = await _post(client, GOOD, password=None)
    assert r.status_code == 403 and 'id="reauth-form"' in r.text and 'value="Lin Mei-Hua"' in r.text
    r = await _post(client, GOOD)
    assert r.status_code == 303 and r.headers["location"] == "/console/contacts?notice=saved"
    page = await client.get(r.headers["location"])
    assert "saved" in notice_of(page.text)
    assert 'value="TW"' in page.text and 'value="sec@example.com"' in page.text
    assert 'value="+886 2 2345-6789"' in page.text
    async with runtime.deps.store.unit() as uow:
        row = await uow.account_contacts.get(account_id)
        events = [e for e in await uow.audit.for_account(account_id) if e.event == "AccountContactsChanged"]
    assert row is not None and row.city == "Taipei" and row.security_email == "sec@example.com"
    assert len(events) == 1 and "Lin" not in str(events[0].detail)
    assert set(events[0].detail["changed"]) == {k for k, v in GOOD.items() if v}
    # the same values again: nothing changes, nothing is recorded
    assert (await _post(client, GOOD)).status_code == 303
    async with runtime.deps.store.unit() as uow:
        assert len([e for e in await uow.audit.for_account(account_id) if e.event == "AccountContactsChanged"]) == 1


async def test_each_bad_field_gets_its_message(client: httpx.AsyncClient, runtime: Runtime,
                                               mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    bad = {**GOOD, "phone": "call me", "country": "Taiwan", "security_email": "not-an-address",
           "postal_code": "<b>", "full_name": "x" * 101}
    r = await _post(client, bad)
    assert r.status_code == 400
    for name, words in (("phone", "6 to 15 digits"), ("country", "two-letter code"),
                        ("security_email", "valid email"), ("postal_code", "postal code"),
                        ("full_name", "100 printable")):
        assert f'id="{name}-error"' in r.text and words in r.text, name
    assert 'value="call me"' in r.text  # what was typed stays in the form
    async with runtime.deps.store.unit() as uow:
        assert await uow.account_contacts.get(account_id) is None
    r = await _post(client, {**GOOD, "security_email": "", "security_phone": ""})
    assert r.status_code == 400 and 'id="security_email-error"' in r.text
    # in Traditional Chinese too
    page = await client.get("/console/contacts?lang=zh-TW")
    r = await client.post("/console/contacts", data={"csrf_token": csrf_of(page.text), **bad})
    assert r.status_code == 400 and "請輸入有效的電子郵件地址" in r.text


def test_contact_rules() -> None:
    clean = checked(ContactDetails(phone="(02) 2345 6789 x12", country="us", security_name="A",
                                   security_phone="+1-555-0100"))
    assert clean.country == "US" and clean.phone == "(02) 2345 6789 x12"
    for phone in ("12345", "+1234567890123456", "++123456", "123-abc-4567"):
        with pytest.raises(ContactProblems):
            checked(ContactDetails(phone=phone))
    with pytest.raises(ContactProblems) as caught:
        checked(ContactDetails(security_email="a@example.com", full_name="bad\x00name"))
    assert [name for name, _ in caught.value.problems] == ["full_name", "security_name"]
    assert checked(ContactDetails(full_name="  Lin   Mei  ")).full_name == "Lin Mei"


# ---- the command line --------------------------------------------------------------------------------------

def _queued(settings: Settings, kind: str) -> list[str]:
    async def work() -> list[str]:
        rt = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
        try:
            async with rt.deps.store.unit() as uow:
                entries = await uow.outbox.entries(["pending", "sent", "failed"], 100)
            return [e.recipient for e in entries if e.kind == kind]
        finally:
            await rt.close()

    return asyncio.run(work())


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in (("DATABASE_URL", settings.database_url), ("MASTER_KEY", settings.master_key),
                       ("DATA_DIR", str(settings.data_dir)), ("PUBLIC_URL", settings.public_url),
                       ("ARGON2_MEMORY_KIB", "1024"), ("ARGON2_TIME_COST", "1")):
        monkeypatch.setenv(f"VESTIBULE_{key}", value)
    monkeypatch.delenv("VESTIBULE_REDIS_URL", raising=False)
    return settings


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> dict[str, Any]:
        code, out, err = self(*argv)
        assert code == 0, err
        parsed: dict[str, Any] = json.loads(out)
        return parsed

    def fails(self, *argv: str) -> str:
        """Exit 1, nothing on stdout, one line on stderr."""
        code, out, err = self(*argv)
        assert code == 1 and out == "", (code, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vestibule: error: ") and "Traceback" not in err, err
        return lines[0]


def test_cli_contacts_and_set_email(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(capsys)
    account = cli.ok("account", "create", "--email", ROOT_EMAIL, "--password", ROOT_PASSWORD)["AccountId"]
    shown = cli.ok("account", "contacts", "--account", account)
    assert shown["AccountId"] == account
    assert set(shown["ContactInformation"].values()) == set(shown["SecurityContact"].values()) == {""}
    assert set(shown["ContactInformation"]) == {"FullName", "PhoneNumber", "CompanyName", "AddressLine1",
                                                "AddressLine2", "City", "StateOrRegion", "PostalCode", "CountryCode"}
    set_ = cli.ok("account", "contacts", "--account", account, "--name", "Lin", "--phone", "+886 912 345 678",
                  "--security-name", "Sec", "--security-email", "Sec@Example.com", "--country", "tw")
    assert set_["ContactInformation"]["FullName"] == "Lin" and set_["ContactInformation"]["CountryCode"] == "TW"
    assert set_["SecurityContact"] == {"Name": "Sec", "EmailAddress": "sec@example.com", "PhoneNumber": ""}
    again = cli.ok("account", "contacts", "--account", account, "--company", "Acme")
    assert again["ContactInformation"]["FullName"] == "Lin" and again["ContactInformation"]["CompanyName"] == "Acme"
    cleared = cli.ok("account", "contacts", "--account", account, "--company", "")
    assert cleared["ContactInformation"]["CompanyName"] == ""
    line = cli.fails("account", "contacts", "--account", account, "--phone", "call me")
    assert "phone" in line and "6 to 15 digits" in line
    cli.fails("account", "contacts", "--account", "999999999999")

    changed = cli.ok("account", "set-email", "--account", account, "--email", "Moved@Example.com")
    assert changed == {"AccountId": account, "RootEmail": "moved@example.com", "PreviousRootEmail": ROOT_EMAIL}
    assert _queued(cli_env, "root_email_changed") == [ROOT_EMAIL]
    assert "already the root email" in cli.fails("account", "set-email", "--account", account,
                                                 "--email", "moved@example.com")
    other = cli.ok("account", "create", "--email", "other@example.com", "--password", ROOT_PASSWORD)["AccountId"]
    assert "another account" in cli.fails("account", "set-email", "--account", other, "--email", "moved@example.com")
    assert "valid email" in cli.fails("account", "set-email", "--account", other, "--email", "nope")
    code, out, _ = cli("events", "--account", account, "--json")
    assert code == 0 and {"RootEmailChanged", "AccountContactsChanged"} <= {
        json.loads(line)["event"] for line in out.splitlines()}


# ---- the migration -----------------------------------------------------------------------------------------

async def test_migration_0024_up_and_down(tmp_path: Path) -> None:
    """0023 -> head (the two tables) -> 0023 (gone) -> head again, on SQLite; PostgreSQL builds the same chain
    in the schema test, which compares it with the models."""
    from alembic import command
    from sqlalchemy import inspect

    from vestibule.store import database

    engine = database.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")

    def tables(conn: Connection) -> set[str]:
        return {t for t in inspect(conn).get_table_names() if t in ("account_contacts", "root_email_changes")}

    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(database._alembic_config(c), "0023"))
            assert await conn.run_sync(tables) == set()
            await conn.run_sync(lambda c: command.upgrade(database._alembic_config(c), "0024"))
            assert await conn.run_sync(tables) == {"account_contacts", "root_email_changes"}
            await conn.run_sync(lambda c: command.downgrade(database._alembic_config(c), "0023"))
            assert await conn.run_sync(tables) == set()
        await database.migrate(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(tables) == {"account_contacts", "root_email_changes"}
    finally:
        await engine.dispose()


async def test_every_contact_form_refuses_a_foreign_token_and_a_cross_site_origin(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    page = await client.get("/console/contacts")
    r = await client.post("/console/email", data={"csrf_token": csrf_of(page.text), "email": "next@example.com",
                                                  "password": ROOT_PASSWORD})
    verify_url = r.headers["location"]
    forms = {
        "/console/contacts": {**GOOD, "password": ROOT_PASSWORD},
        "/console/email": {"email": "other@example.com", "password": ROOT_PASSWORD},
        verify_url: {"step": "code", "verification_code": last_code(mailbox, "next@example.com")},
        "/email/undo?flow=" + "0" * 43: {},
    }
    async with browser(runtime, captcha, ip="198.51.100.50") as other:
        foreign = csrf_of((await other.get("/")).text)
    own = csrf_of((await client.get("/console/contacts")).text)
    for path, fields in forms.items():
        for token in (None, "", foreign):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            assert (await client.post(path, data=data)).status_code == 403, (path, token)
        for origin in ("https://evil.example", "null"):
            r = await client.post(path, data={**fields, "csrf_token": own}, headers={"origin": origin})
            assert r.status_code == 403, (path, origin)
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None and account.root_email == ROOT_EMAIL
        assert await uow.account_contacts.get(account_id) is None
    assert not [m for m in mailbox.messages if m.to == "other@example.com"]
