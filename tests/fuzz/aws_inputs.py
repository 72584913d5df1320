"""Hypothesis strategies for AWS query-protocol requests, generated from botocore's service models.

For each input member of an operation (walking structures, lists and maps as botocore's query serializer
does), a value is drawn that is either plausible (a known entity's name or ARN from `Pools`, a value of the
model's pattern, enum or range) or hostile: wrong type, off-pattern, too short or long, huge numbers,
Unicode digits and letters, control characters, invalid UTF-8, odd list indices. Required members are
sometimes left out and unknown ones added. Values are raw bytes, percent-encoded into the form body."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape
from hypothesis import strategies as st

Pair = tuple[str, bytes]
HUGE_DIGITS = "9" * 5000
UNICODE_DIGITS = ("²", "١٢", "٣", "߀", "১", "Ⅻ", "𝟗", "〇")
_CLASS_ONLY = re.compile(r"\^?\[([^\]]+)\][*+]\$?")
_INDICES = ("0", "00", "01", "-1", "1.5", "x", "²", "١", "99999999999", HUGE_DIGITS, "", " 1", "1e3")


@functools.cache
def service_model(name: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(name, "service-2"), service_name=name)


@dataclass
class Pools:
    """Values that name what exists on the server (so handlers get past "not found"), by member name;
    `plausible_only` draws only values an SDK could send (half the cases, so that handlers run to the end)."""

    by_member: dict[str, list[str]] = field(default_factory=dict)
    plausible_only: bool = False

    def with_plausible_only(self, plausible_only: bool) -> Pools:
        return Pools(self.by_member, plausible_only)

    def add(self, member: str, *values: str) -> None:
        self.by_member.setdefault(member, []).extend(values)

    def get(self, member: str) -> Sequence[str]:
        return self.by_member.get(member, ())


def _text_bytes(values: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return values.map(lambda s: s.encode("utf-8", "surrogatepass"))


def _hostile_strings(low: int, high: int | None) -> st.SearchStrategy[bytes]:
    """What no SDK sends: lengths just outside the model's, Unicode, control characters, bad UTF-8."""
    digits = st.sampled_from(UNICODE_DIGITS).map(str.encode)
    options: list[st.SearchStrategy[bytes]] = [
        st.just(b""),
        st.just(HUGE_DIGITS.encode()), st.just(HUGE_DIGITS.encode()),
        digits, digits, digits,  # numbers a parser may take for digits: where most 500s came from
        _text_bytes(st.text(max_size=40)),
        _text_bytes(st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)),
        st.binary(max_size=24),  # mostly invalid UTF-8
        st.sampled_from([b"\x00", b"\x01x", b"a\x7fb", b"\xef\xbf\xbe", b"\xed\xa0\x80", b"<x>&amp;", b"%00",
                         b"' OR '1'='1", b"../../etc/passwd", b"${jndi:x}", b"\r\nX-Injected: 1", b"\\u0000"]),
    ]
    if high is not None:
        options.append(st.just(b"a" * (high + 1)))
    if low > 1:
        options.append(st.just(b"a" * (low - 1)))
    return st.one_of(options)


def _pattern_strings(pattern: str, low: int, high: int) -> st.SearchStrategy[str] | None:
    try:  # ASCII: the server reads Java's \w and \d as Java does
        compiled = re.compile(pattern, re.ASCII)
    except re.error:  # Java-only syntax such as \p{L}
        return None
    only = _CLASS_ONLY.fullmatch(pattern)
    if only is not None:
        alphabet = st.from_regex(re.compile(f"[{only[1]}]", re.ASCII), fullmatch=True)
        return st.text(alphabet, min_size=low, max_size=max(low, min(high, 40)))
    return st.from_regex(compiled, fullmatch=True).filter(lambda s: low <= len(s) <= high)


def _string(shape: Shape, name: str, pools: Pools) -> st.SearchStrategy[bytes]:
    meta: Mapping[str, Any] = shape.metadata
    low, high = int(meta.get("min", 0)), meta.get("max")
    plausible: list[st.SearchStrategy[bytes]] = []
    known = pools.get(name)
    if known:
        plausible.append(st.sampled_from(list(known)).map(str.encode))
    if shape.enum:
        plausible.append(st.sampled_from(list(shape.enum)).map(str.encode))
    pattern = meta.get("pattern")
    if pattern:
        drawn = _pattern_strings(pattern, max(low, 1), int(high) if high is not None else 64)
        if drawn is not None:
            plausible.append(_text_bytes(drawn))
    if not plausible or (not shape.enum and not pattern):
        plausible.append(_text_bytes(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                                             min_size=max(low, 1), max_size=max(low, 1, min(int(high or 40), 40)))))
    plausible_values = st.one_of(plausible)
    if known:  # mostly known values: they let the handler reach the use case and the store
        plausible_values = st.one_of(plausible[0], plausible[0], plausible_values)
    if pools.plausible_only:
        return plausible_values
    return st.one_of(plausible_values, _hostile_strings(low, int(high) if high is not None else None))


