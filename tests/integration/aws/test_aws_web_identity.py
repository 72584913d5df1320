"""AssumeRoleWithWebIdentity through boto3 (unsigned) against a live server and a real OIDC provider on loopback
(tests/oidc_idp.py): RS256 and ES256 tokens, the documented refusals, key rotation, trust conditions, the
provider unreachable, durations, and the audit event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from integration.aws.aws_world import REGION, Account, AwsWorld, Keys, error_code
from oidc_idp import OidcProvider, SigningKey
from vestibule.core.throttle import ThrottleState
from vestibule.services.audit import as_dict
from vestibule.services.context import Client, Deps
from vestibule.services.federation import web_identity
from vestibule.settings import Settings

ACTION = "sts:AssumeRoleWithWebIdentity"


@pytest.fixture(scope="module")
def aws_settings(aws_settings: Settings) -> Settings:
    return replace(aws_settings, federation_insecure_loopback=True)


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(clients={"app": None, "second-app": None}) as provider:
        yield provider


def _budget(world: AwsWorld, *, wrong: int = 0, clear: bool = False) -> ThrottleState:
    """The loopback address's count of refused web identity calls (after counting `wrong` more, or clearing)."""
    keys = web_identity.throttle_keys(Client(ip="127.0.0.1"))

    async def run(deps: Deps) -> ThrottleState:
        if clear:
            await deps.throttle.settle(keys, ())
        for i in range(wrong):  # a minute apart (from now on): each is admitted, the last one is the latest
            await deps.throttle.reserve(keys, deps.clock() + 61 * i, captcha_solved=False)
        return (await deps.throttle.states(keys, deps.clock()))[0]

    return world.run(run)


@pytest.fixture(autouse=True)
def _fresh_budget(world: AwsWorld) -> Iterator[None]:
    _budget(world, clear=True)
    yield
    _budget(world, clear=True)


def _sts(world: AwsWorld) -> Any:
    config = botocore.config.Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 1},
                                    read_timeout=30)
    return boto3.session.Session().client("sts", endpoint_url=world.url, region_name=REGION, config=config)


def _register(world: AwsWorld, account: Account, idp: OidcProvider, client_ids: tuple[str, ...] = ("app",)) -> str:
    arn: str = world.iam(account.root).create_open_id_connect_provider(
        Url=idp.issuer, ClientIDList=list(client_ids))["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account.account_id}:oidc-provider/{idp.url}"
    return arn


def _role(world: AwsWorld, account: Account, provider_arn: str, name: str = "web",
          condition: dict[str, Any] | None = None, max_duration: int = 3600,
          actions: tuple[str, ...] = (ACTION,)) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                                 "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    created = world.iam(account.root).create_role(
        RoleName=name, MaxSessionDuration=max_duration,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    arn: str = created["Role"]["Arn"]
    return arn


def _assume(world: AwsWorld, role_arn: str, token: str, session: str = "web-session", **kw: Any) -> Any:
    return _sts(world).assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName=session,
                                                     WebIdentityToken=token, **kw)


