"""The page layer's fast paths answer exactly what the general code answers: cookies, compiled `t(...)` calls."""

from __future__ import annotations

import random
from http.cookies import SimpleCookie

import pytest
from jinja2 import DictLoader, Environment

from vestibule.web.rendering import _CodeGenerator
from vestibule.web.security import parse_cookies


def _simple_cookie(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


@pytest.mark.parametrize("header", [
    "", "a=1", "a=1; b=2", "a=1; a=2", "a=1; path=/", "a=1; Path=/", "$x=1; a=2", "a=", "a=1;b=2", 'a="x y"; b=3',
    "a=1; b", "a=b=c", "a=1; expires=3", "a.b=1", "a=1; secure", "a=1;  b=2", "a=1; b=2; ", "a=\u00e9",
    "__Host-vestibule_browser=" + "x" * 43 + "; __Host-vestibule_session=" + "y-_" * 14,
])
def test_cookies_as_simple_cookie_reads_them(header: str) -> None:
    assert parse_cookies(header) == _simple_cookie(header)


def test_cookies_random_headers() -> None:
    rng = random.Random(6)
    for _ in range(20000):
        header = "".join(rng.choice("ab=; _-.\"$pPx1\\,") for _ in range(rng.randint(0, 14)))
        assert parse_cookies(header) == _simple_cookie(header), header


class _T:
    def __call__(self, key: str, **params: object) -> str:
        return key.upper() + "".join(f"[{k}={v}]" for k, v in sorted(params.items()))


TEMPLATES = {
    "base.html": "<title>{% block title %}{{ t('app') }}{% endblock %}</title>{% block body %}{% endblock %}"
                 "{% if who is defined %}{% include 'inc.html' %}{% endif %}",
    "inc.html": "[{{ t('inc', n=who) }}]",
    "m.html": "{% macro f(t, x) %}{{ t('m', x=x) }}{% endmacro %}",
    "page.html": "{% extends 'base.html' %}{% from 'm.html' import f %}{% block title %}{{ t('page') }}{% endblock %}"
                 "{% block body %}{% for i in items %}{{ t('row', i=i) }}{{ loop.index }}{% endfor %}"
                 "{{ f(t, 3) }}{{ t('kw', **{'class': 1}) }}{{ t(*args) }}{{ other('x') }}<{{ t('a<b') }}>"
                 "{% endblock %}",
}


@pytest.mark.parametrize("who", [None, "w"])
def test_direct_translator_calls_render_the_same(who: str | None) -> None:
    def env(direct: bool) -> Environment:
        e = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
        if direct:
            e.code_generator_class = _CodeGenerator
        return e

    context: dict[str, object] = {"t": _T(), "items": [1, 2], "args": ["z"], "other": lambda s: s * 2}
    if who is not None:
        context["who"] = who
    plain = env(False).get_template("page.html").render(**context)
    direct_env = env(True)
    assert direct_env.get_template("page.html").render(**context) == plain
    calls = [e.compile(TEMPLATES["page.html"], raw=True).count("context.call(") for e in (env(False), direct_env)]
    assert calls[1] < calls[0]  # the translator calls really compile to direct calls
    assert "A&lt;B" in plain


def test_secret_query_names_are_found_also_percent_encoded() -> None:
    from vestibule.web.security import carries_secret

    for query in (b"token=x", b"lang=en&flow=y", b"to%6Ben=x", b"%66low=y", b"a=1&%74oken=z", b"to%6Ben"):
        assert carries_secret(query), query
    for query in (b"", b"lang=zh-TW", b"tokens=1", b"notflow=2", b"q=token%3Dx", b"a=b+c"):
        assert not carries_secret(query), query
