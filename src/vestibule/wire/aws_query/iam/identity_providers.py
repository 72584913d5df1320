"""OpenID Connect and SAML identity providers: create, get, list, update, delete, client IDs, thumbprints, tags."""

from __future__ import annotations

from ....services.iam import identity_providers as providers
from ....services.iam.common import TagPairs
from ...members import Member, boolean, enum, string_list, structure, text
from ..errors import InvalidInput
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import DOCUMENT_PATTERN, TAG_KEYS, TAGS, listing
from .shapes import page_request, page_shape, tags_of, tags_shape
from .table import IAM

OIDC_ARN = text("OpenIDConnectProviderArn", 20, 2048).required()
SAML_ARN = text("SAMLProviderArn", 20, 2048).required()
CLIENT_ID = text("ClientID", 1, 255).required()
THUMBPRINTS = string_list("ThumbprintList")
METADATA = text("SAMLMetadataDocument", 1000, 10000000)
# Identity Center's trusted identity propagation and SAML assertion encryption: declared so a request that asks
# for them is refused instead of silently ignored
CONTEXT_PROVIDER = structure("ContextProvider")
IDENTITY_CENTER = text("IdentityCenterInstanceArn", 1, 1224)
REMOVALS = (boolean("RemoveContextProvider"), boolean("RemoveIdentityCenterInstance"))
ENCRYPTION = (enum("AssertionEncryptionMode", "Required", "Allowed"),
              text("AddPrivateKey", 1, 16384, DOCUMENT_PATTERN).sensitive())
REMOVE_KEY = text("RemovePrivateKey", 22, 64, "[A-Z0-9]+")


_ENCRYPTION = "assertion encryption (assertions are accepted signed, not encrypted)"
_PROPAGATION = "Identity Center trusted identity propagation"
_FEATURES = {"ContextProvider": _PROPAGATION, "IdentityCenterInstanceArn": _PROPAGATION,
             "AssertionEncryptionMode": _ENCRYPTION, "AddPrivateKey": _ENCRYPTION, "RemovePrivateKey": _ENCRYPTION}


def _refuse_unsupported(q: QueryRequest, *members: Member) -> None:
    """Features Vestibule's providers do not have (so nothing to remove: the Remove... switches are no-ops)."""
    for member in members:
        given = q.input.struct(member.name) if member.type == "structure" else q.input.text(member.name)
        if given:
            raise InvalidInput(f"{member.name} is not supported: Vestibule's identity providers have no "
                               f"{_FEATURES[member.name]}.")


def _tagged(shape: dict[str, XmlValue], tags: TagPairs) -> dict[str, XmlValue]:
    if tags:
        shape["Tags"] = tags_shape(tags)
    return shape


@IAM.operation("CreateOpenIDConnectProvider", action="iam:CreateOpenIDConnectProvider",
               audit="CreateOpenIDConnectProvider",
               inputs=(text("Url", 1, 255).required(), string_list("ClientIDList"), THUMBPRINTS, TAGS,
                       CONTEXT_PROVIDER, IDENTITY_CENTER))
async def create_open_id_connect_provider(q: QueryRequest) -> Result:
    _refuse_unsupported(q, CONTEXT_PROVIDER, IDENTITY_CENTER)
    tags = tags_of(q)
    created = await providers.create_oidc_provider(q.call, q.input.required("Url"), q.input.strings("ClientIDList"),
                                                   q.input.strings("ThumbprintList"), tags)
    return _tagged({"OpenIDConnectProviderArn": created.arn}, tags)


@IAM.operation("GetOpenIDConnectProvider", action="iam:GetOpenIDConnectProvider", inputs=(OIDC_ARN,))
async def get_open_id_connect_provider(q: QueryRequest) -> Result:
    found = await providers.get_oidc_provider(q.call, q.input.required("OpenIDConnectProviderArn"))
    provider = found.provider
    return _tagged({"Url": provider.url, "ClientIDList": list(provider.client_ids),
                    "ThumbprintList": list(provider.thumbprints), "CreateDate": Timestamp(provider.created_at)},
                   found.tags)


