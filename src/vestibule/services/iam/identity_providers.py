"""IAM identity providers: OpenID Connect providers (URL, client IDs, thumbprints) and SAML providers (metadata
document), their tags, at most 100 of each per account. The read API at the top (`oidc_provider`,
`saml_provider`, ...) is what federation (AssumeRoleWithWebIdentity, AssumeRoleWithSAML, console sign-in) uses;
the use cases below it serve the IAM operations."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...core.pagination import Page, PageRequest
from ...core.saml_metadata import InvalidMetadata, SamlMetadata, parse_metadata
from ...errors import AlreadyExists, InvalidInput, LimitExceeded, NotFound
from ...store.models import OidcProvider, SamlProvider
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall, Target
from .common import TagPairs, markers, put_tags, tag_key, tags_of

MAX_PER_ACCOUNT = 100  # OpenIdConnectProvidersPerAccount, SAMLProvidersPerAccount
MAX_CLIENT_IDS = 100  # ClientIdsPerOpenIdConnectProvider
MAX_THUMBPRINTS = 5  # ThumbprintsPerOpenIdConnectProvider
OIDC_TAG_KIND = "oidcprov"
SAML_TAG_KIND = "samlprov"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = frozenset("0123456789abcdef")


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def oidc_provider_arn(account_id: str, url: str) -> str:
    return f"arn:aws:iam::{account_id}:oidc-provider/{url}"


def saml_provider_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:saml-provider/{name}"


@dataclass(frozen=True)
class OidcProviderView:
    id: str
    account_id: str
    arn: str
    url: str  # without the scheme, as in the ARN and the condition keys (`<url>:aud`)
    issuer: str  # with the scheme: what a token's `iss` must equal
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class SamlProviderView:
    id: str
    account_id: str
    arn: str
    name: str
    metadata: SamlMetadata
    valid_until: float | None
    created_at: float


def _oidc_view(row: OidcProvider) -> OidcProviderView:
    return OidcProviderView(row.id, row.account_id, row.arn, row.url, row.issuer, tuple(row.client_ids),
                            tuple(row.thumbprints), row.created_at)


def _saml_view(row: SamlProvider) -> SamlProviderView:
    return SamlProviderView(row.id, row.account_id, row.arn, row.name, parse_metadata(row.metadata_xml),
                            row.valid_until, row.created_at)


# --- the read API of federation -------------------------------------------------------------------------------

async def oidc_provider(uow: UnitOfWork, arn: str) -> OidcProviderView | None:
    row = await uow.oidc_providers.by_arn(arn)
    return _oidc_view(row) if row else None


async def oidc_providers_of(uow: UnitOfWork, account_id: str) -> list[OidcProviderView]:
    return [_oidc_view(row) for row in await uow.oidc_providers.in_account(account_id)]


async def saml_provider(uow: UnitOfWork, arn: str) -> SamlProviderView | None:
    row = await uow.saml_providers.by_arn(arn)
    return _saml_view(row) if row else None


async def saml_providers_of(uow: UnitOfWork, account_id: str) -> list[SamlProviderView]:
    return [_saml_view(row) for row in await uow.saml_providers.in_account(account_id)]


# --- checks on the inputs ---------------------------------------------------------------------------------------

def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: the hosts plain HTTP may reach when `federation_insecure_loopback` is on."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def oidc_url(url: str, *, insecure_loopback: bool) -> tuple[str, str]:
    """(issuer, url without the scheme) of a provider URL: https (http only to a loopback host when the setting
    allows it), a host, no query, fragment or user info; a trailing slash is dropped as AWS does."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput("Url", "Invalid Url: not a URL.") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme == "http":
        if not (insecure_loopback and is_loopback_host(host)):
            raise InvalidInput("Url", "Invalid Url: the URL must begin with https:// (plain http:// is allowed only "
                                      "to a loopback host when VESTIBULE_FEDERATION_INSECURE_LOOPBACK is on).")
    elif scheme != "https":
        raise InvalidInput("Url", "Invalid Url: the URL must begin with https://.")
    if not host or parts.username is not None or parts.password is not None or parts.query or parts.fragment \
            or "#" in url or "?" in url:
        raise InvalidInput("Url", "Invalid Url: a host and an optional path, without a query or a fragment.")
    path = parts.path.rstrip("/")
    if any(c.isspace() for c in path):
        raise InvalidInput("Url", "Invalid Url: the path contains white space.")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    bare = netloc + path
    return f"{scheme}://{bare}", bare


def _thumbprints(values: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(v.lower() for v in values))
    for value in cleaned:
        if len(value) != 40 or not set(value) <= _HEX:
            raise InvalidInput("ThumbprintList", f"Thumbprint {value} is not a hex-encoded SHA-1 (40 characters).")
    if len(cleaned) > MAX_THUMBPRINTS:
        raise LimitExceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")
    return cleaned


def _client_ids(values: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(values))
    for value in cleaned:
        if not 1 <= len(value) <= 255:
            raise InvalidInput("ClientIDList", "A client ID is 1 to 255 characters long.")
    if len(cleaned) > MAX_CLIENT_IDS:
        raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    return cleaned


