"""The mail templates (`<language>/<name>.txt`) and their Jinja2 renderer, handed to use cases as the
`services.mail_templates.MailTemplates` port.

A template is a plain-text mail: its first line `Subject: ...`, a blank line, then the body. Rendering is
strict (a variable the template reads but was not given is an error, never an empty string) and not escaped
(text, not HTML: what a variable holds is copied as it is, and never parsed as a template).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2

from ..services.mail_templates import MailTemplateError, RenderedMail, Value

DIRECTORY = Path(__file__).parent
_SUBJECT = "Subject: "


class JinjaMailTemplates:
    def __init__(self, directory: Path = DIRECTORY) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory), undefined=jinja2.StrictUndefined, autoescape=False,
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
        )

    def render(self, name: str, language: str, values: Mapping[str, Value]) -> RenderedMail:
        try:
            text = self._env.get_template(f"{language}/{name}.txt").render(values)
        except jinja2.TemplateNotFound:
            raise MailTemplateError(f"no template {language}/{name}.txt") from None
        except jinja2.UndefinedError as exc:
            raise MailTemplateError(f"{language}/{name}.txt: {exc.message}") from None
        head, blank, body = text.partition("\n\n")
        if not head.startswith(_SUBJECT) or "\n" in head or not blank:
            raise MailTemplateError(f"{language}/{name}.txt: the first line is not a one-line 'Subject: ...'")
        subject = head[len(_SUBJECT):].strip()
        if not subject or "\r" in subject:
            raise MailTemplateError(f"{language}/{name}.txt: an empty subject")
        return RenderedMail(subject, body)
