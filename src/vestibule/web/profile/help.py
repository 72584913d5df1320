"""Troubleshooting a personal profile (`/profile/help` and `/profile/help/<topic>`): the seed guide's topics in
Vestibule's words. Public pages (most of them are read by someone who cannot sign in); none tells whether an
address has a profile."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..rendering import render

_K = "profile_privacy.help_"
_SIGNIN = ("/profile", _K + "signin_link")
_RESET = ("/profile/recover", _K + "reset_link")
_SECURITY = ("/profile/security", _K + "security_link")
_DETAILS = ("/profile/details", _K + "details_link")


@dataclass(frozen=True)
class Topic:
    slug: str
    key: str  # `profile_privacy.help_<key>_title` and its paragraphs `_1`, `_2`, ...
    paragraphs: int
    links: tuple[tuple[str, str], ...] = ()

    @property
    def title(self) -> str:
        return f"{_K}{self.key}_title"

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(f"{_K}{self.key}_{n}" for n in range(1, self.paragraphs + 1))


TOPICS: tuple[Topic, ...] = (
    Topic("email-in-use", "email_used", 2, (_SIGNIN, _RESET)),
    Topic("email-verification", "verify", 3),
    Topic("something-went-wrong", "clock", 1),
    Topic("forgot-password", "forgot", 2, (_RESET,)),
    Topic("new-password", "new_password", 1),
    Topic("password-does-not-work", "password", 2, (_RESET,)),
    Topic("lost-mailbox", "mailbox", 2, (_DETAILS,)),
    Topic("enable-mfa", "mfa_enable", 1, (_SECURITY,)),
    Topic("add-authenticator-app", "mfa_add", 1, (_SECURITY,)),
    Topic("remove-mfa-device", "mfa_remove", 1, (_SECURITY,)),
    Topic("authenticator-unexpected-error", "authenticator", 2),
    Topic("sign-out", "signout", 2, (_SECURITY,)),
    Topic("still-stuck", "still", 1),
)
_BY_SLUG = {topic.slug: topic for topic in TOPICS}


async def help_index(request: Request) -> Response:
    return render(request, "profile/help.html", topics=TOPICS)


async def help_topic(request: Request) -> Response:
    topic = _BY_SLUG.get(request.path_params["topic"])
    if topic is None:
        return render(request, "profile/help.html", 404, topics=TOPICS)
    return render(request, "profile/help_topic.html", topic=topic)


routes = [
    Route("/profile/help", help_index, methods=["GET"]),
    Route("/profile/help/{topic}", help_topic, methods=["GET"]),
]
