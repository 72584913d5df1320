"""Where an Identity Center instance's users sign in: its own directory (the default), an LDAP directory (the portal
binds as the user against the operator's server, a service account searches) or an external SAML identity
provider (the portal sends users there; H8's services/identity_center/portal_saml.py). The operator sets the
source with `vestibule sso identity-source ...`; each change is an audit event. The LDAP service account's
password is sealed under the master key (context `identity-source:<instance ARN>`) and never shown."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from ...core.saml_metadata import InvalidMetadata, SamlMetadata, parse_metadata
from ...errors import InvalidValue
from ...store.repositories import UnitOfWork
from .. import audit
from ..context import Client, Deps
from . import instances

DIRECTORY = "directory"
LDAP = "ldap"
SAML = "saml"
EMAIL_ADDRESS = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
DEFAULT_DISABLED_FILTER = "(pwdAccountLockedTime=*)"
MAX_TIMEOUT = 60
_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")


@dataclass(frozen=True)
class DirectorySource:
    """The instance's own directory: users sign in with the password Vestibule keeps (the default)."""

    kind: str = DIRECTORY


@dataclass(frozen=True)
class LdapSource:
    """An LDAP directory. `url` is `ldaps://host[:port]` or `ldap://host[:port]` with `starttls` (a plain-text
    connection is refused: it would carry the users' passwords); `ca_file` a PEM bundle of the CAs that sign the
    server's certificate (None: the system's). Users are found below `base_dn` by `(<user_attribute>=<name>)`
    AND `user_filter`; an entry matching `disabled_filter` may not sign in. Groups below `group_base_dn` (None:
    no group mapping) whose `member_attribute` names the user's DN map to the directory groups whose display
    name is their `group_attribute`."""

    url: str
    bind_dn: str
    base_dn: str
    starttls: bool = False
    ca_file: str | None = None
    user_attribute: str = "uid"
    email_attribute: str = "mail"
    display_name_attribute: str = "cn"
    user_filter: str = ""
    disabled_filter: str = DEFAULT_DISABLED_FILTER
    group_base_dn: str | None = None
    group_attribute: str = "cn"
    member_attribute: str = "member"
    timeout: int = 5  # seconds: connecting, and each answer
    kind: str = LDAP

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (636 if parts.scheme == "ldaps" else 389)

    @property
    def ldaps(self) -> bool:
        return urlsplit(self.url).scheme == "ldaps"


@dataclass(frozen=True)
class SamlSource:
    """An external SAML identity provider, from its metadata: the entity ID, the HTTP-Redirect single sign-on
    URL, the signing certificates (DER); the NameID format the instance requires; `jit`: create a directory user
    for an email no user has (else the sign-in fails USER_NOT_FOUND)."""

    metadata: str
    entity_id: str
    sso_url: str
    certificates: tuple[bytes, ...]
    name_id_format: str = EMAIL_ADDRESS
    jit: bool = False
    kind: str = SAML


IdentitySource = DirectorySource | LdapSource | SamlSource


def sealing_context(instance_arn: str) -> str:
    return f"identity-source:{instance_arn}"


# settings as stored (JSON) --------------------------------------------------------------------------------------

def _to_json(source: IdentitySource) -> str:
    data = asdict(source)
    data.pop("kind")
    if isinstance(source, SamlSource):
        data["certificates"] = [base64.b64encode(c).decode() for c in source.certificates]
    return json.dumps(data, sort_keys=True)


def _known(cls: type[LdapSource] | type[SamlSource], data: dict[str, Any]) -> dict[str, Any]:
    """The stored fields this version knows (a newer version's extra ones are left out)."""
    names = {f.name for f in fields(cls)} - {"kind"}
    return {k: v for k, v in data.items() if k in names}


def _from_json(kind: str, stored: str) -> IdentitySource:
    data: dict[str, Any] = json.loads(stored or "{}")
    if kind == LDAP:
        return LdapSource(**_known(LdapSource, data))
    if kind == SAML:
        data["certificates"] = tuple(base64.b64decode(c) for c in data.get("certificates", []))
        return SamlSource(**_known(SamlSource, data))
    return DirectorySource()


# reading --------------------------------------------------------------------------------------------------------

async def source_of(uow: UnitOfWork, instance_arn: str) -> IdentitySource:
    row = await uow.identity_sources.of_instance(instance_arn)
    return DirectorySource() if row is None else _from_json(row.kind, row.settings)