@IAM.operation("ListOpenIDConnectProviders", action="iam:ListOpenIDConnectProviders", inputs=())
async def list_open_id_connect_providers(q: QueryRequest) -> Result:
    listed = await providers.list_oidc_providers(q.call)
    return {"OpenIDConnectProviderList": [{"Arn": p.arn} for p in listed]}


@IAM.operation("DeleteOpenIDConnectProvider", action="iam:DeleteOpenIDConnectProvider",
               audit="DeleteOpenIDConnectProvider", inputs=(OIDC_ARN,))
async def delete_open_id_connect_provider(q: QueryRequest) -> Result:
    await providers.delete_oidc_provider(q.call, q.input.required("OpenIDConnectProviderArn"))
    return None


@IAM.operation("AddClientIDToOpenIDConnectProvider", action="iam:AddClientIDToOpenIDConnectProvider",
               audit="AddClientIDToOpenIDConnectProvider", inputs=(OIDC_ARN, CLIENT_ID))
async def add_client_id_to_open_id_connect_provider(q: QueryRequest) -> Result:
    await providers.add_client_id(q.call, q.input.required("OpenIDConnectProviderArn"), q.input.required("ClientID"))
    return None


@IAM.operation("RemoveClientIDFromOpenIDConnectProvider", action="iam:RemoveClientIDFromOpenIDConnectProvider",
               audit="RemoveClientIDFromOpenIDConnectProvider", inputs=(OIDC_ARN, CLIENT_ID))
async def remove_client_id_from_open_id_connect_provider(q: QueryRequest) -> Result:
    await providers.remove_client_id(q.call, q.input.required("OpenIDConnectProviderArn"),
                                     q.input.required("ClientID"))
    return None


@IAM.operation("UpdateOpenIDConnectProviderThumbprint", action="iam:UpdateOpenIDConnectProviderThumbprint",
               audit="UpdateOpenIDConnectProviderThumbprint", inputs=(OIDC_ARN, THUMBPRINTS.required()))
async def update_open_id_connect_provider_thumbprint(q: QueryRequest) -> Result:
    await providers.update_thumbprints(q.call, q.input.required("OpenIDConnectProviderArn"),
                                       q.input.strings("ThumbprintList"))
    return None


@IAM.operation("UpdateOpenIDConnectProvider", action="iam:UpdateOpenIDConnectProvider",
               audit="UpdateOpenIDConnectProvider", inputs=(OIDC_ARN, CONTEXT_PROVIDER, IDENTITY_CENTER, *REMOVALS))
async def update_open_id_connect_provider(q: QueryRequest) -> Result:
    _refuse_unsupported(q, CONTEXT_PROVIDER, IDENTITY_CENTER)
    await providers.touch_oidc_provider(q.call, q.input.required("OpenIDConnectProviderArn"))
    return None


@IAM.operation("TagOpenIDConnectProvider", action="iam:TagOpenIDConnectProvider", audit="TagOpenIDConnectProvider",
               inputs=(OIDC_ARN, TAGS.required()))
async def tag_open_id_connect_provider(q: QueryRequest) -> Result:
    await providers.tag_oidc_provider(q.call, q.input.required("OpenIDConnectProviderArn"), tags_of(q))
    return None


@IAM.operation("UntagOpenIDConnectProvider", action="iam:UntagOpenIDConnectProvider",
               audit="UntagOpenIDConnectProvider", inputs=(OIDC_ARN, TAG_KEYS.required()))
async def untag_open_id_connect_provider(q: QueryRequest) -> Result:
    await providers.untag_oidc_provider(q.call, q.input.required("OpenIDConnectProviderArn"),
                                        q.input.strings("TagKeys"))
    return None


@IAM.operation("ListOpenIDConnectProviderTags", action="iam:ListOpenIDConnectProviderTags",
               inputs=listing(OIDC_ARN))
async def list_open_id_connect_provider_tags(q: QueryRequest) -> Result:
    listed = await providers.list_oidc_provider_tags(q.call, q.input.required("OpenIDConnectProviderArn"),
                                                     page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}


