"""Console sign-in by SAML (IdP-initiated, HTTP-POST to /saml) with the test IdP of tests/saml_idp.py: one role
-> the console at once; several -> the chooser; the hand-over bound to the browser that follows it; sign-out
ends the session; failures show their cause and a reference that `diagnose` finds; the SP metadata."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree

from http_steps import make_account
from saml_idp import SamlIdp, new_signing_identity
from vestibule.core import arns
from vestibule.core.federation_failures import Cause, FederationFailure
from vestibule.runtime import Runtime
from vestibule.services import aws_identity
from vestibule.services.api_call import ApiCall
from vestibule.services.context import Client
from vestibule.services.federation import failures
from vestibule.services.federation import saml as federation_saml
from vestibule.services.iam import identity_providers, roles
from vestibule.web.i18n import Translator

SP = "http://testserver/saml"
t = Translator("en")


@dataclass
class Saml:
    runtime: Runtime
    idp: SamlIdp
    account_id: str
    provider_arn: str

    def role_arn(self, name: str) -> str:
        return arns.role_arn(self.account_id, name, "/")

    def post(self, roles: list[str], **options: object) -> dict[str, str]:
        pairs = [(self.role_arn(name), self.provider_arn) for name in roles]
        return {"SAMLResponse": self.idp.response_b64(sp_entity_id=SP, acs_url=SP, roles=pairs, **options)}


def trust(provider_arn: str, condition: dict[str, object] | None = None) -> str:
    statement: dict[str, object] = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                                    "Action": "sts:AssumeRoleWithSAML"}
    statement["Condition"] = condition or {"StringEquals": {"SAML:aud": SP}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


async def _call(runtime: Runtime, account_id: str, action: str) -> ApiCall:
    async with runtime.deps.store.unit() as uow:
        caller = await aws_identity.caller_for_principal(uow, f"root:{account_id}", "AKIATESTCALLER000000")
    assert caller is not None
    return ApiCall(runtime.deps, caller, "iam", f"iam:{action}", action)


async def make_role(world: Saml, name: str, trust_policy: str | None = None) -> None:
    call = await _call(world.runtime, world.account_id, "CreateRole")
    await roles.create_role(call, roles.NewRole(name=name, path="/", trust_policy=trust_policy or trust(
        world.provider_arn), description=None, max_session_duration=3600, tags=[]))


@pytest.fixture
def idp() -> Iterator[SamlIdp]:
    provider = SamlIdp()
    yield provider
    provider.close()


@pytest.fixture
async def world(runtime: Runtime, idp: SamlIdp) -> Saml:
    account_id = await make_account(runtime)
    call = await _call(runtime, account_id, "CreateSAMLProvider")
    provider = await identity_providers.create_saml_provider(call, "Corp", idp.metadata(), [])
    made = Saml(runtime, idp, account_id, provider.arn)
    await make_role(made, "Admin")
    await make_role(made, "ReadOnly")
    return made


def _flow(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["flow"][0]


def _reference(page: str) -> str:
    found = re.search(r'<code id="reference">(F-[A-Z2-7]{16})</code>', page)
    assert found, page
    return found.group(1)


async def test_one_role_signs_in_at_once(client: httpx.AsyncClient, world: Saml) -> None:
    posted = await client.post("/saml", data=world.post(["Admin"], session_name="alice@example.com"),
                               headers={"origin": "https://idp.example.com"})
    assert "set-cookie" not in posted.headers  # the cross-site POST sets no cookie; the same-site GET does
    handoff = _flow(posted)
    landed = await client.get(f"/saml/continue?flow={handoff}")
    assert landed.status_code == 303 and landed.headers["location"] == "/console"
    console = await client.get("/console")
    assert console.status_code == 200
    assert "Admin/alice@example.com" in console.text
    assert world.account_id in console.text.replace("-", "")
    async with world.runtime.deps.store.unit() as uow:
        events = [e for e in await uow.audit.for_account(world.account_id) if e.event == "ConsoleLogin"]
    assert events and events[-1].method == "saml" and events[-1].result.lower() == "success"
    # the hand-over is spent: a second claim (another browser, a replay of the URL) fails with a reference
    again = await client.get(f"/saml/continue?flow={handoff}")
    assert again.status_code == 400 and "did not start in this browser" in again.text
    _reference(again.text)


async def test_several_roles_show_the_chooser(client: httpx.AsyncClient, world: Saml) -> None:
    handoff = _flow(await client.post("/saml", data=world.post(["Admin", "ReadOnly"])))
    to_chooser = await client.get(f"/saml/continue?flow={handoff}")
    chooser_url = to_chooser.headers["location"]
    assert to_chooser.status_code == 303 and chooser_url.startswith("/saml/choose?flow=")
    page = await client.get(chooser_url)
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    assert t("federation.choose_title") in page.text
    assert page.text.count('type="radio" name="role"') == 2
    assert world.role_arn("Admin") in page.text and world.role_arn("ReadOnly") in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    flow = _flow(to_chooser)
    # a role the assertion did not name is refused (the form is not trusted)
    stranger = await client.post("/saml/choose", data={"csrf_token": csrf.group(1), "flow": flow,
                                                       "role": world.role_arn("Other")})
    assert stranger.status_code == 403 and "None of the roles" in stranger.text
    chosen = await client.post("/saml/choose", data={"csrf_token": csrf.group(1), "flow": flow,
                                                     "role": world.role_arn("ReadOnly")})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/console"
    console = await client.get("/console")
    assert "ReadOnly/alice" in console.text
    # the flow is done: the chooser is gone (and the old form's CSRF token died with the browser ID's rotation)
    assert (await client.get(chooser_url)).status_code == 400
    twice = await client.post("/saml/choose", data={"csrf_token": csrf.group(1), "flow": flow,
                                                    "role": world.role_arn("Admin")})
    assert twice.status_code == 403
    # sign-out ends the federated session
    csrf_console = re.search(r'name="csrf_token" value="([^"]+)"', console.text)
    assert csrf_console
    out = await client.post("/signout", data={"csrf_token": csrf_console.group(1)})
    assert out.status_code == 303
    assert (await client.get("/console")).status_code == 303


async def test_the_chooser_is_bound_to_the_browser(client: httpx.AsyncClient, world: Saml, runtime: Runtime) -> None:
    from vestibule.app import create_app

    handoff = _flow(await client.post("/saml", data=world.post(["Admin", "ReadOnly"])))
    chooser_url = (await client.get(f"/saml/continue?flow={handoff}")).headers["location"]
    app = create_app(runtime, close_runtime=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        stolen = await other.get(chooser_url)
    assert stolen.status_code == 400 and "did not start in this browser" in stolen.text


async def test_relay_state_goes_to_a_path_of_this_site_only(client: httpx.AsyncClient, world: Saml) -> None:
    for relay, landing in (("/console/security", "/console/security"), ("https://evil.example/", "/console"),
                           ("//evil.example", "/console")):
        data = world.post(["Admin"]) | {"RelayState": relay}
        landed = await client.get(f"/saml/continue?flow={_flow(await client.post('/saml', data=data))}")
        assert landed.headers["location"] == landing, relay


async def test_no_trusted_role(client: httpx.AsyncClient, world: Saml) -> None:
    await make_role(world, "Elsewhere", trust("arn:aws:iam::123456789012:saml-provider/Other"))
    handoff = _flow(await client.post("/saml", data=world.post(["Elsewhere"])))
    page = await client.get(f"/saml/continue?flow={handoff}")
    assert page.status_code == 403 and "None of the roles" in page.text
    found = await failures.diagnose(world.runtime.deps, _reference(page.text))
    assert found is not None and found.cause == "no_trusted_role" and found.door == "saml"


async def test_expired_assertion_names_the_cause(client: httpx.AsyncClient, world: Saml) -> None:
    now = world.runtime.deps.clock()  # issued within the clock skew, past its NotOnOrAfter
    page = await client.post("/saml", data=world.post(["Admin"], now=now - 200, not_on_or_after=now - 400))
    assert page.status_code == 400 and "has expired" in page.text
    found = await failures.diagnose(world.runtime.deps, _reference(page.text))
    assert found is not None and (found.door, found.cause) == ("saml", "expired")
    assert found.provider == world.provider_arn and found.account_id == world.account_id
    assert "not_on_or_after" in found.admin and found.admin["issuer"] == world.idp.entity_id


async def test_clock_skew_says_minutes_ahead(client: httpx.AsyncClient, world: Saml) -> None:
    now = world.runtime.deps.clock()
    page = await client.post("/saml", data=world.post(["Admin"], now=now + 11 * 60))
    assert page.status_code == 400
    assert re.search(r"clock is 1[01] minutes ahead", page.text), page.text
    found = await failures.diagnose(world.runtime.deps, _reference(page.text))
    assert found is not None and found.cause == "clock_skew"


async def test_certificate_mismatch_shows_fingerprints_to_the_admin(client: httpx.AsyncClient, world: Saml) -> None:
    other = new_signing_identity("someone else")
    page = await client.post("/saml", data=world.post(["Admin"], signer=other))
    assert page.status_code == 400 and "does not match the one registered" in page.text
    reference = _reference(page.text)
    assert other.fingerprint_sha256 not in page.text  # the user is not shown the fingerprints
    found = await failures.diagnose(world.runtime.deps, reference)
    assert found is not None and found.cause == "certificate_mismatch"
    assert any(other.fingerprint_sha256.replace(":", "").lower() in v.replace(":", "").lower()
               for v in found.admin.values()), found.admin


async def test_audience_and_garbage(client: httpx.AsyncClient, world: Saml) -> None:
    page = await client.post("/saml", data=world.post(["Admin"], audience="https://signin.aws.amazon.com/saml"))
    assert page.status_code == 400 and "another service" in page.text
    for junk in ({}, {"SAMLResponse": "not base64!!"}, {"SAMLResponse": "PGZvbz4="}):
        bad = await client.post("/saml", data=junk)
        assert bad.status_code == 400 and t("federation.failure.malformed") in bad.text.replace("&#39;", "'")
        _reference(bad.text)
    # the page's language switch opens /saml: back to the start page in that language
    assert 'href="/saml?lang=zh-TW"' in bad.text
    switched = await client.get("/saml?lang=zh-TW")
    assert switched.status_code == 303 and switched.headers["location"] == "/?lang=zh-TW"
    assert (await client.get("/saml?lang=xx")).headers["location"] == "/"


async def test_replayed_assertion(client: httpx.AsyncClient, world: Saml) -> None:
    data = world.post(["Admin"])
    _flow(await client.post("/saml", data=data))
    again = await client.post("/saml", data=data)
    assert again.status_code == 400 and "already used" in again.text


async def test_sp_metadata(client: httpx.AsyncClient) -> None:
    got = await client.get("/saml/metadata")
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/samlmetadata+xml")
    root = etree.fromstring(got.content)
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    assert root.get("entityID") == SP
    acs = root.find(f"{{{md}}}SPSSODescriptor/{{{md}}}AssertionConsumerService")
    assert acs is not None and acs.get("Location") == SP
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    formats = [e.text for e in root.iter(f"{{{md}}}NameIDFormat")]
    assert "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" in formats


async def test_refusals_are_throttled_per_address(client: httpx.AsyncClient, world: Saml) -> None:
    """An unauthenticated POST /saml that fails stores a failure row and an audit event (under the account the
    response names): past the address's budget it is answered 429 and stores nothing, not even verified."""
    deps = world.runtime.deps
    keys = federation_saml.failure_keys(Client(ip="203.0.113.7"))
    other_audience = world.post(["Admin"], audience="https://elsewhere.example/saml")
    first = await client.post("/saml", data=other_audience, headers={"origin": "https://idp.example.com"})
    assert first.status_code == 400 and await failures.diagnose(deps, _reference(first.text)) is not None
    assert (await deps.throttle.states(keys, deps.clock()))[0].failures == 1
    try:
        for i in range(70):  # one a minute apart (each admitted), the last ones still ahead
            await deps.throttle.reserve(keys, deps.clock() + 61 * i, captcha_solved=False)
        good = world.post(["Admin"])
        refused = await client.post("/saml", data=good, headers={"origin": "https://idp.example.com"})
        assert refused.status_code == 429 and 'id="reference"' not in refused.text
        again = await client.post("/saml", data=other_audience, headers={"origin": "https://idp.example.com"})
        assert again.status_code == 429
        stale = await client.get("/saml/continue?flow=" + "0" * 64)  # the hand-over's refusals count too
        assert stale.status_code == 429 and 'id="reference"' not in stale.text
    finally:
        await deps.throttle.settle(keys, ())
    # within the budget again: the same good response (never looked at while throttled) signs in
    assert (await client.post("/saml", data=good, headers={"origin": "https://idp.example.com"})).status_code == 303