def _refused(world: AwsWorld, role_arn: str, token: str, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        _assume(world, role_arn, token, **kw)
    return error_code(refused.value), str(refused.value.response["Error"]["Message"])


def _lifetime(credentials: dict[str, Any]) -> float:
    expiration = credentials["Expiration"]
    assert isinstance(expiration, datetime)
    return expiration.timestamp() - time.time()


def _events(world: AwsWorld, account_id: str) -> list[dict[str, object]]:
    async def read(deps: Deps) -> list[dict[str, object]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


@pytest.fixture
def world_with_provider(world: AwsWorld, account: Account, idp: OidcProvider) -> tuple[str, str]:
    """(provider ARN, role ARN) in `account`: the role trusts the provider for audience `app`."""
    provider = _register(world, account, idp)
    return provider, _role(world, account, provider, condition={"StringEquals": {f"{idp.url}:aud": "app"}})


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_rs256_and_es256_tokens_give_role_credentials(world: AwsWorld, account: Account, idp: OidcProvider,
                                                      world_with_provider: tuple[str, str], alg: str) -> None:
    provider, role = world_with_provider
    answer = _assume(world, role, idp.id_token("user-1234", alg=alg), "alice-session")
    assert answer["SubjectFromWebIdentityToken"] == "user-1234"
    assert answer["Audience"] == "app" and answer["Provider"] == provider
    session_arn = f"arn:aws:sts::{account.account_id}:assumed-role/web/alice-session"
    assert answer["AssumedRoleUser"]["Arn"] == session_arn
    assert answer["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice-session")
    assert answer["PackedPolicySize"] == 0
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and 3540 < _lifetime(credentials) <= 3605
    assert world.sts(Keys.of(credentials)).get_caller_identity()["Arn"] == session_arn
    events = [e for e in _events(world, account.account_id) if e["event"] == "AssumeRoleWithWebIdentity"]
    assert events and events[-1]["result"] == "Success" and events[-1]["principal"] == provider
    detail = json.dumps(events[-1])
    assert "user-1234" in detail and "alice-session" in detail
    assert credentials["SecretAccessKey"] not in detail and "eyJ" not in detail  # never a token or a secret


def test_session_policy_and_duration(world: AwsWorld, account: Account, idp: OidcProvider,
                                     world_with_provider: tuple[str, str]) -> None:
    _, role = world_with_provider
    world.iam(account.root).attach_role_policy(RoleName="web", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]})
    answer = _assume(world, role, idp.id_token(), DurationSeconds=900, Policy=policy)
    assert _lifetime(answer["Credentials"]) <= 905 and answer["PackedPolicySize"] > 0
    iam = world.iam(Keys.of(answer["Credentials"]))
    assert iam.list_roles()["Roles"]
    with pytest.raises(ClientError) as refused:
        iam.list_users()
    assert error_code(refused.value) == "AccessDenied"  # the session policy limits the role's
    assert _refused(world, role, idp.id_token(), DurationSeconds=7200)[0] == "ValidationError"


def test_refused_tokens(world: AwsWorld, idp: OidcProvider, world_with_provider: tuple[str, str]) -> None:
    _, role = world_with_provider
    assert _refused(world, role, idp.id_token(aud="second-app")) == ("InvalidIdentityToken",
                                                                     "Incorrect token audience")
    code, message = _refused(world, role, idp.id_token(lifetime=-600, issued=time.time() - 1200))
    assert code == "ExpiredTokenException" and message.startswith("Token expired")
    code, message = _refused(world, role, idp.id_token(iss="https://elsewhere.example.com"))
    assert code == "InvalidIdentityToken" and "No OpenIDConnect provider found" in message
    assert _refused(world, role, idp.unsigned(idp.claims()))[0] == "InvalidIdentityToken"
    assert _refused(world, role, idp.hs256_with_public_key(idp.claims()))[0] == "InvalidIdentityToken"
    forged = idp.sign(idp.claims(), key=SigningKey.generate("RS256"), kid=idp.key("RS256").kid)
    assert _refused(world, role, forged)[0] == "InvalidIdentityToken"
    assert _refused(world, role, "not.a.token")[0] == "InvalidIdentityToken"
    assert _refused(world, role, idp.id_token(nbf=int(time.time()) + 3600))[0] == "IDPRejectedClaim"


def test_unknown_kid_then_rotation(world: AwsWorld, account: Account, world_with_provider: tuple[str, str]) -> None:
    with OidcProvider(clients={"app": None}) as rotating:
        provider = _register(world, account, rotating)
        role = _role(world, account, provider, "rotating")
        assert _assume(world, role, rotating.id_token())["Audience"] == "app"
        fetched = rotating.count("/jwks")
        assert fetched == 1
        new = rotating.rotate("RS256")
        assert _assume(world, role, rotating.id_token(key=new))["Audience"] == "app"  # the set fetched again
        assert rotating.count("/jwks") == 2
        unknown = rotating.id_token(key=SigningKey.generate("RS256", "never-published"))
        assert _refused(world, role, unknown)[0] == "InvalidIdentityToken"
        assert rotating.count("/jwks") == 2  # fetched less than 30 seconds ago: not again
        world.clock.offset = 31
        assert _refused(world, role, unknown)[0] == "InvalidIdentityToken"
        assert rotating.count("/jwks") == 3
        assert rotating.count("/.well-known/openid-configuration") == 1  # discovery is cached for 10 minutes