async def kind_of(deps: Deps, instance_arn: str) -> str:
    """DIRECTORY, LDAP or SAML: what the portal's pages say about passwords."""
    async with deps.store.unit() as uow:
        return (await source_of(uow, instance_arn)).kind


async def ldap_of(deps: Deps, uow: UnitOfWork, instance_arn: str) -> tuple[LdapSource, str] | None:
    """The instance's LDAP source and its service account's password, or None when the source is not LDAP."""
    row = await uow.identity_sources.of_instance(instance_arn)
    if row is None or row.kind != LDAP:
        return None
    source = _from_json(row.kind, row.settings)
    assert isinstance(source, LdapSource)
    password = deps.box.open(row.secret_sealed, sealing_context(instance_arn)).decode() if row.secret_sealed else ""
    return source, password


def service_provider_urls(public_origin: str, instance: instances.Instance) -> dict[str, str]:
    """The portal as a SAML IdP's administrator registers it (services/identity_center/portal_saml.py serves
    these): entity ID = assertion consumer URL, and the SP metadata to import."""
    base = f"{public_origin}/portal/{instance.identity_store_id}/saml"
    return {"EntityId": base, "AssertionConsumerServiceUrl": base, "MetadataUrl": f"{base}/metadata"}


def shown(instance: instances.Instance, source: IdentitySource, public_origin: str = "") -> dict[str, Any]:
    """As `vestibule sso identity-source show` prints it (never the service account's password); a SAML source
    with the URLs its IdP needs (`ServiceProvider`) when `public_origin` is given."""
    out: dict[str, Any] = {"InstanceArn": instance.arn, "IdentityStoreId": instance.identity_store_id,
                           "Kind": source.kind.upper()}
    if isinstance(source, LdapSource):
        out["Ldap"] = {"Url": source.url, "StartTls": source.starttls, "CaFile": source.ca_file,
                       "BindDn": source.bind_dn, "BaseDn": source.base_dn, "UserAttribute": source.user_attribute,
                       "EmailAttribute": source.email_attribute,
                       "DisplayNameAttribute": source.display_name_attribute, "UserFilter": source.user_filter,
                       "DisabledFilter": source.disabled_filter, "GroupBaseDn": source.group_base_dn,
                       "GroupAttribute": source.group_attribute, "MemberAttribute": source.member_attribute,
                       "TimeoutSeconds": source.timeout}
    elif isinstance(source, SamlSource):
        out["Saml"] = {"EntityId": source.entity_id, "SsoUrl": source.sso_url,
                       "CertificateCount": len(source.certificates), "NameIdFormat": source.name_id_format,
                       "JustInTimeUsers": source.jit}
        if public_origin:
            out["ServiceProvider"] = service_provider_urls(public_origin, instance)
    return out


# validation -----------------------------------------------------------------------------------------------------

def _dn(value: str, what: str) -> str:
    from .ldap_directory import is_dn  # ldap3 loads in 0.2 s: only when an LDAP source is set or used

    text = value.strip()
    if not is_dn(text):
        raise InvalidValue(f"{what} is not a distinguished name (for example ou=people,dc=example,dc=com).")
    return text


def _filter(value: str, what: str) -> str:
    from .ldap_directory import is_filter

    text = value.strip()
    if text and not is_filter(text):
        raise InvalidValue(f"{what} is not an LDAP filter (for example (objectClass=inetOrgPerson)).")
    return text


def _attribute(value: str, what: str) -> str:
    if not _ATTRIBUTE.fullmatch(value):
        raise InvalidValue(f"{what} must be an LDAP attribute name (letters, digits, hyphens).")
    return value


