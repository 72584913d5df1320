"""`vestibule sso identity-source show|set-directory|set-ldap|set-saml`: the default is the instance's own directory;
an LDAP source is validated (TLS required, DNs, filters, attributes, the CA file) and its service account's password
is sealed, kept when not given again, and never printed; a SAML source is read from the IdP's metadata; every change
is an audit event."""

from __future__ import annotations

import asyncio
import base64
import datetime
import secrets
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from integration.test_cli_sso import _instance
from integration.test_portal_cli_http import _store_with_user
from vestibule.runtime import build
from vestibule.services.identity_center import identity_sources as sources
from vestibule.services.identity_center import instances, portal_saml
from vestibule.settings import Settings


def _certificate() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test idp")])
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))


def _metadata(der: bytes, *, redirect: bool = True) -> str:
    binding = "HTTP-Redirect" if redirect else "HTTP-POST"
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID="https://idp.example.com/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{base64.b64encode(der).decode()}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:{binding}"
        Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


@pytest.fixture
def instance(cli: Cli, cli_env: Settings) -> tuple[str, str]:  # noqa: F811
    account = cli.ok("account", "create", "--email", f"ids-{secrets.token_hex(4)}@example.com",
                     "--password", "cli password 1")["AccountId"]
    return asyncio.run(_instance(cli_env, account))


async def _stored(settings: Settings, arn: str) -> tuple[sources.IdentitySource, tuple[sources.LdapSource, str] | None,
                                                         str | None, list[dict[str, object]]]:
    rt = await build(settings)
    try:
        async with rt.deps.store.unit() as uow:
            row = await uow.identity_sources.of_instance(arn)
            instance = await instances.by_arn(uow, arn)
            assert instance is not None
            events = [e.detail for e in await uow.audit.for_account(instance.owner_account_id)
                      if e.event == "UpdateIdentitySource"]
            return (await sources.source_of(uow, arn), await sources.ldap_of(rt.deps, uow, arn),
                    row.secret_sealed if row else None, events)
    finally:
        await rt.close()


def test_directory_is_the_default(cli: Cli, instance: tuple[str, str]) -> None:  # noqa: F811
    arn, store = instance
    assert cli.ok("sso", "identity-source", "show", "--instance-arn", arn) == {
        "InstanceArn": arn, "IdentityStoreId": store, "Kind": "DIRECTORY"}
    assert cli.ok("sso", "identity-source", "set-directory", "--identity-store-id", store)["Kind"] == "DIRECTORY"
    assert "d-0000000000" in cli.fails("sso", "identity-source", "show", "--identity-store-id", "d-0000000000")