def _metadata(document: str) -> SamlMetadata:
    try:
        return parse_metadata(document)
    except InvalidMetadata as exc:
        raise InvalidInput("SAMLMetadataDocument", f"Could not parse metadata: {exc.message}") from None


def _arn_kind(arn: str, kind: str) -> None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith(f"{kind}/"):
        field = "OpenIDConnectProviderArn" if kind == "oidc-provider" else "SAMLProviderArn"
        raise InvalidInput(field, f"Invalid {field}: {arn} is not the ARN of a {kind}.")


# --- OpenID Connect providers ----------------------------------------------------------------------------------

def _no_oidc(arn: str) -> NotFound:
    return NotFound(f"OpenIDConnect Provider not found for arn {arn}")


async def _oidc_named(call: ApiCall, uow: UnitOfWork, arn: str) -> OidcProvider:
    """The provider `arn` of the caller's account, after authorizing the call on it (its tags are
    aws:ResourceTag/<key>)."""
    _arn_kind(arn, "oidc-provider")
    row = await uow.oidc_providers.by_arn(arn)
    mine = row is not None and row.account_id == call.account_id
    await call.authorize(uow, arn, target=Target(OIDC_TAG_KIND, row.id) if row is not None and mine else None)
    if row is None or not mine:
        raise _no_oidc(arn)
    return row


async def create_oidc_provider(call: ApiCall, url: str, client_ids: Sequence[str], thumbprints: Sequence[str],
                               tags: TagPairs) -> OidcProviderView:
    issuer, bare = oidc_url(url, insecure_loopback=call.deps.settings.federation_insecure_loopback)
    clients, prints = _client_ids(client_ids), _thumbprints(thumbprints)
    arn = oidc_provider_arn(call.account_id, bare)
    exists = AlreadyExists("Url", f"Provider with url {issuer} already exists.")
    async with call.unit() as uow:
        await call.authorize(uow, arn)
        await uow.credential_owners.lock_account(call.account_id)
        if await uow.oidc_providers.by_url(call.account_id, bare) is not None:
            raise exists
        if await uow.oidc_providers.count_in_account(call.account_id) >= MAX_PER_ACCOUNT:
            raise LimitExceeded(f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PER_ACCOUNT}")
        row = OidcProvider(id="OIDP" + _random(16), account_id=call.account_id, url=bare, issuer=issuer, arn=arn,
                           client_ids=clients, thumbprints=prints, created_at=call.now())
        try:
            await uow.oidc_providers.add(row)
        except Conflict:
            raise exists from None
        await put_tags(uow, call.account_id, OIDC_TAG_KIND, row.id, tags)
        await call.record(uow, oidc_provider=arn, url=issuer, client_ids=",".join(clients),
                          thumbprints=",".join(prints))
        return _oidc_view(row)


@dataclass(frozen=True)
class TaggedOidc:
    provider: OidcProviderView
    tags: TagPairs


async def get_oidc_provider(call: ApiCall, arn: str) -> TaggedOidc:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        return TaggedOidc(_oidc_view(row), await tags_of(uow, OIDC_TAG_KIND, row.id))


async def list_oidc_providers(call: ApiCall) -> list[OidcProviderView]:
    async with call.unit() as uow:
        await call.authorize(uow, "*")  # the action has no resource type (Service Authorization Reference)
        return await oidc_providers_of(uow, call.account_id)


async def delete_oidc_provider(call: ApiCall, arn: str) -> None:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        await uow.tags.remove_all(OIDC_TAG_KIND, row.id)
        await uow.oidc_providers.delete(row)
        await call.record(uow, oidc_provider=arn)


async def add_client_id(call: ApiCall, arn: str, client_id: str) -> None:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        if client_id not in row.client_ids:
            row.client_ids = _client_ids([*row.client_ids, client_id])
            await uow.oidc_providers.save(row)
        await call.record(uow, oidc_provider=arn, client_id=client_id)


async def remove_client_id(call: ApiCall, arn: str, client_id: str) -> None:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        if client_id in row.client_ids:  # AWS: removing an absent client ID is no error
            row.client_ids = [c for c in row.client_ids if c != client_id]
            await uow.oidc_providers.save(row)
        await call.record(uow, oidc_provider=arn, client_id=client_id)


async def update_thumbprints(call: ApiCall, arn: str, thumbprints: Sequence[str]) -> None:
    prints = _thumbprints(thumbprints)
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        row.thumbprints = prints
        await uow.oidc_providers.save(row)
        await call.record(uow, oidc_provider=arn, thumbprints=",".join(prints))


async def touch_oidc_provider(call: ApiCall, arn: str) -> None:
    """UpdateOpenIDConnectProvider without a context provider or an Identity Center instance: nothing changes, but
    the provider must exist and the call is authorized and audited."""
    async with call.unit() as uow:
        await _oidc_named(call, uow, arn)
        await call.record(uow, oidc_provider=arn)


