"""The dev mailbox page: mail that would have been sent, when no SMTP server is configured (loopback only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..services.mail import DevMailbox
from .rendering import render, web_of


async def dev_mail(request: Request) -> Response:
    web = web_of(request)
    if not web.dev_mailbox_enabled:
        return render(request, "not_found.html", 404)
    mailbox = web.deps.mailer
    messages = list(reversed(mailbox.messages)) if isinstance(mailbox, DevMailbox) else []
    return render(request, "dev_mail.html", messages=messages)


routes = [Route("/_dev/mail", dev_mail, methods=["GET"])]
