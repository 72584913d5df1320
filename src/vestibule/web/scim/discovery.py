"""The discovery endpoints of RFC 7644 section 4: what this service supports, said as it is."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    Filter,
    Group,
    Meta,
    Pagination,
    Patch,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    User,
)
from starlette.requests import Request
from starlette.responses import Response

from ...services.context import Deps
from ...services.identity_center.scim_tokens import ScimCaller
from .http import error_response, scim_json

MAX_RESULTS = 100
# what the directory keeps of a user (the Identity Store's attributes); the others are not served
USER_ATTRIBUTES = ("userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
                   "preferredLanguage", "locale", "timezone", "active", "emails", "phoneNumbers", "addresses")
GROUP_ATTRIBUTES = ("displayName", "members")
# sub-attributes the directory does not keep (an email's, a phone number's display text; a member's display is
# not kept either: answers show the member's user name there)
_DROPPED_SUB_ATTRIBUTES = {("emails", "display"), ("phoneNumbers", "display"), ("members", "display")}
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token",
            description="A token from `vestibule sso scim-token create`, in an Authorization: Bearer header.",
            primary=True)],
        pagination=Pagination(index=True, cursor=True, default_page_size=MAX_RESULTS,
                              max_page_size=MAX_RESULTS),
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def _schema(model: type[User[Any]] | type[Group], kept: tuple[str, ...], base: str) -> Schema:
    schema = model.to_schema()
    schema.attributes = [a for a in schema.attributes or [] if a.name in kept]
    for attribute in schema.attributes:
        subs = [sub for sub in attribute.sub_attributes or []
                if (attribute.name, sub.name) not in _DROPPED_SUB_ATTRIBUTES]
        attribute.sub_attributes = subs or None
    schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
    return schema


def schemas(base: str) -> list[Schema]:
    return [_schema(User, USER_ATTRIBUTES, base), _schema(Group, GROUP_ATTRIBUTES, base)]


def resource_types(base: str) -> list[ResourceType]:
    types = []
    for model in (User, Group):
        kind = ResourceType.from_resource(model)
        kind.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/{kind.id}")
        types.append(kind)
    return types


def _listed(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [LIST_SCHEMA], "totalResults": len(items), "startIndex": 1, "itemsPerPage": len(items),
            "Resources": items}


class Discovery:
    def __init__(self, deps: Deps, base: str) -> None:
        self.base = base

    async def config(self, request: Request, caller: ScimCaller) -> Response:
        return scim_json(service_provider_config(self.base).model_dump())

    async def schemas(self, request: Request, caller: ScimCaller) -> Response:
        wanted = request.path_params.get("schema_id")
        found = [s.model_dump() for s in schemas(self.base) if wanted is None or s.id == wanted]
        if wanted is None:
            return scim_json(_listed(found))
        return scim_json(found[0]) if found else error_response(404, f"Schema {wanted} not found.")

    async def resource_types(self, request: Request, caller: ScimCaller) -> Response:
        wanted = request.path_params.get("name")
        found = [t.model_dump() for t in resource_types(self.base) if wanted is None or t.id == wanted]
        if wanted is None:
            return scim_json(_listed(found))
        return scim_json(found[0]) if found else error_response(404, f"Resource type {wanted} not found.")
