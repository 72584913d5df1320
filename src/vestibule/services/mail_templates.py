"""Every mail from a template, in the recipient's language (English or Traditional Chinese).

A use case composes its mail here, inside its transaction, and queues the result with `outbox.enqueue`:

    mail = await mail_templates.compose(deps, uow, "signin_code", to=address, language=client.language,
                                        principal=ref.key, remember=True, code=code, account_id=...)

The language: `language` is the one of the page that caused the mail (`Client.language`; empty for the CLI,
the API and background work); `principal` is the recipient's principal key, whose remembered language
(table `mail_languages`) is used when no page's language applies.
- `remember=True` when the page's user is the recipient (signed in, or just proved the password or the
  address): the page's language is used and remembered for the principal's later mail.
- `remember=False` (anyone may have caused it: a sign-up for a taken address, a reset request, an operator's
  command): the remembered language first, then the page's, then English; nothing is remembered.
Every sign-in from a page keeps that page's language too (`signin/completion.py`, in the sign-in's transaction).

The templates (`vestibule/mail_templates/<language>/<name>.txt`) are rendered by the `MailTemplates` port
built at start (Jinja2 lives outside the service layer); `MAILS` below names each mail's variables, and
`compose` refuses a call that gives others, so a test rendering every mail in both languages with exactly
those variables proves no template reads one that a use case does not give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..store.repositories import UnitOfWork
from .mail import Mail

if TYPE_CHECKING:  # (context.py imports this module for the port's type)
    from .context import Deps

LANGUAGES = ("en", "zh-TW")  # the pages' languages (web/i18n.LOCALES: a test keeps them equal)
DEFAULT = "en"

# Every mail: its template's name -> the variables its use case gives (besides `public_url`, always given).
MAILS: dict[str, frozenset[str]] = {
    "signup_code": frozenset({"code"}),
    "signup_taken": frozenset(),
    # the sign-in codes say where the attempt came from (core/attempt_origin.py: address and browser may be '')
    "signin_code": frozenset({"code", "account_id", "client_address", "browser", "attempted_at"}),
    "recovery_link": frozenset({"account_id", "link"}),
    "password_reset_notice": frozenset({"account_id"}),
    "portal_code": frozenset({"code", "user_name", "portal_url", "client_address", "browser", "attempted_at"}),
    "portal_invitation": frozenset({"link", "hours", "user_name", "portal_url"}),
    "portal_password_reset": frozenset({"link", "hours", "user_name", "portal_url"}),
    # root email change (services/root_email.py); new_email is the masked new address
    "root_email_code": frozenset({"code", "account_id"}),
    "root_email_taken": frozenset(),
    "root_email_changed": frozenset({"account_id", "new_email", "link"}),
    "root_email_restored": frozenset({"account_id"}),
    "root_email_undone_removed": frozenset({"account_id", "restored"}),
    "root_email_changed_by_operator": frozenset({"account_id", "new_email"}),
    # lost root MFA (services/mfa_recovery.py); client_address and browser may be '' (the template says unknown)
    "mfa_recovery_link": frozenset({"account_id", "link"}),
    "mfa_recovered_notice": frozenset({"account_id", "client_address", "browser", "codes_left"}),
    # account lifecycle (services/account_lifecycle.py); contact may be '' (the template names the operator)
    "account_closed": frozenset({"account_id", "days"}),
    "account_closure_code": frozenset({"account_id", "code"}),
    "account_reopened": frozenset({"account_id"}),
    "account_suspended": frozenset({"account_id", "contact"}),
    "account_reinstated": frozenset({"account_id"}),
    # personal profiles (services/profiles/signup.py)
    "profile_signup_code": frozenset({"code"}),
    "profile_signup_taken": frozenset(),
    # personal profile settings (services/profiles/details.py, security.py); new_email is the masked new address
    "profile_email_code": frozenset({"code"}),
    "profile_email_taken": frozenset(),
    "profile_email_changed": frozenset({"new_email"}),
    "profile_password_changed": frozenset(),
    # personal profiles' privacy and recovery (services/profiles/export.py, deletion.py, recovery.py)
    "profile_export_ready": frozenset({"link", "days", "profile_name"}),
    "profile_deleted": frozenset({"profile_name"}),
    "profile_recovery_link": frozenset({"link", "minutes"}),
    "profile_password_reset": frozenset({"profile_name", "sessions_ended"}),
}

Value = str | int


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


class MailTemplateError(Exception):
    """A template that is missing, reads a variable it was not given, or has no one-line subject."""


class MailTemplates(Protocol):
    def render(self, name: str, language: str, values: Mapping[str, Value]) -> RenderedMail: ...


def known_language(value: str | None) -> str:
    """`value` when it is one of LANGUAGES, else ''."""
    return value if value in LANGUAGES else ""


async def language_for(uow: UnitOfWork, principal: str, page_language: str = "", *, remember: bool = False) -> str:
    """The language a mail to `principal` goes out in (see the module's docstring); principal '' = none yet."""
    page = known_language(page_language)
    if remember and page:
        return page
    remembered = known_language(await uow.mail_languages.get(principal)) if principal else ""
    return remembered or page or DEFAULT


async def remember_language(uow: UnitOfWork, principal: str, language: str, at: float) -> None:
    """Keep `language` for `principal`'s later mail (an unknown language changes nothing)."""
    if principal and known_language(language):
        await uow.mail_languages.put(principal, language, at)


async def compose(deps: Deps, uow: UnitOfWork, name: str, *, to: str, language: str = "", principal: str = "",
                  remember: bool = False, **values: Value) -> Mail:
    """The mail `name` to `to`, in the language chosen for it (and that language remembered when asked)."""
    expected = MAILS.get(name)
    if expected is None:
        raise MailTemplateError(f"no mail named {name!r}")
    if set(values) != expected:
        raise MailTemplateError(f"mail {name!r} takes {sorted(expected)}, not {sorted(values)}")
    chosen = await language_for(uow, principal, language, remember=remember)
    if remember:
        await remember_language(uow, principal, language, deps.clock())
    rendered = deps.mail_templates.render(name, chosen, {**values, "public_url": deps.settings.public_origin})
    return Mail(to=to, subject=rendered.subject, body=rendered.body)