@IAM.operation("CreateSAMLProvider", action="iam:CreateSAMLProvider", audit="CreateSAMLProvider",
               inputs=(METADATA.required(), text("Name", 1, 128, r"[\w._-]+").required(), TAGS, *ENCRYPTION,
                       CONTEXT_PROVIDER, IDENTITY_CENTER))
async def create_saml_provider(q: QueryRequest) -> Result:
    _refuse_unsupported(q, *ENCRYPTION, CONTEXT_PROVIDER, IDENTITY_CENTER)
    tags = tags_of(q)
    created = await providers.create_saml_provider(q.call, q.input.required("Name"),
                                                   q.input.required("SAMLMetadataDocument"), tags)
    return _tagged({"SAMLProviderArn": created.arn}, tags)


@IAM.operation("GetSAMLProvider", action="iam:GetSAMLProvider", inputs=(SAML_ARN,))
async def get_saml_provider(q: QueryRequest) -> Result:
    found = await providers.get_saml_provider(q.call, q.input.required("SAMLProviderArn"))
    shape: dict[str, XmlValue] = {"SAMLProviderUUID": found.uuid, "SAMLMetadataDocument": found.document,
                                  "CreateDate": Timestamp(found.provider.created_at)}
    if found.provider.valid_until is not None:
        shape["ValidUntil"] = Timestamp(found.provider.valid_until)
    return _tagged(shape, found.tags)


@IAM.operation("ListSAMLProviders", action="iam:ListSAMLProviders", inputs=())
async def list_saml_providers(q: QueryRequest) -> Result:
    listed = await providers.list_saml_providers(q.call)
    entries: list[XmlValue] = []
    for provider in listed:
        entry: dict[str, XmlValue] = {"Arn": provider.arn, "CreateDate": Timestamp(provider.created_at)}
        if provider.valid_until is not None:
            entry["ValidUntil"] = Timestamp(provider.valid_until)
        entries.append(entry)
    return {"SAMLProviderList": entries}


@IAM.operation("UpdateSAMLProvider", action="iam:UpdateSAMLProvider", audit="UpdateSAMLProvider",
               inputs=(METADATA, SAML_ARN, *ENCRYPTION, REMOVE_KEY, CONTEXT_PROVIDER, IDENTITY_CENTER, *REMOVALS))
async def update_saml_provider(q: QueryRequest) -> Result:
    _refuse_unsupported(q, *ENCRYPTION, REMOVE_KEY, CONTEXT_PROVIDER, IDENTITY_CENTER)
    arn = q.input.required("SAMLProviderArn")
    await providers.update_saml_provider(q.call, arn, q.input.text("SAMLMetadataDocument"))
    return {"SAMLProviderArn": arn}


@IAM.operation("DeleteSAMLProvider", action="iam:DeleteSAMLProvider", audit="DeleteSAMLProvider", inputs=(SAML_ARN,))
async def delete_saml_provider(q: QueryRequest) -> Result:
    await providers.delete_saml_provider(q.call, q.input.required("SAMLProviderArn"))
    return None


@IAM.operation("TagSAMLProvider", action="iam:TagSAMLProvider", audit="TagSAMLProvider",
               inputs=(SAML_ARN, TAGS.required()))
async def tag_saml_provider(q: QueryRequest) -> Result:
    await providers.tag_saml_provider(q.call, q.input.required("SAMLProviderArn"), tags_of(q))
    return None


@IAM.operation("UntagSAMLProvider", action="iam:UntagSAMLProvider", audit="UntagSAMLProvider",
               inputs=(SAML_ARN, TAG_KEYS.required()))
async def untag_saml_provider(q: QueryRequest) -> Result:
    await providers.untag_saml_provider(q.call, q.input.required("SAMLProviderArn"), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListSAMLProviderTags", action="iam:ListSAMLProviderTags", inputs=listing(SAML_ARN))
async def list_saml_provider_tags(q: QueryRequest) -> Result:
    listed = await providers.list_saml_provider_tags(q.call, q.input.required("SAMLProviderArn"), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}
