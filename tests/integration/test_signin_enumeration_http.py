"""No user enumeration: wrong password and every kind of unknown identifier get the same answer
(status and body) and cost exactly one argon2 verification each."""

from __future__ import annotations

import httpx
import pytest

from http_steps import (
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    start_root,
)
from support import CaptchaAnswers, csrf_of
from vestibule.runtime import Runtime
from vestibule.web.i18n import Translator

t = Translator("en")


def _normalized(body: str, *variable: str) -> str:
    for value in variable:
        if value:
            body = body.replace(value, "<VAR>")
    return body


async def _root_attempt(runtime: Runtime, ip: str, email: str, password: str) -> tuple[int, str, str, int]:
    async with browser(runtime, CaptchaAnswers(), ip=ip) as client:
        page = await client.get("/")
        r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root", "email": email})
        assert r.status_code == 303
        flow_url = r.headers["location"]
        page = await client.get(flow_url)
        before = runtime.deps.hasher.verifications
        r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                              "password": password})
        verifications = runtime.deps.hasher.verifications - before
        assert (await client.get("/console")).status_code == 303
        body = _normalized(r.text, flow_url.split("=", 1)[1], email, csrf_of(page.text))
        return r.status_code, error_of(r.text), body, verifications


async def _iam_attempt(runtime: Runtime, ip: str, account: str, username: str, password: str
                       ) -> tuple[int, str, str, int]:
    async with browser(runtime, CaptchaAnswers(), ip=ip) as client:
        page = await client.get(f"/{account}/console")
        before = runtime.deps.hasher.verifications
        r = await client.post(f"/{account}/console", data={"csrf_token": csrf_of(page.text), "username": username,
                                                            "password": password})
        verifications = runtime.deps.hasher.verifications - before
        assert (await client.get("/console")).status_code == 303
        body = _normalized(r.text, csrf_of(page.text), account, username)
        return r.status_code, error_of(r.text), body, verifications


async def test_root_wrong_password_and_unknown_email_look_the_same(runtime: Runtime) -> None:
    await make_account(runtime)
    wrong = await _root_attempt(runtime, "198.51.100.1", "owner@example.com", "not the password")
    unknown = await _root_attempt(runtime, "198.51.100.2", "nobody@example.com", "not the password")
    assert wrong[1] == t("signin.invalid_credentials")
    assert wrong[0] == unknown[0]
    assert wrong[1] == unknown[1]
    assert wrong[2] == unknown[2], "the whole page is the same apart from the flow and the typed email"
    assert wrong[3] == unknown[3] == 1


async def test_iam_failures_all_look_the_same(runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await make_user(runtime, "acme", "nopassword", password=None)
    cases = {
        "wrong password": ("acme", "alice", "not the password"),
        "wrong password by account ID": (account_id, "alice", "not the password"),
        "unknown user": ("acme", "mallory", "not the password"),
        "user without a password": ("acme", "nopassword", "not the password"),
        "unknown alias": ("nosuchalias", "alice", "not the password"),
        "unknown account ID": ("999988887777" if account_id != "999988887777" else "999988887776",
                               "alice", "not the password"),
    }
    results = {}
    for index, (label, (account, username, password)) in enumerate(cases.items()):
        results[label] = await _iam_attempt(runtime, f"198.51.100.{10 + index}", account, username, password)
    reference = results["wrong password"]
    assert reference[1] == t("signin.invalid_credentials")
    for label, result in results.items():
        assert result[0] == reference[0], label
        assert result[1] == reference[1], label
        assert result[2] == reference[2], label
        assert result[3] == 1, f"{label}: exactly one argon2 verification"


async def test_root_wrong_password_matches_iam_wrong_password_message(runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    root = await _root_attempt(runtime, "198.51.100.30", "owner@example.com", "nope nope")
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.31") as client:
        r = await iam_password(client, "acme", "alice", "nope nope")
    assert root[0] == r.status_code
    assert root[1] == error_of(r.text)


@pytest.mark.parametrize("status", ["closed", "suspended"])
async def test_closed_or_suspended_account_with_a_wrong_password_looks_unknown(runtime: Runtime, status: str) -> None:
    """Only the right password learns that the account is closed or suspended (its own page: see
    test_account_lifecycle_http.py); any other password gets the unknown address's answer, at the same cost."""
    await make_account(runtime)
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.by_email("owner@example.com")
        assert account is not None
        account.status = status
    closed = await _root_attempt(runtime, "198.51.100.40", "owner@example.com", "not the password 1")
    unknown = await _root_attempt(runtime, "198.51.100.41", "nobody@example.com", "not the password 1")
    assert closed == unknown
    assert closed[1] == t("signin.invalid_credentials")


async def test_a_correct_attempt_costs_one_verification_too(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    page = await client.get("/acme/console")
    before = runtime.deps.hasher.verifications
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": "user password 1"})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert runtime.deps.hasher.verifications - before == 1
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.50") as other:
        flow_url = await start_root(other)
        page = await other.get(flow_url)
        before = runtime.deps.hasher.verifications
        r = await other.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                             "password": "root password 1"})
        assert r.status_code == 303
        assert runtime.deps.hasher.verifications - before == 1
