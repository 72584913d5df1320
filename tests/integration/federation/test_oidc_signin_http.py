"""Console sign-in with an OIDC provider (issue 12, part 6), through the pages with the real test provider of
tests/oidc_idp.py: the IAM sign-in page's buttons, the code flow with PKCE, state and nonce, one role straight to
the console, several to the chooser, and every refusal as the failure page with a reference."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from http_steps import make_account, use_clock
from oidc_idp import OidcProvider, User
from oidc_signin_steps import (
    CLIENT_ID,
    add_button,
    at_provider,
    buttons_of,
    make_role,
    register_provider,
    sign_in_with_provider,
    to_provider,
    web_identity_trust,
)
from support import CaptchaAnswers, csrf_of
from vestibule.app import create_app
from vestibule.core.flows.base import FlowKind
from vestibule.runtime import Runtime
from vestibule.services import audit
from vestibule.services.context import Client
from vestibule.services.federation import failures, oidc_signin
from vestibule.settings import Settings
from vestibule.web.i18n import Translator

t = Translator("en")
ALICE = User("alice", claims={"email": "alice@example.com", "amr": ["pwd", "mfa"]})
_REFERENCE = re.compile(r'<code id="reference">(F-[A-Z2-7]{16})</code>')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(federation_insecure_loopback=True)


@pytest.fixture
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(clients={CLIENT_ID: None, "confidential": "s3cret value"}, users=(ALICE,),
                      approve_as="alice") as provider:
        yield provider


def reference_of(page: httpx.Response) -> str:
    found = _REFERENCE.search(page.text)
    assert found, page.text
    return found.group(1)


async def cause_of(runtime: Runtime, page: httpx.Response) -> str:
    assert page.status_code == 400
    found = await failures.diagnose(runtime.deps, reference_of(page))
    assert found is not None and found.door == "oidc-console"
    return str(found.cause)


async def one_role_world(runtime: Runtime, idp: OidcProvider) -> tuple[str, str]:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp)
    await make_role(runtime, account_id, "Developers",
                    web_identity_trust(provider, {"StringEquals": {f"{idp.url}:aud": CLIENT_ID}}))
    await add_button(runtime, account_id, provider)
    return account_id, provider


async def test_the_buttons_of_the_iam_sign_in_page(client: httpx.AsyncClient, runtime: Runtime,
                                                   idp: OidcProvider) -> None:
    account_id, provider = await one_role_world(runtime, idp)
    for reference in ("acme", account_id, f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"):
        page = await client.get(f"/{reference}/console")
        [(href, text)] = buttons_of(page.text)
        assert text == "Sign in with Example IdP"
        assert parse_qs(urlsplit(href).query) == {"account": [account_id], "provider": [provider]}
    other = await make_account(runtime, email="other@example.com", alias="plain")
    for bare in ("plain", other, "nosuchalias", "999999999999"):
        page = await client.get(f"/{bare}/console")
        assert page.status_code == 200 and 'id="oidc-signin"' not in page.text
    # a start link for a button that does not exist: the same plain page, whatever is wrong with it
    for query in ({"account": other, "provider": provider}, {"account": account_id, "provider": provider + "x"},
                  {"account": "acme", "provider": provider}, {}):
        start = await client.get(f"/oidc/start?{urlencode(query)}")
        assert start.status_code == 404 and t("oidc_signin.unavailable") in start.text
    zh = await client.get("/acme/console?lang=zh-TW")
    assert buttons_of(zh.text)[0][1] == "使用 Example IdP 登入"
    # the provider deleted in IAM: its button goes, its link leads nowhere
    async with runtime.deps.store.unit() as uow:
        row = await uow.oidc_providers.by_arn(provider)
        assert row is not None
        await uow.oidc_providers.delete(row)
    assert 'id="oidc-signin"' not in (await client.get("/acme/console?lang=en")).text
    start = await client.get(f"/oidc/start?{urlencode({'account': account_id, 'provider': provider})}")
    assert start.status_code == 404


async def test_one_trusted_role_signs_in_to_the_console(client: httpx.AsyncClient, runtime: Runtime,
                                                        idp: OidcProvider) -> None:
    account_id, provider = await one_role_world(runtime, idp)
    authorization = await to_provider(client)
    parts = urlsplit(authorization)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{idp.issuer}/authorize"
    asked = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == "http://testserver/oidc/callback" and asked["scope"] == "openid email"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 43 and len(asked["nonce"]) >= 43 and asked["state"] != asked["nonce"]
    back = await at_provider(authorization)
    done = await client.get(back.removeprefix("http://testserver"))
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert done.headers["cache-control"] == "no-store"  # it sets the session cookie
    home = await client.get("/console")
    assert home.status_code == 200
    session_arn = f"arn:aws:sts::{account_id}:assumed-role/Developers/alice@example.com"
    assert session_arn in home.text and "Developers/alice@example.com" in home.text
    assert idp.count("/token") == 1
    async with runtime.deps.store.unit() as uow:
        events = {e.event: e for e in await uow.audit.for_account(account_id)}
    login = audit.as_dict(events["ConsoleLogin"])
    assert (login["result"], login["method"], login["principal"]) == ("Success", "oidc", session_arn)
    issued = audit.as_dict(events["AssumeRoleWithWebIdentity"])
    assert issued["principal"] == provider and issued["method"] == "oidc"
    assert "code=" not in str(issued) and "id_token" not in str(issued)
    # the same answer again (a reload, or a stolen URL): the state was used
    again = await client.get(back.removeprefix("http://testserver"))
    assert await cause_of(runtime, again) == "state_mismatch"
    assert idp.count("/token") == 1


async def test_several_trusted_roles_ask_which_one(client: httpx.AsyncClient, runtime: Runtime,
                                                   idp: OidcProvider) -> None:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp)
    for name in ("Readers", "Admins"):
        await make_role(runtime, account_id, name, web_identity_trust(provider))
    await make_role(runtime, account_id, "BobOnly", web_identity_trust(
        provider, {"StringEquals": {f"{idp.url}:sub": "bob"}}))
    await make_role(runtime, account_id, "MfaOnly", web_identity_trust(
        provider, {"ForAnyValue:StringEquals": {f"{idp.url}:amr": "mfa"}}))
    await add_button(runtime, account_id, provider)
    answer = await sign_in_with_provider(client)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/oidc/choose?flow=")
    chooser_url = answer.headers["location"]
    page = await client.get(chooser_url)
    assert page.status_code == 200
    offered = re.findall(r'name="role" value="([^"]+)"', page.text)
    assert offered == [f"arn:aws:iam::{account_id}:role/{n}" for n in ("Admins", "MfaOnly", "Readers")]
    assert "alice@example.com" in page.text and "Example IdP" in page.text
    csrf = csrf_of(page.text)
    refused = await client.post(chooser_url, data={"role": offered[0]})
    assert refused.status_code == 403
    empty = await client.post(chooser_url, data={"csrf_token": csrf})
    assert empty.status_code == 400 and t("oidc_signin.choose_required") in empty.text
    not_offered = await client.post(chooser_url, data={"csrf_token": csrf,
                                                       "role": f"arn:aws:iam::{account_id}:role/BobOnly"})
    assert await cause_of(runtime, not_offered) == "no_trusted_role"
    chosen = await client.post(chooser_url, data={"csrf_token": csrf, "role": offered[2]})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/console"
    home = await client.get("/console")
    assert f"arn:aws:sts::{account_id}:assumed-role/Readers/alice@example.com" in home.text
    # the chooser is spent
    spent = await client.get(chooser_url)
    assert await cause_of(runtime, spent) == "state_mismatch"


async def test_a_role_that_stops_trusting_while_the_user_chooses(client: httpx.AsyncClient, runtime: Runtime,
                                                                 idp: OidcProvider) -> None:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp)
    for name in ("Readers", "Admins"):
        await make_role(runtime, account_id, name, web_identity_trust(provider))
    await add_button(runtime, account_id, provider)
    answer = await sign_in_with_provider(client)
    page = await client.get(answer.headers["location"])
    async with runtime.deps.store.unit() as uow:
        role = await uow.roles.by_name(account_id, "Admins")
        assert role is not None
        role.trust_policy = web_identity_trust(provider, {"StringEquals": {f"{idp.url}:sub": "bob"}})
    refused = await client.post(answer.headers["location"], data={
        "csrf_token": csrf_of(page.text), "role": f"arn:aws:iam::{account_id}:role/Admins"})
    assert await cause_of(runtime, refused) == "no_trusted_role"
    assert t("federation.failure.no_trusted_role", provider="Example IdP") in refused.text.replace("&#39;", "'")


async def test_no_trusted_role_is_a_failure_with_a_reference(client: httpx.AsyncClient, runtime: Runtime,
                                                             idp: OidcProvider) -> None:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp)
    await make_role(runtime, account_id, "BobOnly", web_identity_trust(
        provider, {"StringEquals": {f"{idp.url}:sub": "bob"}}))
    await make_role(runtime, account_id, "Plain", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                    f'"Principal": {{"AWS": "arn:aws:iam::{account_id}:root"}}, "Action": "sts:AssumeRole"}}]}}')
    await add_button(runtime, account_id, provider)
    page = await sign_in_with_provider(client)
    assert await cause_of(runtime, page) == "no_trusted_role"
    assert 'data-cause="no_trusted_role"' in page.text and "Example IdP" in page.text
    assert f'href="/{account_id}/console" id="start-over"' in page.text
    found = await failures.diagnose(runtime.deps, reference_of(page))
    assert found is not None
    assert (found.account_id, found.provider, found.principal) == (account_id, provider, "alice")
    assert found.admin["sub"] == "alice" and found.admin["aud"] == CLIENT_ID
    assert (await client.get("/console")).status_code != 200


async def test_tampered_state_and_another_browser(client: httpx.AsyncClient, runtime: Runtime,
                                                  idp: OidcProvider, captcha: CaptchaAnswers) -> None:
    await one_role_world(runtime, idp)
    back = urlsplit(await at_provider(await to_provider(client)))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    for state in (query["state"][:-1] + ("A" if query["state"][-1] != "A" else "B"), "", "x" * 200):
        tampered = urlunsplit(("", "", back.path, urlencode({**query, "state": state}), ""))
        assert await cause_of(runtime, await client.get(tampered)) == "state_mismatch"
    # an attacker's own answer, planted in the victim's browser (login CSRF): another browser's flow
    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as victim:
        planted = await victim.get(urlunsplit(("", "", back.path, back.query, "")))
        assert await cause_of(runtime, planted) == "state_mismatch"
        assert (await victim.get("/console")).status_code != 200
    # the one who started it still can
    finished = await client.get(urlunsplit(("", "", back.path, back.query, "")))
    assert finished.status_code == 303 and finished.headers["location"] == "/console"


async def test_nonce_other_than_the_one_sent(client: httpx.AsyncClient, runtime: Runtime,
                                             idp: OidcProvider) -> None:
    await one_role_world(runtime, idp)
    authorization = urlsplit(await to_provider(client))
    asked = {k: v[0] for k, v in parse_qs(authorization.query).items()}
    swapped = authorization._replace(query=urlencode({**asked, "nonce": "another-nonce"})).geturl()
    back = await at_provider(swapped)
    page = await client.get(back.removeprefix("http://testserver"))
    assert await cause_of(runtime, page) == "state_mismatch"


async def test_the_provider_refuses_or_fails(client: httpx.AsyncClient, runtime: Runtime,
                                             idp: OidcProvider) -> None:
    await one_role_world(runtime, idp)
    state = parse_qs(urlsplit(await to_provider(client)).query)["state"][0]
    denied = await client.get(f"/oidc/callback?{urlencode({'state': state, 'error': 'access_denied'})}")
    assert await cause_of(runtime, denied) == "idp_error"
    found = await failures.diagnose(runtime.deps, reference_of(denied))
    assert found is not None and found.admin["error"] == "access_denied"
    # the token endpoint refuses a code it never gave
    state = parse_qs(urlsplit(await to_provider(client)).query)["state"][0]
    forged = await client.get(f"/oidc/callback?{urlencode({'state': state, 'code': 'made-up'})}")
    assert await cause_of(runtime, forged) == "idp_error"
    found = await failures.diagnose(runtime.deps, reference_of(forged))
    assert found is not None and found.admin["error"] == "invalid_grant" and found.admin["status"] == "400"
    # the provider is down when the button is pressed
    runtime.deps.oidc_keys.forget()
    idp.failing_status = 503
    page = await client.get("/acme/console")
    down = await client.get(buttons_of(page.text)[0][0])
    assert await cause_of(runtime, down) == "idp_error"


async def test_the_sign_in_expires_after_ten_minutes(client: httpx.AsyncClient, runtime: Runtime,
                                                     idp: OidcProvider) -> None:
    await one_role_world(runtime, idp)
    clock = use_clock(runtime)
    back = await at_provider(await to_provider(client))
    clock.advance(601)
    page = await client.get(back.removeprefix("http://testserver"))
    assert await cause_of(runtime, page) == "state_mismatch"


async def test_a_confidential_client_sends_its_secret(client: httpx.AsyncClient, runtime: Runtime,
                                                      idp: OidcProvider) -> None:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp, client_ids=("confidential",))
    await make_role(runtime, account_id, "Developers", web_identity_trust(provider))
    await add_button(runtime, account_id, provider, client_id="confidential", secret="s3cret value")
    done = await sign_in_with_provider(client)
    assert done.status_code == 303 and done.headers["location"] == "/console"
    async with runtime.deps.store.unit() as uow:
        row = await uow.console_oidc_logins.get(account_id, provider)
        assert row is not None and row.client_secret_sealed and "s3cret" not in row.client_secret_sealed
        row.client_secret_sealed = runtime.deps.box.seal(b"wrong", f"console-oidc:{row.id}")
    await client.post("/signout", data={"csrf_token": csrf_of((await client.get("/console")).text)})
    refused = await sign_in_with_provider(client)
    assert await cause_of(runtime, refused) == "idp_error"


async def test_a_token_for_another_client_of_the_provider(client: httpx.AsyncClient, runtime: Runtime,
                                                          idp: OidcProvider) -> None:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp, client_ids=(CLIENT_ID, "mobile-app"))
    await make_role(runtime, account_id, "Developers", web_identity_trust(provider))
    await add_button(runtime, account_id, provider, label="<b>Example</b> IdP")
    page = await client.get("/acme/console")
    assert "&lt;b&gt;Example&lt;/b&gt; IdP" in page.text and "<b>Example</b>" not in page.text
    signed = idp.sign
    # a provider that answers the code exchange with a token made for its other client
    idp.sign = lambda claims, **kw: signed({**claims, "aud": "mobile-app"}, **kw)  # type: ignore[method-assign]
    refused = await sign_in_with_provider(client)
    assert await cause_of(runtime, refused) == "audience"
    found = await failures.diagnose(runtime.deps, reference_of(refused))
    assert found is not None and found.admin["expected"] == CLIENT_ID


async def test_starts_are_limited_per_address_and_a_finished_one_is_given_back(
        client: httpx.AsyncClient, runtime: Runtime, idp: OidcProvider) -> None:
    account_id, provider = await one_role_world(runtime, idp)
    keys = oidc_signin.start_keys(Client(ip="203.0.113.7"))  # the test client's address
    deps = runtime.deps

    async def started() -> int:
        return (await deps.throttle.states(keys, deps.clock()))[0].failures

    done = await sign_in_with_provider(client)
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert await started() == 0  # the finished sign-in gave its start back
    link = f"/oidc/start?{urlencode({'account': account_id, 'provider': provider})}"
    for _ in range(3):  # abandoned at the provider: each stored a flow and counts
        assert (await client.get(link)).status_code == 303
    assert await started() == 3
    for i in range(58):
        await deps.throttle.reserve(keys, deps.clock() + 61 * i, captcha_solved=False)
    async with deps.store.unit() as uow:
        before = len(await uow.flows.of_kinds([FlowKind.OIDC_SIGNIN], deps.clock()))
    refused = await client.get(link)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many attempts" in refused.text and "location" not in refused.headers
    async with deps.store.unit() as uow:
        assert len(await uow.flows.of_kinds([FlowKind.OIDC_SIGNIN], deps.clock())) == before  # none stored
    assert await started() == 61


async def test_mix_up_the_answer_must_name_its_provider_when_it_says_it_does(
        client: httpx.AsyncClient, runtime: Runtime, idp: OidcProvider) -> None:
    """RFC 9207: a provider that advertises the iss parameter always sends it; an answer without it (or naming
    another issuer) may come from another provider the browser was sent to, and is refused before the code is
    spent at this provider's token endpoint."""
    await one_role_world(runtime, idp)
    idp.sends_iss = True
    back = urlsplit(await at_provider(await to_provider(client)))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert query["iss"] == idp.issuer
    for changed in ({k: v for k, v in query.items() if k != "iss"}, {**query, "iss": "https://evil.example.com"}):
        page = await client.get(urlunsplit(("", "", back.path, urlencode(changed), "")))
        assert await cause_of(runtime, page) == "unknown_provider"
    assert idp.count("/token") == 0
    done = await client.get(urlunsplit(("", "", back.path, back.query, "")))
    assert done.status_code == 303 and done.headers["location"] == "/console"


