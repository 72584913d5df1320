"""STS beyond the basic credentials, through boto3 and the aws CLI against a live server: the encoded
authorization failure message of AccessDenied and DecodeAuthorizationMessage, GetScopedCredentials, AssumeRoot's
answer while there are no organizations, and outbound web identity federation (IAM's setting, GetWebIdentityToken,
the issuer's discovery document and JWKS, each token verified against them)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from integration.aws.test_aws_cli import Cli
from vestibule.core import jws

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
MARKER = ". Encoded authorization failure message: "


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _error(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value


def _denied_message(call: Any, **kwargs: Any) -> tuple[str, str]:
    """(the readable part, the encoded message) of an AccessDenied answer."""
    err = _error(call, **kwargs)
    assert error_code(err) == "AccessDenied", err.response["Error"]
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    message = str(err.response["Error"]["Message"])
    assert MARKER in message, message
    readable, encoded = message.split(MARKER)
    assert encoded and " " not in encoded
    return readable, encoded


def _trust(principal: str) -> str:
    return _policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"})


# ---- DecodeAuthorizationMessage ---------------------------------------------------------------------------------


def test_access_denied_carries_an_encoded_message_the_account_can_decode(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "nobody")
    readable, encoded = _denied_message(world.iam(keys).create_user, UserName="eve")
    assert readable == (f"User: {account.user_arn('nobody')} is not authorized to perform: iam:CreateUser on "
                        f"resource: {account.user_arn('eve')} because no identity-based policy allows the "
                        "iam:CreateUser action")
    decoded = json.loads(world.sts(account.root).decode_authorization_message(EncodedMessage=encoded)
                         ["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is False
    assert decoded["matchedStatements"] == {"items": []} and decoded["failures"] == {"items": []}
    context = decoded["context"]
    assert context["principal"]["arn"] == account.user_arn("nobody")
    assert context["principal"]["id"].startswith("AIDA") and context["principal"]["name"] == "nobody"
    assert context["action"] == "iam:CreateUser" and context["resource"] == account.user_arn("eve")
    conditions = {item["key"]: [v["value"] for v in item["values"]["items"]] for item in context["conditions"]["items"]}
    assert conditions["aws:username"] == ["nobody"] and conditions["aws:SourceIp"] == ["127.0.0.1"]
    assert conditions["aws:PrincipalArn"] == [account.user_arn("nobody")]
    # the same message twice is sealed anew each time (nothing to compare across answers)
    assert _denied_message(world.iam(keys).create_user, UserName="eve")[1] != encoded


def test_decoding_needs_the_permission(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "nobody")
    _, encoded = _denied_message(world.iam(keys).list_users)
    # the denied user may not read its own failure
    readable, _ = _denied_message(world.sts(keys).decode_authorization_message, EncodedMessage=encoded)
    assert "sts:DecodeAuthorizationMessage" in readable and account.user_arn("nobody") in readable
    iam = world.iam(account.root)
    decoder = world.api_user(account, "decoder")
    iam.put_user_policy(UserName="decoder", PolicyName="decode", PolicyDocument=_policy(
        _allow("sts:DecodeAuthorizationMessage")))
    decoded = json.loads(world.sts(decoder).decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["context"]["action"] == "iam:ListUsers"
    # an explicit deny of the action wins, also for an administrator
    admin = world.api_user(account, "admin", ADMIN)
    assert world.sts(admin).decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]
    iam.put_user_policy(UserName="admin", PolicyName="no-decoding", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}))
    readable, _ = _denied_message(world.sts(admin).decode_authorization_message, EncodedMessage=encoded)
    assert readable.endswith("with an explicit deny in an identity-based policy")


def test_explicit_deny_names_the_matched_statement(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "admin", ADMIN)
    world.iam(account.root).put_user_policy(UserName="admin", PolicyName="guard", PolicyDocument=_policy(
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": ["iam:Delete*"], "Resource": "*"}))
    world.iam(keys).create_group(GroupName="kept")
    readable, encoded = _denied_message(world.iam(keys).delete_group, GroupName="kept")
    assert readable.endswith("with an explicit deny in an identity-based policy")
    decoded = json.loads(world.sts(account.root).decode_authorization_message(EncodedMessage=encoded)
                         ["DecodedMessage"])
    assert decoded["explicitDeny"] is True
    [statement] = decoded["matchedStatements"]["items"]
    assert statement["statementId"] == "NoDeletes" and statement["effect"] == "DENY"
    assert statement["actions"] == {"items": [{"value": "iam:Delete*"}]}
    assert statement["resources"] == {"items": [{"value": "*"}]}


def test_forged_garbled_and_foreign_messages_are_invalid(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "nobody")
    _, encoded = _denied_message(world.iam(keys).list_roles)
    sts = world.sts(account.root)
    tampered = encoded[:-6] + ("A" if encoded[-6] != "A" else "B") + encoded[-5:]
    for bad in (tampered, "not-a-message", "v1.00000000.AAAA", encoded[: len(encoded) // 2]):
        err = _error(sts.decode_authorization_message, EncodedMessage=bad)
        assert error_code(err) == "InvalidAuthorizationMessageException", bad
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # another account's administrator cannot read this account's failures
    other = world.new_account()
    err = _error(world.sts(other.root).decode_authorization_message, EncodedMessage=encoded)
    assert error_code(err) == "InvalidAuthorizationMessageException"
    # the model's bounds: 1 to 10,240 characters
    err = _error(world.sts(account.root, validate=False).decode_authorization_message, EncodedMessage="x" * 10241)
    assert error_code(err) == "ValidationError"


def test_assume_role_denial_is_encoded_too(world: AwsWorld, account: Account) -> None:
    role = world.iam(account.root).create_role(RoleName="locked", AssumeRolePolicyDocument=_trust(
        f"arn:aws:iam::{account.account_id}:root"))["Role"]
    keys = world.api_user(account, "erin")
    readable, encoded = _denied_message(world.sts(keys).assume_role, RoleArn=role["Arn"], RoleSessionName="s1")
    assert readable.startswith(f"User: {account.user_arn('erin')} is not authorized to perform: sts:AssumeRole")
    decoded = json.loads(world.sts(account.root).decode_authorization_message(EncodedMessage=encoded)
                         ["DecodedMessage"])
    assert decoded["context"]["action"] == "sts:AssumeRole" and decoded["context"]["resource"] == role["Arn"]


def test_aws_cli_decodes_an_authorization_message(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    keys = world.api_user(account, "nobody")
    _, encoded = _denied_message(world.iam(keys).get_user)
    out = Cli(world, tmp_path).ok(account.root, "sts", "decode-authorization-message", "--encoded-message", encoded)
    decoded = json.loads(out["DecodedMessage"])
    assert decoded["context"]["action"] == "iam:GetUser"
    assert decoded["context"]["principal"]["arn"] == account.user_arn("nobody")


# ---- GetScopedCredentials ---------------------------------------------------------------------------------------


def _role_session(world: AwsWorld, account: Account, *, duration: int = 3600) -> tuple[Keys, dict[str, Any]]:
    iam = world.iam(account.root)
    iam.create_user(UserName="runner")
    iam.put_user_policy(UserName="runner", PolicyName="assume", PolicyDocument=_policy(_allow("sts:AssumeRole")))
    runner = Keys.of(iam.create_access_key(UserName="runner")["AccessKey"])
    iam.create_role(RoleName="worker", AssumeRolePolicyDocument=_trust(account.user_arn("runner")))
    iam.attach_role_policy(RoleName="worker", PolicyArn=ADMIN)
    out = world.sts(runner).assume_role(RoleArn=f"arn:aws:iam::{account.account_id}:role/worker",
                                        RoleSessionName="agent", DurationSeconds=duration)
    return Keys.of(out["Credentials"]), out


def _expiry(credentials: dict[str, Any]) -> float:
    expiration = credentials["Expiration"]
    assert isinstance(expiration, datetime)
    return expiration.timestamp()


def test_scoped_credentials_keep_the_identity_and_narrow_the_permissions(world: AwsWorld, account: Account) -> None:
    session, assumed = _role_session(world, account)
    out = world.sts(session).get_scoped_credentials(Policy=_policy(_allow(["iam:List*", "iam:Get*"])),
                                                    ScopedSessionDescription="read-only agent")
    assert out["SessionInfo"]["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert out["SessionInfo"]["ScopedSessionId"] == assumed["AssumedRoleUser"]["AssumedRoleId"]
    assert out["ScopedPoliciesCount"] == 1 and out["SessionTokenSize"] == len(out["Credentials"]["SessionToken"])
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    # no DurationSeconds: the calling session's own expiry
    assert abs(_expiry(out["Credentials"]) - _expiry(assumed["Credentials"])) < 1
    scoped = Keys.of(out["Credentials"])
    me = world.sts(scoped).get_caller_identity()
    assert me["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert world.iam(scoped).list_users()["Users"] is not None
    readable, _ = _denied_message(world.iam(scoped).create_user, UserName="new")
    assert "iam:CreateUser" in readable
    world.iam(session).create_user(UserName="made-by-the-session")  # the calling session keeps its permissions
    # a deny in the scope-down policy wins over the role's AdministratorAccess
    out = world.sts(session).get_scoped_credentials(Policy=_policy(
        _allow("*"), {"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}), DurationSeconds=900)
    assert 890 < _expiry(out["Credentials"]) - time.time() <= 900
    readable, _ = _denied_message(world.iam(Keys.of(out["Credentials"])).list_users)
    assert readable.endswith("with an explicit deny in a session policy")  # AWS names the policy type


def test_scope_down_layers_intersect_up_to_three(world: AwsWorld, account: Account) -> None:
    session, _ = _role_session(world, account)
    layer1 = Keys.of(world.sts(session).get_scoped_credentials(Policy=_policy(
        _allow(["iam:List*", "iam:Get*", "sts:GetScopedCredentials"])))["Credentials"])
    # a second layer that asks for more than the first still gets only what both allow
    out = world.sts(layer1).get_scoped_credentials(Policy=_policy(_allow(["iam:*", "sts:*"])))
    assert out["ScopedPoliciesCount"] == 2
    layer2 = Keys.of(out["Credentials"])
    _denied_message(world.iam(layer2).create_user, UserName="nope")
    assert world.iam(layer2).list_roles()["Roles"]
    layer3 = Keys.of(world.sts(layer2).get_scoped_credentials(Policy=_policy(
        _allow(["iam:ListRoles", "sts:GetScopedCredentials"])))["Credentials"])
    _denied_message(world.iam(layer3).list_users)
    assert world.iam(layer3).list_roles()["Roles"]
    err = _error(world.sts(layer3).get_scoped_credentials, Policy=_policy(_allow("iam:ListRoles")))
    assert error_code(err) == "AccessDenied" and "3 scope down policies" in err.response["Error"]["Message"]
    # a shorter life needs no fourth layer
    out = world.sts(layer3).get_scoped_credentials(DurationSeconds=60)
    assert out["ScopedPoliciesCount"] == 3


def test_scoped_credentials_refusals(world: AwsWorld, account: Account) -> None:
    admin = world.api_user(account, "admin", ADMIN)
    err = _error(world.sts(admin).get_scoped_credentials, DurationSeconds=900)
    assert error_code(err) == "InvalidSubjectCredentials"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = _error(world.sts(account.root).get_scoped_credentials, DurationSeconds=900)
    assert error_code(err) == "InvalidSubjectCredentials"
    session, _ = _role_session(world, account, duration=900)
    err = _error(world.sts(session).get_scoped_credentials, DurationSeconds=3600)
    assert error_code(err) == "InsufficientSessionLifetime" and "remaining lifetime" in err.response["Error"]["Message"]
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = _error(world.sts(session).get_scoped_credentials)
    assert error_code(err) == "ValidationError"
    err = _error(world.sts(session).get_scoped_credentials, Policy='{"Version": "2012-10-17", "Statement": 7}')
    assert error_code(err) == "MalformedPolicyDocument"
    err = _error(world.sts(session, validate=False).get_scoped_credentials, Policy="x" * 2049)
    assert error_code(err) == "ValidationError"
    err = _error(world.sts(session, validate=False).get_scoped_credentials, DurationSeconds=0)
    assert error_code(err) == "ValidationError"
    # the caller's own policies must allow sts:GetScopedCredentials
    world.iam(account.root).put_role_policy(RoleName="worker", PolicyName="no-scoping", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "sts:GetScopedCredentials", "Resource": "*"}))
    readable, _ = _denied_message(world.sts(session).get_scoped_credentials, DurationSeconds=60)
    assert "sts:GetScopedCredentials" in readable


def test_session_token_credentials_can_be_scoped(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "alice", ADMIN)
    session = Keys.of(world.sts(keys).get_session_token(DurationSeconds=900)["Credentials"])
    out = world.sts(session).get_scoped_credentials(Policy=_policy(_allow("sts:GetCallerIdentity")))
    assert out["SessionInfo"]["Arn"] == account.user_arn("alice")
    assert world.sts(Keys.of(out["Credentials"])).get_caller_identity()["Arn"] == account.user_arn("alice")


# ---- AssumeRoot -----------------------------------------------------------------------------------------------

TASK = {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}


def test_assume_root_is_refused_while_there_are_no_organizations(world: AwsWorld, account: Account) -> None:
    admin = world.api_user(account, "admin", ADMIN)
    member = world.new_account()
    for target in (member.account_id, member.root_arn):
        err = _error(world.sts(admin).assume_root, TargetPrincipal=target, TaskPolicyArn=TASK, DurationSeconds=900)
        assert error_code(err) == "AccessDenied", err.response["Error"]
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        message = err.response["Error"]["Message"]
        assert message.startswith(f"User: {account.user_arn('admin')} is not authorized to perform: sts:AssumeRoot "
                                  f"on resource: {member.root_arn} because the account {account.account_id} is not "
                                  "the management account or the delegated administrator account")
    # root users may never call it
    err = _error(world.sts(account.root).assume_root, TargetPrincipal=member.account_id, TaskPolicyArn=TASK)
    assert error_code(err) == "AccessDenied" and "Root user credentials" in err.response["Error"]["Message"]


def test_assume_root_validates_its_input_first(world: AwsWorld, account: Account) -> None:
    admin = world.api_user(account, "admin", ADMIN)
    sts = world.sts(admin, validate=False)
    member = world.new_account()
    err = _error(sts.assume_root, TargetPrincipal=member.account_id, TaskPolicyArn=TASK, DurationSeconds=901)
    assert error_code(err) == "ValidationError" and "900" in err.response["Error"]["Message"]
    err = _error(sts.assume_root, TargetPrincipal="not-an-account", TaskPolicyArn=TASK)
    assert error_code(err) == "InvalidParameterValue"
    err = _error(sts.assume_root, TargetPrincipal=f"arn:aws:iam::{member.account_id}:user/bob", TaskPolicyArn=TASK)
    assert error_code(err) == "InvalidParameterValue"
    err = _error(sts.assume_root, TargetPrincipal=member.account_id, TaskPolicyArn={"arn": ADMIN})
    assert error_code(err) == "InvalidParameterValue" and "root task policy" in err.response["Error"]["Message"]
    err = _error(sts.assume_root, TargetPrincipal=member.account_id)
    assert error_code(err) == "ValidationError"
    err = _error(sts.assume_root, TargetPrincipal="12345", TaskPolicyArn=TASK)
    assert error_code(err) == "ValidationError"


# ---- outbound web identity federation: IAM's setting, STS's GetWebIdentityToken, the issuer's documents --------


def _fetch(world: AwsWorld, issuer: str, document: str) -> tuple[int, Any]:
    path = issuer.split("://", 1)[1].split("/", 1)[1]
    try:
        with urllib.request.urlopen(f"{world.url}/{path}/.well-known/{document}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, None


def _verified(world: AwsWorld, issuer: str, token: str) -> dict[str, Any]:
    header = json.loads(jws.b64url_decode(token.split(".")[0]))
    status, jwks = _fetch(world, issuer, "jwks.json")
    assert status == 200
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert key["alg"] == header["alg"] and header["typ"] == "JWT"
    return jws.verify(token, key)


def test_outbound_federation_setting(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    err = _error(iam.get_outbound_web_identity_federation_info)
    assert error_code(err) == "FeatureDisabled" and err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    assert issuer.startswith(f"{world.deps.settings.public_origin}/outbound-federation/")  # VESTIBULE_PUBLIC_URL
    err = _error(iam.enable_outbound_web_identity_federation)
    assert error_code(err) == "FeatureEnabled" and err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    info = iam.get_outbound_web_identity_federation_info()
    assert info["IssuerIdentifier"] == issuer and info["JwtVendingEnabled"] is True
    status, discovery = _fetch(world, issuer, "openid-configuration")
    assert status == 200 and discovery["issuer"] == issuer
    assert discovery["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert set(discovery["id_token_signing_alg_values_supported"]) == {"RS256", "ES384"}
    status, jwks = _fetch(world, issuer, "jwks.json")
    assert status == 200 and {(k["kty"], k["alg"]) for k in jwks["keys"]} == {("RSA", "RS256"), ("EC", "ES384")}
    iam.disable_outbound_web_identity_federation()
    err = _error(iam.disable_outbound_web_identity_federation)
    assert error_code(err) == "FeatureDisabled"
    info = iam.get_outbound_web_identity_federation_info()
    assert info["IssuerIdentifier"] == issuer and info["JwtVendingEnabled"] is False
    assert _fetch(world, issuer, "jwks.json") == (200, jwks)  # tokens issued before still verify
    # enabled again: the same issuer and keys
    assert iam.enable_outbound_web_identity_federation()["IssuerIdentifier"] == issuer
    assert _fetch(world, issuer, "jwks.json") == (200, jwks)
    assert _fetch(world, issuer.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000", "jwks.json")[0] == 404
    # IAM users need the actions
    keys = world.api_user(account, "nobody")
    _denied_message(world.iam(keys).get_outbound_web_identity_federation_info)
    _denied_message(world.iam(keys).disable_outbound_web_identity_federation)


def test_web_identity_tokens(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    iam.create_user(UserName="workload", Tags=[{"Key": "team", "Value": "data"}])
    iam.put_user_policy(UserName="workload", PolicyName="tokens", PolicyDocument=_policy({
        "Effect": "Allow", "Action": "sts:GetWebIdentityToken", "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"sts:IdentityTokenAudience": ["https://api.example.com",
                                                                                  "https://other.example.com"]},
                      "NumericLessThanEquals": {"sts:DurationSeconds": "900"}}}))
    keys = Keys.of(iam.create_access_key(UserName="workload")["AccessKey"])
    sts = world.sts(keys)
    before = time.time()
    out = sts.get_web_identity_token(Audience=["https://api.example.com"], SigningAlgorithm="RS256",
                                     Tags=[{"Key": "job", "Value": "j-1"}])
    claims = _verified(world, issuer, out["WebIdentityToken"])
    assert claims["iss"] == issuer and claims["aud"] == "https://api.example.com"
    assert claims["sub"] == account.user_arn("workload")
    assert claims["exp"] - claims["iat"] == 300 and abs(claims["iat"] - before) < 5
    assert abs(_expiry(out) - claims["exp"]) < 1
    aws = claims["https://sts.amazonaws.com/"]
    assert aws["aws_account"] == account.account_id and aws["principal_id"] == account.user_arn("workload")
    assert aws["source_region"] == "us-east-1"
    assert aws["principal_tags"] == {"team": "data"} and aws["request_tags"] == {"job": "j-1"}
    out = sts.get_web_identity_token(Audience=["https://api.example.com", "https://other.example.com"],
                                     SigningAlgorithm="ES384", DurationSeconds=900)
    claims = _verified(world, issuer, out["WebIdentityToken"])
    assert claims["aud"] == ["https://api.example.com", "https://other.example.com"]
    assert claims["exp"] - claims["iat"] == 900
    # the policy's conditions: another audience, a longer life
    _denied_message(sts.get_web_identity_token, Audience=["https://evil.example.com"], SigningAlgorithm="RS256")
    _denied_message(sts.get_web_identity_token, Audience=["https://api.example.com"], SigningAlgorithm="RS256",
                    DurationSeconds=1800)
    # a tampered token does not verify
    head, _, signature = out["WebIdentityToken"].split(".")
    forged = jws.b64url(json.dumps({**claims, "sub": account.root_arn}).encode())
    with pytest.raises(ValueError):
        _verified(world, issuer, f"{head}.{forged}.{signature}")


def test_web_identity_token_refusals(world: AwsWorld, account: Account) -> None:
    admin = world.api_user(account, "admin", ADMIN)
    sts = world.sts(admin)
    err = _error(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256")
    assert error_code(err) == "OutboundWebIdentityFederationDisabledException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    issuer = world.iam(account.root).enable_outbound_web_identity_federation()["IssuerIdentifier"]
    unchecked = world.sts(admin, validate=False)
    for kwargs in ({"SigningAlgorithm": "HS256"}, {"SigningAlgorithm": "RS256", "SubjectMode": "OriginIdentity"},
                   {"SigningAlgorithm": "RS256", "Scope": "read"}, {"SigningAlgorithm": "RS256", "DurationSeconds": 59},
                   {"SigningAlgorithm": "RS256", "DurationSeconds": 3601}):
        err = _error(unchecked.get_web_identity_token, Audience=["a"], **kwargs)
        assert error_code(err) == "ValidationError", kwargs
    err = _error(unchecked.get_web_identity_token, Audience=[], SigningAlgorithm="RS256")
    assert error_code(err) == "ValidationError"
    err = _error(unchecked.get_web_identity_token, Audience=["a"] * 11, SigningAlgorithm="RS256")
    assert error_code(err) == "ValidationError"
    err = _error(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256",
                 Tags=[{"Key": f"k{i}", "Value": "v" * 256} for i in range(50)])
    assert error_code(err) == "JWTPayloadSizeExceededException"
    # a role session: the token names the role, and may not outlive the session
    session, assumed = _role_session(world, account, duration=900)
    out = world.sts(session).get_web_identity_token(Audience=["a"], SigningAlgorithm="ES384", DurationSeconds=600)
    claims = _verified(world, issuer, out["WebIdentityToken"])
    assert claims["sub"] == f"arn:aws:iam::{account.account_id}:role/worker"
    err = _error(world.sts(session).get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256",
                 DurationSeconds=3600)
    assert error_code(err) == "SessionDurationEscalationException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # turned off: no more tokens
    world.iam(account.root).disable_outbound_web_identity_federation()
    err = _error(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256")
    assert error_code(err) == "OutboundWebIdentityFederationDisabledException"
    assert assumed["AssumedRoleUser"]["Arn"].endswith("/agent")
