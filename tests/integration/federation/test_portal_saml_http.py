"""An access portal whose identity source is an external SAML IdP (the pysaml2 test IdP of tests/saml_idp.py):
the start page's redirect with an AuthnRequest, the assertion consumer at /portal/<store>/saml (SP- and
IdP-initiated), users matched by NameID email, just-in-time users, and every refusal as a failure page with a
reference the administrator can diagnose."""

from __future__ import annotations

import base64
import html
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree

from http_steps import make_account
from saml_attacks import EVIL_NAME, WRAPPINGS, wrapped
from saml_idp import NAMEID_EMAIL, NAMEID_PERSISTENT, AuthnRequestSeen, SamlIdp, new_signing_identity
from support import csrf_of
from vestibule.app import create_app
from vestibule.core.federation_failures import Cause
from vestibule.core.saml_metadata import parse_metadata
from vestibule.runtime import Runtime
from vestibule.services.context import Client
from vestibule.services.federation import failures
from vestibule.services.federation import saml as federation_saml
from vestibule.services.identity_center import directory, identity_sources
from vestibule.services.identity_center.directory_profile import Email, UserProfile
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.mail import DevMailbox
from vestibule.store.models import SsoInstance

EMAIL = "alice@example.com"
ORIGIN = "http://testserver"


@pytest.fixture(scope="module")
def idp() -> Iterator[SamlIdp]:
    made = SamlIdp()
    yield made
    made.close()


async def make_portal(runtime: Runtime, idp: SamlIdp | None, *, jit: bool = False, subdomain: str | None = None,
                      settings: InstanceSettings | None = None) -> str:
    """An instance (with a user alice@example.com) whose source is `idp` (None: its own directory)."""
    account_id = await make_account(runtime, alias=None)
    store_id = f"d-{secrets.token_hex(5)}"
    chosen = settings or InstanceSettings(no_mfa_device="EMAIL_CODE")
    if subdomain is not None:
        chosen = InstanceSettings(portal_subdomain=subdomain, no_mfa_device="EMAIL_CODE")
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store_id,
            owner_account_id=account_id, name="portal", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=runtime.deps.clock(), settings=chosen.to_json(), tags="[]", portal_subdomain=subdomain))
        await directory.create_user(uow, store_id, "alice", UserProfile(
            display_name="Alice Liddell", emails=(Email(value=EMAIL, primary=True),)), actor="test",
            now=runtime.deps.clock())
    if idp is not None:
        metadata = idp.metadata()
        await identity_sources.set_source(runtime.deps, identity_sources.saml_source(
            parse_metadata(metadata), metadata, jit=jit), identity_store_id=store_id)
    return store_id


def acs_of(store_id: str) -> str:
    return f"{ORIGIN}/portal/{store_id}/saml"


async def begin(client: httpx.AsyncClient, idp: SamlIdp, store_id: str) -> AuthnRequestSeen:
    r = await client.get(f"/portal/{store_id}/start")
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith(idp.sso_url + "?") and r.headers["cache-control"] == "no-store"
    query = parse_qs(urlsplit(location).query)
    return idp.read_authn_request(query["SAMLRequest"][0], query["RelayState"][0])


async def post(client: httpx.AsyncClient, store_id: str, response_xml: str, relay_state: str | None = None,
               **headers: str) -> httpx.Response:
    data = {"SAMLResponse": base64.b64encode(response_xml.encode()).decode()}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return await client.post(f"/portal/{store_id}/saml", data=data, headers=headers)


def signed_in(r: httpx.Response, store_id: str) -> bool:
    return r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/start" and any(
        h.startswith("vestibule_portal=") and "Max-Age=0" not in h for h in r.headers.get_list("set-cookie"))


def failure_of(r: httpx.Response) -> tuple[str, str, str]:
    """(cause, message, reference) of a failure page."""
    assert r.status_code == 400, (r.status_code, r.text[:500])
    cause = re.search(r'id="failure-cause" data-cause="([a-z_]+)">([^<]*)<', r.text)
    reference = re.search(r'<code id="reference">(F-[A-Z2-7]{16})</code>', r.text)
    assert cause and reference, r.text
    return cause.group(1), html.unescape(cause.group(2)), reference.group(1)


