"""The JSON 1.1 and REST-JSON protocols through real botocore clients against the live server: routed by
target prefix or path from the services table, SigV4-verified like the query protocol, and answering an
operation that is not served with a clean error botocore parses, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code


def _error(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value


def test_identity_store_answers_unknown_operation_for_a_signed_call(world: AwsWorld, account: Account) -> None:
    store = world.client("identitystore", account.root)
    err = _error(store.describe_identity_store, IdentityStoreId="d-1234567890")  # in the model, not served
    assert error_code(err) == "UnknownOperationException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "DescribeIdentityStore" in err.response["Error"]["Message"]
    assert err.response["ResponseMetadata"]["RequestId"]


def test_json_protocol_verifies_sigv4_like_the_query_protocol(world: AwsWorld, account: Account) -> None:
    unknown = _error(world.client("identitystore", Keys("AKIA" + "Q" * 16, "x" * 40)).list_users,
                     IdentityStoreId="d-1234567890")
    assert error_code(unknown) == "InvalidClientTokenId"
    assert unknown.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    wrong = _error(world.client("sso-admin", Keys(account.root.access_key_id, "y" * 40)).list_instances)
    assert error_code(wrong) == "SignatureDoesNotMatch"


def test_json_protocol_refuses_a_signature_for_another_service(world: AwsWorld, account: Account) -> None:
    """A request signed for IAM cannot be replayed as an Identity Store call."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    body = b'{"IdentityStoreId":"d-1234567890"}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSIdentityStore.ListUsers"}
    request = botocore.awsrequest.AWSRequest(method="POST", url=world.url + "/", data=body, headers=headers)
    credentials = botocore.credentials.Credentials(account.root.access_key_id, account.root.secret_access_key)
    botocore.auth.SigV4Auth(credentials, "iam", "us-east-1").add_auth(request)
    r = httpx.post(world.url + "/", content=body, headers=dict(request.headers.items()))
    assert r.status_code == 403 and r.json()["__type"] == "SignatureDoesNotMatch"
    assert r.headers["content-type"] == "application/x-amz-json-1.1" and r.headers["x-amzn-requestid"]


def test_unknown_target_prefix_and_bad_json_are_clean_errors(world: AwsWorld) -> None:
    r = httpx.post(world.url + "/", content=b"{}", headers={"X-Amz-Target": "NoSuchService_2020.Anything",
                                                            "Content-Type": "application/x-amz-json-1.1"})
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"
    r = httpx.post(world.url + "/", content=b"{}", headers={"X-Amz-Target": "AWSIdentityStore.ListUsers",
                                                            "Content-Type": "application/x-amz-json-1.1"})
    assert r.status_code == 403 and r.json()["__type"] == "MissingAuthenticationToken"


def test_sso_portal_and_oidc_answer_clean_errors_under_their_paths(world: AwsWorld, account: Account) -> None:
    portal = world.client("sso", account.root)  # unsigned operations: a signature changes nothing
    err = _error(portal.get_role_credentials, roleName="Admin", accountId=account.account_id, accessToken="t")
    assert error_code(err) == "UnauthorizedException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    err = _error(portal.list_accounts, accessToken="t")
    assert error_code(err) == "UnauthorizedException"
    oidc = world.client("sso-oidc", account.root)
    err = _error(oidc.start_device_authorization, clientId="c", clientSecret="s", startUrl="https://x/start")
    assert error_code(err) == "InvalidClientException" and err.response["error"] == "invalid_client"
    r = httpx.get(world.url + "/assignment/no-such-thing")
    assert r.status_code == 404 and r.json()["__type"] == "UnknownOperationException"
    assert r.headers["x-amzn-errortype"] == "UnknownOperationException"


def test_pages_next_to_rest_json_paths_stay_pages(world: AwsWorld) -> None:
    assert httpx.get(world.url + "/").status_code == 200
    assert "text/html" in httpx.get(world.url + "/signup").headers["content-type"]
