"""The SSO portal API through real, unsigned boto3 `sso` clients against the live server, with bearer tokens
from the device flow: ListAccounts and ListAccountRoles (paginated, with sealed next tokens), GetRoleCredentials
(credentials that sign STS calls as the AWSReservedSSO_ role, for the permission set's session duration), Logout,
and UnauthorizedException for every token that is not live."""

from __future__ import annotations

import re
import time

import boto3
import httpx
import pytest

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.sso_cli_world import SsoWorld, raised, status_of
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps


@pytest.fixture
def sso(world: AwsWorld, account: Account) -> SsoWorld:
    return SsoWorld(world, account)


def _events(world: AwsWorld, account_id: str) -> list[dict[str, object]]:
    async def read(deps: Deps) -> list[dict[str, object]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


def _unauthorized(exc: object) -> None:
    from botocore.exceptions import ClientError

    assert isinstance(exc, ClientError)
    assert exc.response["Error"]["Code"] == "UnauthorizedException", exc.response
    assert type(exc).__name__ == "UnauthorizedException", "the model's exception class"
    assert status_of(exc) == 401 and exc.response["Error"]["Message"]


def _all_four_refuse(sso: SsoWorld, token: str) -> None:
    account_id = sso.account.account_id
    _unauthorized(raised(sso.portal.list_accounts, accessToken=token))
    _unauthorized(raised(sso.portal.list_account_roles, accessToken=token, accountId=account_id))
    _unauthorized(raised(sso.portal.get_role_credentials, accessToken=token, accountId=account_id,
                         roleName="Developers"))
    _unauthorized(raised(sso.portal.logout, accessToken=token))


def test_role_credentials_sign_sts_calls_as_the_reserved_role(world: AwsWorld, sso: SsoWorld) -> None:
    developers = sso.permission_set("Developers", "PT2H")
    user = sso.user("grace")
    sso.assign(developers, user)
    token = sso.device_token(sso.sign_in("grace"))["accessToken"]
    accounts = sso.portal.list_accounts(accessToken=token)
    [shown] = accounts["accountList"]
    assert shown["accountId"] == sso.account.account_id and shown["emailAddress"] == sso.account.email
    assert shown["accountName"]
    assert "nextToken" not in accounts
    roles = sso.portal.list_account_roles(accessToken=token, accountId=sso.account.account_id)
    assert roles["roleList"] == [{"roleName": "Developers", "accountId": sso.account.account_id}]
    before = time.time()
    creds = sso.portal.get_role_credentials(accessToken=token, accountId=sso.account.account_id,
                                            roleName="Developers")["roleCredentials"]
    assert creds["accessKeyId"].startswith("ASIA") and creds["secretAccessKey"] and creds["sessionToken"]
    assert abs(creds["expiration"] / 1000 - (before + 7200)) < 30, "epoch milliseconds, the session duration"
    sts = boto3.client("sts", endpoint_url=world.url, region_name="us-east-1",
                       aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
                       aws_session_token=creds["sessionToken"])
    identity = sts.get_caller_identity()
    assert re.fullmatch(rf"arn:aws:sts::{sso.account.account_id}:assumed-role/AWSReservedSSO_Developers_[0-9a-f]{{16}}"
                        r"/grace", identity["Arn"]), identity["Arn"]
    [issued] = [e for e in _events(world, sso.account.account_id) if e["event"] == "GetRoleCredentials"]
    assert issued["method"] == "sso-api" and issued["result"] == "Success"
    assert "Botocore" in str(issued["user_agent"]) and str(issued["principal"]).endswith(":user/" + user)


def test_a_role_or_account_not_assigned_gives_nothing(sso: SsoWorld) -> None:
    sso.assign(sso.permission_set("Developers"), sso.user("heidi"))
    sso.permission_set("Admins")  # exists, not assigned to heidi
    token = sso.device_token(sso.sign_in("heidi"))["accessToken"]
    for account_id, role in ((sso.account.account_id, "Admins"), ("000000000000", "Developers"),
                             (sso.account.account_id, "developers")):
        refused = raised(sso.portal.get_role_credentials, accessToken=token, accountId=account_id, roleName=role)
        assert refused.response["Error"]["Code"] == "ForbiddenException" and status_of(refused) == 403
        assert "ASIA" not in str(refused.response)
    assert sso.portal.list_account_roles(accessToken=token, accountId="000000000000")["roleList"] == []


def test_accounts_and_roles_page_with_sealed_next_tokens(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)  # before the instance: an organization instance reaches member accounts
    members = [world.new_member_account(account)[0] for _ in range(2)]
    sso = SsoWorld(world, account)
    user = sso.user("ivan")
    names = ["Alpha", "Bravo", "Charlie"]
    for name in names:
        ps = sso.permission_set(name)
        sso.assign(ps, user)
        for member in members:
            sso.assign(ps, user, member)
    token = sso.device_token(sso.sign_in("ivan"))["accessToken"]
    expected = sorted([sso.account.account_id, *members])
    pages = list(sso.portal.get_paginator("list_accounts").paginate(accessToken=token,
                                                                    PaginationConfig={"PageSize": 1}))
    assert [[a["accountId"] for a in p["accountList"]] for p in pages] == [[a] for a in expected]
    first = sso.portal.list_accounts(accessToken=token, maxResults=2)
    assert len(first["accountList"]) == 2 and first["nextToken"]
    rest = sso.portal.list_accounts(accessToken=token, maxResults=2, nextToken=first["nextToken"])
    assert [a["accountId"] for a in rest["accountList"]] == expected[2:] and "nextToken" not in rest
    roles = list(sso.portal.get_paginator("list_account_roles").paginate(
        accessToken=token, accountId=members[0], PaginationConfig={"PageSize": 2}))
    assert [[r["roleName"] for r in p["roleList"]] for p in roles] == [names[:2], names[2:]]
    # a forged token, or one sealed for another list, is an invalid request
    for forged in ("bm90IGEgdG9rZW4=", first["nextToken"][:-4] + "AAAA"):
        bad = raised(sso.portal.list_accounts, accessToken=token, nextToken=forged)
        assert bad.response["Error"]["Code"] == "InvalidRequestException" and status_of(bad) == 400
    page = sso.portal.list_account_roles(accessToken=token, accountId=members[0], maxResults=1)
    bad = raised(sso.portal.list_accounts, accessToken=token, nextToken=page["nextToken"])
    assert bad.response["Error"]["Code"] == "InvalidRequestException"
    bad = raised(sso.portal.list_account_roles, accessToken=token, accountId=members[1],
                 nextToken=page["nextToken"])
    assert bad.response["Error"]["Code"] == "InvalidRequestException"


def test_bad_expired_and_revoked_tokens_are_unauthorized(world: AwsWorld, sso: SsoWorld) -> None:
    sso.assign(sso.permission_set("Developers"), sso.user("judy"))
    _all_four_refuse(sso, "not-a-token")
    session = sso.sign_in("judy")
    token = sso.device_token(session)
    sso.portal.list_accounts(accessToken=token["accessToken"])
    world.clock.offset = token["expiresIn"] + 1.0
    _all_four_refuse(sso, token["accessToken"])
    world.clock.offset = 0
    # the browser signs out of the portal: the CLI's tokens die with its session
    live = sso.device_token(session)["accessToken"]
    sso.portal.list_accounts(accessToken=live)
    sso.sign_out(session)
    _all_four_refuse(sso, live)


def test_logout_revokes_the_token_its_refresh_token_and_the_portal_session(sso: SsoWorld) -> None:
    sso.assign(sso.permission_set("Developers"), sso.user("mallory"))
    session = sso.sign_in("mallory")
    client = sso.register()
    token = sso.device_token(session, client)
    sso.portal.logout(accessToken=token["accessToken"])
    assert [e["event"] for e in _events(sso.world, sso.account.account_id)].count("Logout") == 1
    _unauthorized(raised(sso.portal.get_role_credentials, accessToken=token["accessToken"],
                         accountId=sso.account.account_id, roleName="Developers"))
    refused = raised(sso.refresh, client=client, refresh_token=token["refreshToken"])
    assert refused.response["Error"]["Code"] == "InvalidGrantException"
    r = httpx.get(f"{sso.world.url}/portal/{sso.store}/", cookies={sso.session_cookie: session},
                  follow_redirects=False)
    assert r.status_code == 303, "the portal session behind the token ended too"


def test_missing_and_malformed_members_are_invalid_request(sso: SsoWorld) -> None:
    sso.assign(sso.permission_set("Developers"), sso.user("niaj"))
    token = sso.device_token(sso.sign_in("niaj"))["accessToken"]
    url, bearer = sso.world.url, {"x-amz-sso_bearer_token": token}
    for path, headers in (("/assignment/accounts", {}), ("/assignment/roles", bearer),
                          ("/federation/credentials?account_id=123456789012", bearer),
                          ("/federation/credentials?role_name=Developers", bearer),
                          ("/assignment/accounts?max_result=0", bearer),
                          ("/assignment/accounts?max_result=101", bearer),
                          ("/assignment/accounts?max_result=%C2%B2", bearer),
                          ("/assignment/accounts?max_result=" + "9" * 5000, bearer)):
        r = httpx.get(url + path, headers=headers)
        assert r.status_code == 400, (path, r.text)
        assert r.headers["x-amzn-errortype"] == "InvalidRequestException" and r.json()["message"]
        assert token not in r.text
    r = httpx.post(url + "/logout")
    assert r.status_code == 400 and r.headers["x-amzn-errortype"] == "InvalidRequestException"
    assert httpx.get(url + "/assignment/nothing", headers=bearer).headers["x-amzn-errortype"] == (
        "UnknownOperationException")


def test_tokens_and_role_credentials_are_never_cached(sso: SsoWorld) -> None:
    """RFC 6749 5.1: token answers (and role credentials, and their errors) carry Cache-Control: no-store."""
    developers = sso.permission_set("Developers", "PT1H")
    sso.assign(developers, sso.user("heidi"))
    token = sso.device_token(sso.sign_in("heidi"))["accessToken"]
    with httpx.Client(base_url=sso.world.url, timeout=30) as http:
        answers = [
            http.get("/federation/credentials", params={"role_name": "Developers",
                                                        "account_id": sso.account.account_id},
                     headers={"x-amz-sso_bearer_token": token}),
            http.get("/assignment/accounts", headers={"x-amz-sso_bearer_token": "not-a-token"}),
            http.post("/token", json={"clientId": "nobody", "clientSecret": "x", "grantType": "refresh_token",
                                      "refreshToken": "x"}),
        ]
    assert [a.status_code for a in answers] == [200, 401, 401]
    assert "sessionToken" in answers[0].json()["roleCredentials"]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store" and answer.headers["pragma"] == "no-cache"


def test_a_removed_assignment_counts_at_the_next_request(sso: SsoWorld) -> None:
    developers = sso.permission_set("Developers", "PT1H")
    user = sso.user("ivan")
    sso.assign(developers, user)
    token = sso.device_token(sso.sign_in("ivan"))["accessToken"]
    account_id = sso.account.account_id
    assert sso.portal.get_role_credentials(accessToken=token, accountId=account_id, roleName="Developers")
    sso.admin.delete_account_assignment(InstanceArn=sso.instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                        PermissionSetArn=developers, PrincipalType="USER", PrincipalId=user)
    refused = raised(sso.portal.get_role_credentials, accessToken=token, accountId=account_id, roleName="Developers")
    assert refused.response["Error"]["Code"] == "ForbiddenException" and status_of(refused) == 403
    assert sso.portal.list_accounts(accessToken=token)["accountList"] == []
    assert sso.portal.list_account_roles(accessToken=token, accountId=account_id)["roleList"] == []


def test_an_account_no_longer_active_gets_no_role_credentials(world: AwsWorld, sso: SsoWorld) -> None:
    sso.assign(sso.permission_set("Developers", "PT1H"), sso.user("judy"))
    token = sso.device_token(sso.sign_in("judy"))["accessToken"]
    account_id = sso.account.account_id

    async def suspend(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            row = await uow.accounts.get(account_id)
            assert row is not None
            row.status = "suspended"
            await uow.accounts.save()

    world.run(suspend)
    refused = raised(sso.portal.get_role_credentials, accessToken=token, accountId=account_id, roleName="Developers")
    assert refused.response["Error"]["Code"] == "ForbiddenException" and status_of(refused) == 403
    assert sso.portal.list_accounts(accessToken=token)["accountList"] == []
