"""The SSO portal API (`GET /assignment/accounts`, `GET /assignment/roles`, `GET /federation/credentials`,
`POST /logout`), unsigned: the bearer token in `x-amz-sso_bearer_token` is an access token from SSO-OIDC's
CreateToken, bound to the access portal session that approved it. Roles are named by their permission set."""

from __future__ import annotations

from typing import Any

from ...core.pagination import Page, PageRequest
from ...errors import InvalidMarker
from ...services.identity_center import portal, sso_oidc
from ...services.signin.portal import PortalSession
from ..json_values import JsonObject, JsonValue
from ..members import integer, text
from .codec import in_header, in_query
from .errors import InvalidRequestException
from .request import RestRequest, RestTable

SSO_PORTAL: RestTable = RestTable()

PAGE_SIZE = 20

_TOKEN = in_header(text("accessToken").required().sensitive(), "x-amz-sso_bearer_token")
_ACCOUNT_ID = in_query(text("accountId").required(), "account_id")
_NEXT_TOKEN = in_query(text("nextToken"), "next_token")
_MAX_RESULTS = in_query(integer("maxResults", 1, 100), "max_result")


async def _signed_in(r: RestRequest) -> PortalSession:
    return (await sso_oidc.bearer(r.deps, r.input.required("accessToken"))).portal


def _request(r: RestRequest) -> PageRequest:
    return PageRequest(r.input.text("nextToken"), r.input.integer("maxResults") or PAGE_SIZE)


def _more(page: Page[Any]) -> dict[str, JsonValue]:
    return {} if page.next_marker is None else {"nextToken": page.next_marker}


_BAD_TOKEN = "The next token is not valid."


@SSO_PORTAL.operation("ListAccounts", action=None, signed=False, http=("GET", "/assignment/accounts"),
                      inputs=(_NEXT_TOKEN, _MAX_RESULTS, _TOKEN))
async def list_accounts(r: RestRequest) -> JsonObject:
    signed = await _signed_in(r)
    try:
        page = await portal.accounts_page(r.deps, signed.instance, signed.user, _request(r))
    except InvalidMarker:
        raise InvalidRequestException(_BAD_TOKEN) from None
    return {"accountList": [{"accountId": a.id, "accountName": a.name, "emailAddress": a.root_email}
                            for a in page.items], **_more(page)}


@SSO_PORTAL.operation("ListAccountRoles", action=None, signed=False, http=("GET", "/assignment/roles"),
                      inputs=(_NEXT_TOKEN, _MAX_RESULTS, _TOKEN, _ACCOUNT_ID))
async def list_account_roles(r: RestRequest) -> JsonObject:
    signed = await _signed_in(r)
    account_id = r.input.required("accountId")
    try:
        page = await portal.roles_page(r.deps, signed.instance, signed.user, account_id, _request(r))
    except InvalidMarker:
        raise InvalidRequestException(_BAD_TOKEN) from None
    return {"roleList": [{"roleName": role.name, "accountId": account_id} for role in page.items], **_more(page)}


@SSO_PORTAL.operation("GetRoleCredentials", action=None, audit="GetRoleCredentials", signed=False,
                      http=("GET", "/federation/credentials"),
                      inputs=(in_query(text("roleName").required(), "role_name"), _ACCOUNT_ID, _TOKEN))
async def get_role_credentials(r: RestRequest) -> JsonObject:
    signed = await _signed_in(r)
    creds = await portal.role_credentials_by_name(r.deps, r.client, signed.instance, signed.user,
                                                  r.input.required("accountId"), r.input.required("roleName"))
    return {"roleCredentials": {"accessKeyId": creds.access_key_id, "secretAccessKey": creds.secret_access_key,
                                "sessionToken": creds.session_token, "expiration": int(creds.expires_at * 1000)}}


@SSO_PORTAL.operation("Logout", action=None, audit="Logout", signed=False, http=("POST", "/logout"),
                      inputs=(_TOKEN,))
async def logout(r: RestRequest) -> JsonObject:
    await sso_oidc.logout(r.deps, r.client, r.input.required("accessToken"))
    return {}