def checked_ldap(source: LdapSource) -> LdapSource:
    """`source` with each field validated (InvalidValue names the rule broken)."""
    parts = urlsplit(source.url.strip())
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise InvalidValue("The LDAP URL must be ldaps://host[:port] or ldap://host[:port] (with --starttls).")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise InvalidValue("The LDAP URL's port is not a port number.") from None
    if parts.scheme == "ldap" and not source.starttls:
        raise InvalidValue("A plain ldap:// URL needs --starttls (passwords never cross the network in clear); "
                           "or use ldaps://.")
    if parts.scheme == "ldaps" and source.starttls:
        raise InvalidValue("--starttls is for ldap:// URLs; an ldaps:// connection is TLS already.")
    if source.ca_file is not None:
        try:
            with open(source.ca_file, "rb") as f:
                if b"-----BEGIN CERTIFICATE-----" not in f.read():
                    raise InvalidValue(f"The CA file {source.ca_file} holds no PEM certificate.")
        except OSError as exc:
            raise InvalidValue(f"The CA file {source.ca_file} cannot be read: {exc.strerror}.") from None
    if not 1 <= source.timeout <= MAX_TIMEOUT:
        raise InvalidValue(f"The LDAP timeout must be between 1 and {MAX_TIMEOUT} seconds.")
    return replace(
        source, url=f"{parts.scheme}://{parts.netloc}", bind_dn=_dn(source.bind_dn, "--bind-dn"),
        base_dn=_dn(source.base_dn, "--base-dn"),
        group_base_dn=None if not source.group_base_dn else _dn(source.group_base_dn, "--group-base-dn"),
        user_attribute=_attribute(source.user_attribute, "--user-attribute"),
        email_attribute=_attribute(source.email_attribute, "--email-attribute"),
        display_name_attribute=_attribute(source.display_name_attribute, "--display-name-attribute"),
        group_attribute=_attribute(source.group_attribute, "--group-attribute"),
        member_attribute=_attribute(source.member_attribute, "--member-attribute"),
        user_filter=_filter(source.user_filter, "--user-filter"),
        disabled_filter=_filter(source.disabled_filter, "--disabled-filter"))


def saml_source(metadata: SamlMetadata, metadata_xml: str, *, name_id_format: str = EMAIL_ADDRESS,
                jit: bool = False) -> SamlSource:
    """A SAML source from the IdP's parsed metadata (core/saml_metadata.parse_metadata) and its text."""
    if not metadata.signing_certificates:
        raise InvalidValue("The identity provider's metadata names no signing certificate.")
    sso_url = metadata.sso_redirect_url or ""
    if not sso_url:
        raise InvalidValue("The identity provider's metadata names no single sign-on service with the "
                           "HTTP-Redirect binding.")
    return SamlSource(metadata_xml, metadata.entity_id, sso_url, tuple(metadata.signing_certificates),
                      name_id_format, jit)


def saml_from_metadata(xml: bytes | str, *, name_id_format: str = EMAIL_ADDRESS, jit: bool = False) -> SamlSource:
    try:
        metadata = parse_metadata(xml)
    except InvalidMetadata as exc:
        raise InvalidValue(exc.message) from None
    text = xml.decode("utf-8", errors="replace") if isinstance(xml, bytes) else xml
    return saml_source(metadata, text, name_id_format=name_id_format, jit=jit)


# changing (Vestibule CLI: the operator on the server) -----------------------------------------------------------

async def show(deps: Deps, *, instance_arn: str | None = None,
               identity_store_id: str | None = None) -> dict[str, Any]:
    async with deps.store.unit() as uow:
        instance = instances.of_row(await instances.require(uow, instance_arn=instance_arn,
                                                            identity_store_id=identity_store_id))
        return shown(instance, await source_of(uow, instance.arn), deps.settings.public_origin)


async def set_source(deps: Deps, source: IdentitySource, *, instance_arn: str | None = None,
                     identity_store_id: str | None = None, password: str | None = None,
                     client: Client = Client(ip="cli")) -> dict[str, Any]:
    """Make `source` the instance's identity source. For LDAP, `password` is the service account's (None: keep
    the stored one, which must exist). Recorded as `UpdateIdentitySource` (never the password)."""
    if isinstance(source, LdapSource):
        source = checked_ldap(source)
    now = deps.clock()
    async with deps.store.unit() as uow:
        instance = instances.of_row(await instances.require(uow, instance_arn=instance_arn,
                                                            identity_store_id=identity_store_id))
        sealed: str | None = None
        if isinstance(source, LdapSource):
            if password is not None:
                sealed = deps.box.seal(password.encode(), sealing_context(instance.arn))
            else:
                row = await uow.identity_sources.of_instance(instance.arn)
                sealed = row.secret_sealed if row is not None and row.kind == LDAP else None
                if not sealed:
                    raise InvalidValue("The LDAP service account's password is required (--bind-password-file).")
        if isinstance(source, DirectorySource):
            await uow.identity_sources.remove(instance.arn)
        else:
            await uow.identity_sources.put(instance.arn, source.kind, _to_json(source), sealed, now)
        await audit.record(uow, at=now, event="UpdateIdentitySource", result="success", client=client,
                           account_id=instance.owner_account_id, principal="administrator", method="cli",
                           instance_arn=instance.arn, identity_store_id=instance.identity_store_id,
                           kind=source.kind, password_changed=password is not None)
        await uow.commit()
    return shown(instance, source, deps.settings.public_origin)
