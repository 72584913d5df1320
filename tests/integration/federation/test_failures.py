"""Federated sign-in failures by reference: the row and the audit event `record_failure` writes, what `diagnose`
and `vestibule federation diagnose --reference` read back, the janitor's purge, and the words of every cause."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from vestibule.core.federation_failures import Cause, FederationFailure
from vestibule.runtime import Runtime, build
from vestibule.services import janitor
from vestibule.services.context import Client
from vestibule.services.federation import failures
from vestibule.settings import Settings
from vestibule.web.federation.failure import failure_message
from vestibule.web.i18n import LOCALES, Translator

CLIENT = Client(ip="198.51.100.7", user_agent="test browser")
PROVIDER = "arn:aws:iam::123456789012:saml-provider/Corp"


def _mismatch() -> FederationFailure:
    return FederationFailure(Cause.CERTIFICATE_MISMATCH, "signed with another certificate",
                             user={"provider": "Corp"},
                             admin={"received_sha256": "AB:CD", "registered_sha256": "01:02"})


async def test_record_then_diagnose(runtime: Runtime) -> None:
    deps = runtime.deps
    reference = await failures.record_failure(deps, CLIENT, _mismatch(), door="saml", account_id=None,
                                              provider=PROVIDER, principal="alice@example.com")
    assert re.fullmatch(r"F-[A-Z2-7]{16}", reference)
    found = await failures.diagnose(deps, f"  {reference.lower()} ")
    assert found is not None
    assert (found.reference, found.door, found.cause, found.provider, found.principal) == (
        reference, "saml", Cause.CERTIFICATE_MISMATCH, PROVIDER, "alice@example.com")
    assert found.admin == {"received_sha256": "AB:CD", "registered_sha256": "01:02"}
    assert found.user == {"provider": "Corp"} and found.message == "signed with another certificate"
    assert abs(found.at - deps.clock()) < 60
    assert await failures.diagnose(deps, "F-AAAAAAAAAAAAAAAA") is None
    assert await failures.diagnose(deps, "not a reference") is None
    async with deps.store.unit() as uow:
        events = [e for e in await uow.audit.of_principal("alice@example.com") if e.event == "FederatedSignInFailed"]
    assert len(events) == 1
    event = events[0]
    assert (event.result, event.method, event.principal, event.client_ip) == (
        "failure", "saml", "alice@example.com", "198.51.100.7")
    assert event.detail["reference"] == reference and event.detail["cause"] == "certificate_mismatch"
    assert event.detail["door"] == "saml" and event.detail["admin"]["received_sha256"] == "AB:CD"


async def test_each_reference_is_new_and_values_are_bounded(runtime: Runtime) -> None:
    long = FederationFailure(Cause.AUDIENCE, "x" * 5000, user={"received": "y" * 5000},
                             admin={f"k{i}": "v" for i in range(100)})
    references = {await failures.record_failure(runtime.deps, CLIENT, long, door="oidc-console") for _ in range(5)}
    assert len(references) == 5
    found = await failures.diagnose(runtime.deps, references.pop())
    assert found is not None
    assert len(found.message) == 1024 and len(found.user["received"]) == 1024 and len(found.admin) == 32
    with pytest.raises(ValueError):
        await failures.record_failure(runtime.deps, CLIENT, long, door="back-door")


async def test_janitor_purges_after_the_audit_retention(runtime: Runtime) -> None:
    deps = runtime.deps
    reference = await failures.record_failure(deps, CLIENT, _mismatch(), door="portal-ldap")
    now = deps.clock()
    ports = janitor.JanitorPorts(deps.store, lambda: now + 364 * 86400)
    assert (await janitor.run_once(ports)).federation_failures == 0
    ports = janitor.JanitorPorts(deps.store, lambda: now + 366 * 86400)
    assert (await janitor.run_once(ports)).federation_failures == 1
    assert await failures.diagnose(deps, reference) is None


async def _record(settings: Settings, failure: FederationFailure, account_id: str = "123456789012") -> str:
    rt = await build(settings)
    try:
        return await failures.record_failure(rt.deps, CLIENT, failure, door="saml", account_id=account_id,
                                             provider=PROVIDER)
    finally:
        await rt.close()


def test_diagnose_cli(cli: Cli, cli_env: Settings) -> None:  # noqa: F811
    skew = FederationFailure(Cause.CLOCK_SKEW, "IssueInstant 7 minutes ahead", user={"minutes": "7",
                             "direction": "ahead"}, admin={"idp_time": "2026-12-04T18:07:00Z"})
    reference = asyncio.run(_record(cli_env, skew))
    shown = cli.ok("federation", "diagnose", "--reference", reference.lower())
    assert shown["Reference"] == reference and shown["Cause"] == "clock_skew" and shown["Door"] == "saml"
    assert shown["AccountId"] == "123456789012" and shown["Provider"] == PROVIDER
    assert shown["Admin"] == {"idp_time": "2026-12-04T18:07:00Z"} and shown["Detail"] == "IssueInstant 7 minutes ahead"
    assert "7 minutes ahead" in shown["UserWasTold"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["Time"])
    assert "no failed federated sign-in" in cli.fails("federation", "diagnose", "--reference", "F-AAAAAAAAAAAAAAAA")
    assert "no failed federated sign-in" in cli.fails("federation", "diagnose", "--reference", "nonsense")
    cli.fails("federation", "diagnose", code=2)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_cause_has_words(locale: str) -> None:
    t = Translator(locale)
    for cause in Cause:
        plain = failure_message(t, FederationFailure(cause))
        assert plain and "{" not in plain and plain != t("federation.failure.unknown"), cause
    full = {"minutes": "7", "direction": "behind", "provider": "Corp", "received": "urn:other",
            "expected": "emailAddress"}
    for cause in Cause:
        text = failure_message(t, FederationFailure(cause, user=full))
        assert "{" not in text
    assert "7" in failure_message(t, FederationFailure(Cause.CLOCK_SKEW, user=full))
    assert "Corp" in failure_message(t, FederationFailure(Cause.NO_TRUSTED_ROLE, user=full))


def test_the_event_is_readable_with_vestibule_events(cli: Cli, cli_env: Settings) -> None:  # noqa: F811
    """The administrator's other way in: `vestibule events --account` lists FederatedSignInFailed with the
    reference, the cause and the admin details (both the table and --json)."""
    account = cli.ok("account", "create", "--email", "failures-events@example.com",
                     "--password", "cli password 1")["AccountId"]
    reference = asyncio.run(_record(cli_env, _mismatch(), account))
    code, out, err = cli("events", "--account", account, "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines() if reference in line]
    assert len(lines) == 1, out
    event = lines[0]
    assert event["event"] == "FederatedSignInFailed" and event["result"] == "failure", event
    text = json.dumps(event)
    assert "received_sha256" in text and "AB:CD" in text and "certificate_mismatch" in text and PROVIDER in text
    code, out, err = cli("events", "--account", account)
    assert code == 0 and "Traceback" not in err
    shown = [line for line in out.splitlines() if reference in line]
    assert len(shown) == 1 and "FederatedSignInFailed" in shown[0] and "certificate_mismatch" in shown[0], out
