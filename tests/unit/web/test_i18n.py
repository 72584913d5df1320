"""The message catalogues (en, zh-TW) and how a locale is chosen and applied."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vestibule.web import i18n

LOCALES_DIR = Path(i18n.__file__).parent / "locales"
TEMPLATES_DIR = Path(i18n.__file__).parent / "templates"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BACKTICKED = re.compile(r"`[^`]*`")
_TECHNICAL = ("ARN", "MFA", "TOTP", "RFC 6238", "SMTP", "QR", "URL", "IAM", "Vestibule", "/ALIAS/console")


def _load(locale: str) -> dict[str, str]:
    """The whole catalogue: `locales/<locale>.json` and every area's `locales/<area>/<locale>.json`."""
    return i18n.catalogue(locale)


EN = _load("en")
ZH = _load("zh-TW")


def test_area_catalogues_keep_to_their_area() -> None:
    """An area file's keys start with the area's name, so no area overrides another's (or the main file's)."""
    main = set(json.loads((LOCALES_DIR / "en.json").read_text(encoding="utf-8")))
    for area in (path for path in LOCALES_DIR.iterdir() if path.is_dir()):
        for locale in i18n.LOCALES:
            keys = json.loads((area / f"{locale}.json").read_text(encoding="utf-8"))
            assert all(key.startswith(area.name + ".") for key in keys), (area.name, locale)
            assert not main & set(keys), (area.name, locale)


def test_catalogues_have_the_same_keys() -> None:
    assert sorted(set(EN) - set(ZH)) == [], "keys missing from zh-TW.json"
    assert sorted(set(ZH) - set(EN)) == [], "keys in zh-TW.json that en.json does not have"


def test_catalogue_values_are_non_empty_strings() -> None:
    for locale, messages in (("en", EN), ("zh-TW", ZH)):
        for key, text in messages.items():
            assert isinstance(text, str) and text.strip(), f"{locale}: {key} is empty"


@pytest.mark.parametrize("key", sorted(EN))
def test_placeholders_match(key: str) -> None:
    assert sorted(_PLACEHOLDER.findall(ZH[key])) == sorted(_PLACEHOLDER.findall(EN[key]))


def test_placeholders_format_in_both_locales() -> None:
    for key, text in EN.items():
        names = _PLACEHOLDER.findall(text)
        if names:
            values = {name: "<" + name + ">" for name in names}
            for locale in i18n.LOCALES:
                rendered = i18n.Translator(locale)(key, **values)
                assert all(v in rendered for v in values.values()), (locale, key, rendered)


@pytest.mark.parametrize("key", sorted(EN))
def test_technical_tokens_are_kept(key: str) -> None:
    assert _BACKTICKED.findall(ZH[key]) == _BACKTICKED.findall(EN[key])
    for token in _TECHNICAL:
        if token in EN[key]:
            assert token in ZH[key], f"{key}: {token!r} lost in zh-TW"


def test_zh_tw_is_translated_and_does_not_name_other_vendors() -> None:
    untranslated = [k for k, v in ZH.items() if v == EN[k] and k != "app.name"]
    assert untranslated == []
    assert ZH["app.name"] == "Vestibule"
    for key, text in ZH.items():
        assert not re.search(r"\b(AWS|Amazon)\b", text, re.IGNORECASE), key
    assert ZH["signin.root_user"] == "根使用者" and ZH["signin.iam_user"] == "IAM 使用者"
    assert ZH["console.account_id"] == "帳戶 ID" and ZH["console.alias"] == "帳戶別名"


def test_every_key_used_by_a_template_exists() -> None:
    used: set[str] = set()
    for template in TEMPLATES_DIR.rglob("*.html"):
        used.update(re.findall(r"\bt\('([a-z_.]+)'", template.read_text(encoding="utf-8")))
    assert used, "no t('...') calls found in templates"
    assert sorted(used - set(EN)) == []


@pytest.mark.parametrize("header", [
    "zh-TW",
    "zh-Hant",
    "zh-TW,zh;q=0.9,en;q=0.8",
    "zh-tw",
    "zh_TW",
    "zh-Hant-TW",
    "en;q=0.5, zh-TW;q=0.9",
    "fr, zh-TW;q=0.8, en;q=0.7",
])
def test_accept_language_picks_traditional_chinese(header: str) -> None:
    assert i18n.from_accept_language(header) == "zh-TW"


@pytest.mark.parametrize("header", [
    "en-US",
    "en",
    "fr",
    "",
    "zh-CN",
    "zh-Hans",
    "zh-CN,zh;q=0.9",
    "*",
    "en-GB;q=0.9, zh-TW;q=0.8",
    "zh-TW;q=0, en;q=0.1",
    "zh-TW;q=abc, en;q=0.1",
])
def test_accept_language_falls_back_to_english(header: str) -> None:
    assert i18n.from_accept_language(header) == "en"


def test_equal_quality_keeps_header_order() -> None:
    assert i18n.from_accept_language("zh-TW, en") == "zh-TW"
    assert i18n.from_accept_language("en, zh-TW") == "en"


def test_normalize() -> None:
    assert i18n.normalize("zh-TW") == "zh-TW"
    assert i18n.normalize(" ZH-hant ") == "zh-TW"
    assert i18n.normalize("en-US") == "en"
    assert i18n.normalize("zh-CN") is None
    assert i18n.normalize("") is None
    assert i18n.normalize(None) is None


def test_translator_uses_the_locale() -> None:
    assert i18n.Translator("zh-TW")("signin.root_user") == "根使用者"
    assert i18n.Translator("en")("signin.root_user") == "Root user"
    assert i18n.Translator("zh-TW")("throttle.wait", seconds=30) == ZH["throttle.wait"].format(seconds=30)


def test_translator_unknown_locale_is_english() -> None:
    t = i18n.Translator("fr")
    assert t.locale == "en"
    assert t("signin.title") == EN["signin.title"]


def test_translator_falls_back_to_english_for_a_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {
        "en": {"greeting": "Hello {name}", "only.en": "Only in English {n}"},
        "zh-TW": {"greeting": "你好 {name}"},
    }
    monkeypatch.setattr(i18n, "catalogue", lambda locale: fake[locale])
    t = i18n.Translator("zh-TW")
    assert t("greeting", name="A") == "你好 A"
    assert t("only.en", n=3) == "Only in English 3"


def test_translator_returns_the_key_when_no_catalogue_has_it() -> None:
    assert i18n.Translator("zh-TW")("no.such.key") == "no.such.key"
    assert i18n.Translator("en")("no.such.key") == "no.such.key"
