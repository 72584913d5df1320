"""What every page route of every area needs: templates, CSRF, cookies, redirects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, nodes, select_autoescape
from jinja2.compiler import CodeGenerator, Frame
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..core.identifiers import format_account_id
from ..core.tokens import new_token, same
from ..observe import shown_request_id
from ..services.aws_identity import KeyDirectory
from ..services.captcha import CaptchaService
from ..services.context import Client, Deps
from . import i18n
from .security import CookieNames, browser_cookie, browser_hash, cookie_header, csrf_token

_TEMPLATES = Path(__file__).parent / "templates"


class CsrfFailure(Exception):
    pass


class _CodeGenerator(CodeGenerator):
    """Compiles `t(key, ...)` (the translator, which never takes Jinja's context) to a direct call instead of
    `context.call(t, key, ..., _block_vars=...)`: a page calls it 15 to 30 times. Every other call as Jinja does."""

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        if (forward_caller or self.environment.is_async or self.environment.sandboxed or not node.args
                or not isinstance(node.node, nodes.Name) or node.node.name != "t"):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self.visit(node.node, frame)
        self.write("(")
        self.visit(node.args[0], frame)
        self.signature(nodes.Call(node.node, node.args[1:], node.kwargs, node.dyn_args, node.dyn_kwargs), frame)
        self.write(")")


@dataclass
class Web:
    deps: Deps
    captcha: CaptchaService
    csrf_key: bytes
    names: CookieNames
    env: Environment
    dev_mailbox_enabled: bool
    keys: KeyDirectory
    _page_paths: dict[object, str] | None = None

    def page_paths(self, routes: list[Any]) -> dict[object, str]:
        """Each page route's endpoint and its path template (`/{account}/console`), read once."""
        if self._page_paths is None:
            self._page_paths = {r.endpoint: r.path_format for r in routes if isinstance(r, Route)}
        return self._page_paths

    @classmethod
    def build(cls, deps: Deps, captcha: CaptchaService, csrf_key: bytes, dev_mailbox_enabled: bool,
              keys: KeyDirectory) -> Web:
        # One template root: shared layout and partials at the top, each area's pages in its own folder.
        # Templates ship with the code: compiled once, never re-checked on disk (no stat per render).
        env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]),
                          trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        env.code_generator_class = _CodeGenerator
        env.globals["format_account_id"] = format_account_id
        env.filters["utc"] = lambda ts: datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")
        env.globals["public_url"] = deps.settings.public_origin
        env.globals["request_id"] = shown_request_id  # error pages show it (templates/_request_id.html)
        return cls(deps, captcha, csrf_key, CookieNames(deps.settings), env, dev_mailbox_enabled, keys)


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def client_of(request: Request) -> Client:
    return Client(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:512],
        browser_hash=browser_hash(request.state.browser_id),
        signed_in_browser_hash=browser_hash(_next_browser_id(request)),
        language=request.state.lang,
    )


def _next_browser_id(request: Request) -> str:
    """The browser ID this browser gets if a sign-in completes in this request (the ID is rotated at sign-in,
    so an ID planted or seen before the sign-in is worth nothing after it)."""
    state = request.state
    found: object = getattr(state, "next_browser_id", None)
    if isinstance(found, str):
        return found
    fresh = new_token()
    state.next_browser_id = fresh
    return fresh


@cache
def _translator(locale: str) -> i18n.Translator:
    return i18n.Translator(locale)


def translator(request: Request) -> i18n.Translator:
    """The request's language's translator (one per locale and process: it holds no request state)."""
    return _translator(request.state.lang)


def request_csrf_token(request: Request) -> str:
    """This browser's CSRF token, computed once per request (the form check and the page share it)."""
    state = request.state
    token: object = getattr(state, "csrf_token", None)
    if isinstance(token, str):
        return token
    fresh = csrf_token(web_of(request).csrf_key, state.browser_id)
    state.csrf_token = fresh
    return fresh


_NO_STORE = {"cache-control": "no-store"}
_DROPPED_PARAMS = frozenset({"lang", "captcha"})


def same_origin_path(url: str) -> str:
    """`url` if it is a path on this site: one leading `/`, then no `/` or `\\` (which browsers read as
    another host), no control characters; otherwise the start page."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url or any(
            ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "/"
    return url


def page_path(request: Request) -> str:
    """The path of the page being answered, rebuilt from the route that matched and its parameters (each
    percent-encoded whole); never the request's own path. Unmatched requests: the start page."""
    scope = request.scope
    template = web_of(request).page_paths(request.app.routes).get(scope.get("endpoint"))
    if template is None:
        return "/"
    params = {k: quote(str(v), safe="") for k, v in scope.get("path_params", {}).items()}
    return same_origin_path(template.format(**params))


def iam_signin_path(account: str) -> str:
    """`/{account}/console` for an account ID or alias (any characters encoded)."""
    return same_origin_path(f"/{quote(account, safe='')}/console")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    web = web_of(request)
    t = translator(request)
    path = page_path(request)
    has_query = bool(request.scope.get("query_string"))

    def lang_url(locale: str) -> str:
        params = {k: v for k, v in request.query_params.items() if k not in _DROPPED_PARAMS} if has_query else {}
        return path + "?" + urlencode({**params, "lang": locale})

    html = web.env.get_template(template).render(
        t=t, lang=t.locale, csrf_token=request_csrf_token(request), lang_url=lang_url, request_path=path, **context,
    )
    return HTMLResponse(html, status_code=status, headers=_NO_STORE)


async def form_of(request: Request) -> FormData:
    """Parse the form and check its CSRF token; raises CsrfFailure (-> 403)."""
    form = await request.form(max_files=0, max_fields=50, max_part_size=16 * 1024)
    submitted = str(form.get("csrf_token", ""))
    if not submitted or not same(request_csrf_token(request), submitted):
        raise CsrfFailure()
    if any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in form.multi_items()):
        raise HTTPException(400, "Bad request: a NUL character in a field.")  # no text column holds one
    return form


def field(form: FormData, name: str, limit: int = 1024) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def redirect(url: str) -> RedirectResponse:
    """303 to a path of this site (anything else goes to the start page)."""
    return RedirectResponse(same_origin_path(url), status_code=303)


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    """The new session's cookie, and the browser's new ID (rotated at every sign-in: CSRF tokens and the
    browser binding of flows derive from it)."""
    web = web_of(request)
    response.headers.append("set-cookie", cookie_header(web.names.session, token, max_age=max_age,
                                                        secure=web.names.secure))
    rotate_browser_id(request, response)


def rotate_browser_id(request: Request, response: Response) -> None:
    """The browser's new ID after a sign-in (the one `Client.signed_in_browser_hash` names and the sign-in
    remembered as a known browser)."""
    web = web_of(request)
    response.headers.append("set-cookie", browser_cookie(web.names, web.csrf_key, _next_browser_id(request)))


def clear_session_cookie(response: Response, web: Web) -> None:
    response.headers.append("set-cookie", cookie_header(web.names.session, "", max_age=0, secure=web.names.secure))


def previous_session(request: Request) -> str:
    """The session token this browser's cookie holds (a new sign-in ends that session)."""
    token: str = request.state.cookies.get(web_of(request).names.session, "")
    return token
