"""IAM OpenID Connect and SAML identity providers through boto3 and the aws CLI: create, get, list, client IDs,
thumbprints, update, delete, tags in pages, the documented errors, 100 of each per account, authorization on the
provider's ARN, audit events, and the read API federation uses. Plain http:// provider URLs are refused here (the
loopback setting is off; test_aws_iam_identity_providers_loopback.py turns it on)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, at_once, error_code
from integration.aws.test_aws_cli import Cli
from saml_idp import SamlIdp
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps
from vestibule.services.iam import identity_providers as providers
from vestibule.store.models import OidcProvider, SamlProvider

PRINT_A = "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280"
PRINT_B = "a" * 40


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _events(world: AwsWorld, account_id: str) -> list[dict[str, Any]]:
    async def read(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


@pytest.fixture(scope="module")
def idp() -> Iterator[SamlIdp]:
    made = SamlIdp(entity_id="https://idp.example.com/saml", sso_url="https://idp.example.com/sso")
    yield made
    made.close()


def test_oidc_provider_lifecycle(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    made = iam.create_open_id_connect_provider(
        Url="https://IdP.example.com/tenant/", ClientIDList=["app-1", "app-2", "app-1"], ThumbprintList=[PRINT_A],
        Tags=[{"Key": "team", "Value": "identity"}])
    arn = made["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account.account_id}:oidc-provider/idp.example.com/tenant"
    assert made["Tags"] == [{"Key": "team", "Value": "identity"}]

    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "idp.example.com/tenant"
    assert got["ClientIDList"] == ["app-1", "app-2"]
    assert got["ThumbprintList"] == [PRINT_A.lower()]
    assert got["Tags"] == [{"Key": "team", "Value": "identity"}]
    assert abs(got["CreateDate"].timestamp() - world.clock()) < 60
    # the same URL again, written another way, is the same provider
    _fails("EntityAlreadyExists", iam.create_open_id_connect_provider, Url="https://idp.example.com/tenant")
    second = iam.create_open_id_connect_provider(Url="https://idp.example.com:8443")["OpenIDConnectProviderArn"]
    assert second.endswith(":oidc-provider/idp.example.com:8443")
    assert "Tags" not in iam.get_open_id_connect_provider(OpenIDConnectProviderArn=second)
    listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert sorted(p["Arn"] for p in listed) == sorted([arn, second])

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-3")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-3")  # once
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-1")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="never-there")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[PRINT_B, PRINT_A])
    iam.update_open_id_connect_provider(OpenIDConnectProviderArn=arn)  # nothing to change, but it exists
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["app-2", "app-3"]
    assert got["ThumbprintList"] == [PRINT_B, PRINT_A.lower()]

    # tags, in pages
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"},
                                                                         {"Key": "zone", "Value": "a"}])
    first = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, MaxItems=2)
    assert first["IsTruncated"] is True and [t["Key"] for t in first["Tags"]] == ["env", "team"]
    rest = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and rest["Tags"] == [{"Key": "zone", "Value": "a"}]
    pages = iam.get_paginator("list_open_id_connect_provider_tags").paginate(
        OpenIDConnectProviderArn=arn, PaginationConfig={"PageSize": 1})
    assert [t["Key"] for page in pages for t in page["Tags"]] == ["env", "team", "zone"]
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team", "zone"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "prod"}]
    _fails("LimitExceeded", iam.tag_open_id_connect_provider, OpenIDConnectProviderArn=arn,
           Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    for call in (iam.get_open_id_connect_provider, iam.delete_open_id_connect_provider,
                 iam.update_open_id_connect_provider, iam.list_open_id_connect_provider_tags):
        _fails("NoSuchEntity", call, OpenIDConnectProviderArn=arn)
    _fails("NoSuchEntity", iam.add_client_id_to_open_id_connect_provider, OpenIDConnectProviderArn=arn,
           ClientID="x")
    _fails("NoSuchEntity", iam.tag_open_id_connect_provider, OpenIDConnectProviderArn=arn,
           Tags=[{"Key": "a", "Value": "b"}])
    # made again, it starts untagged
    again = iam.create_open_id_connect_provider(Url="https://idp.example.com/tenant")["OpenIDConnectProviderArn"]
    assert again == arn and iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == []
    assert iam.get_account_summary()["SummaryMap"]["Providers"] == 2

    events = {e["event"]: e for e in _events(world, account.account_id)}
    for wanted in ("CreateOpenIDConnectProvider", "AddClientIDToOpenIDConnectProvider",
                   "RemoveClientIDFromOpenIDConnectProvider", "UpdateOpenIDConnectProviderThumbprint",
                   "UpdateOpenIDConnectProvider", "TagOpenIDConnectProvider", "UntagOpenIDConnectProvider",
                   "DeleteOpenIDConnectProvider"):
        assert wanted in events, wanted
        assert events[wanted]["detail"]["oidc_provider"] == arn, events[wanted]


@pytest.mark.parametrize("url", [
    "http://idp.example.com", "http://127.0.0.1:4711", "http://localhost/x", "ftp://idp.example.com",
    "idp.example.com", "https://", "https://idp.example.com/?tenant=1", "https://idp.example.com/#x",
    "https://user:secret@idp.example.com", "https://idp.example.com:99999",
])
def test_oidc_urls_refused(world: AwsWorld, account: Account, url: str) -> None:
    err = _fails("InvalidInput", world.iam(account.root).create_open_id_connect_provider, Url=url)
    assert "Url" in err.response["Error"]["Message"]
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_oidc_inputs_refused(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    loose = world.iam(account.root, validate=False)
    _fails("InvalidInput", iam.create_open_id_connect_provider, Url="https://a.example.com",
           ThumbprintList=["z" * 40])
    _fails("InvalidInput", loose.create_open_id_connect_provider, Url="https://a.example.com",
           ThumbprintList=["ab"])  # botocore would refuse the length itself
    _fails("LimitExceeded", iam.create_open_id_connect_provider, Url="https://a.example.com",
           ThumbprintList=[f"{i:040x}" for i in range(6)])
    _fails("InvalidInput", loose.create_open_id_connect_provider, Url="https://a.example.com", ClientIDList=["x" * 256])
    arn = iam.create_open_id_connect_provider(Url="https://a.example.com",
                                              ClientIDList=[f"c{i}" for i in range(100)])["OpenIDConnectProviderArn"]
    _fails("LimitExceeded", iam.add_client_id_to_open_id_connect_provider, OpenIDConnectProviderArn=arn,
           ClientID="one-more")
    _fails("InvalidInput", iam.update_open_id_connect_provider_thumbprint, OpenIDConnectProviderArn=arn,
           ThumbprintList=["not-hex-" * 5])
    err = _fails("InvalidInput", iam.update_open_id_connect_provider, OpenIDConnectProviderArn=arn,
                 IdentityCenterInstanceArn="arn:aws:sso:::instance/ssoins-1234567890abcdef")
    assert "not supported" in err.response["Error"]["Message"]
    _fails("InvalidInput", iam.create_open_id_connect_provider, Url="https://b.example.com",
           ContextProvider={"SubjectSourceKey": "sub"})
    # an ARN of another kind, or not an ARN
    saml_arn = f"arn:aws:iam::{account.account_id}:saml-provider/x"
    _fails("InvalidInput", iam.get_open_id_connect_provider, OpenIDConnectProviderArn=saml_arn)
    _fails("InvalidInput", iam.get_open_id_connect_provider, OpenIDConnectProviderArn="not-an-arn-at-all-really")
    _fails("ValidationError", loose.get_open_id_connect_provider, OpenIDConnectProviderArn="short")


def test_saml_provider_lifecycle(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    iam = world.iam(account.root)
    metadata = idp.metadata()
    made = iam.create_saml_provider(Name="Corp_IdP.1", SAMLMetadataDocument=metadata,
                                    Tags=[{"Key": "team", "Value": "identity"}])
    arn = made["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{account.account_id}:saml-provider/Corp_IdP.1"
    assert made["Tags"] == [{"Key": "team", "Value": "identity"}]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == metadata
    assert re.fullmatch(r"[A-Z0-9]{22,64}", got["SAMLProviderUUID"])
    assert "ValidUntil" not in got and got["Tags"] == [{"Key": "team", "Value": "identity"}]
    _fails("EntityAlreadyExists", iam.create_saml_provider, Name="Corp_IdP.1", SAMLMetadataDocument=metadata)

    # a document with validUntil, and a new signing certificate
    rotated = SamlIdp(entity_id="https://idp.example.com/saml")
    try:
        dated = rotated.metadata().replace(' entityID=', ' validUntil="2030-01-01T00:00:00Z" entityID=', 1)
        second = iam.create_saml_provider(Name="dated", SAMLMetadataDocument=dated)["SAMLProviderArn"]
        listed = {p["Arn"]: p for p in iam.list_saml_providers()["SAMLProviderList"]}
        assert set(listed) == {arn, second}
        assert listed[second]["ValidUntil"].timestamp() == 1893456000 and "ValidUntil" not in listed[arn]
        assert abs(listed[arn]["CreateDate"].timestamp() - world.clock()) < 60

        assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=dated)["SAMLProviderArn"] == arn
        got = iam.get_saml_provider(SAMLProviderArn=arn)
        assert got["SAMLMetadataDocument"] == dated and got["ValidUntil"].timestamp() == 1893456000
        view = _saml_view(world, arn)
        assert view.metadata.signing_certificates == (rotated.certificate_der,)
        assert view.metadata.entity_id == "https://idp.example.com/saml"
    finally:
        rotated.close()
    iam.update_saml_provider(SAMLProviderArn=arn)  # nothing given: nothing changes

    # refused documents
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + metadata
    err = _fails("InvalidInput", iam.create_saml_provider, Name="evil", SAMLMetadataDocument=evil)
    assert "root:" not in err.response["Error"]["Message"]
    _fails("InvalidInput", iam.update_saml_provider, SAMLProviderArn=arn, SAMLMetadataDocument=evil)
    no_key = re.sub(r"<ns0:KeyDescriptor.*?</ns0:KeyDescriptor>", "", metadata, flags=re.S) + " " * 1000
    err = _fails("InvalidInput", iam.create_saml_provider, Name="nokey", SAMLMetadataDocument=no_key)
    assert "signing certificate" in err.response["Error"]["Message"]
    _fails("InvalidInput", iam.create_saml_provider, Name="junk", SAMLMetadataDocument="x" * 1000)
    _fails("ValidationError", world.iam(account.root, validate=False).create_saml_provider, Name="short",
           SAMLMetadataDocument="<md/>")
    _fails("ValidationError", world.iam(account.root, validate=False).create_saml_provider, Name="bad name",
           SAMLMetadataDocument=metadata)
    err = _fails("InvalidInput", iam.create_saml_provider, Name="enc", SAMLMetadataDocument=metadata,
                 AssertionEncryptionMode="Required")
    assert "assertion encryption" in err.response["Error"]["Message"]
    _fails("InvalidInput", iam.update_saml_provider, SAMLProviderArn=arn, RemovePrivateKey="A" * 22)
    _fails("InvalidInput", iam.get_saml_provider,
           SAMLProviderArn=f"arn:aws:iam::{account.account_id}:oidc-provider/x.example.com")

    # tags
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    first = iam.list_saml_provider_tags(SAMLProviderArn=arn, MaxItems=1)
    assert first["IsTruncated"] is True and first["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn, Marker=first["Marker"])["Tags"] == [
        {"Key": "team", "Value": "identity"}]
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["env"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "team", "Value": "identity"}]

    iam.delete_saml_provider(SAMLProviderArn=arn)
    for call in (iam.get_saml_provider, iam.delete_saml_provider, iam.update_saml_provider,
                 iam.list_saml_provider_tags):
        _fails("NoSuchEntity", call, SAMLProviderArn=arn)
    _fails("NoSuchEntity", iam.untag_saml_provider, SAMLProviderArn=arn, TagKeys=["team"])
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [second]
    iam.create_saml_provider(Name="Corp_IdP.1", SAMLMetadataDocument=metadata)
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == []

    events = {e["event"]: e for e in _events(world, account.account_id)}
    for wanted in ("CreateSAMLProvider", "UpdateSAMLProvider", "TagSAMLProvider", "UntagSAMLProvider",
                   "DeleteSAMLProvider"):
        assert wanted in events, wanted
    assert events["CreateSAMLProvider"]["detail"]["entity_id"] == "https://idp.example.com/saml"
    assert "BEGIN" not in json.dumps(events) and metadata[:200] not in json.dumps(events)


def _saml_view(world: AwsWorld, arn: str) -> providers.SamlProviderView:
    async def read(deps: Deps) -> providers.SamlProviderView:
        async with deps.store.unit() as uow:
            view = await providers.saml_provider(uow, arn)
        assert view is not None
        return view

    return world.run(read)


def test_read_api_for_federation(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    iam = world.iam(account.root)
    oidc_arn = iam.create_open_id_connect_provider(Url="https://login.example.com/v2", ClientIDList=["web"])[
        "OpenIDConnectProviderArn"]
    saml_arn = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=idp.metadata())["SAMLProviderArn"]
    other = world.new_account()
    world.iam(other.root).create_open_id_connect_provider(Url="https://login.example.com/v2")

    async def read(deps: Deps) -> tuple[Any, ...]:
        async with deps.store.unit() as uow:
            acct = account.account_id
            return (await providers.oidc_provider(uow, oidc_arn), await providers.oidc_providers_of(uow, acct),
                    await providers.saml_provider(uow, saml_arn), await providers.saml_providers_of(uow, acct),
                    await providers.oidc_provider(uow, oidc_arn + "x"),
                    await providers.saml_provider(uow, saml_arn + "x"))

    oidc, oidcs, saml, samls, no_oidc, no_saml = world.run(read)
    assert isinstance(oidc, providers.OidcProviderView)
    assert (oidc.arn, oidc.account_id, oidc.url, oidc.issuer, oidc.client_ids, oidc.thumbprints) == (
        oidc_arn, account.account_id, "login.example.com/v2", "https://login.example.com/v2", ("web",), ())
    assert len(oidc.id) <= 24 and oidcs == [oidc]
    assert isinstance(saml, providers.SamlProviderView)
    assert (saml.arn, saml.name, saml.metadata.entity_id, saml.metadata.signing_certificates) == (
        saml_arn, "corp", idp.entity_id, (idp.certificate_der,))
    assert len(saml.id) <= 24 and samls == [saml]
    assert no_oidc is None and no_saml is None


def test_a_hundred_of_each_per_account(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    metadata = idp.metadata()

    async def fill(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            for i in range(100):
                url = f"idp{i}.example.com"
                await uow.oidc_providers.add(OidcProvider(
                    id=f"OIDPFILL{i:03d}{account.account_id[:4]}", account_id=account.account_id, url=url,
                    issuer=f"https://{url}", arn=providers.oidc_provider_arn(account.account_id, url),
                    client_ids=[], thumbprints=[], created_at=deps.clock()))
                await uow.saml_providers.add(SamlProvider(
                    id=f"SAMPFILL{i:03d}{account.account_id[:4]}", account_id=account.account_id, name=f"p{i}",
                    arn=providers.saml_provider_arn(account.account_id, f"p{i}"), metadata_xml=metadata,
                    uuid="A" * 26, entity_id=idp.entity_id, created_at=deps.clock(), updated_at=deps.clock()))

    world.run(fill)
    iam = world.iam(account.root)
    err = _fails("LimitExceeded", iam.create_open_id_connect_provider, Url="https://one-more.example.com")
    assert "100" in err.response["Error"]["Message"]
    _fails("LimitExceeded", iam.create_saml_provider, Name="one-more", SAMLMetadataDocument=metadata)
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 100
    assert len(iam.list_saml_providers()["SAMLProviderList"]) == 100
    assert iam.get_account_summary()["SummaryMap"]["Providers"] == 200
    iam.delete_saml_provider(SAMLProviderArn=providers.saml_provider_arn(account.account_id, "p0"))
    iam.create_saml_provider(Name="one-more", SAMLMetadataDocument=metadata)


def test_concurrent_creates_of_one_provider(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    clients = [world.iam(account.root) for _ in range(5)]
    answers = at_once([partial(c.create_open_id_connect_provider, Url="https://race.example.com") for c in clients])
    assert sorted(answers) == ["EntityAlreadyExists"] * 4 + ["ok"], answers
    metadata = idp.metadata()
    answers = at_once([partial(c.create_saml_provider, Name="race", SAMLMetadataDocument=metadata)
                       for c in clients])
    assert sorted(answers) == ["EntityAlreadyExists"] * 4 + ["ok"], answers


def test_authorized_on_the_provider_arn(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    root = world.iam(account.root)
    mine = root.create_open_id_connect_provider(Url="https://mine.example.com")["OpenIDConnectProviderArn"]
    theirs = root.create_open_id_connect_provider(Url="https://theirs.example.com")["OpenIDConnectProviderArn"]
    saml = root.create_saml_provider(Name="corp", SAMLMetadataDocument=idp.metadata())["SAMLProviderArn"]
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider"],
         "Resource": mine},
        {"Effect": "Allow", "Action": "iam:GetSAMLProvider", "Resource": "arn:aws:iam::*:saml-provider/*"}]})
    policy = root.create_policy(PolicyName="one-provider", PolicyDocument=document)["Policy"]["Arn"]
    ivy = world.iam(world.api_user(account, "ivy", policy))
    assert ivy.get_open_id_connect_provider(OpenIDConnectProviderArn=mine)["Url"] == "mine.example.com"
    ivy.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=mine, ClientID="ivy")
    assert ivy.get_saml_provider(SAMLProviderArn=saml)["SAMLProviderUUID"]
    _fails("AccessDenied", ivy.get_open_id_connect_provider, OpenIDConnectProviderArn=theirs)
    _fails("AccessDenied", ivy.get_open_id_connect_provider,
           OpenIDConnectProviderArn=f"arn:aws:iam::{account.account_id}:oidc-provider/nothing.example.com")
    _fails("AccessDenied", ivy.delete_open_id_connect_provider, OpenIDConnectProviderArn=mine)
    _fails("AccessDenied", ivy.list_open_id_connect_providers)  # the List actions have no resource: "*" only
    _fails("AccessDenied", ivy.list_saml_providers)
    lister = root.create_policy(PolicyName="lister", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:ListOpenIDConnectProviders", "iam:ListSAMLProviders"],
         "Resource": "*"}]}))["Policy"]["Arn"]
    lee = world.iam(world.api_user(account, "lee", lister))
    assert len(lee.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 2
    assert [p["Arn"] for p in lee.list_saml_providers()["SAMLProviderList"]] == [saml]
    _fails("AccessDenied", ivy.create_open_id_connect_provider, Url="https://new.example.com")
    _fails("AccessDenied", ivy.delete_saml_provider, SAMLProviderArn=saml)
    # another account's provider: denied, exactly as one that does not exist there
    other = world.iam(world.new_account().root)
    _fails("AccessDenied", other.get_open_id_connect_provider, OpenIDConnectProviderArn=mine)
    _fails("AccessDenied", other.get_open_id_connect_provider, OpenIDConnectProviderArn=mine + "x")
    _fails("AccessDenied", other.delete_saml_provider, SAMLProviderArn=saml)
    assert root.get_open_id_connect_provider(OpenIDConnectProviderArn=mine)["ClientIDList"] == ["ivy"]


def test_aws_cli_creates_lists_and_gets_one_of_each(world: AwsWorld, account: Account, idp: SamlIdp,
                                                    tmp_path: Path) -> None:
    cli = Cli(world, tmp_path)
    made = cli.ok(account.root, "iam", "create-open-id-connect-provider", "--url", "https://cli.example.com",
                  "--client-id-list", "cli-app", "--thumbprint-list", PRINT_A)
    arn = made["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account.account_id}:oidc-provider/cli.example.com"
    assert cli.ok(account.root, "iam", "list-open-id-connect-providers")["OpenIDConnectProviderList"] == [
        {"Arn": arn}]
    got = cli.ok(account.root, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert got["Url"] == "cli.example.com" and got["ClientIDList"] == ["cli-app"]

    document = tmp_path / "metadata.xml"
    document.write_text(idp.metadata())
    saml = cli.ok(account.root, "iam", "create-saml-provider", "--name", "cli-idp",
                  "--saml-metadata-document", f"file://{document}")["SAMLProviderArn"]
    assert saml == f"arn:aws:iam::{account.account_id}:saml-provider/cli-idp"
    assert [p["Arn"] for p in cli.ok(account.root, "iam", "list-saml-providers")["SAMLProviderList"]] == [saml]
    got = cli.ok(account.root, "iam", "get-saml-provider", "--saml-provider-arn", saml)
    assert got["SAMLMetadataDocument"] == idp.metadata()
    done = cli.run(account.root, "iam", "get-saml-provider", "--saml-provider-arn", saml + "-gone")
    assert done.returncode != 0 and "NoSuchEntity" in done.stderr


def test_resource_tags_are_condition_keys(world: AwsWorld, account: Account, idp: SamlIdp) -> None:
    root = world.iam(account.root)
    tagged = root.create_open_id_connect_provider(Url="https://tagged.example.com",
                                                  Tags=[{"Key": "team", "Value": "identity"}])[
        "OpenIDConnectProviderArn"]
    plain = root.create_open_id_connect_provider(Url="https://plain.example.com")["OpenIDConnectProviderArn"]
    saml = root.create_saml_provider(Name="tagged", SAMLMetadataDocument=idp.metadata(),
                                     Tags=[{"Key": "team", "Value": "identity"}])["SAMLProviderArn"]
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetOpenIDConnectProvider", "iam:GetSAMLProvider"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "identity"}}}]})
    policy = root.create_policy(PolicyName="team-providers", PolicyDocument=document)["Policy"]["Arn"]
    tess = world.iam(world.api_user(account, "tess", policy))
    assert tess.get_open_id_connect_provider(OpenIDConnectProviderArn=tagged)["Url"] == "tagged.example.com"
    assert tess.get_saml_provider(SAMLProviderArn=saml)["SAMLProviderUUID"]
    _fails("AccessDenied", tess.get_open_id_connect_provider, OpenIDConnectProviderArn=plain)
    root.tag_open_id_connect_provider(OpenIDConnectProviderArn=plain, Tags=[{"Key": "team", "Value": "identity"}])
    assert tess.get_open_id_connect_provider(OpenIDConnectProviderArn=plain)["Url"] == "plain.example.com"
