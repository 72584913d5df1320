"""AssumeRoleWithSAML through boto3 (unsigned) against a live server, with responses from the tests' pysaml2 IdP
(tests/saml_idp.py): success with the response or the assertion signed, the answer's members, the credentials
working; refusals as AWS names them: the eight signature-wrapping variants, unsigned, a comment in the NameID,
a replay, expired, another audience, a DOCTYPE with an external entity, another certificate, the IdP's clock,
trust conditions, durations; the audit event; the janitor's purge of used assertion IDs."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from integration.aws.aws_world import REGION, Account, AwsWorld, Keys, error_code
from saml_attacks import EVIL_NAME, WRAPPINGS, A, tree, wrapped
from saml_idp import NAMEID_EMAIL, STATUS_REQUESTER, SamlIdp, encode, new_signing_identity
from vestibule.services import janitor
from vestibule.services.api_call import ApiCall
from vestibule.services.audit import as_dict
from vestibule.services.aws_identity import caller_for_principal
from vestibule.services.context import Client, Deps
from vestibule.services.federation import saml as federation_saml
from vestibule.services.iam import identity_providers
from vestibule.store.repositories import Conflict

ACTION = "sts:AssumeRoleWithSAML"


@pytest.fixture(scope="module")
def idp() -> Iterator[SamlIdp]:
    provider = SamlIdp(entity_id="https://idp.corp.example/saml")
    yield provider
    provider.close()


def sp(world: AwsWorld) -> str:
    """The service provider's entity ID and ACS: the live server's public URL + /saml."""
    return f"{world.url}/saml"


def _sts(world: AwsWorld) -> Any:
    config = botocore.config.Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 1},
                                    read_timeout=30)
    return boto3.session.Session().client("sts", endpoint_url=world.url, region_name=REGION, config=config)


def _register(world: AwsWorld, account: Account, metadata: str, name: str = "Corp") -> str:
    async def create(deps: Deps) -> str:
        async with deps.store.unit() as uow:
            caller = await caller_for_principal(uow, f"root:{account.account_id}", account.root.access_key_id)
        assert caller is not None
        call = ApiCall(deps, caller, "iam", "iam:CreateSAMLProvider", "CreateSAMLProvider", source_ip="127.0.0.1")
        return (await identity_providers.create_saml_provider(call, name, metadata, [])).arn

    return world.run(create)


def _role(world: AwsWorld, account: Account, provider_arn: str, name: str = "Admin",
          condition: dict[str, Any] | None = None, max_duration: int = 3600,
          actions: tuple[str, ...] = (ACTION,)) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                                 "Action": list(actions),
                                 "Condition": condition or {"StringEquals": {"SAML:aud": sp(world)}}}
    created = world.iam(account.root).create_role(
        RoleName=name, MaxSessionDuration=max_duration,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    arn: str = created["Role"]["Arn"]
    return arn


@pytest.fixture
def corp(world: AwsWorld, account: Account, idp: SamlIdp) -> tuple[str, str]:
    """(provider ARN, role ARN) in `account`: the role trusts the provider for audience `sp(world)`."""
    provider = _register(world, account, idp.metadata())
    return provider, _role(world, account, provider)


def _response(world: AwsWorld, idp: SamlIdp, role: str, provider: str, **options: Any) -> str:
    options.setdefault("name_id", "alice@corp.example")
    return idp.response(sp_entity_id=sp(world), roles=[(role, provider)], session_name="alice", **options)


def _assume(world: AwsWorld, role: str, provider: str, saml_b64: str, **kw: Any) -> Any:
    return _sts(world).assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=saml_b64, **kw)


def _refused(world: AwsWorld, role: str, provider: str, saml_b64: str, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        _assume(world, role, provider, saml_b64, **kw)
    return error_code(refused.value), str(refused.value.response["Error"]["Message"])


def _lifetime(credentials: dict[str, Any]) -> float:
    expiration = credentials["Expiration"]
    assert isinstance(expiration, datetime)
    return expiration.timestamp() - time.time()


def _events(world: AwsWorld, account_id: str, name: str = "AssumeRoleWithSAML") -> list[dict[str, Any]]:
    async def read(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return [event for event in world.run(read) if event.get("event") == name]


@pytest.mark.parametrize(("sign_response", "sign_assertion"), [(True, True), (False, True), (True, False)])
def test_signed_response_gives_role_credentials(world: AwsWorld, account: Account, idp: SamlIdp,
                                                corp: tuple[str, str], sign_response: bool,
                                                sign_assertion: bool) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, sign_response=sign_response, sign_assertion=sign_assertion)
    answer = _assume(world, role, provider, encode(xml))
    assert answer["Subject"] == "alice@corp.example" and answer["SubjectType"] == "persistent"
    assert answer["Issuer"] == "https://idp.corp.example/saml" and answer["Audience"] == sp(world)
    expected = base64.b64encode(hashlib.sha1(
        f"https://idp.corp.example/saml{account.account_id}/Corp".encode()).digest()).decode()
    assert answer["NameQualifier"] == expected
    session_arn = f"arn:aws:sts::{account.account_id}:assumed-role/Admin/alice"
    assert answer["AssumedRoleUser"]["Arn"] == session_arn
    assert answer["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice")
    assert answer["PackedPolicySize"] == 0 and "SourceIdentity" not in answer
    credentials = answer["Credentials"]
    assert 3590 < _lifetime(credentials) <= 3600
    me = world.sts(Keys.of(credentials)).get_caller_identity()
    assert me["Arn"] == session_arn and me["Account"] == account.account_id
    events = _events(world, account.account_id)
    assert events and events[-1]["result"] == "Success" and events[-1]["principal"] == provider
    assert events[-1]["method"] == "saml" and events[-1]["detail"]["subject"] == "alice@corp.example"
    assert xml.split("<ns2:SignatureValue>")[-1][:40] not in json.dumps(events)  # no assertion text audited


def test_replayed_assertion_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    saml_b64 = encode(_response(world, idp, role, provider))
    _assume(world, role, provider, saml_b64)
    code, message = _refused(world, role, provider, saml_b64)
    assert code == "InvalidIdentityToken" and "already used" in message


@pytest.mark.parametrize("name", sorted(WRAPPINGS))
def test_signature_wrapping_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str], name: str) -> None:
    provider, role = corp
    response_signed = WRAPPINGS[name][1]
    xml = _response(world, idp, role, provider, sign_response=response_signed, sign_assertion=not response_signed)
    attacked = wrapped(xml, name)
    assert EVIL_NAME.encode() in attacked
    code, _ = _refused(world, role, provider, encode(attacked))
    assert code == "InvalidIdentityToken"


def test_unsigned_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, sign_response=False, sign_assertion=False)
    code, message = _refused(world, role, provider, encode(xml))
    assert code == "InvalidIdentityToken" and "signed" in message


def test_comment_in_name_id_reads_the_whole_name(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, name_id="user@evil.com.example.com")
    attacked = xml.replace(">user@evil.com.example.com<", ">user@evil.com<!---->.example.com<")
    assert attacked != xml
    assert _assume(world, role, provider, encode(attacked))["Subject"] == "user@evil.com.example.com"


def test_expired_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, not_on_or_after=time.time() - 400)
    assert _refused(world, role, provider, encode(xml))[0] == "ExpiredTokenException"


def test_other_audience_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, audience="https://signin.aws.amazon.com/saml")
    code, message = _refused(world, role, provider, encode(xml))
    assert code == "InvalidIdentityToken" and "another service" in message


def test_other_recipient_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, recipient="https://signin.aws.amazon.com/saml", destination=None)
    assert _refused(world, role, provider, encode(xml))[0] == "InvalidIdentityToken"


def test_doctype_with_external_entity_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider).replace('<?xml version="1.0"?>', "")
    attacked = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + xml.replace(">alice@corp.example<", ">&x;<"))
    code, message = _refused(world, role, provider, encode(attacked))
    assert code == "InvalidIdentityToken" and "DOCTYPE" in message and "root:" not in message


def test_other_certificate_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, signer=new_signing_identity("Impostor"))
    code, message = _refused(world, role, provider, encode(xml))
    assert code == "InvalidIdentityToken" and "certificate" in message


def test_idp_clock_ahead_refused(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, now=time.time() + 900)
    code, message = _refused(world, role, provider, encode(xml))
    assert code == "IDPRejectedClaim" and "15 minutes ahead" in message


def test_trust_condition_on_subject(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    provider = _register(world, account, idp.metadata())
    role = _role(world, account, provider, "OnlyBob", condition={
        "StringEquals": {"SAML:aud": sp(world), "SAML:sub": "bob@corp.example", "SAML:sub_type": "persistent",
                         "SAML:iss": "https://idp.corp.example/saml", "SAML:doc": f"{account.account_id}/Corp"}})
    code, _ = _refused(world, role, provider, encode(_response(world, idp, role, provider)))
    assert code == "AccessDenied"
    failure = _events(world, account.account_id)[-1]
    assert failure["result"] == "Failure" and failure["detail"]["subject"] == "alice@corp.example"
    answer = _assume(world, role, provider, encode(_response(world, idp, role, provider, name_id="bob@corp.example")))
    assert answer["Subject"] == "bob@corp.example"


def test_role_not_in_the_assertion_refused(world: AwsWorld, account: Account, idp: SamlIdp,
                                           corp: tuple[str, str]) -> None:
    provider, role = corp
    other = _role(world, account, provider, "Other")
    assert _refused(world, other, provider, encode(_response(world, idp, role, provider)))[0] == "AccessDenied"


def test_unknown_provider_refused(world: AwsWorld, account: Account, idp: SamlIdp, corp: tuple[str, str]) -> None:
    _, role = corp
    missing = f"arn:aws:iam::{account.account_id}:saml-provider/Nobody"
    assert _refused(world, role, missing, encode(_response(world, idp, role, missing)))[0] == "InvalidIdentityToken"


def test_durations(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    provider = _register(world, account, idp.metadata())
    role = _role(world, account, provider, "Long", max_duration=7200)
    answer = _assume(world, role, provider, encode(_response(world, idp, role, provider)), DurationSeconds=7200)
    assert 7190 < _lifetime(answer["Credentials"]) <= 7200
    code, message = _refused(world, role, provider, encode(_response(world, idp, role, provider)),
                             DurationSeconds=10800)
    assert code == "ValidationError" and "MaxSessionDuration" in message
    # SessionNotOnOrAfter shortens the session
    short = _response(world, idp, role, provider, session_not_on_or_after=time.time() + 1000)
    assert 980 < _lifetime(_assume(world, role, provider, encode(short))["Credentials"]) <= 1000


def test_source_identity_needs_set_source_identity(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    provider = _register(world, account, idp.metadata())
    plain = _role(world, account, provider, "Plain")
    xml = _response(world, idp, plain, provider, source_identity="alice")
    assert _refused(world, plain, provider, encode(xml))[0] == "AccessDenied"
    allowed = _role(world, account, provider, "Traced", actions=(ACTION, "sts:SetSourceIdentity"))
    traced = _response(world, idp, allowed, provider, source_identity="alice")
    answer = _assume(world, allowed, provider, encode(traced))
    assert answer["SourceIdentity"] == "alice"


def test_name_id_format_reported(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    provider, role = corp
    answer = _assume(world, role, provider, encode(_response(world, idp, role, provider, name_id_format=NAMEID_EMAIL)))
    assert answer["SubjectType"] == NAMEID_EMAIL


def test_bad_input_is_an_aws_error(world: AwsWorld, corp: tuple[str, str]) -> None:
    provider, role = corp
    assert _refused(world, role, provider, "not base64 at all!")[0] == "InvalidIdentityToken"
    assert _refused(world, role, provider, encode("<x/>"))[0] == "InvalidIdentityToken"
    assert _refused(world, "arn:aws:iam::123:nothing", provider, encode("<x/>"))[0] == "ValidationError"


def test_janitor_purges_used_assertions_after_they_expire(world: AwsWorld, idp: SamlIdp,
                                                          corp: tuple[str, str]) -> None:
    provider, role = corp
    xml = _response(world, idp, role, provider, lifetime=60)
    _assume(world, role, provider, encode(xml))
    assertion = tree(xml).find(f"{A}Assertion")
    assert assertion is not None
    key = hashlib.sha256(f"{idp.entity_id}\x00{assertion.get('ID')}".encode()).hexdigest()

    async def used(deps: Deps) -> bool:
        try:
            async with deps.store.unit() as uow:
                await uow.saml_assertion_uses.add(key, time.time() + 60)
                raise _Probe()
        except Conflict:
            return True
        except _Probe:  # rolled back: the probe leaves nothing behind
            return False

    def purge(at: float) -> int:
        async def run(deps: Deps) -> int:
            return (await janitor.run_once(janitor.JanitorPorts(deps.store, lambda: at))).saml_assertion_uses
        return world.run(run)

    purge(time.time())
    assert world.run(used)  # still within the assertion's lifetime (and the skew): kept
    assert purge(time.time() + 60 + 300 + 5) >= 1
    assert not world.run(used)


class _Probe(Exception):
    pass


def test_session_policy_and_principal_tags(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    provider = _register(world, account, idp.metadata())
    role = _role(world, account, provider, "Tagged", actions=(ACTION, "sts:TagSession"))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                                 "Resource": "*"}]})
    tagged = _response(world, idp, role, provider,
                       attributes={"https://aws.amazon.com/SAML/Attributes/PrincipalTag:team": ["blue"]})
    answer = _assume(world, role, provider, encode(tagged), Policy=policy)
    assert answer["PackedPolicySize"] > 0
    assert _events(world, account.account_id)[-1]["detail"]["session_tag_keys"] == "team"
    assert _refused(world, role, provider, encode(_response(world, idp, role, provider)),
                    Policy="{not json")[0] == "MalformedPolicyDocument"
    untagged_role = _role(world, account, provider, "NoTags")
    untagged = _response(world, idp, untagged_role, provider,
                         attributes={"https://aws.amazon.com/SAML/Attributes/PrincipalTag:team": ["blue"]})
    assert _refused(world, untagged_role, provider, encode(untagged))[0] == "AccessDenied"


def test_aws_cli_registers_the_provider_and_assumes_the_role(world: AwsWorld, account: Account, idp: SamlIdp,
                                                             tmp_path: Path) -> None:
    """The docs' walk-through with the unmodified `aws` command: create-saml-provider from the metadata file,
    then assume-role-with-saml without any credentials."""
    (tmp_path / "config").write_text("[default]\noutput = json\n")
    (tmp_path / "idp.xml").write_text(idp.metadata())
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_ENDPOINT_URL": world.url, "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1",
            "PYTHONWARNINGS": "ignore"}
    admin = {**base, "AWS_ACCESS_KEY_ID": account.root.access_key_id,
             "AWS_SECRET_ACCESS_KEY": account.root.secret_access_key}

    def aws(env: dict[str, str], *args: str) -> Any:
        done = subprocess.run([str(Path(sys.executable).parent / "aws"), *args], env=env, capture_output=True,
                              text=True, timeout=60, check=False, cwd=tmp_path)
        assert done.returncode == 0, f"aws {' '.join(args[:2])}: exit {done.returncode}\n{done.stderr}"
        return json.loads(done.stdout)

    provider = aws(admin, "iam", "create-saml-provider", "--name", "CliCorp",
                   "--saml-metadata-document", "file://idp.xml")["SAMLProviderArn"]
    assert provider == f"arn:aws:iam::{account.account_id}:saml-provider/CliCorp"
    role = _role(world, account, provider, "CliAdmin")
    saml_b64 = encode(_response(world, idp, role, provider))
    answer = aws(base, "sts", "assume-role-with-saml", "--role-arn", role, "--principal-arn", provider,
                 "--saml-assertion", saml_b64)
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.account_id}:assumed-role/CliAdmin/alice"
    assert answer["Subject"] == "alice@corp.example" and answer["Credentials"]["SessionToken"]


def test_idp_error_status_is_idp_rejected_claim(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    """A response whose status is not Success: the IdP reported that authentication failed, which botocore's
    model calls IDPRejectedClaim (403); IDPCommunicationError is not among AssumeRoleWithSAML's errors."""
    provider, role = corp
    with pytest.raises(ClientError) as refused:
        _assume(world, role, provider, encode(_response(world, idp, role, provider, status=STATUS_REQUESTER)))
    assert error_code(refused.value) == "IDPRejectedClaim"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_refusals_are_throttled_per_address(world: AwsWorld, idp: SamlIdp, corp: tuple[str, str]) -> None:
    """Wrong attempts count per client address (the SAML doors' shared budget); past it every attempt, a good
    one too, is Throttling until the wait is over, and is not looked at."""
    provider, role = corp
    keys = federation_saml.failure_keys(Client(ip="127.0.0.1"))

    async def failures(deps: Deps) -> int:
        return (await deps.throttle.states(keys, deps.clock()))[0].failures

    async def exhaust(deps: Deps) -> None:
        for i in range(70):  # one a minute apart (each admitted), the last ones still ahead
            await deps.throttle.reserve(keys, deps.clock() + 61 * i, captcha_solved=False)

    async def clear(deps: Deps) -> None:
        await deps.throttle.settle(keys, ())

    world.run(clear)
    assert _refused(world, role, provider, encode("<x/>"))[0] == "InvalidIdentityToken"
    assert world.run(failures) == 1
    good = encode(_response(world, idp, role, provider))
    try:
        world.run(exhaust)
        assert _refused(world, role, provider, good)[0] == "Throttling"
    finally:
        world.run(clear)
    assert _assume(world, role, provider, good)["AssumedRoleUser"]["Arn"].endswith(":assumed-role/Admin/alice")
