"""The federation endpoint with the credentials of AssumeRoleWithWebIdentity (a real OIDC provider on loopback,
tests/oidc_idp.py): a broker that signs its users in with OIDC hands them the console; SessionDuration is theirs to
ask (a web identity session is no chained role session)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import boto3
import botocore.config
import httpx
import pytest
from botocore import UNSIGNED

from integration.aws.aws_world import REGION, Account, AwsWorld
from oidc_idp import OidcProvider
from vestibule.services.api_call import ApiCall
from vestibule.services.aws_identity import caller_for_principal
from vestibule.services.context import Client, Deps
from vestibule.services.federation import endpoint as federation
from vestibule.services.iam import identity_providers
from vestibule.settings import Settings


@pytest.fixture(scope="module")
def aws_settings(aws_settings: Settings) -> Settings:
    return replace(aws_settings, federation_insecure_loopback=True)


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(clients={"app": None}) as provider:
        yield provider


def _provider(world: AwsWorld, account: Account, idp: OidcProvider) -> str:
    async def create(deps: Deps) -> str:
        await deps.throttle.settle(federation.throttle_keys(Client(ip="127.0.0.1")), ())
        async with deps.store.unit() as uow:
            caller = await caller_for_principal(uow, f"root:{account.account_id}", account.root.access_key_id)
        assert caller is not None
        call = ApiCall(deps, caller, "iam", "iam:CreateOpenIDConnectProvider", "CreateOpenIDConnectProvider",
                       source_ip="127.0.0.1")
        return (await identity_providers.create_oidc_provider(call, idp.issuer, ("app",), ["a" * 40], [])).arn

    return world.run(create)


def _web_identity_credentials(world: AwsWorld, account: Account, idp: OidcProvider) -> dict[str, Any]:
    provider = _provider(world, account, idp)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{idp.url}:aud": "app"}}}]}
    role = world.iam(account.root).create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(trust))
    sts = boto3.session.Session().client("sts", endpoint_url=world.url, region_name=REGION,
                                         config=botocore.config.Config(signature_version=UNSIGNED,
                                                                       retries={"max_attempts": 1}))
    answer = sts.assume_role_with_web_identity(RoleArn=role["Role"]["Arn"], RoleSessionName="carol",
                                               WebIdentityToken=idp.id_token("user-42"))
    credentials: dict[str, Any] = answer["Credentials"]
    return credentials


def test_web_identity_credentials_sign_in_to_the_console(world: AwsWorld, account: Account,
                                                         idp: OidcProvider) -> None:
    creds = _web_identity_credentials(world, account, idp)
    session = json.dumps({"sessionId": creds["AccessKeyId"], "sessionKey": creds["SecretAccessKey"],
                          "sessionToken": creds["SessionToken"]})
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=20) as browser:
        answer = browser.get("/federation", params={"Action": "getSigninToken", "Session": session,
                                                    "SessionDuration": "900"})
        assert answer.status_code == 200, answer.text
        login = "/federation?" + urlencode({"Action": "login", "Destination": "/console",
                                            "SigninToken": answer.json()["SigninToken"]})
        signed = browser.get(login)
        assert signed.status_code == 303 and signed.headers["location"] == "/console"
        home = browser.get("/console")
        assert home.status_code == 200 and "web/carol" in home.text
        assert f"arn:aws:sts::{account.account_id}:assumed-role/web/carol" in home.text
