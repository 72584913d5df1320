"""A NUL character (or another byte PostgreSQL's text cannot hold) in an ID parameter, a form field or a path
segment of any page: refused with 400 before any query (it gave a 500 on PostgreSQL, `invalid byte sequence for
encoding "UTF8": 0x00`). Every page route is tried, signed in to the console as root and to a personal profile;
and the ID checks behind the pages (flow IDs, credential IDs) hold on their own."""

from __future__ import annotations

import re

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.routing import Route

from http_steps import make_account, sign_in_root
from integration.test_wire_edges import FORM, _code, _root_key, _signed
from profile_steps import make_profile, open_profile_session
from support import csrf_of
from vestibule.core.flows.base import FlowNotFound
from vestibule.core.flows.profile_signin import SPEC as PROFILE_SIGNIN
from vestibule.errors import NotFound
from vestibule.runtime import Runtime
from vestibule.services import access_keys, flows, webauthn
from vestibule.services.identity_center import scim_tokens
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.mail import DevMailbox
from vestibule.store.models import SsoInstance
from vestibule.web import console, device, portal, profile

_PARAMS = ("flow", "id", "token", "serial", "user_code", "request", "account", "email", "root", "type", "tab")
_FIELDS = ("flow", "credential", "id", "token", "serial", "user_code", "email", "password", "name", "key_name",
           "account", "username", "code", "step", "kind", "webauthn_response", "request")


def _routes() -> list[tuple[str, str]]:
    found = set()
    for route in [*console.routes, *portal.routes, *device.routes, *profile.routes, *console.catch_all_routes]:
        if isinstance(route, Route):
            for method in (route.methods or set()) - {"HEAD"}:
                found.add((method, route.path))
    return sorted(found)


ROUTES = _routes()


def _path(template: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, template)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> str:
    """The console signed in as root and a profile session in the same browser; a CSRF token of the browser."""
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    await open_profile_session(runtime, client, await make_profile(runtime))
    return csrf_of((await client.get("/profile/details")).text)


def test_every_page_area_is_tried() -> None:
    paths = {path for _, path in ROUTES}
    assert {"/profile/signin", "/console/webauthn/key", "/console/webauthn/rename", "/signin"} <= paths
    assert len(ROUTES) > 60


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_nul_in_a_parameter_or_field_is_refused(client: httpx.AsyncClient, signed_in: str,
                                                      method: str, template: str) -> None:
    query = "&".join(f"{name}=a%00" for name in _PARAMS)
    if method == "GET":
        r = await client.get(f"{_path(template, 'acme')}?{query}")
        assert r.status_code == 400, r.text[:300]
        r = await client.get(f"{_path(template, 'acme')}?flow=%00")
    else:
        r = await client.post(_path(template, "acme"), data={"csrf_token": signed_in,
                                                             **{name: "A\x00" for name in _FIELDS}})
    # 404: a portal named in the path that does not exist is refused before its form is read
    assert r.status_code == 400 or (r.status_code == 404 and template.startswith("/portal/")), r.text[:300]
    if "{" in template:
        r = await client.request(method, _path(template, "a%00"), data={"csrf_token": signed_in})
        assert r.status_code == 400, r.text[:300]


async def test_the_refusal_names_no_internals(client: httpx.AsyncClient) -> None:
    r = await client.get("/profile/signin?flow=%00")
    assert r.status_code == 400 and "UTF8" not in r.text and "Traceback" not in r.text
    r = await client.get("/profile/signin?flow=%ED%A0%80")  # not UTF-8: read as U+FFFD, an unknown flow
    assert r.status_code < 500


@pytest.mark.parametrize("flow_id", ["a\x00", "\x00", "a\ud800", "a" * 65, "a b", "a%00", "é"])
async def test_flow_ids_outside_their_alphabet_are_unknown_before_any_query(runtime: Runtime, flow_id: str) -> None:
    async with runtime.deps.store.unit() as uow:
        with pytest.raises(FlowNotFound):
            await flows.load(uow, PROFILE_SIGNIN, flow_id)


@pytest.mark.parametrize("credential_id", ["A\x00", "\x00", "A\ud800", "A+B", "A" * 2000, "é"])
async def test_credential_ids_that_are_not_base64url_are_not_found(runtime: Runtime, credential_id: str) -> None:
    with pytest.raises(NotFound):
        await webauthn.credential_of(runtime.deps, "root:123456789012", credential_id)


@pytest.mark.parametrize("body", [b"Action=GetUser&Version=2010-05-08&UserName=a%00",
                                  b"Action=CreateUser&Version=2010-05-08&UserName=a%00",
                                  b"Action=GetRole&Version=2010-05-08&RoleName=%00",
                                  b"Action=ListUsers&Version=2010-05-08&PathPrefix=/a%00/",
                                  b"Action=GetUser&Version=2010-05-08&UserName=a%ED%A0%80"],
                         ids=["get_user", "create_user", "get_role", "path_prefix", "not_utf8"])
async def test_the_aws_wire_answers_a_nul_with_its_own_validation_error(client: httpx.AsyncClient,
                                                                        runtime: Runtime, body: bytes) -> None:
    r = await client.post("/", content=body, headers={**FORM, **_signed(body, await _root_key(runtime))})
    assert 400 <= r.status_code < 500, r.text[:300]
    assert _code(r) in {"ValidationError", "InvalidParameterValue", "MalformedQueryString", "NoSuchEntity"}


_SCIM_USER = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a%s"}'


@pytest.mark.parametrize("body", [_SCIM_USER % b"\\u0000", _SCIM_USER % b"\\ud800", b"[" * 3000],
                         ids=["nul", "lone_surrogate", "deep"])
async def test_scim_refuses_text_no_column_holds(client: httpx.AsyncClient, runtime: Runtime, body: bytes) -> None:
    account_id = await make_account(runtime)
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn="arn:aws:sso:::instance/ssoins-0123456789abcdef", identity_store_id="d-0123456789",
            owner_account_id=account_id, name=None, kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=runtime.deps.clock(), settings=InstanceSettings().to_json(), tags="[]"))
    issued = await scim_tokens.create(runtime.deps, "d-0123456789")
    r = await client.post("/scim/v2/Users", content=body, headers={
        "Authorization": f"Bearer {issued.token}", "Content-Type": "application/scim+json"})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["scimType"] in {"invalidSyntax", "invalidValue"}


@pytest.mark.parametrize("value", ["a\\u0000", "a\\ud800"], ids=["nul", "lone_surrogate"])
async def test_the_aws_json_wire_refuses_them_too(client: httpx.AsyncClient, runtime: Runtime, value: str) -> None:
    account_id = await make_account(runtime)
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn="arn:aws:sso:::instance/ssoins-0123456789abcdef", identity_store_id="d-0123456789",
            owner_account_id=account_id, name=None, kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=runtime.deps.clock(), settings=InstanceSettings().to_json(), tags="[]"))
    async with runtime.deps.store.unit() as uow:
        key = await access_keys.create(runtime.deps, uow, account_id, f"root:{account_id}")
    body = b'{"IdentityStoreId": "d-0123456789", "UserName": "V", "DisplayName": "V"}'.replace(b"V", value.encode())
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSIdentityStore.CreateUser"}
    request = AWSRequest(method="POST", url="http://testserver/", data=body, headers=headers)
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "identitystore", "us-east-1").add_auth(request)
    r = await client.post("/", content=body, headers=dict(request.headers.items()))
    assert r.status_code == 400 and r.json()["__type"] in {"ValidationException", "SerializationException"}, r.text