async def tag_oidc_provider(call: ApiCall, arn: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        await put_tags(uow, call.account_id, OIDC_TAG_KIND, row.id, tags)
        await call.record(uow, oidc_provider=arn, keys=",".join(k for k, _ in tags))


async def untag_oidc_provider(call: ApiCall, arn: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        await uow.tags.remove(OIDC_TAG_KIND, row.id, keys)
        await call.record(uow, oidc_provider=arn, keys=",".join(keys))


async def list_oidc_provider_tags(call: ApiCall, arn: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        row = await _oidc_named(call, uow, arn)
        tags = await tags_of(uow, OIDC_TAG_KIND, row.id)
    return markers(call, "ListOpenIDConnectProviderTags", row.id).page_in_memory(tags, request, tag_key)


# --- SAML providers --------------------------------------------------------------------------------------------

def _no_saml(arn: str) -> NotFound:
    return NotFound(f"Manifest not found for arn {arn}")


async def _saml_named(call: ApiCall, uow: UnitOfWork, arn: str) -> SamlProvider:
    _arn_kind(arn, "saml-provider")
    row = await uow.saml_providers.by_arn(arn)
    mine = row is not None and row.account_id == call.account_id
    await call.authorize(uow, arn, target=Target(SAML_TAG_KIND, row.id) if row is not None and mine else None)
    if row is None or not mine:
        raise _no_saml(arn)
    return row


async def create_saml_provider(call: ApiCall, name: str, document: str, tags: TagPairs) -> SamlProviderView:
    metadata = _metadata(document)
    arn = saml_provider_arn(call.account_id, name)
    exists = AlreadyExists("Name", f"SAMLProvider {name} already exists.")
    async with call.unit() as uow:
        await call.authorize(uow, arn)
        await uow.credential_owners.lock_account(call.account_id)
        if await uow.saml_providers.by_arn(arn) is not None:
            raise exists
        if await uow.saml_providers.count_in_account(call.account_id) >= MAX_PER_ACCOUNT:
            raise LimitExceeded(f"Cannot exceed quota for SAMLProvidersPerAccount: {MAX_PER_ACCOUNT}")
        now = call.now()
        row = SamlProvider(id="SAMP" + _random(16), account_id=call.account_id, name=name, arn=arn,
                           metadata_xml=document, uuid=_random(26), entity_id=metadata.entity_id,
                           valid_until=metadata.valid_until, created_at=now, updated_at=now)
        try:
            await uow.saml_providers.add(row)
        except Conflict:
            raise exists from None
        await put_tags(uow, call.account_id, SAML_TAG_KIND, row.id, tags)
        await call.record(uow, saml_provider=arn, entity_id=metadata.entity_id)
        return SamlProviderView(row.id, row.account_id, arn, name, metadata, row.valid_until, now)


@dataclass(frozen=True)
class TaggedSaml:
    provider: SamlProviderView
    uuid: str
    document: str
    tags: TagPairs


async def get_saml_provider(call: ApiCall, arn: str) -> TaggedSaml:
    async with call.unit() as uow:
        row = await _saml_named(call, uow, arn)
        return TaggedSaml(_saml_view(row), row.uuid, row.metadata_xml, await tags_of(uow, SAML_TAG_KIND, row.id))


async def list_saml_providers(call: ApiCall) -> list[SamlProviderView]:
    async with call.unit() as uow:
        await call.authorize(uow, "*")  # the action has no resource type (Service Authorization Reference)
        return await saml_providers_of(uow, call.account_id)


async def update_saml_provider(call: ApiCall, arn: str, document: str | None) -> None:
    metadata = _metadata(document) if document is not None else None
    async with call.unit() as uow:
        row = await _saml_named(call, uow, arn)
        if metadata is not None and document is not None:
            row.metadata_xml, row.entity_id, row.valid_until = document, metadata.entity_id, metadata.valid_until
            row.updated_at = call.now()
            await uow.saml_providers.save(row)
        await call.record(uow, saml_provider=arn, entity_id=row.entity_id, metadata_changed=metadata is not None)


async def delete_saml_provider(call: ApiCall, arn: str) -> None:
    async with call.unit() as uow:
        row = await _saml_named(call, uow, arn)
        await uow.tags.remove_all(SAML_TAG_KIND, row.id)
        await uow.saml_providers.delete(row)
        await call.record(uow, saml_provider=arn)


async def tag_saml_provider(call: ApiCall, arn: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        row = await _saml_named(call, uow, arn)
        await put_tags(uow, call.account_id, SAML_TAG_KIND, row.id, tags)
        await call.record(uow, saml_provider=arn, keys=",".join(k for k, _ in tags))


async def untag_saml_provider(call: ApiCall, arn: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        row = await _saml_named(call, uow, arn)
        await uow.tags.remove(SAML_TAG_KIND, row.id, keys)
        await call.record(uow, saml_provider=arn, keys=",".join(keys))


async def list_saml_provider_tags(call: ApiCall, arn: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        row = await _saml_named(call, uow, arn)
        tags = await tags_of(uow, SAML_TAG_KIND, row.id)
    return markers(call, "ListSAMLProviderTags", row.id).page_in_memory(tags, request, tag_key)
