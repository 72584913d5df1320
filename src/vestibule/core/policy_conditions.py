"""IAM condition operators, and the matching they share with Action and Resource:
`*`/`?` wildcards, ARN segments and policy variables (`${aws:username}`, `${key, 'default'}`)."""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

ContextValue = str | Sequence[str]
# A request context with lower-cased keys (condition keys are case-insensitive).
Context = Mapping[str, tuple[str, ...]]
# A stretch of a pattern: its text, and whether `*`/`?` in it are wildcards.
_Piece = tuple[str, bool]

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = frozenset("*?$")
# a vendor prefix, or an OIDC provider URL without its scheme (`token.example.com/tenant:aud`, `127.0.0.1:4711:sub`)
_CONDITION_KEY = re.compile(r"[A-Za-z0-9._/-]+:.+", re.DOTALL)
_EPOCH = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ARN_SEGMENTS = 5  # colons before the resource part: arn:partition:service:region:account:resource


class InvalidCondition(ValueError):
    """A Condition block broke a rule; the message says which."""


class SetQualifier(enum.Enum):
    FOR_ANY_VALUE = "ForAnyValue"
    FOR_ALL_VALUES = "ForAllValues"


@dataclass(frozen=True)
class Condition:
    """One key under one operator: `{"StringEquals": {"aws:username": ["a", "b"]}}` -> key aws:username."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    qualifier: SetQualifier | None
    if_exists: bool
    key: str
    values: tuple[str, ...]


def normalize_context(
    context: Mapping[str, ContextValue],
) -> dict[str, tuple[str, ...]]:
    return {key.lower(): (value,) if isinstance(value, str) else tuple(value) for key, value in context.items()}


# --- policy variables and wildcards -------------------------------------------------------------


def _pieces(value: str, variables: Context | None) -> tuple[_Piece, ...] | None:
    """Split `value` around its policy variables; None when one has no value and no default.

    `variables` None means no substitution (2008-10-17 policies, non-string operators)."""
    if variables is None or "${" not in value:
        return ((value, True),)
    pieces: list[_Piece] = []
    position = 0
    for match in _VARIABLE.finditer(value):
        body = match.group(1).strip()
        if body in _ESCAPES:
            replacement = body
        else:
            parsed = _VARIABLE_BODY.fullmatch(match.group(1))
            if parsed is None:
                continue  # not a variable: stays as written
            found = variables.get(parsed.group(1).lower())
            if found is not None and len(found) == 1:
                replacement = found[0]
            elif parsed.group(2) is not None:
                replacement = parsed.group(2)
            else:
                return None
        pieces.append((value[position : match.start()], True))
        pieces.append((replacement, False))
        position = match.end()
    pieces.append((value[position:], True))
    return tuple(pieces)


def resolve(value: str, variables: Context | None) -> str | None:
    """`value` with its policy variables substituted, or None if one cannot be."""
    pieces = _pieces(value, variables)
    return None if pieces is None else "".join(text for text, _ in pieces)


@functools.lru_cache(maxsize=4096)
def _glob(pieces: tuple[_Piece, ...], arn: bool, ignore_case: bool) -> re.Pattern[str]:
    # In ARN mode a wildcard stays inside its colon-delimited segment, except in the last one.
    bounded = min(_ARN_SEGMENTS, sum(text.count(":") for text, _ in pieces)) if arn else 0
    colons = 0
    out: list[str] = []
    for text, live in pieces:
        for char in text:
            if live and char == "*":
                out.append("[^:]*" if colons < bounded else ".*")
            elif live and char == "?":
                out.append("[^:]" if colons < bounded else ".")
            else:
                colons += char == ":"
                out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(
    pattern: str,
    value: str,
    variables: Context | None = None,
    *,
    arn: bool = False,
    ignore_case: bool = False,
) -> bool:
    """`*` matches any run of characters, `?` one; with `arn`, only within one ARN segment."""
    if pattern == "*":
        return True
    pieces = _pieces(pattern, variables)
    return pieces is not None and _glob(pieces, arn, ignore_case).fullmatch(value) is not None


# --- typed values ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def parse_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@functools.lru_cache(maxsize=1024)
def parse_date(text: str) -> datetime | None:
    """ISO 8601 (naive means UTC) or epoch seconds (digits only)."""
    try:
        if _EPOCH.fullmatch(text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=256)
def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _boolean(text: str) -> str | None:
    lowered = text.lower()
    return lowered if lowered in ("true", "false") else None


# --- operators ------------------------------------------------------------------------------------

# Whether one request value matches any policy value; None when the request value has the wrong type.
_Test = Callable[[str, Sequence[str], Context | None], bool | None]


def _string_equals(actual: str, expected: Sequence[str], variables: Context | None) -> bool:
    return any(resolve(value, variables) == actual for value in expected)


def _string_equals_ignore_case(actual: str, expected: Sequence[str], variables: Context | None) -> bool:
    folded = actual.casefold()
    for value in expected:
        resolved = resolve(value, variables)
        if resolved is not None and resolved.casefold() == folded:
            return True
    return False


def _string_like(actual: str, expected: Sequence[str], variables: Context | None) -> bool:
    return any(glob_match(value, actual, variables) for value in expected)


def _arn_like(actual: str, expected: Sequence[str], variables: Context | None) -> bool:
    return any(glob_match(value, actual, variables, arn=True) for value in expected)


def _ordered(parse: Callable[[str], Decimal | None], compare: Callable[[Decimal, Decimal], bool]) -> _Test:
    def test(actual: str, expected: Sequence[str], variables: Context | None) -> bool | None:
        left = parse(actual)
        if left is None:
            return None
        for value in expected:
            right = parse(value)
            if right is not None and compare(left, right):
                return True
        return False

    return test


_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


def _date_key(text: str) -> Decimal | None:
    moment = parse_date(text)
    if moment is None:
        return None
    delta = moment - _EPOCH_START
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def _bool(actual: str, expected: Sequence[str], variables: Context | None) -> bool | None:
    value = _boolean(actual)
    if value is None:
        return None
    return any(_boolean(item) == value for item in expected)


def _binary_equals(actual: str, expected: Sequence[str], variables: Context | None) -> bool | None:
    value = _binary(actual)
    if value is None:
        return None
    return any(_binary(item) == value for item in expected)


def _ip_address(actual: str, expected: Sequence[str], variables: Context | None) -> bool | None:
    address = _address(actual)
    if address is None:
        return None
    for item in expected:
        network = _network(item)
        if network is not None and network.version == address.version and address in network:
            return True
    return False


@dataclass(frozen=True)
class _Operator:
    test: _Test
    negated: bool = False
    # Validates a policy value when the policy is parsed (string operators accept anything).
    valid: Callable[[str], object | None] = str


def _typed(kind: str, parse: Callable[[str], Decimal | None]) -> dict[str, _Operator]:
    return {
        f"{kind}Equals": _Operator(_ordered(parse, operator.eq), valid=parse),
        f"{kind}NotEquals": _Operator(_ordered(parse, operator.eq), negated=True, valid=parse),
        f"{kind}LessThan": _Operator(_ordered(parse, operator.lt), valid=parse),
        f"{kind}LessThanEquals": _Operator(_ordered(parse, operator.le), valid=parse),
        f"{kind}GreaterThan": _Operator(_ordered(parse, operator.gt), valid=parse),
        f"{kind}GreaterThanEquals": _Operator(_ordered(parse, operator.ge), valid=parse),
    }


_OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator(_string_equals),
    "StringNotEquals": _Operator(_string_equals, negated=True),
    "StringEqualsIgnoreCase": _Operator(_string_equals_ignore_case),
    "StringNotEqualsIgnoreCase": _Operator(_string_equals_ignore_case, negated=True),
    "StringLike": _Operator(_string_like),
    "StringNotLike": _Operator(_string_like, negated=True),
    **_typed("Numeric", parse_number),
    **_typed("Date", _date_key),
    "Bool": _Operator(_bool, valid=_boolean),
    "BinaryEquals": _Operator(_binary_equals, valid=_binary),
    "IpAddress": _Operator(_ip_address, valid=_network),
    "NotIpAddress": _Operator(_ip_address, negated=True, valid=_network),
    "ArnEquals": _Operator(_arn_like),
    "ArnLike": _Operator(_arn_like),
    "ArnNotEquals": _Operator(_arn_like, negated=True),
    "ArnNotLike": _Operator(_arn_like, negated=True),
    "Null": _Operator(_bool, valid=_boolean),
}
# Operators whose values may hold policy variables.
_SUBSTITUTING = frozenset(name for name in _OPERATORS if name.startswith(("String", "Arn")))
OPERATORS = frozenset(_OPERATORS)


# --- parsing --------------------------------------------------------------------------------------


def _split_operator(written: str) -> tuple[SetQualifier | None, str, bool]:
    qualifier: SetQualifier | None = None
    name = written
    prefix, colon, rest = written.partition(":")
    if colon:
        qualifier = next((q for q in SetQualifier if q.value == prefix), None)
        if qualifier is None:
            raise InvalidCondition(f"Unknown condition operator: {written}")
        name = rest
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    if base not in _OPERATORS or (base == "Null" and (if_exists or qualifier is not None)):
        raise InvalidCondition(f"Unknown condition operator: {written}")
    return qualifier, base, if_exists


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidCondition("Syntax errors in policy.")


def parse_conditions(block: object) -> tuple[Condition, ...]:
    """`{Operator: {Key: value | [values]}}`; values may be strings, numbers or booleans."""
    if not isinstance(block, dict):
        raise InvalidCondition("Syntax errors in policy.")
    conditions: list[Condition] = []
    for name, keys in block.items():
        qualifier, base, if_exists = _split_operator(name)
        if not isinstance(keys, dict) or not keys:
            raise InvalidCondition("Syntax errors in policy.")
        for key, raw in keys.items():
            if not _CONDITION_KEY.fullmatch(key):
                raise InvalidCondition("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise InvalidCondition("Syntax errors in policy.")
            values = tuple(_scalar(item) for item in items)
            for value in values:
                if _OPERATORS[base].valid(value) is None:
                    raise InvalidCondition(f"Invalid value for condition operator {name}: {value}")
            conditions.append(Condition(name, base, qualifier, if_exists, key, values))
    return tuple(conditions)


# --- evaluation -----------------------------------------------------------------------------------


def condition_holds(condition: Condition, context: Context, substitute: bool) -> bool:
    """One key under one operator against the request context (keys already lower-cased)."""
    found = context.get(condition.key.lower(), ())
    if condition.base == "Null":
        # "true": the key must be absent; "false": present. An empty list counts as absent.
        return any((_boolean(value) == "true") == (not found) for value in condition.values)
    if not found:
        if condition.if_exists:
            return True
        if condition.qualifier is not None:
            return condition.qualifier is SetQualifier.FOR_ALL_VALUES
        return _OPERATORS[condition.base].negated
    rule = _OPERATORS[condition.base]
    variables = context if substitute and condition.base in _SUBSTITUTING else None
    satisfied: list[bool] = []
    for actual in found:
        matched = rule.test(actual, condition.values, variables)
        if matched is None:
            return False  # a request value of the wrong type never satisfies a condition
        satisfied.append(matched != rule.negated)
    if condition.qualifier is SetQualifier.FOR_ALL_VALUES or (condition.qualifier is None and rule.negated):
        return all(satisfied)
    return any(satisfied)


def conditions_hold(conditions: Sequence[Condition], context: Context, substitute: bool) -> bool:
    """Every operator and every key in a Condition block must hold (AND); values are ORed."""
    return all(condition_holds(condition, context, substitute) for condition in conditions)
