"""Users and Groups (RFC 7644 3.3-3.6): one set of routes per resource type, over the SCIM use cases. Bodies and
query parameters are read by scim2-models (validation per operation, filters, PATCH), answers dumped by it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from scim2_models import Context, Group, ListResponse, PatchOp, Resource, SearchRequest, User
from starlette.requests import Request
from starlette.responses import Response

from ...services.context import Deps
from ...services.identity_center import scim
from ...services.identity_center.scim_tokens import ScimCaller
from .discovery import MAX_RESULTS
from .http import json_body, scim_json

R = TypeVar("R", User[Any], Group)
_QUERY_NAMES = {"filter": "filter", "startindex": "startIndex", "count": "count", "attributes": "attributes",
                "excludedattributes": "excludedAttributes", "cursor": "cursor"}


@dataclass(frozen=True)
class _Kind(Generic[R]):
    model: type[R]
    name: str  # User | Group


def _search(kind: _Kind[Any], values: dict[str, Any]) -> SearchRequest[Any]:
    search: SearchRequest[Any] = SearchRequest[kind.model].model_validate(  # type: ignore[name-defined]
        values, scim_ctx=Context.SEARCH_REQUEST)
    if search.count is None or search.count > MAX_RESULTS:
        search.count = MAX_RESULTS
    return search


class ResourceRoutes(Generic[R]):
    def __init__(self, deps: Deps, model: type[R]) -> None:
        self.deps = deps
        self.kind: _Kind[R] = _Kind(model, "User" if model is User else "Group")

    def _dump(self, resource: Resource[Any], ctx: Context, search: SearchRequest[Any] | None = None) -> dict[str, Any]:
        return resource.model_dump(scim_ctx=ctx, response_parameters=search)

    def _params(self, request: Request) -> SearchRequest[Any]:
        values = {_QUERY_NAMES[k.lower()]: v for k, v in request.query_params.items() if k.lower() in _QUERY_NAMES}
        return _search(self.kind, values)

    async def _listing(self, caller: ScimCaller, search: SearchRequest[Any]) -> Response:
        if search.cursor is not None:  # RFC 9865: "" asks for the first page
            total, found, next_cursor = await scim.list_after_cursor(self.deps, caller, self.kind.name,
                                                                     search.filter, search.cursor, search.count or 0)
            listing = ListResponse[self.kind.model](  # type: ignore[name-defined]
                total_results=total, items_per_page=len(found), next_cursor=next_cursor, resources=found)
            return scim_json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))
        total, found = await scim.list_resources(self.deps, caller, self.kind.name, search.filter,
                                                 search.start_index or 1, search.count or 0)
        listing = ListResponse[self.kind.model](  # type: ignore[name-defined]
            total_results=total, start_index=search.start_index or 1, items_per_page=len(found), resources=found)
        return scim_json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))

    async def list(self, request: Request, caller: ScimCaller) -> Response:
        return await self._listing(caller, self._params(request))

    async def search(self, request: Request, caller: ScimCaller) -> Response:
        return await self._listing(caller, _search(self.kind, await json_body(request)))

    async def create(self, request: Request, caller: ScimCaller) -> Response:
        given = self.kind.model.model_validate(await json_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        made = await scim.create_resource(self.deps, caller, given)
        assert made.meta is not None and made.meta.location is not None
        return scim_json(self._dump(made, Context.RESOURCE_CREATION_RESPONSE), 201,
                         headers={"Location": str(made.meta.location)})

    async def get(self, request: Request, caller: ScimCaller) -> Response:
        found = await scim.get_resource(self.deps, caller, self.kind.name, request.path_params["id"])
        return scim_json(self._dump(found, Context.RESOURCE_QUERY_RESPONSE, self._params(request)))

    async def replace(self, request: Request, caller: ScimCaller) -> Response:
        given = self.kind.model.model_validate(await json_body(request),
                                               scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        done = await scim.replace_resource(self.deps, caller, request.path_params["id"], given)
        return scim_json(self._dump(done, Context.RESOURCE_REPLACEMENT_RESPONSE))

    async def patch(self, request: Request, caller: ScimCaller) -> Response:
        patch: PatchOp[Any] = PatchOp[self.kind.model].model_validate(  # type: ignore[name-defined]
            await json_body(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        done = await scim.patch_resource(self.deps, caller, self.kind.name, request.path_params["id"], patch)
        return scim_json(self._dump(done, Context.RESOURCE_PATCH_RESPONSE))

    async def delete(self, request: Request, caller: ScimCaller) -> Response:
        await scim.delete_resource(self.deps, caller, self.kind.name, request.path_params["id"])
        return Response(status_code=204)