async def test_sp_initiated_sign_in_lands_on_the_portal(client: httpx.AsyncClient, runtime: Runtime,
                                                         idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    seen = await begin(client, idp, store_id)
    assert (seen.issuer, seen.acs_url) == (acs_of(store_id), acs_of(store_id))
    assert seen.relay_state is not None and re.fullmatch(r"[0-9a-f]{64}", seen.relay_state)
    again = await begin(client, idp, store_id)  # a reload sends the same request: one flow per browser
    assert (again.id, again.relay_state) == (seen.id, seen.relay_state)
    r = await post(client, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL),
                   seen.relay_state)
    assert signed_in(r, store_id), r.text
    r = await client.get(f"/portal/{store_id}/start")
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/"
    home = await client.get(f"/portal/{store_id}/")
    assert home.status_code == 200 and 'id="portal-user">Alice Liddell<' in home.text
    alice = f"arn:aws:identitystore:::user/{await _alice(runtime, store_id)}"
    async with runtime.deps.store.unit() as uow:
        events = [e for e in await uow.audit.of_principal(alice) if e.event == "ConsoleLogin"]
    assert [(e.result, e.method, e.mfa_used) for e in events] == [("Success", "saml", False)]
    # the answered request is spent: the same response again is refused
    r = await post(client, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL),
                   seen.relay_state)
    assert failure_of(r)[0] == Cause.STATE_MISMATCH
    # sign-out shows a page instead of going straight back to the IdP (which would sign the user in again)
    home = await client.get(f"/portal/{store_id}/")
    r = await client.post(f"/portal/{store_id}/signout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and 'id="sign-in-again"' in page.text and 'name="password"' not in page.text
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303


async def _alice(runtime: Runtime, store_id: str) -> str:
    async with runtime.deps.store.unit() as uow:
        user = await directory.user_by_name(uow, store_id, "alice")
    assert user is not None
    return user.id


async def test_idp_initiated_sign_in_and_replay(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    response = idp.response(sp_entity_id=acs_of(store_id), name_id="Alice@Example.com", name_id_format=NAMEID_EMAIL)
    r = await post(client, store_id, response, relay_state="https://idp.test.invalid/app")  # a foreign RelayState
    assert signed_in(r, store_id)
    cause, message, reference = failure_of(await post(client, store_id, response))
    assert cause == Cause.REPLAYED and "already used" in message
    found = await failures.diagnose(runtime.deps, reference)
    assert found is not None and (found.door, found.cause) == ("portal-saml", Cause.REPLAYED)
    assert found.provider == idp.entity_id


async def test_a_cross_site_post_is_accepted(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    """The IdP's page posts from its own origin, and (SameSite=Lax) without this site's cookies."""
    store_id = await make_portal(runtime, idp)
    seen = await begin(client, idp, store_id)
    app = create_app(runtime, close_runtime=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ORIGIN) as bare:
        r = await post(bare, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL),
                       seen.relay_state, origin="https://idp.test.invalid")
        assert signed_in(r, store_id), r.text
        r = await bare.get(f"/portal/{store_id}/start", follow_redirects=True)
        assert 'id="portal-user">Alice Liddell<' in r.text


async def test_an_answer_posted_in_another_browser_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                                                idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    seen = await begin(client, idp, store_id)
    app = create_app(runtime, close_runtime=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ORIGIN) as other:
        await other.get(f"/portal/{store_id}/saml/metadata")  # this browser has its own cookie
        r = await post(other, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL),
                       seen.relay_state)
        cause, _, reference = failure_of(r)
        assert cause == Cause.STATE_MISMATCH
    found = await failures.diagnose(runtime.deps, reference)
    assert found is not None and found.admin["flow"] == "FlowWrongBrowser"
    # an answer to a request that was never made, or with its RelayState lost
    r = await post(client, store_id, idp.answer(AuthnRequestSeen("_never-sent", acs_of(store_id), acs_of(store_id),
                                                                 None), name_id=EMAIL, name_id_format=NAMEID_EMAIL),
                   seen.relay_state)
    assert failure_of(r)[0] == Cause.STATE_MISMATCH
    r = await post(client, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL))
    assert failure_of(r)[0] == Cause.STATE_MISMATCH
    # the request itself still works in its own browser
    r = await post(client, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL),
                   seen.relay_state)
    assert signed_in(r, store_id)