def test_trust_conditions_on_sub_and_amr(world: AwsWorld, account: Account, idp: OidcProvider) -> None:
    provider = _register(world, account, idp)
    role = _role(world, account, provider, condition={
        "StringEquals": {f"{idp.url}:sub": "alice", f"{idp.url}:aud": "app"},
        "ForAnyValue:StringEquals": {f"{idp.url}:amr": "mfa"}})
    assert _assume(world, role, idp.id_token("alice", amr=["pwd", "mfa"]))["SubjectFromWebIdentityToken"] == "alice"
    code, message = _refused(world, role, idp.id_token("mallory", amr=["pwd", "mfa"]))
    assert code == "AccessDenied" and ACTION in message
    assert _refused(world, role, idp.id_token("alice", amr=["pwd"]))[0] == "AccessDenied"
    failures = [e for e in _events(world, account.account_id)
                if e["event"] == "AssumeRoleWithWebIdentity" and e["result"] == "Failure"]
    assert any("mallory" in json.dumps(e) for e in failures)
    other = _role(world, account, provider, "assume-role-only", actions=("sts:AssumeRole",))
    assert _refused(world, other, idp.id_token("alice"))[0] == "AccessDenied"
    missing = f"arn:aws:iam::{account.account_id}:role/missing"
    assert _refused(world, missing, idp.id_token("alice"))[0] == "AccessDenied"


def test_source_identity_claim_needs_set_source_identity(world: AwsWorld, account: Account,
                                                         idp: OidcProvider) -> None:
    provider = _register(world, account, idp)
    plain = _role(world, account, provider, "plain")
    token = idp.sign({**idp.claims("alice"), "https://aws.amazon.com/source_identity": "alice@example.com"})
    assert _refused(world, plain, token)[0] == "AccessDenied"
    allowed = _role(world, account, provider, "with-source", actions=(ACTION, "sts:SetSourceIdentity"))
    answer = _assume(world, allowed, token)
    assert answer["SourceIdentity"] == "alice@example.com"


def test_session_tags_claim_needs_tag_session(world: AwsWorld, account: Account, idp: OidcProvider) -> None:
    provider = _register(world, account, idp)
    claims = {**idp.claims("alice"), "https://aws.amazon.com/tags": {
        "principal_tags": {"Project": ["blue"]}, "transitive_tag_keys": ["Project"]}}
    assert _refused(world, _role(world, account, provider, "untagged"), idp.sign(claims))[0] == "AccessDenied"
    role = _role(world, account, provider, "tagged", actions=(ACTION, "sts:TagSession"))
    world.iam(account.root).put_role_policy(RoleName="tagged", PolicyName="by-tag", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
                                                "Condition": {"StringEquals": {"aws:PrincipalTag/Project": "blue"}}}]}))
    answer = _assume(world, role, idp.sign(claims))
    assert world.iam(Keys.of(answer["Credentials"])).list_roles()["Roles"]  # the session carries the tag
    bad = {**idp.claims("alice"), "https://aws.amazon.com/tags": {"principal_tags": {"Project": "blue"}}}
    assert _refused(world, role, idp.sign(bad))[0] == "InvalidIdentityToken"


