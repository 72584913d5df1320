"""Hardening of the AWS endpoint against a live server, with requests signed by botocore's own SigV4 signer and
then changed as an attacker would: a payload the signature does not cover (UNSIGNED-PAYLOAD, streaming markers,
another digest) is refused on STS, IAM and JSON services; input that once answered 500 (Unicode digits, numbers of
thousands of digits in markers, list indices, integers, policies and X-Amz-Expires) gets the protocol's own
error; API changes are audited with how the call was signed and the client's User-Agent."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import httpx
import pytest

from integration.aws.aws_world import Account, AwsWorld, Keys
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps

FORM = "application/x-www-form-urlencoded; charset=utf-8"
STS = "Version=2011-06-15"
IAM = "Version=2010-05-08"
UA = "hardening-test/1.0 (attack replay)"


def _trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def _sign(world: AwsWorld, keys: Keys, service: str, body: str, headers: dict[str, str] | None = None,
          ) -> dict[str, str]:
    """Headers botocore's SigV4Auth signs for a form POST of `body` (with `headers` signed too)."""
    request = botocore.awsrequest.AWSRequest(method="POST", url=world.url + "/", data=body.encode(),
                                             headers={"Content-Type": FORM, "User-Agent": UA, **(headers or {})})
    credentials = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    botocore.auth.SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _post(world: AwsWorld, body: str | bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(world.url + "/", content=body.encode() if isinstance(body, str) else body, headers=headers,
                      timeout=30)


def _xml_error(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of a query-protocol XML error; fails on anything else."""
    assert "Traceback" not in response.text
    root = ET.fromstring(response.text)
    assert root.tag.endswith("ErrorResponse"), response.text
    return (response.status_code, root.findtext(".//{*}Code") or "", root.findtext(".//{*}Message") or "")


def _events(world: AwsWorld, account_id: str) -> list[dict[str, Any]]:
    async def read(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


# ---- item 11: the signature must cover the body --------------------------------------------------------------


def test_a_captured_unsigned_payload_get_caller_identity_cannot_become_assume_role(
        world: AwsWorld, account: Account) -> None:
    victim = world.api_user(account, "victim")
    role = world.iam(account.root).create_role(RoleName="deploy", AssumeRolePolicyDocument=_trust(
        account.user_arn("victim")))["Role"]
    assume = f"Action=AssumeRole&{STS}&" + urlencode({"RoleArn": role["Arn"], "RoleSessionName": "stolen"})
    # the same AssumeRole, signed over its own body, works: what follows is refused for the payload alone
    good = _post(world, assume, _sign(world, victim, "sts", assume))
    assert good.status_code == 200 and "<SecretAccessKey>" in good.text

    captured_body = f"Action=GetCallerIdentity&{STS}"
    captured = _sign(world, victim, "sts", captured_body, {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert captured["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    before = len([e for e in _events(world, account.account_id) if e["event"] == "AssumeRole"])
    for body in (captured_body, assume):  # as captured, and with the body swapped
        refused = _post(world, body, captured)
        status, code, _ = _xml_error(refused)
        assert (status, code) == (403, "SignatureDoesNotMatch")
        assert "Credentials" not in refused.text and "SecretAccessKey" not in refused.text
    assert len([e for e in _events(world, account.account_id) if e["event"] == "AssumeRole"]) == before


@pytest.mark.parametrize("claimed", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                     "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-EVENTS",
                                     hashlib.sha256(b"Action=ListUsers").hexdigest()])
def test_iam_refuses_every_payload_line_but_the_body_hash(world: AwsWorld, account: Account, claimed: str) -> None:
    body = f"Action=CreateUser&{IAM}&UserName=mallory"
    headers = _sign(world, account.root, "iam", body, {"X-Amz-Content-SHA256": claimed})
    status, code, message = _xml_error(_post(world, body, headers))
    assert (status, code) == (403, "SignatureDoesNotMatch") and "x-amz-content-sha256" in message
    assert not [e for e in _events(world, account.account_id) if e["event"] == "CreateUser"]
    # the body's own digest in the header is fine
    digest = hashlib.sha256(body.encode()).hexdigest()
    ok = _post(world, body, _sign(world, account.root, "iam", body, {"X-Amz-Content-SHA256": digest}))
    assert ok.status_code == 200 and "<UserName>mallory</UserName>" in ok.text


def test_json_protocol_refuses_unsigned_payload_in_its_own_shape(world: AwsWorld, account: Account) -> None:
    body = b'{"IdentityStoreId": "d-1234567890"}'
    request = botocore.awsrequest.AWSRequest(method="POST", url=world.url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSIdentityStore.ListUsers",
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    credentials = botocore.credentials.Credentials(account.root.access_key_id, account.root.secret_access_key)
    botocore.auth.SigV4Auth(credentials, "identitystore", "us-east-1").add_auth(request)
    refused = _post(world, body, dict(request.headers.items()))
    assert refused.status_code == 403 and refused.json()["__type"] == "SignatureDoesNotMatch"


# ---- item 13: input that answered 500 -------------------------------------------------------------------------

HUGE = "9" * 5000
BIG_NUMBER_POLICY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*",'
                     '"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":' + HUGE + '}}}]}')
ROLE_ARN = "arn:aws:iam::123456789012:role/r"

INPUTS: list[tuple[str, str, list[tuple[str, str]], str]] = [
    ("iam", "ListUsers", [("Marker", "²")], "ValidationError"),
    ("iam", "ListUsers", [("Marker", "١٢")], "ValidationError"),
    ("iam", "ListUsers", [("Marker", "9" * 300)], "ValidationError"),
    ("iam", "ListUsers", [("Marker", HUGE)], "ValidationError"),
    ("iam", "ListRoles", [("MaxItems", "²")], "ValidationError"),
    ("iam", "ListRoles", [("MaxItems", "١٢")], "ValidationError"),
    ("iam", "ListRoles", [("MaxItems", HUGE)], "ValidationError"),
    ("iam", "ListGroups", [("MaxItems", "-" + HUGE)], "ValidationError"),
    ("iam", "TagUser", [("UserName", "u"), (f"Tags.member.{HUGE}.Key", "k"), (f"Tags.member.{HUGE}.Value", "v")],
     "ValidationError"),
    ("iam", "TagUser", [("UserName", "u"), ("Tags.member.².Key", "k"), ("Tags.member.².Value", "v")],
     "ValidationError"),
    ("iam", "UntagUser", [("UserName", "u"), ("TagKeys.member.²", "k")], "ValidationError"),
    ("iam", "UntagUser", [("UserName", "u"), (f"TagKeys.member.{HUGE}", "k")], "ValidationError"),
    ("iam", "CreatePolicy", [("PolicyName", "big"), ("PolicyDocument", BIG_NUMBER_POLICY)],
     "MalformedPolicyDocument"),
    ("iam", "CreatePolicy", [("PolicyName", "long"), ("PolicyDocument", "a" * 100_000 + "Ā")], "ValidationError"),
    ("iam", "ListPolicies", [("Scope", "x" * 100_000)], "ValidationError"),
    ("iam", "UpdateAccountPasswordPolicy", [("MinimumPasswordLength", HUGE)], "ValidationError"),
    ("iam", "UpdateAccountPasswordPolicy", [("MaxPasswordAge", "٣")], "ValidationError"),
    ("sts", "AssumeRole", [("RoleArn", ROLE_ARN), ("RoleSessionName", "s1"), ("DurationSeconds", HUGE)],
     "ValidationError"),
    ("sts", "AssumeRole", [("RoleArn", ROLE_ARN), ("RoleSessionName", "s1"), (f"PolicyArns.member.{HUGE}.arn",
                                                                              ROLE_ARN)], "ValidationError"),
    ("sts", "GetSessionToken", [("DurationSeconds", "²")], "ValidationError"),
]


@pytest.mark.parametrize(("service", "action", "params", "code"), INPUTS,
                         ids=[f"{a}-{p[-1][0][:24]}={p[-1][1][:8]}" for _, a, p, _ in INPUTS])
def test_bad_input_gets_the_protocols_validation_error(world: AwsWorld, account: Account, service: str,
                                                       action: str, params: list[tuple[str, str]], code: str) -> None:
    version = STS if service == "sts" else IAM
    body = f"Action={action}&{version}&" + urlencode(params)
    response = _post(world, body, _sign(world, account.root, service, body))
    status, got, message = _xml_error(response)
    assert (status, got) == (400, code), message
    assert len(response.text) < 4000, "the answer does not echo thousands of characters back"


def test_a_session_policy_with_a_huge_number_is_malformed(world: AwsWorld, account: Account) -> None:
    user = world.api_user(account, "tester")
    role = world.iam(account.root).create_role(RoleName="tested", AssumeRolePolicyDocument=_trust(
        account.user_arn("tester")))["Role"]
    body = f"Action=AssumeRole&{STS}&" + urlencode({"RoleArn": role["Arn"], "RoleSessionName": "s1",
                                                    "Policy": BIG_NUMBER_POLICY})
    status, code, _ = _xml_error(_post(world, body, _sign(world, user, "sts", body)))
    assert (status, code) == (400, "MalformedPolicyDocument")


@pytest.mark.parametrize("expires", [HUGE, "0" * 5000, "²", "1" + "0" * 4400])
def test_presigned_url_with_an_absurd_expiry_is_incomplete_signature(world: AwsWorld, account: Account,
                                                                     expires: str) -> None:
    url = world.sts(account.root).generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert "X-Amz-Expires=60" in url
    response = httpx.get(url.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}"), timeout=30)
    status, code, message = _xml_error(response)
    assert (status, code) == (400, "IncompleteSignature") and "X-Amz-Expires" in message
    assert httpx.get(url, timeout=30).status_code == 200


# ---- item 14: API calls audited with how they were signed ------------------------------------------------------


def test_api_changes_are_audited_with_the_signing_method_and_user_agent(world: AwsWorld, account: Account) -> None:
    body = f"Action=CreateUser&{IAM}&UserName=audited"
    assert _post(world, body, _sign(world, account.root, "iam", body)).status_code == 200
    admin = world.api_user(account, "admin")
    iam = world.iam(account.root)
    iam.create_role(RoleName="admin-role", AssumeRolePolicyDocument=_trust(account.user_arn("admin")))
    iam.attach_role_policy(RoleName="admin-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    session = Keys.of(world.sts(admin).assume_role(
        RoleArn=f"arn:aws:iam::{account.account_id}:role/admin-role", RoleSessionName="ops")["Credentials"])
    world.iam(session).create_group(GroupName="made-by-a-role")

    events = _events(world, account.account_id)
    by_event = {e["event"]: e for e in events}
    created = next(e for e in events if e["event"] == "CreateUser" and e["detail"]["user"] == "audited")
    assert created["method"] == "sigv4:access-key" and created["user_agent"] == UA
    assert created["principal"] == account.root_arn and created["client_ip"] == "127.0.0.1"
    assert by_event["AssumeRole"]["method"] == "sigv4:access-key"
    assert "Botocore" in by_event["AssumeRole"]["user_agent"]
    group = by_event["CreateGroup"]
    assert group["method"] == "sigv4:temporary-credentials"
    assert group["principal"] == f"arn:aws:sts::{account.account_id}:assumed-role/admin-role/ops"
    # every event of this test's API calls (the account and its root key were made as the CLI makes them)
    api = [e for e in events if e["user_agent"]]
    assert {e["event"] for e in api} >= {"CreateUser", "CreateRole", "AttachRolePolicy", "CreateAccessKey",
                                         "AssumeRole", "CreateGroup"}
    assert {e["method"] for e in api} == {"sigv4:access-key", "sigv4:temporary-credentials"}