async def test_a_token_with_several_audiences_must_be_for_this_client(
        client: httpx.AsyncClient, runtime: Runtime, idp: OidcProvider) -> None:
    account_id = await make_account(runtime)
    provider = await register_provider(runtime, account_id, idp, client_ids=(CLIENT_ID, "mobile-app"))
    await make_role(runtime, account_id, "Developers",
                    web_identity_trust(provider, {"StringEquals": {f"{idp.url}:aud": CLIENT_ID}}))
    await add_button(runtime, account_id, provider)
    signed = idp.sign
    for extra in ({"aud": ["mobile-app", CLIENT_ID]}, {"aud": ["mobile-app", CLIENT_ID], "azp": "mobile-app"},
                  {"azp": "mobile-app"}):
        idp.sign = lambda claims, e=extra, **kw: signed({**claims, **e}, **kw)  # type: ignore[method-assign]
        refused = await sign_in_with_provider(client)
        assert await cause_of(runtime, refused) == "audience", extra
    idp.sign = lambda claims, **kw: signed({**claims, "aud": ["mobile-app", CLIENT_ID], "azp": CLIENT_ID}, **kw)  # type: ignore[method-assign]
    done = await sign_in_with_provider(client)
    assert done.status_code == 303 and done.headers["location"] == "/console"


async def test_a_token_endpoint_dripping_its_answer_is_cut_off(client: httpx.AsyncClient, runtime: Runtime,
                                                             idp: OidcProvider) -> None:
    await one_role_world(runtime, idp)
    back = await at_provider(await to_provider(client))
    idp.drip = 0.05  # a byte every 50 ms: no read waits 5 s, the whole answer would take over a minute
    started = time.monotonic()
    page = await client.get(back.removeprefix("http://testserver"))
    assert await cause_of(runtime, page) == "idp_error" and time.monotonic() - started < 12
