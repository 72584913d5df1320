"""The federation endpoint as a custom identity broker uses it, with Chromium as its user's browser: boto3
AssumeRole (and GetFederationToken) with the broker's keys -> getSigninToken -> the login URL opened in Chromium
-> /console shows the role and session name -> sign out; a reused token, an off-site Destination and
GetSessionToken's credentials refused. Screenshots are saved as artifacts."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import boto3
import httpx

from e2e.browser_support import Site, run_async
from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _root_clients(site: Site, owner: str) -> tuple[str, Any, Any]:
    async def make(rt: Runtime) -> tuple[str, str, str]:
        async with rt.deps.store.unit() as uow:
            created = await accounts.create_account(rt.deps, uow, email=f"owner-{owner}@example.com",
                                                    password="Owner pass phrase 1", alias=None)
            key = await access_keys.create(rt.deps, uow, created.account_id, f"root:{created.account_id}")
        return created.account_id, key.access_key_id, key.secret_access_key

    account_id, key_id, secret = run_async(site.settings, make)
    kw = {"endpoint_url": site.url, "region_name": "us-east-1", "aws_access_key_id": key_id,
          "aws_secret_access_key": secret}
    return account_id, boto3.client("iam", **kw), boto3.client("sts", **kw)


def _client(site: Site, service: str, creds: dict[str, Any]) -> Any:
    return boto3.client(service, endpoint_url=site.url, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"))


def _signin_token(site: Site, creds: dict[str, Any]) -> httpx.Response:
    session = json.dumps({"sessionId": creds["AccessKeyId"], "sessionKey": creds["SecretAccessKey"],
                          "sessionToken": creds["SessionToken"]})
    return httpx.get(f"{site.url}/federation", params={"Action": "getSigninToken", "Session": session}, timeout=20)


def _login_url(site: Site, token: str, destination: str) -> str:
    return f"{site.url}/federation?" + urlencode({"Action": "login", "Issuer": "https://broker.example.com/",
                                                 "Destination": destination, "SigninToken": token})


def test_broker_signs_users_in_to_the_console(site: Site) -> None:
    account_id, iam, _ = _root_clients(site, "broker")
    iam.create_user(UserName="broker")
    iam.attach_user_policy(UserName="broker", PolicyArn=ADMIN)
    broker = iam.create_access_key(UserName="broker")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}}]}
    iam.create_role(RoleName="BrokerUsers", AssumeRolePolicyDocument=json.dumps(trust))
    broker_sts = _client(site, "sts", broker)

    # the broker: AssumeRole for its user alice, then a sign-in token for those credentials
    creds = broker_sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/BrokerUsers",
                                   RoleSessionName="alice")["Credentials"]
    answer = _signin_token(site, creds)
    assert answer.status_code == 200, answer.text
    token = answer.json()["SigninToken"]

    # alice's browser opens the login URL
    page = site.new_browser()
    page.goto(_login_url(site, token, f"{site.url}/console"))
    page.wait_for_url(f"{site.url}/console")
    site.shot(page, "console-as-role")
    body = page.locator("body").inner_text()
    assert "BrokerUsers/alice" in body, body
    assert page.locator("#identity-name").inner_text() == "BrokerUsers/alice"
    assert f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}" in body

    # the same link again, in another browser: refused, with a reference for the administrator
    thief = site.new_browser()
    thief.goto(_login_url(site, token, f"{site.url}/console"))
    site.shot(thief, "token-reused")
    assert thief.locator("#failure-cause").get_attribute("data-cause") == "replayed"
    assert re.fullmatch(r"F-[A-Z2-7]{16}", thief.locator("#reference").inner_text())
    thief.goto("/console")
    assert site.path_of(thief).split("?")[0] != "/console"  # not signed in: sent to sign in

    # an off-site Destination is not followed (and does not spend the token)
    second = _signin_token(site, creds).json()["SigninToken"]
    lured = site.new_browser()
    lured.goto(_login_url(site, second, "https://evil.example/console"))
    site.shot(lured, "offsite-destination")
    assert "outside this site" in lured.locator("#error").inner_text()
    assert lured.url.startswith(site.url)
    lured.goto(_login_url(site, second, "/console"))
    lured.wait_for_url(f"{site.url}/console")

    # sign out ends alice's federated session
    site.sign_out(page)
    page.goto("/console")
    assert site.path_of(page).split("?")[0] != "/console"

    # a federated user from GetFederationToken
    fed = broker_sts.get_federation_token(Name="bob", DurationSeconds=900)["Credentials"]
    bob = site.new_browser()
    bob.goto(_login_url(site, _signin_token(site, fed).json()["SigninToken"], "/console"))
    bob.wait_for_url(f"{site.url}/console")
    site.shot(bob, "console-as-federated-user")
    assert bob.locator("#identity-name").inner_text() == "federated-user/bob"
    assert bob.locator(".identity-kind").inner_text() == "Federated user"

    # GetSessionToken's credentials sign no one in
    session = broker_sts.get_session_token()["Credentials"]
    refused = _signin_token(site, session)
    assert refused.status_code == 403 and refused.json()["Error"]["Code"] == "unsupported"