async def test_nameid_format_and_value(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                  name_id_format=NAMEID_PERSISTENT))
    cause, message, reference = failure_of(r)
    assert cause == Cause.NAMEID_FORMAT
    assert "persistent" in message and "emailAddress" in message
    # its language switch opens the consumer's address: back to the start page in that language
    switch = re.search(r'href="(/portal/[^"?]+/saml\?[^"]*lang=zh-TW)"', r.text)
    assert switch is not None, r.text
    again = await client.get(html.unescape(switch.group(1)))
    assert again.status_code == 303 and again.headers["location"] == f"/portal/{store_id}/start?lang=zh-TW"
    found = await failures.diagnose(runtime.deps, reference)
    assert found is not None and found.admin == {
        "expected": NAMEID_EMAIL, "received": NAMEID_PERSISTENT}
    cause, message, _ = failure_of(await post(client, store_id, idp.response(
        sp_entity_id=acs_of(store_id), name_id="not an address", name_id_format=NAMEID_EMAIL)))
    assert cause == Cause.NAMEID_FORMAT and "NameID format" in message


async def test_users_are_matched_by_primary_email(client: httpx.AsyncClient, runtime: Runtime,
                                                  idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    cause, _, reference = failure_of(await post(client, store_id, idp.response(
        sp_entity_id=acs_of(store_id), name_id="bob@example.com", name_id_format=NAMEID_EMAIL)))
    assert cause == Cause.USER_NOT_FOUND
    found = await failures.diagnose(runtime.deps, reference)
    assert found is not None and found.principal == "bob@example.com" and found.admin["just_in_time"] == "off"
    async with runtime.deps.store.unit() as uow:
        await directory.set_user_status(uow, store_id, await _alice(runtime, store_id), "DISABLED", actor="test",
                                        now=runtime.deps.clock())
    cause, _, _ = failure_of(await post(client, store_id, idp.response(
        sp_entity_id=acs_of(store_id), name_id=EMAIL, name_id_format=NAMEID_EMAIL)))
    assert cause == Cause.USER_DISABLED


async def test_just_in_time_users(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp, jit=True)
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id="carol@example.com",
                                                  name_id_format=NAMEID_EMAIL))
    assert signed_in(r, store_id)
    async with runtime.deps.store.unit() as uow:
        carol = await directory.user_by_name(uow, store_id, "carol@example.com")
        assert carol is not None and carol.email == "carol@example.com" and carol.password_hash is None
        created = [e for e in await uow.audit.of_principal(f"saml:{idp.entity_id}") if e.event == "CreateUser"]
    assert len(created) == 1 and created[0].detail["user_id"] == carol.id
    # the second sign-in finds the same user
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id="carol@example.com",
                                                  name_id_format=NAMEID_EMAIL))
    assert signed_in(r, store_id)
    async with runtime.deps.store.unit() as uow:
        assert len((await directory.find_users(uow, store_id, email="carol@example.com")).items) == 1


@pytest.mark.parametrize(("options", "cause"), [
    ({"audience": "http://testserver/saml"}, Cause.AUDIENCE),  # made for the console's consumer
    ({"recipient": "http://testserver/saml", "destination": "http://testserver/saml"}, Cause.RECIPIENT),
    ({"sign_response": False, "sign_assertion": False}, Cause.UNSIGNED),
    ({"expired": True}, Cause.EXPIRED),
])
async def test_refusals_name_the_cause(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp,
                                       options: dict[str, Any], cause: Cause) -> None:
    store_id = await make_portal(runtime, idp)
    if options.pop("expired", False):  # issued just now, but its end is past (beyond the 5 minutes' skew)
        now = runtime.deps.clock()
        options = {"now": now - 10, "not_on_or_after": now - 400, "confirmation_not_on_or_after": now - 400}
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                  name_id_format=NAMEID_EMAIL, **options))
    assert failure_of(r)[0] == cause


async def test_another_certificate_or_issuer_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                                        idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    cause, _, reference = failure_of(await post(client, store_id, idp.response(
        sp_entity_id=acs_of(store_id), name_id=EMAIL, name_id_format=NAMEID_EMAIL, signer=new_signing_identity())))
    assert cause == Cause.CERTIFICATE_MISMATCH
    cause, _, reference = failure_of(await post(client, store_id, idp.response(
        sp_entity_id=acs_of(store_id), name_id=EMAIL, name_id_format=NAMEID_EMAIL,
        issuer="https://other-idp.test.invalid")))
    assert cause == Cause.UNKNOWN_PROVIDER
    found = await failures.diagnose(runtime.deps, reference)
    assert found is not None and found.admin == {"expected": idp.entity_id, "got": "https://other-idp.test.invalid"}


