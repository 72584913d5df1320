"""Message catalogues (en, zh-TW), chosen by ?lang=, a cookie, then Accept-Language."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = ("en", "zh-TW")
DEFAULT = "en"
_DIR = Path(__file__).parent / "locales"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """`locales/<locale>.json`, then each area's own `locales/<area>/<locale>.json` (an area's keys start with
    its name, so no file overrides another's)."""
    data: dict[str, str] = json.loads((_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    for area in sorted(path for path in _DIR.iterdir() if path.is_dir()):
        extra = area / f"{locale}.json"
        if extra.is_file():
            data.update(json.loads(extra.read_text(encoding="utf-8")))
    return data


def normalize(tag: str | None) -> str | None:
    if not tag:
        return None
    low = tag.strip().lower().replace("_", "-")
    if low in {"zh-tw", "zh-hk", "zh-mo"} or low == "zh-hant" or low.startswith("zh-hant-"):
        return "zh-TW"
    if low.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str) -> str:
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalize(tag)
        if locale and quality > 0:
            choices.append((-quality, index, locale))
    return sorted(choices)[0][2] if choices else DEFAULT


class Translator:
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT
        self._messages = catalogue(self.locale)
        self._fallback = catalogue(DEFAULT)

    def __call__(self, key: str, **params: Any) -> str:
        text = self._messages.get(key) or self._fallback.get(key) or key
        if not params:
            return text
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