def test_provider_unreachable_or_lying(world: AwsWorld, account: Account) -> None:
    with OidcProvider(clients={"app": None}) as failing:
        role = _role(world, account, _register(world, account, failing), "failing")
        failing.failing_status = 503
        code, message = _refused(world, role, failing.id_token())
        assert code == "IDPCommunicationError" and "503" in message
    other = world.new_account()
    with OidcProvider(clients={"app": None}) as lying:
        role = _role(world, other, _register(world, other, lying), "lying")
        lying.discovery_issuer = "https://someone-else.example.com"
        assert _refused(world, role, lying.id_token())[0] == "IDPCommunicationError"
    third = world.new_account()
    gone = OidcProvider(clients={"app": None}).start()
    role = _role(world, third, _register(world, third, gone), "gone")
    token = gone.id_token()
    gone.stop()
    assert _refused(world, role, token)[0] == "IDPCommunicationError"


def test_https_certificates_are_checked(world: AwsWorld, account: Account) -> None:
    with OidcProvider(clients={"app": None}, tls=True) as untrusted:
        role = _role(world, account, _register(world, account, untrusted), "untrusted")
        code, message = _refused(world, role, untrusted.id_token())
        assert code == "IDPCommunicationError" and untrusted.issuer in message
        assert untrusted.hits == []  # the TLS handshake failed: no request was read


def test_malformed_requests(world: AwsWorld, idp: OidcProvider, world_with_provider: tuple[str, str]) -> None:
    _, role = world_with_provider
    loose = boto3.session.Session().client("sts", endpoint_url=world.url, region_name=REGION, config=(
        botocore.config.Config(signature_version=UNSIGNED, parameter_validation=False,
                               retries={"mode": "standard", "max_attempts": 1})))
    with pytest.raises(ClientError) as refused:
        loose.assume_role_with_web_identity(RoleArn=role, RoleSessionName="x", WebIdentityToken=idp.id_token())
    assert error_code(refused.value) == "ValidationError"
    with pytest.raises(ClientError) as refused:
        loose.assume_role_with_web_identity(RoleArn="arn:aws:iam::123:role/x" + "y" * 10, RoleSessionName="ok",
                                            WebIdentityToken=idp.id_token())
    assert error_code(refused.value) in ("ValidationError", "AccessDenied")


def test_the_sdk_web_identity_provider_of_the_aws_cli(world: AwsWorld, account: Account, idp: OidcProvider,
                                                      world_with_provider: tuple[str, str], tmp_path: Path) -> None:
    """AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, as a Kubernetes pod or a CI job has them: the unmodified
    `aws` command assumes the role by itself."""
    _, role = world_with_provider
    token_file = tmp_path / "token"
    token_file.write_text(idp.id_token("workload-7"))
    (tmp_path / "config").write_text("[default]\noutput = json\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_ENDPOINT_URL": world.url, "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1",
           "AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_SESSION_NAME": "ci-job",
           "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([str(Path(sys.executable).parent / "aws"), "sts", "get-caller-identity"], env=env,
                          capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == f"arn:aws:sts::{account.account_id}:assumed-role/web/ci-job"


def test_refusals_are_throttled_per_address(world: AwsWorld, account: Account, idp: OidcProvider,
                                            world_with_provider: tuple[str, str]) -> None:
    _, role = world_with_provider
    assert _assume(world, role, idp.id_token())["Audience"] == "app"
    assert _budget(world).failures == 0  # a right call costs nothing
    assert _refused(world, role, "not.a.token")[0] == "InvalidIdentityToken"
    assert _refused(world, role, idp.id_token(aud="second-app"))[0] == "InvalidIdentityToken"
    assert _refused(world, role.replace("/web", "/nobody"), idp.id_token())[0] == "AccessDenied"
    assert _budget(world).failures == 3  # refused tokens and refused roles count
    _budget(world, wrong=60)  # past 60 refusals in the hour the next attempt waits, even with a right token
    code, _ = _refused(world, role, idp.id_token())
    assert code == "Throttling"
    assert _budget(world).failures == 63  # the throttled attempt is not counted again
    with OidcProvider(clients={"app": None}) as failing:
        other = _role(world, account, _register(world, account, failing), "failing-idp")
        failing.failing_status = 503
        _budget(world, clear=True)
        assert _refused(world, other, failing.id_token())[0] == "IDPCommunicationError"
        assert _budget(world).failures == 0  # the provider's outage is not the caller's wrong attempt