async def test_an_assertion_is_used_once_across_the_console_and_sts(client: httpx.AsyncClient, world: Saml) -> None:
    """The console's door and AssumeRoleWithSAML share the audience `<public URL>/saml` and the one-time use:
    an assertion spent at POST /saml is refused by AssumeRoleWithSAML, and the other way round."""
    deps = world.runtime.deps
    form = world.post(["Admin"])
    assert (await client.post("/saml", data=form)).status_code == 303
    request = federation_saml.SamlRequest(world.role_arn("Admin"), world.provider_arn, form["SAMLResponse"])
    with pytest.raises(FederationFailure) as replayed:
        await federation_saml.assume_role_with_saml(deps, Client(ip="198.51.100.9"), request)
    assert replayed.value.cause is Cause.REPLAYED
    fresh = world.post(["Admin"])
    await federation_saml.assume_role_with_saml(deps, Client(ip="198.51.100.9"), federation_saml.SamlRequest(
        world.role_arn("Admin"), world.provider_arn, fresh["SAMLResponse"]))
    page = await client.post("/saml", data=fresh)
    assert page.status_code == 400 and 'data-cause="replayed"' in page.text


async def test_an_issuer_that_looks_like_an_arn_files_nothing_under_its_account(client: httpx.AsyncClient,
                                                                                 world: Saml) -> None:
    """An unsigned response whose Issuer is an ARN naming an account (no provider of it is registered) is
    refused, and its failure row is filed under no account: the response's own words name none."""
    issuer = f"arn:aws:iam::{world.account_id}:saml-provider/Forged"
    xml = world.idp.response(sp_entity_id=SP, acs_url=SP, issuer=issuer, sign_response=False, sign_assertion=False,
                             roles=[(world.role_arn("Admin"), issuer)])
    page = await client.post("/saml", data={"SAMLResponse": base64.b64encode(xml.encode()).decode()})
    assert page.status_code == 400
    found = await failures.diagnose(world.runtime.deps, _reference(page.text))
    assert found is not None and found.account_id is None and found.provider == issuer
