"""The issuer of an account's outbound web identity tokens: its OpenID Connect discovery document and JWKS, public
(external services fetch them to verify tokens from GetWebIdentityToken)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..services import outbound_federation
from .rendering import web_of

_CACHE = {"cache-control": "public, max-age=300"}


async def _discovery(request: Request) -> Response:
    document = await outbound_federation.discovery_document(web_of(request).deps, request.path_params["issuer"])
    return _json(document)


async def _jwks(request: Request) -> Response:
    return _json(await outbound_federation.key_set(web_of(request).deps, request.path_params["issuer"]))


def _json(document: dict[str, object] | None) -> Response:
    if document is None:
        return PlainTextResponse("Not Found", status_code=404)
    return JSONResponse(document, headers=_CACHE)


_BASE = outbound_federation.ISSUER_PATH + "{issuer}"
routes = [
    Route(_BASE + "/.well-known/openid-configuration", _discovery, methods=["GET"]),
    Route(_BASE + "/.well-known/jwks.json", _jwks, methods=["GET"]),
]
