"""The forms a page offers, read from its HTML (so the fuzz suite follows the pages as they change), and
Hypothesis strategies for what a browser, or an attacker, could post to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urljoin

from hypothesis import strategies as st

HUGE_DIGITS = "9" * 5000
Pair = tuple[str, bytes]


@dataclass
class Field:
    name: str
    kind: str  # input type (text, password, hidden, radio, checkbox, ...), select, textarea, button
    value: str = ""
    choices: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class _FormParser(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_path, a.get("action") or self.page_path)
            self._form = Form(action, (a.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        if tag == "option" and self._select is not None:
            self._select.choices.append(a.get("value", ""))
            return
        form = self._form
        if form is None or not a.get("name"):
            return
        name = a["name"]
        if tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            existing = form.field(name)
            if existing is not None and kind in ("radio", "submit"):
                existing.choices.append(a.get("value", ""))
                return
            form.fields.append(Field(name, kind, a.get("value", ""), [a.get("value", "")]))
        elif tag == "textarea":
            form.fields.append(Field(name, "textarea"))
        elif tag == "select":
            self._select = Field(name, "select")
            form.fields.append(self._select)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(page_html: str, page_path: str) -> list[Form]:
    """The POST forms of a page (GET forms change nothing), with their fields and default values."""
    parser = _FormParser(page_path)
    parser.feed(page_html)
    return [f for f in parser.forms if f.method == "post"]


_HOSTILE_TEXT: list[st.SearchStrategy[bytes]] = [
    st.just(b""),
    st.just(HUGE_DIGITS.encode()),
    st.sampled_from(["²", "١٢٣٤٥٦", "߀߁߂߃߄߅", "𝟗𝟗𝟗𝟗𝟗𝟗", "Ⅻ"]).map(str.encode),
    st.text(max_size=40).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=24),  # mostly invalid UTF-8
    st.sampled_from([b"\x00", b"a\x00b", b"\r\nSet-Cookie: x=1", b"<script>alert(1)</script>", b"' OR 1=1 --",
                     b"//evil.example/x", b"/\\evil.example", b"javascript:alert(1)", b"%00", b"..%2f..%2f",
                     b"\xef\xbf\xbe", b"\xed\xa0\x80", b"${7*7}", b"{{7*7}}", b" ", b"\t\n"]),
]


def hostile_text() -> st.SearchStrategy[bytes]:
    return st.one_of(_HOSTILE_TEXT)


@dataclass(frozen=True)
class FieldPlan:
    """What to do with one field, drawn before the page is seen (so the same case draws the same values
    whatever the server's state): 0 leave it out, 1 a hostile value, 2-4 the page's value, 5-6 one of the
    offered choices, 7-10 a good value."""

    mode: int
    hostile: bytes
    choice: int
    twice: bytes | None


@dataclass(frozen=True)
class Submission:
    form: int  # which of the page's forms (modulo how many there are)
    csrf_kept: bool
    csrf_hostile: bytes
    fields: tuple[FieldPlan, ...]
    extra: tuple[str, bytes] | None
    oversized: bool  # a body over the 64 KiB form limit

    def pairs(self, form: Form, good: Mapping[str, Sequence[str]]) -> list[Pair]:
        """The posted fields for `form`, by this plan: the CSRF token mostly kept, so that most cases reach
        the handler behind the CSRF check."""
        pairs: list[Pair] = []
        for index, f in enumerate(form.fields):
            plan = self.fields[index % len(self.fields)]
            if f.name == "csrf_token":
                pairs.append((f.name, f.value.encode() if self.csrf_kept else self.csrf_hostile))
                continue
            known = [v for v in good.get(f.name, ()) if v]
            value: bytes | None = f.value.encode()
            if plan.mode == 0:
                value = None
            elif plan.mode == 1:
                value = plan.hostile
            elif 5 <= plan.mode <= 6 and f.choices:
                value = f.choices[plan.choice % len(f.choices)].encode()
            elif plan.mode >= 7 and known:
                value = known[plan.choice % len(known)].encode()
            if value is not None:
                pairs.append((f.name, value))
                if plan.twice is not None:
                    pairs.append((f.name, plan.twice))  # the same field twice
        if self.extra is not None:
            pairs.append(self.extra)
        if self.oversized:
            pairs.append(("padding", b"a" * 70_000))
        return pairs


_FIELD_PLANS = st.builds(
    FieldPlan,
    mode=st.integers(0, 10),
    hostile=hostile_text(),
    choice=st.integers(0, 7),
    twice=st.one_of(st.none(), st.none(), st.none(), hostile_text()),
)

SUBMISSIONS = st.builds(
    Submission,
    form=st.integers(0, 7),
    csrf_kept=st.integers(0, 19).map(bool),
    csrf_hostile=hostile_text(),
    fields=st.lists(_FIELD_PLANS, min_size=12, max_size=12).map(tuple),
    extra=st.one_of(st.none(), st.none(), st.none(), st.tuples(
        st.sampled_from(["next", "redirect", "flow", "step", "user_type", "lang", "x"]), hostile_text())),
    oversized=st.integers(0, 29).map(lambda n: n == 0),
)


def good_fill(form: Form, good: Mapping[str, Sequence[str]]) -> list[Pair]:
    """What a person filling the form correctly would post: the first good value of each field, else the
    page's own value."""
    pairs: list[Pair] = []
    for f in form.fields:
        known = good.get(f.name)
        if known:
            pairs.append((f.name, known[0].encode()))
        elif f.value or f.kind in ("hidden", "submit", "radio"):
            pairs.append((f.name, f.value.encode()))
    return pairs


def encode_form(pairs: Sequence[Pair]) -> bytes:
    return "&".join(f"{quote(name, safe='')}={quote_from_bytes(value, safe='')}" for name, value in pairs).encode()