async def test_bad_posts_answer_a_page_not_a_500(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    for data in ({}, {"SAMLResponse": "%%% not base64"}, {"SAMLResponse": base64.b64encode(b"<x/>").decode()},
                 {"SAMLResponse": "QUFB" * 20_000}):
        r = await client.post(f"/portal/{store_id}/saml", data=data)
        assert r.status_code in (400, 413), (data.keys(), r.status_code)
        if r.status_code == 400:
            assert failure_of(r)[0] == Cause.MALFORMED
    assert (await client.post("/portal/d-0000000000/saml", data={"SAMLResponse": "QUFB"})).status_code == 404


async def test_a_portal_with_its_own_directory_refuses_saml(client: httpx.AsyncClient, runtime: Runtime,
                                                            idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, None)
    page = await client.get(f"/portal/{store_id}/start")
    assert page.status_code == 200 and 'name="username"' in page.text
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                  name_id_format=NAMEID_EMAIL))
    assert failure_of(r)[0] == Cause.UNKNOWN_PROVIDER


async def test_password_sign_in_is_not_offered(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    token = csrf_of((await client.get("/")).text)  # this browser's token (any page's form has it)
    r = await client.post(f"/portal/{store_id}/start", data={"csrf_token": token, "username": "alice"})
    assert r.status_code == 303 and r.headers["location"].startswith(idp.sso_url + "?")


async def test_sp_metadata(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp, subdomain="acme-saml")
    for name in (store_id, "acme-saml"):  # the store's URLs, whichever name the portal is opened by
        r = await client.get(f"/portal/{name}/saml/metadata")
        assert r.status_code == 200 and r.headers["content-type"] == "application/samlmetadata+xml"
        root = etree.fromstring(r.content)
        assert root.get("entityID") == acs_of(store_id)
        md = "urn:oasis:names:tc:SAML:2.0:metadata"
        (acs,) = root.iter(f"{{{md}}}AssertionConsumerService")
        assert acs.get("Location") == acs_of(store_id)
        assert [f.text for f in root.iter(f"{{{md}}}NameIDFormat")] == [NAMEID_EMAIL]
    # the request a subdomain portal sends names the store's URLs too
    seen = await begin(client, idp, "acme-saml")
    assert seen.acs_url == acs_of(store_id)
    assert (await client.get("/portal/nobody-here/saml/metadata")).status_code == 404


async def test_no_mfa_registration_is_asked_of_idp_users(client: httpx.AsyncClient, runtime: Runtime,
                                                         idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp, settings=InstanceSettings(no_mfa_device="REQUIRE_REGISTRATION"))
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                  name_id_format=NAMEID_EMAIL))
    assert signed_in(r, store_id)
    home = await client.get(f"/portal/{store_id}/")
    assert home.status_code == 200 and 'id="portal-user">Alice Liddell<' in home.text


async def test_two_answers_to_one_request_at_once(client: httpx.AsyncClient, runtime: Runtime,
                                                  idp: SamlIdp) -> None:
    """Two responses (distinct assertions) to the same request posted together: one signs in, the other is
    refused with a page, never a 500."""
    import asyncio

    store_id = await make_portal(runtime, idp)
    seen = await begin(client, idp, store_id)
    answers = [idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL) for _ in range(2)]
    results = await asyncio.gather(*(post(client, store_id, a, seen.relay_state) for a in answers))
    assert sorted(r.status_code for r in results) == [303, 400]
    assert all(failure_of(r)[0] == Cause.STATE_MISMATCH for r in results if r.status_code == 400)


async def test_forgot_password_points_to_the_identity_provider(client: httpx.AsyncClient, runtime: Runtime,
                                                              idp: SamlIdp, mailbox: DevMailbox) -> None:
    """Users of an external IdP have no password here: the forgot page sends them to the help that says their IdP's
    administrator resets it, and no mail goes out."""
    store_id = await make_portal(runtime, idp)
    r = await client.get(f"/portal/{store_id}/forgot")
    assert r.status_code == 303 and r.headers["location"] == "/help/federated-password"
    token = csrf_of((await client.get("/")).text)
    r = await client.post(f"/portal/{store_id}/forgot", data={"csrf_token": token, "username": "alice"})
    assert r.status_code == 303 and r.headers["location"] == "/help/federated-password"
    assert (await client.get("/help/federated-password")).status_code == 200
    assert not mailbox.messages