def _integer(shape: Shape, pools: Pools) -> st.SearchStrategy[bytes]:
    meta: Mapping[str, Any] = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    valid = st.integers(min_value=low, max_value=high) if low is not None or high is not None else st.integers(
        -10, 10 ** 6)
    edges = [v for v in (low, high) if v is not None]
    edges += [v - 1 for v in edges] + [v + 1 for v in edges] + [0, -1, 2 ** 31, -(2 ** 63), 10 ** 19, 10 ** 30]
    hostile = st.one_of(
        st.sampled_from(edges).map(str),
        st.sampled_from([HUGE_DIGITS, "-" + HUGE_DIGITS, "0" * 5000 + "1", "1.5", "1e3", "0x10", " 1", "1_000", "+1",
                         "", "NaN", "true", *UNICODE_DIGITS]),
    )
    if pools.plausible_only:
        return valid.map(str).map(str.encode)
    return st.one_of(valid.map(str), hostile).map(str.encode)


def _boolean(pools: Pools) -> st.SearchStrategy[bytes]:
    if pools.plausible_only:
        return st.sampled_from([b"true", b"false"])
    return st.sampled_from(["true", "false", "TRUE", "False", "1", "0", "yes", "", "²", HUGE_DIGITS]).map(str.encode)


def _timestamp() -> st.SearchStrategy[bytes]:
    return st.sampled_from(["2024-01-01T00:00:00Z", "1700000000", "9999-12-31T23:59:59Z", "0000-00-00", "",
                            HUGE_DIGITS, "²"]).map(str.encode)


def scalar(shape: Shape, name: str, pools: Pools) -> st.SearchStrategy[bytes]:
    kind = shape.type_name
    if kind == "string":
        return _string(shape, name, pools)
    if kind in ("integer", "long"):
        return _integer(shape, pools)
    if kind == "boolean":
        return _boolean(pools)
    if kind == "timestamp":
        return _timestamp()
    return _hostile_strings(0, None)  # blob, float, double: nothing served reads them yet


def _index_names(count: int, pools: Pools) -> st.SearchStrategy[list[str]]:
    usual = st.just([str(i) for i in range(1, count + 1)])
    if pools.plausible_only:
        return usual
    odd = st.lists(st.sampled_from(_INDICES), min_size=count, max_size=count)
    gaps = st.lists(st.integers(1, 10 ** 6).map(str), min_size=count, max_size=count, unique=True)
    return st.one_of(usual, usual, usual, odd, gaps)


@st.composite
def _list_pairs(draw: st.DrawFn, shape: Shape, prefix: str, pools: Pools, depth: int) -> list[Pair]:
    high = shape.metadata.get("max")
    count = draw(st.integers(0, 3) if pools.plausible_only else
                 st.one_of(st.integers(0, 3), st.sampled_from([high + 1] if high is not None else [12])))
    flattened = shape.serialization.get("flattened", False)
    member_name = shape.member.serialization.get("name", "member")
    pairs: list[Pair] = []
    for index in draw(_index_names(count, pools)):
        item_prefix = f"{prefix}.{index}" if flattened else f"{prefix}.{member_name}.{index}"
        pairs += draw(pairs_for(shape.member, item_prefix, pools, depth + 1, prefix.rsplit(".", 1)[-1]))
    return pairs


@st.composite
def _map_pairs(draw: st.DrawFn, shape: Shape, prefix: str, pools: Pools, depth: int) -> list[Pair]:
    pairs: list[Pair] = []
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    for index in draw(_index_names(draw(st.integers(0, 2)), pools)):
        pairs += draw(pairs_for(shape.key, f"{prefix}.entry.{index}.{key_name}", pools, depth + 1, key_name))
        pairs += draw(pairs_for(shape.value, f"{prefix}.entry.{index}.{value_name}", pools, depth + 1, value_name))
    return pairs


