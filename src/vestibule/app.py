"""The ASGI application: pages, static files, error pages, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from .core import proof_of_work
from .observe import shown_request_id
from .runtime import Runtime
from .services import metrics
from .services.aws_identity import KeyDirectory
from .services.captcha import CaptchaService, random_text
from .services.health import Health
from .services.mail import DevMailbox
from .store.probes import Probes
from .web import captcha_media, console, dev_mail, device, ops, outbound_oidc, portal, profile, scim
from .web.federation import endpoint as federation_endpoint
from .web.federation import oidc_signin as federation_oidc_signin
from .web.federation import saml as federation_saml
from .web.rendering import CsrfFailure, Web, render, translator
from .web.request_entry import RequestEntry
from .web.security import BodyTooLarge, BrowserMiddleware
from .wire.front import AwsFront

log = logging.getLogger("vestibule")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


async def _csrf_failure(request: Request, exc: Exception) -> Response:
    return render(request, "flow_error.html", 403, error=translator(request)("csrf.failed"))


async def _too_large(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("Request body too large.", status_code=413)


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its body arrived: nothing to answer, nothing to log."""
    return PlainTextResponse("Client disconnected.", status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return render(request, "not_found.html", 404)
    return PlainTextResponse(exc.detail or "", status_code=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, shown_request_id())
    return render(request, "flow_error.html", 500, error=translator(request)("error.generic"))


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(runtime: Runtime, *, loopback: bool = True, captcha_text_source: Callable[[], str] = random_text,
               captcha_work: int = proof_of_work.WORK,
               close_runtime: bool = True) -> Starlette:
    deps = runtime.deps
    dev_mailbox = dev_mail.decide(deps.settings, isinstance(deps.mailer, DevMailbox), loopback)
    log.info(dev_mailbox.log_line(deps.settings))
    csrf_key = deps.box.signing_key  # the keyring's signing key: stable when master keys rotate
    keys = KeyDirectory(deps)
    web = Web.build(deps, CaptchaService(deps, captcha_text_source, work=captcha_work), csrf_key, dev_mailbox.on, keys)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        yield
        if close_runtime:
            await runtime.close()

    routes = [
        Route("/_health", _health),
        Route("/healthz", _health),  # the process answers (docs/deployment.md); /readyz checks its backends
        *ops.routes,  # /readyz, /metrics
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static"),
        *captcha_media.routes,
        *dev_mail.routes_for(dev_mailbox),
        *console.routes,
        *outbound_oidc.routes,
        *portal.routes,
        *device.routes,  # /device, /authorize: the CLI sign-in's approval pages
        *profile.routes,  # /profile...: personal profiles
        *federation_endpoint.routes,  # /federation: getSigninToken and login for identity brokers
        *federation_saml.routes,  # /saml, /saml/metadata: the console's SAML service provider
        *federation_oidc_signin.routes,  # /oidc/...: the IAM sign-in page's 'Sign in with ...' buttons
        # future areas (portal, profile, device) add their routes here, before the catch-all
        *console.catch_all_routes,
    ]
    app = _Vestibule(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            CsrfFailure: _csrf_failure,
            BodyTooLarge: _too_large,
            ClientDisconnect: _client_gone,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.web = web
    app.state.runtime = runtime
    probes = Probes(runtime.engine, runtime.redis)
    probes.watch_pool(metrics.pool_checked_out, metrics.pool_size)
    app.state.ops = ops.Ops.build(Health(probes, deps.settings), deps.settings)
    app.router.redirect_slashes = False  # its redirect would be built from the Host header and the raw path
    app.add_middleware(BrowserMiddleware, settings=deps.settings, key=csrf_key)
    app.front = AwsFront(app.web_pages, deps=deps, keys=keys)
    app.scim = scim.create_app(deps)
    app.entry = RequestEntry(app._http, trusted_proxies=deps.settings.trusted_proxies,
                             json_access_log=deps.settings.log_format == "json")
    return app


class _Vestibule(Starlette):
    """The Starlette app with the AWS front truly outermost: an HTTP request reaches the front first, and only
    what it routes to the pages enters Starlette (its error middleware, the page middleware, the routes).
    Lifespan and websocket scopes go straight to Starlette."""

    entry: RequestEntry
    front: AwsFront
    scim: Starlette  # /scim/v2/: a JSON API beside the front, never through the page middleware

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.entry(scope, receive, send)  # the real client, the request ID, then the routes below
        else:
            await super().__call__(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scim.serves(scope["path"]):
            await self.scim(scope, receive, send)
        else:
            await self.front(scope, receive, send)

    async def web_pages(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def app_from_environment() -> Starlette:
    """Factory for uvicorn (`vestibule serve`): settings from the environment, schema already migrated."""
    import os

    from .runtime import assemble
    from .settings import load_settings

    settings = load_settings()
    return create_app(assemble(settings), loopback=os.environ.get("VESTIBULE_SERVE_LOOPBACK", "1") == "1")
