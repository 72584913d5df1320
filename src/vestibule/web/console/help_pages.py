"""`/help/network`: what a firewall must let through to reach Vestibule, and how to check it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...settings import Settings
from ..rendering import render, web_of


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    scheme: str  # https, http, smtp


@dataclass(frozen=True)
class NetworkNeeds:
    """The one origin every browser, CLI and SDK reaches, and (server side) the mail relay. Never a credential:
    only host names and ports, which anyone who receives a mail or opens a page already sees."""

    origin: Endpoint
    mail: Endpoint | None
    mail_starttls: bool
    mail_from: str


def network_needs(settings: Settings) -> NetworkNeeds:
    parts = urlsplit(settings.public_origin)
    scheme = parts.scheme or "http"
    origin = Endpoint(parts.hostname or "", parts.port or (443 if scheme == "https" else 80), scheme)
    mail = Endpoint(settings.smtp_host, settings.smtp_port, "smtp") if settings.smtp_host else None
    return NetworkNeeds(origin, mail, settings.smtp_starttls, settings.mail_from if mail else "")


async def network_page(request: Request) -> Response:
    settings = web_of(request).deps.settings
    return render(request, "help/network.html", needs=network_needs(settings), origin_url=settings.public_origin)


routes = [Route("/help/network", network_page, methods=["GET"])]