@st.composite
def _structure_pairs(draw: st.DrawFn, shape: Shape, prefix: str, pools: Pools, depth: int) -> list[Pair]:
    required = set(shape.required_members)
    dropped = None
    if required and not pools.plausible_only and draw(st.integers(0, 9)) == 0:
        dropped = draw(st.sampled_from(sorted(required)))
    pairs: list[Pair] = []
    for name, member in shape.members.items():
        if name == dropped or (name not in required and not draw(st.booleans())):
            continue
        wire = member.serialization.get("name", name)
        pairs += draw(pairs_for(member, f"{prefix}.{wire}" if prefix else wire, pools, depth + 1, name))
    if not pools.plausible_only and draw(st.integers(0, 9)) == 0:
        pairs.append((f"{prefix}.Unknown" if prefix else "UnknownMember", b"x"))
    return pairs


def pairs_for(shape: Shape, prefix: str, pools: Pools, depth: int = 0, name: str = ""
              ) -> st.SearchStrategy[list[Pair]]:
    if depth > 4:
        return st.just([])
    kind = shape.type_name
    if kind == "structure":
        return _structure_pairs(shape, prefix, pools, depth)
    if kind == "list":
        return _list_pairs(shape, prefix, pools, depth)
    if kind == "map":
        return _map_pairs(shape, prefix, pools, depth)
    return scalar(shape, name or prefix.rsplit(".", 1)[-1], pools).map(lambda value: [(prefix, value)])


@dataclass(frozen=True)
class QueryCall:
    """One drawn query-protocol request: the form fields, sent as a POST body or a GET query string."""

    action: str
    pairs: tuple[Pair, ...]
    version: str | None
    method: str

    def encoded(self) -> bytes:
        head: list[Pair] = [("Action", self.action.encode())]
        if self.version is not None:
            head.append(("Version", self.version.encode()))
        return "&".join(f"{quote(name, safe='.')}={quote_from_bytes(value, safe='')}"
                        for name, value in (*head, *self.pairs)).encode("ascii")


@st.composite
def query_calls(draw: st.DrawFn, service: str, operation: str, pools: Pools) -> QueryCall:
    model = service_model(service)
    shape = model.operation_model(operation).input_shape
    pools = pools.with_plausible_only(draw(st.booleans()))
    pairs = draw(pairs_for(shape, "", pools)) if shape is not None else []
    version = draw(st.sampled_from([model.api_version] * 8 + [None, "2099-01-01"]))
    method = draw(st.sampled_from(["POST"] * 5 + ["GET"]))
    return QueryCall(operation, tuple(pairs), version, method)


JsonValue = Any


def _json_scalar(shape: Shape, name: str, pools: Pools) -> st.SearchStrategy[JsonValue]:
    """A value of the member's type, or of another one (botocore would never send it)."""
    kind = shape.type_name
    wrong: st.SearchStrategy[JsonValue] = st.one_of(
        st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(allow_nan=False),
        st.just([]), st.just({}), st.sampled_from([HUGE_DIGITS, *UNICODE_DIGITS]))
    if kind == "string":
        right: st.SearchStrategy[JsonValue] = _string(shape, name, pools).map(
            lambda b: b.decode("utf-8", "replace"))
    elif kind in ("integer", "long"):
        right = st.one_of(st.integers(-(2 ** 40), 2 ** 40), st.just(int(HUGE_DIGITS[:4000])))
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "timestamp":
        right = st.one_of(st.floats(-1e12, 1e12), st.sampled_from(["2024-01-01T00:00:00Z", "x"]))
    else:
        right = st.text(max_size=20)
    return st.one_of(right, right, right, wrong)


def json_value(shape: Shape, name: str, pools: Pools, depth: int = 0) -> st.SearchStrategy[JsonValue]:
    kind = shape.type_name
    if depth > 4:
        return st.none()
    if kind == "structure":
        members = {n: json_value(m, n, pools, depth + 1) for n, m in shape.members.items()}
        return st.fixed_dictionaries({}, optional=members) if members else st.just({})
    if kind == "list":
        return st.lists(json_value(shape.member, name, pools, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=10), json_value(shape.value, name, pools, depth + 1), max_size=3)
    return _json_scalar(shape, name, pools)


@st.composite
def json_bodies(draw: st.DrawFn, service: str, operation: str, pools: Pools) -> bytes:
    """A JSON body from the operation's input shape, or something that is not one (not JSON, not an object,
    nested thousands deep, an integer of thousands of digits)."""
    shape = service_model(service).operation_model(operation).input_shape
    hostile = st.sampled_from([b"", b"{", b"[]", b"null", b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
                               b'{"a":' + HUGE_DIGITS.encode() + b"}", b'{"a": NaN}', b'{"a":"\\ud800"}'])
    if shape is None or draw(st.integers(0, 5)) == 0:
        return draw(hostile)
    value = draw(json_value(shape, "", pools))
    return json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