def test_ldap_source_is_validated_and_its_password_sealed(cli: Cli, cli_env: Settings,  # noqa: F811
                                                          instance: tuple[str, str], tmp_path: Path) -> None:
    arn, store = instance
    password = tmp_path / "bind-password"
    password.write_text("service secret 1\n")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(_certificate().public_bytes(serialization.Encoding.PEM))
    base = ("sso", "identity-source", "set-ldap", "--instance-arn", arn, "--bind-dn",
            "cn=vestibule,ou=services,dc=example,dc=com", "--base-dn", "ou=people,dc=example,dc=com")
    assert "password" in cli.fails(*base, "--url", "ldaps://ldap.example.com")  # first time: password required
    shown = cli.ok(*base, "--url", "ldap://ldap.example.com:3389/", "--starttls", "--ca-file", str(ca),
                   "--bind-password-file", str(password), "--group-base-dn", "ou=groups,dc=example,dc=com",
                   "--user-filter", "(objectClass=inetOrgPerson)")
    assert shown["Kind"] == "LDAP"
    assert shown["Ldap"] == {
        "Url": "ldap://ldap.example.com:3389", "StartTls": True, "CaFile": str(ca),
        "BindDn": "cn=vestibule,ou=services,dc=example,dc=com", "BaseDn": "ou=people,dc=example,dc=com",
        "UserAttribute": "uid", "EmailAttribute": "mail", "DisplayNameAttribute": "cn",
        "UserFilter": "(objectClass=inetOrgPerson)", "DisabledFilter": "(pwdAccountLockedTime=*)",
        "GroupBaseDn": "ou=groups,dc=example,dc=com", "GroupAttribute": "cn", "MemberAttribute": "member",
        "TimeoutSeconds": 5}
    assert "service secret" not in str(cli.ok("sso", "identity-source", "show", "--identity-store-id", store))
    source, ldap, sealed, events = asyncio.run(_stored(cli_env, arn))
    assert isinstance(source, sources.LdapSource) and (source.host, source.port, source.ldaps) == (
        "ldap.example.com", 3389, False)
    assert ldap is not None and ldap[1] == "service secret 1"
    assert sealed is not None and "service secret" not in sealed
    assert events[-1]["kind"] == "ldap" and events[-1]["password_changed"] is True

    cli.ok(*base, "--url", "ldaps://ldap.example.com", "--timeout", "10")  # the stored password is kept
    source, ldap, _, events = asyncio.run(_stored(cli_env, arn))
    assert ldap is not None and ldap[1] == "service secret 1" and ldap[0].timeout == 10 and ldap[0].port == 636
    assert events[-1]["password_changed"] is False

    for bad, word in ((("--url", "ldap://ldap.example.com"), "starttls"),
                      (("--url", "ldaps://ldap.example.com", "--starttls"), "starttls"),
                      (("--url", "https://ldap.example.com"), "URL"),
                      (("--url", "ldaps://ldap.example.com/dc=x"), "URL"),
                      (("--url", "ldaps://ldap.example.com:99999"), "port"),
                      (("--url", "ldaps://h", "--user-filter", "(uid=x"), "filter"),
                      (("--url", "ldaps://h", "--disabled-filter", "locked"), "filter"),
                      (("--url", "ldaps://h", "--user-attribute", "uid)(x"), "attribute"),
                      (("--url", "ldaps://h", "--group-base-dn", "not a dn"), "distinguished"),
                      (("--url", "ldaps://h", "--ca-file", str(tmp_path / "missing.pem")), "CA file"),
                      (("--url", "ldaps://h", "--ca-file", str(password)), "CA file"),
                      (("--url", "ldaps://h", "--timeout", "0"), "timeout")):
        assert word in cli.fails(*base, *bad)
    assert "distinguished" in cli.fails("sso", "identity-source", "set-ldap", "--instance-arn", arn, "--url",
                                        "ldaps://h", "--bind-dn", "nobody", "--base-dn", "dc=example,dc=com")
    empty = tmp_path / "empty"
    empty.write_text("")
    assert "empty" in cli.fails(*base, "--url", "ldaps://h", "--bind-password-file", str(empty))
    assert isinstance(asyncio.run(_stored(cli_env, arn))[0], sources.LdapSource)  # refusals changed nothing

    assert cli.ok("sso", "identity-source", "set-directory", "--instance-arn", arn)["Kind"] == "DIRECTORY"
    source, ldap, sealed, events = asyncio.run(_stored(cli_env, arn))
    assert isinstance(source, sources.DirectorySource) and ldap is None and sealed is None
    assert events[-1]["kind"] == "directory"