@pytest.mark.parametrize(("sign_response", "sign_assertion"), [(True, False), (False, True)])
async def test_either_signature_is_enough(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp,
                                          sign_response: bool, sign_assertion: bool) -> None:
    store_id = await make_portal(runtime, idp)
    seen = await begin(client, idp, store_id)
    r = await post(client, store_id, idp.answer(seen, name_id=EMAIL, name_id_format=NAMEID_EMAIL,
                                                sign_response=sign_response, sign_assertion=sign_assertion),
                   seen.relay_state)
    assert signed_in(r, store_id)


async def test_signature_wrapping_signs_in_nobody(client: httpx.AsyncClient, runtime: Runtime,
                                                  idp: SamlIdp) -> None:
    """The eight XSW variants (tests/saml_attacks.py) of alice's response, each naming the administrator's
    email in its evil assertion: every one refused, nobody signed in."""
    store_id = await make_portal(runtime, idp)
    async with runtime.deps.store.unit() as uow:
        admin = await directory.create_user(uow, store_id, "admin", UserProfile(
            display_name="Administrator", emails=(Email(value=EVIL_NAME, primary=True),)), actor="test",
            now=runtime.deps.clock())
    for name, (_, response_signed) in WRAPPINGS.items():
        xml = idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL, name_id_format=NAMEID_EMAIL,
                           sign_response=response_signed, sign_assertion=not response_signed)
        r = await post(client, store_id, wrapped(xml, name).decode())
        assert r.status_code == 400, name
        assert not any(h.startswith("vestibule_portal=") for h in r.headers.get_list("set-cookie")), name
    async with runtime.deps.store.unit() as uow:
        assert not [e for e in await uow.audit.of_principal(admin.arn) if e.event == "ConsoleLogin"]
    # the same responses unwrapped sign alice in (the refusals are the wrapping's)
    for response_signed in (True, False):
        r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                      name_id_format=NAMEID_EMAIL, sign_response=response_signed,
                                                      sign_assertion=not response_signed))
        assert signed_in(r, store_id)


async def test_the_idp_session_end_caps_the_portal_session(client: httpx.AsyncClient, runtime: Runtime,
                                                           idp: SamlIdp) -> None:
    store_id = await make_portal(runtime, idp)
    now = runtime.deps.clock()
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                  name_id_format=NAMEID_EMAIL, session_not_on_or_after=now + 600))
    assert signed_in(r, store_id)
    (cookie,) = [h for h in r.headers.get_list("set-cookie") if h.startswith("vestibule_portal=")]
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 590 <= max_age <= 600
    r = await post(client, store_id, idp.response(sp_entity_id=acs_of(store_id), name_id=EMAIL,
                                                  name_id_format=NAMEID_EMAIL, session_not_on_or_after=now - 5))
    assert failure_of(r)[0] == Cause.EXPIRED


async def test_refusals_are_throttled_per_address(client: httpx.AsyncClient, runtime: Runtime, idp: SamlIdp) -> None:
    """Each refused POST stores a failure row and an event under the instance's account: past the address's
    budget (shared with the console's /saml and AssumeRoleWithSAML) the answer is 429 and nothing is stored."""
    store_id = await make_portal(runtime, idp)
    deps = runtime.deps
    keys = federation_saml.failure_keys(Client(ip="203.0.113.7"))
    bad = {"SAMLResponse": base64.b64encode(b"<x/>").decode()}
    first = await client.post(f"/portal/{store_id}/saml", data=bad)
    assert first.status_code == 400 and failure_of(first)[0] == Cause.MALFORMED
    assert (await deps.throttle.states(keys, deps.clock()))[0].failures == 1
    try:
        for i in range(70):  # one a minute apart (each admitted), the last ones still ahead
            await deps.throttle.reserve(keys, deps.clock() + 61 * i, captcha_solved=False)
        refused = await client.post(f"/portal/{store_id}/saml", data=bad)
        assert refused.status_code == 429 and 'id="reference"' not in refused.text
    finally:
        await deps.throttle.settle(keys, ())
