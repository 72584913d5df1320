"""Authentication and protocol errors as real clients see them: unknown keys, wrong secrets,
missing or garbled signatures, clock skew, presigned URLs, unknown and not-yet-supported actions,
and the XML error envelope with a request ID on every response."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import httpx
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code

STS_VERSION = "2011-06-15"
IAM_VERSION = "2010-05-08"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _signed_post(world: AwsWorld, keys: Keys, service: str, body: str) -> httpx.Response:
    """A form POST signed by botocore's own SigV4 signer, sent with httpx."""
    request = botocore.awsrequest.AWSRequest(method="POST", url=world.url + "/", data=body.encode(),
                                             headers=dict(FORM))
    credentials = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    botocore.auth.SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return httpx.post(world.url + "/", content=body.encode(), headers=dict(request.headers.items()))


def _error(response: httpx.Response) -> tuple[str, str, str]:
    """(code, message, request ID) from the query protocol's XML error envelope."""
    root = ET.fromstring(response.text)
    ns = {"a": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {"a": ""}
    prefix = "a:" if ns["a"] else ""
    assert root.tag.endswith("ErrorResponse"), response.text
    error = root.find(f"{prefix}Error", ns)
    assert error is not None
    assert error.findtext(f"{prefix}Type", namespaces=ns) in {"Sender", "Receiver"}
    request_id = root.findtext(f"{prefix}RequestId", namespaces=ns) or ""
    assert UUID.fullmatch(request_id), response.text
    return (error.findtext(f"{prefix}Code", namespaces=ns) or "", error.findtext(f"{prefix}Message", namespaces=ns)
            or "", request_id)


def _client_error(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert err.value.response["ResponseMetadata"]["RequestId"]
    return err.value


def test_unknown_key_and_wrong_secret(world: AwsWorld, account: Account) -> None:
    unknown = _client_error(world.sts(Keys("AKIA" + "Z" * 16, "x" * 40)).get_caller_identity)
    assert error_code(unknown) == "InvalidClientTokenId"
    assert unknown.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert unknown.response["Error"]["Message"] == "The security token included in the request is invalid."
    wrong = _client_error(world.sts(Keys(account.root.access_key_id, "y" * 40)).get_caller_identity)
    assert error_code(wrong) == "SignatureDoesNotMatch"
    assert wrong.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error_code(_client_error(world.iam(Keys(account.root.access_key_id, "y" * 40)).list_users)) == \
        "SignatureDoesNotMatch"
    assert error_code(_client_error(world.iam(Keys("ASIA" + "Z" * 16, "x" * 40, "token")).list_users)) == \
        "InvalidClientTokenId"
    # a long-term key with a session token attached is not valid either
    assert error_code(_client_error(world.sts(Keys(account.root.access_key_id, account.root.secret_access_key,
                                                   "not-a-token")).get_caller_identity)) == "InvalidClientTokenId"


def test_a_tampered_request_fails_its_signature(world: AwsWorld, account: Account) -> None:
    """One changed body byte or one changed signed header, after botocore signed the request."""
    sts = world.sts(account.root)

    def tamper_body(request: Any, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        request.body = body.replace(b"DurationSeconds=900", b"DurationSeconds=901")  # same length

    sts.meta.events.register_last("before-send.sts.GetSessionToken", tamper_body)
    assert error_code(_client_error(sts.get_session_token, DurationSeconds=900)) == "SignatureDoesNotMatch"

    def tamper_date(request: Any, **_: Any) -> None:
        date = request.headers["X-Amz-Date"]
        date = date.decode() if isinstance(date, bytes) else date
        request.headers["X-Amz-Date"] = date[:-3] + ("00Z" if date[-3:] != "00Z" else "01Z")

    sts.meta.events.register_last("before-send.sts.GetCallerIdentity", tamper_date)
    assert error_code(_client_error(sts.get_caller_identity)) == "SignatureDoesNotMatch"


def test_missing_and_garbled_authentication(world: AwsWorld, account: Account) -> None:
    body = f"Action=GetCallerIdentity&Version={STS_VERSION}"
    r = httpx.post(world.url + "/", content=body, headers=FORM)
    assert r.status_code == 403
    code, message, _ = _error(r)
    assert code == "MissingAuthenticationToken" and message
    r = httpx.get(world.url + "/", params={"Action": "ListUsers", "Version": IAM_VERSION})
    assert r.status_code == 403 and _error(r)[0] == "MissingAuthenticationToken"

    garbled = {**FORM, "Authorization": "AWS4-HMAC-SHA256 this is not a signature",
               "X-Amz-Date": "20250101T000000Z"}
    r = httpx.post(world.url + "/", content=body, headers=garbled)
    assert r.status_code == 400 and _error(r)[0] == "IncompleteSignature"
    no_signature = {**FORM, "X-Amz-Date": "20250101T000000Z", "Authorization":
                    f"AWS4-HMAC-SHA256 Credential={account.root.access_key_id}/20250101/us-east-1/sts/aws4_request, "
                    "SignedHeaders=host;x-amz-date"}
    r = httpx.post(world.url + "/", content=body, headers=no_signature)
    assert r.status_code == 400 and _error(r)[0] == "IncompleteSignature"
    # the same from botocore: its signed header with one component cut off
    sts = world.sts(account.root)

    def cut(request: Any, **_: Any) -> None:
        value = request.headers["Authorization"]
        value = value.decode() if isinstance(value, bytes) else value
        request.headers["Authorization"] = value.split(", Signature=")[0]

    sts.meta.events.register_last("before-send.sts.GetCallerIdentity", cut)
    assert error_code(_client_error(sts.get_caller_identity)) == "IncompleteSignature"


def test_clock_skew_and_credential_scope(world: AwsWorld, account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests signed more than 5 minutes away from the server's clock are refused (both ways)."""
    sts = world.sts(account.root)
    world.clock.offset = 600  # the server is 10 minutes ahead of the signer
    err = _client_error(sts.get_caller_identity)
    assert error_code(err) == "SignatureDoesNotMatch" and "expired" in err.response["Error"]["Message"].lower()
    world.clock.offset = -600  # ... or behind it
    err = _client_error(sts.get_caller_identity)
    assert error_code(err) == "SignatureDoesNotMatch" and "not yet current" in err.response["Error"]["Message"]
    world.clock.offset = 240  # within the window
    assert sts.get_caller_identity()["Account"] == account.account_id
    world.clock.offset = 0
    # an IAM request signed for STS (the scope names the wrong service)
    r = _signed_post(world, account.root, "sts", f"Action=ListUsers&Version={IAM_VERSION}")
    assert r.status_code == 403 and _error(r)[0] == "SignatureDoesNotMatch"
    r = _signed_post(world, account.root, "iam", f"Action=ListUsers&Version={IAM_VERSION}")
    assert r.status_code == 200 and "<ListUsersResult>" in r.text
    # without a Version the credential scope's service decides
    r = _signed_post(world, account.root, "sts", "Action=GetCallerIdentity")
    assert r.status_code == 200 and account.account_id in r.text


def test_presigned_url(world: AwsWorld, account: Account) -> None:
    sts = world.sts(account.root)
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    r = httpx.get(url)
    assert r.status_code == 200, r.text
    assert f"<Arn>arn:aws:iam::{account.account_id}:root</Arn>" in r.text
    assert UUID.search(r.text.split("<RequestId>")[1])
    # without HttpMethod botocore signs the operation's own method, POST (with an empty body)
    posted = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    assert httpx.post(posted).status_code == 200
    assert httpx.get(posted).status_code == 403, "the method is part of the signature"
    r = httpx.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=61"))
    assert r.status_code == 403 and _error(r)[0] == "SignatureDoesNotMatch"
    world.clock.offset = 120
    r = httpx.get(url)
    assert r.status_code == 403 and _error(r)[0] == "SignatureDoesNotMatch"
    assert "expired" in _error(r)[1].lower()


def test_unknown_unsupported_and_missing_actions(world: AwsWorld, account: Account) -> None:
    r = _signed_post(world, account.root, "iam", f"Action=DoSomethingOdd&Version={IAM_VERSION}")
    assert r.status_code == 400
    code, message, _ = _error(r)
    assert code == "InvalidAction" and "DoSomethingOdd" in message
    r = _signed_post(world, account.root, "sts", f"Version={STS_VERSION}")
    assert r.status_code == 400 and _error(r)[0] == "MissingAction"

    sts = world.sts(account.root)
    err = _client_error(sts.get_delegated_access_token, TradeInToken="x" * 8)
    status = err.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 400 and error_code(err) == "InvalidAction"
    assert "GetDelegatedAccessToken is not served by Vestibule" in err.response["Error"]["Message"]
    # every operation of the model that is not served says why (the reasons of wire/aws_query/iam/unserved.py)
    iam = world.iam(account.root)
    err = _client_error(iam.list_delegation_requests)
    assert error_code(err) == "InvalidAction" and "ListDelegationRequests is not served by Vestibule: delegation" in \
        err.response["Error"]["Message"]
    err = _client_error(iam.get_account_properties)
    assert error_code(err) == "InvalidAction" and "Role Manager" in err.response["Error"]["Message"]


def test_every_response_carries_a_request_id(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    ids = {iam.list_users()["ResponseMetadata"]["RequestId"], iam.get_user()["ResponseMetadata"]["RequestId"]}
    ids.add(world.sts(account.root).get_caller_identity()["ResponseMetadata"]["RequestId"])
    ids.add(_client_error(iam.get_user, UserName="nobody").response["ResponseMetadata"]["RequestId"])
    ids.add(iam.create_user(UserName="u1")["ResponseMetadata"]["RequestId"])
    ids.add(iam.delete_user(UserName="u1")["ResponseMetadata"]["RequestId"])
    assert len(ids) == 6 and all(UUID.fullmatch(i) for i in ids)
    # a bad parameter value is a validation error, not a server error
    r = _signed_post(world, account.root, "iam", f"Action=ListUsers&Version={IAM_VERSION}&MaxItems=lots")
    assert r.status_code == 400 and _error(r)[0] == "ValidationError"
    r = _signed_post(world, account.root, "iam", f"Action=UpdateAccountPasswordPolicy&Version={IAM_VERSION}"
                     "&RequireSymbols=perhaps")
    assert r.status_code == 400 and _error(r)[0] in {"InvalidInput", "ValidationError"}
    r = _signed_post(world, account.root, "iam", f"Action=GetUser&Version={IAM_VERSION}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert r.text.startswith("<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">")


def test_values_xml_cannot_carry_are_refused_before_they_are_stored(world: AwsWorld, account: Account) -> None:
    """A control character in a stored tag or description would make every later List/Get answer
    unparseable for botocore, so it is refused up front (and not echoed in the error)."""
    iam = world.iam(account.root)
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'
             f'{account.account_id}"}},"Action":"sts:AssumeRole"}}]}}')
    for call, kwargs in (
        (iam.create_user, {"UserName": "tagged", "Tags": [{"Key": "k", "Value": "bell\x07"}]}),
        (iam.create_role, {"RoleName": "described", "AssumeRolePolicyDocument": trust, "Description": "a\x01b"}),
        (iam.create_policy, {"PolicyName": "described", "Description": "\x1b[31m",
                             "PolicyDocument": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                               '"Action":"iam:GetUser","Resource":"*"}]}'}),
    ):
        err = _client_error(call, **kwargs)
        assert error_code(err) == "ValidationError"
    iam.create_user(UserName="tagged", Tags=[{"Key": "ok key_1:/=+-@", "Value": "Grüße 東京"}])
    assert error_code(_client_error(iam.tag_user, UserName="tagged", Tags=[{"Key": "semi;colon", "Value": "v"}])) \
        == "ValidationError"
    iam.create_role(RoleName="described", AssumeRolePolicyDocument=trust, Description="tab\tand newline\n")
    assert error_code(_client_error(iam.update_role, RoleName="described", Description="\x00")) == "ValidationError"
    assert iam.get_role(RoleName="described")["Role"]["Description"] == "tab\tand newline\n"
    assert [t["Value"] for t in iam.list_user_tags(UserName="tagged")["Tags"]] == ["Grüße 東京"]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["described"]