def test_saml_source_from_metadata(cli: Cli, cli_env: Settings, instance: tuple[str, str],  # noqa: F811
                                   tmp_path: Path) -> None:
    arn, _ = instance
    der = _certificate().public_bytes(serialization.Encoding.DER)
    metadata = tmp_path / "idp.xml"
    metadata.write_text(_metadata(der))
    shown = cli.ok("sso", "identity-source", "set-saml", "--instance-arn", arn, "--metadata-file", str(metadata),
                   "--jit")
    assert shown["Saml"] == {"EntityId": "https://idp.example.com/metadata", "SsoUrl": "https://idp.example.com/sso",
                             "CertificateCount": 1, "NameIdFormat": sources.EMAIL_ADDRESS, "JustInTimeUsers": True}
    # what the IdP's administrator registers: the portal's own SP (H8's ACS and metadata routes)
    sp = asyncio.run(_service_provider(cli_env, arn))
    assert shown["ServiceProvider"] == {"EntityId": sp.entity_id, "AssertionConsumerServiceUrl": sp.acs_url,
                                        "MetadataUrl": sp.metadata_url}
    assert sp.acs_url == f"{cli_env.public_origin}/portal/{shown['IdentityStoreId']}/saml"
    again = cli.ok("sso", "identity-source", "show", "--instance-arn", arn)
    assert again["ServiceProvider"] == shown["ServiceProvider"]
    source, ldap, sealed, _ = asyncio.run(_stored(cli_env, arn))
    assert isinstance(source, sources.SamlSource) and source.certificates == (der,) and source.jit
    assert source.metadata == metadata.read_text() and ldap is None and sealed is None

    post_only = tmp_path / "post.xml"
    post_only.write_text(_metadata(der, redirect=False))
    assert "HTTP-Redirect" in cli.fails("sso", "identity-source", "set-saml", "--instance-arn", arn,
                                        "--metadata-file", str(post_only))
    doctype = tmp_path / "doctype.xml"
    doctype.write_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _metadata(der).split("?>", 1)[1])
    assert "DOCTYPE" in cli.fails("sso", "identity-source", "set-saml", "--instance-arn", arn,
                                  "--metadata-file", str(doctype))
    assert "cannot be read" in cli.fails("sso", "identity-source", "set-saml", "--instance-arn", arn,
                                         "--metadata-file", str(tmp_path / "none.xml"))
    assert isinstance(asyncio.run(_stored(cli_env, arn))[0], sources.SamlSource)


async def _service_provider(settings: Settings, arn: str) -> portal_saml.ServiceProvider:
    """The portal's SP as its SAML routes serve it."""
    rt = await build(settings)
    try:
        async with rt.deps.store.unit() as uow:
            instance = await instances.by_arn(uow, arn)
            assert instance is not None
        return portal_saml.service_provider(rt.deps, instance)
    finally:
        await rt.close()


def test_reset_password_is_refused_while_the_source_keeps_the_passwords(
        cli: Cli, cli_env: Settings, tmp_path: Path) -> None:  # noqa: F811
    account = cli.ok("account", "create", "--email", f"ids-{secrets.token_hex(4)}@example.com",
                     "--password", "cli password 1")["AccountId"]
    store, _user_id = asyncio.run(_store_with_user(cli_env, account))
    reset = ("sso", "user", "reset-password", "--identity-store-id", store, "--user-name", "alice")
    password = tmp_path / "bind-password"
    password.write_text("service secret 1\n")
    cli.ok("sso", "identity-source", "set-ldap", "--identity-store-id", store, "--url", "ldaps://ldap.example.com",
           "--bind-dn", "cn=vestibule,dc=example,dc=com", "--base-dn", "ou=people,dc=example,dc=com",
           "--bind-password-file", str(password))
    for how in ("--one-time-password", "--mail"):
        refused = cli.fails(*reset, how)
        assert "LDAP directory" in refused and "reset" in refused and "OneTimePassword" not in refused, refused
    metadata = tmp_path / "idp.xml"
    metadata.write_text(_metadata(_certificate().public_bytes(serialization.Encoding.DER)))
    cli.ok("sso", "identity-source", "set-saml", "--identity-store-id", store, "--metadata-file", str(metadata))
    assert "SAML identity provider" in cli.fails(*reset, "--one-time-password")
    cli.ok("sso", "identity-source", "set-directory", "--identity-store-id", store)
    assert len(cli.ok(*reset, "--one-time-password")["OneTimePassword"]) == 20
