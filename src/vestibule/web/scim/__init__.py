"""SCIM 2.0 (RFC 7643, RFC 7644) at /scim/v2/: a JSON API of its own, outside the page middleware (no browser
cookie, no CSRF, no HTML), authenticated by bearer tokens that each belong to one identity store."""

from __future__ import annotations

from scim2_models import Group, User
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...services.context import Deps
from .discovery import Discovery
from .http import base_url, endpoint, error_response, from_exception
from .resources import ResourceRoutes

PREFIX = "/scim/v2"


def serves(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, "No such SCIM endpoint.")


async def _error(request: Request, exc: Exception) -> Response:
    return from_exception(exc)


async def _search_everything(request: Request, caller: object) -> Response:
    return error_response(501, "Searching every resource type at once is not supported; use /Users/.search or "
                               "/Groups/.search.")


def create_app(deps: Deps) -> Starlette:
    base = base_url(deps)
    discovery = Discovery(deps, base)
    users = ResourceRoutes(deps, User)
    groups = ResourceRoutes(deps, Group)

    def route(path: str, handler: object, methods: list[str]) -> Route:
        return Route(PREFIX + path, endpoint(deps, handler), methods=methods)  # type: ignore[arg-type]

    routes = [
        route("/.search", _search_everything, ["POST"]),
        route("/ServiceProviderConfig", discovery.config, ["GET"]),
        route("/Schemas", discovery.schemas, ["GET"]),
        route("/Schemas/{schema_id}", discovery.schemas, ["GET"]),
        route("/ResourceTypes", discovery.resource_types, ["GET"]),
        route("/ResourceTypes/{name}", discovery.resource_types, ["GET"]),
        route("/Users", users.list, ["GET"]),
        route("/Users", users.create, ["POST"]),
        route("/Users/.search", users.search, ["POST"]),
        route("/Users/{id}", users.get, ["GET"]),
        route("/Users/{id}", users.replace, ["PUT"]),
        route("/Users/{id}", users.patch, ["PATCH"]),
        route("/Users/{id}", users.delete, ["DELETE"]),
        route("/Groups", groups.list, ["GET"]),
        route("/Groups", groups.create, ["POST"]),
        route("/Groups/.search", groups.search, ["POST"]),
        route("/Groups/{id}", groups.get, ["GET"]),
        route("/Groups/{id}", groups.replace, ["PUT"]),
        route("/Groups/{id}", groups.patch, ["PATCH"]),
        route("/Groups/{id}", groups.delete, ["DELETE"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: _not_found, 405: _error, Exception: _error})
