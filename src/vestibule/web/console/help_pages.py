"""`/help/network`: what a firewall must let through to reach Vestibule, and how to check it;
`/help/federated-password`: a federated identity's password is reset at its identity provider."""

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
    """The one origin every browser, CLI and SDK reaches, and the sender address to allow in mail filters when a
    relay is configured. Never the relay itself (users never connect to it: its host, port and STARTTLS are the
    operator's, in docs/deployment.md), never a credential."""

    origin: Endpoint
    mail_from: str  # "" when no mail relay is configured


def network_needs(settings: Settings) -> NetworkNeeds:
    parts = urlsplit(settings.public_origin)
    scheme = parts.scheme or "http"
    origin = Endpoint(parts.hostname or "", parts.port or (443 if scheme == "https" else 80), scheme)
    return NetworkNeeds(origin, settings.mail_from if settings.smtp_host else "")


async def network_page(request: Request) -> Response:
    settings = web_of(request).deps.settings
    return render(request, "help/network.html", needs=network_needs(settings), origin_url=settings.public_origin)


async def federated_password_page(request: Request) -> Response:
    return render(request, "help/federated_password.html")


routes = [Route("/help/network", network_page, methods=["GET"]),
          Route("/help/federated-password", federated_password_page, methods=["GET"])]
