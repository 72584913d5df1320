"""Every mail renders in both languages with exactly the variables its use case gives; the renderer is
strict (a missing variable is an error) and copies values as they are (no escaping, no template parsing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vestibule.mail_templates import DIRECTORY, JinjaMailTemplates
from vestibule.services.mail_templates import LANGUAGES, MAILS, MailTemplateError, known_language
from vestibule.web import i18n

templates = JinjaMailTemplates()


def _values(name: str) -> dict[str, str | int]:
    values: dict[str, str | int] = {v: f"<{v}-value>" for v in MAILS[name]}
    values["public_url"] = "https://signin.example.com"
    return values


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(MAILS))
def test_each_mail_renders_with_its_variables(name: str, language: str) -> None:
    values = _values(name)
    mail = templates.render(name, language, values)
    assert mail.subject and "\n" not in mail.subject and "{" not in mail.subject
    assert mail.body.endswith("\n") and "{{" not in mail.body and "{%" not in mail.body
    for variable in MAILS[name]:
        assert f"<{variable}-value>" in mail.body, f"{language}/{name} never shows {variable}"
    for variable in MAILS[name]:
        smaller = {k: v for k, v in values.items() if k != variable}
        with pytest.raises(MailTemplateError, match=variable):
            templates.render(name, language, smaller)


@pytest.mark.parametrize("name", sorted(MAILS))
def test_the_chinese_mail_is_chinese_and_differs_from_the_english(name: str) -> None:
    en = templates.render(name, "en", _values(name))
    zh = templates.render(name, "zh-TW", _values(name))
    assert en.subject != zh.subject and en.body != zh.body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.subject + zh.body)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.subject + en.body)


def test_every_template_file_is_a_registered_mail_in_both_languages() -> None:
    for language in LANGUAGES:
        names = {p.stem for p in (DIRECTORY / language).glob("*.txt")}
        assert names == set(MAILS), language


def test_values_are_copied_as_they_are() -> None:
    values = _values("portal_invitation")
    values["user_name"] = "{{ public_url }} & <b>x</b>"
    body = templates.render("portal_invitation", "en", values).body
    assert "Your user name: {{ public_url }} & <b>x</b>\n" in body


def test_a_template_without_a_subject_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "bad.txt").write_text("Hello\n\nbody\n", encoding="utf-8")
    (tmp_path / "en" / "ok.txt").write_text("Subject: Hi {{ who }}\n\nbody\n", encoding="utf-8")
    mine = JinjaMailTemplates(tmp_path)
    with pytest.raises(MailTemplateError, match="Subject"):
        mine.render("bad", "en", {})
    with pytest.raises(MailTemplateError, match="no template"):
        mine.render("missing", "en", {})
    assert mine.render("ok", "en", {"who": "you"}).subject == "Hi you"


def test_mail_comes_in_the_languages_the_pages_come_in() -> None:
    assert LANGUAGES == i18n.LOCALES and i18n.DEFAULT == "en"


def test_only_known_languages() -> None:
    assert known_language("zh-TW") == "zh-TW" and known_language("en") == "en"
    assert known_language("fr") == "" and known_language(None) == "" and known_language("") == ""


@pytest.mark.parametrize(("language", "unknown"), [("en", "an unknown address (an unknown browser)"),
                                                   ("zh-TW", "不明的位址（不明的瀏覽器）")])
def test_the_recovered_sign_in_notice_says_unknown_when_the_request_did_not_tell(language: str, unknown: str) -> None:
    values = _values("mfa_recovered_notice") | {"client_address": "", "browser": ""}
    assert unknown in templates.render("mfa_recovered_notice", language, values).body
