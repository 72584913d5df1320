"""Why a policy decision came out as it did, for the IAM policy simulator: every statement that decided,
where each statement sits in its document's text, the condition keys a request did not supply, and the
context keys a policy refers to.

Whether a statement applies is `policy.statement_applies`, the very test real authorization makes, so a
simulated decision and an enforced one cannot disagree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .policy import (
    AuthzRequest,
    Effect,
    Outcome,
    Policy,
    Statement,
    Target,
    TrustPrincipal,
    action_matches,
    principal_keys,
    statement_applies,
    statement_in_scope,
)
from .policy_conditions import Context, ContextValue, normalize_context

__all__ = [
    "Explanation",
    "Matched",
    "Position",
    "Span",
    "context_keys",
    "explain",
    "explain_resource",
    "statement_spans",
]

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = frozenset("*?$")
_SUBSTITUTING = ("String", "Arn")  # operators whose values may hold policy variables (policy_conditions)
_JSON_SPACE = " \t\n\r"


@dataclass(frozen=True)
class Matched:
    policy_index: int  # position in the sequence given to explain()
    statement: Statement


@dataclass(frozen=True)
class Explanation:
    outcome: Outcome
    # Every statement that decided: each matching Deny for an explicit deny, each matching Allow for an allow.
    statements: tuple[Matched, ...]
    # Condition keys (and policy variables) of statements in scope that the request context lacks, as written.
    missing_keys: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW


def _variables(value: str) -> Iterator[str]:
    """The context keys `value` substitutes without a default (`${aws:username}`, not `${*}` or `${k, 'd'}`)."""
    for match in _VARIABLE.finditer(value):
        body = match.group(1)
        if body.strip() in _ESCAPES:
            continue
        parsed = _VARIABLE_BODY.fullmatch(body)
        if parsed is not None and parsed.group(2) is None:
            yield parsed.group(1)


def _referenced(statement: Statement, policy: Policy, *, resources: bool, conditions: bool) -> Iterator[str]:
    if resources and policy.substitutes_variables:
        for pattern in statement.resources:
            yield from _variables(pattern)
    if conditions:
        for condition in statement.conditions:
            if condition.base != "Null":  # Null asks whether the key is absent: absence is an answer
                yield condition.key
            if policy.substitutes_variables and condition.base.startswith(_SUBSTITUTING):
                for value in condition.values:
                    yield from _variables(value)


def _unique(keys: Iterator[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for key in keys:
        seen.setdefault(key.lower(), key)
    return tuple(seen.values())


def _explain(policies: Sequence[Policy], target: Target, context: Context) -> Explanation:
    denies: list[Matched] = []
    allows: list[Matched] = []
    missing: list[str] = []
    for index, policy in enumerate(policies):
        for statement in policy.statements:
            if statement_applies(statement, policy, target, context):
                (denies if statement.effect is Effect.DENY else allows).append(Matched(index, statement))
            in_scope = statement_in_scope(statement, policy, target, context)
            named_action = in_scope or action_matches(statement, target.action)
            referenced = _referenced(statement, policy, resources=named_action, conditions=in_scope)
            missing.extend(key for key in referenced if key.lower() not in context)
    if denies:
        return Explanation(Outcome.EXPLICIT_DENY, tuple(denies), _unique(iter(missing)))
    if allows:
        return Explanation(Outcome.ALLOW, tuple(allows), _unique(iter(missing)))
    return Explanation(Outcome.IMPLICIT_DENY, (), _unique(iter(missing)))


def explain(policies: Sequence[Policy], request: AuthzRequest) -> Explanation:
    """`policy.evaluate` with its reasons: identity-based policies of one principal."""
    for policy in policies:
        if policy.kind != "identity":
            raise ValueError("explain() takes identity policies")
    context = principal_keys(request.context, request.principal_arn)
    return _explain(policies, Target(request.action, request.resource), context)


def explain_resource(policy: Policy, principal: TrustPrincipal, request: AuthzRequest, *,
                     bounded: bool = False) -> Explanation:
    """A resource-based policy, for `principal` (the caller) asking for the request's action on its resource.
    `bounded`: the caller has a permissions boundary."""
    if policy.kind != "resource":
        raise ValueError("explain_resource() takes a resource-based policy")
    keys: Mapping[str, ContextValue] = request.context
    context = (principal_keys(keys, principal.role_arn or principal.identifier) if principal.type == "AWS"
               else normalize_context(keys))
    target = Target(request.action, request.resource, principal, bounded)
    return _explain([policy], target, context)


# --- where statements are in the text -------------------------------------------------------------


class Position(NamedTuple):
    line: int  # from 1
    column: int  # from 1


class Span(NamedTuple):
    start: Position  # the statement's opening brace
    end: Position  # just past its closing brace


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _JSON_SPACE:
        at += 1
    return at


def _position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _offsets(text: str) -> list[tuple[int, int]]:
    decoder = json.JSONDecoder()
    at = _skip(text, 0)
    if text[at] != "{":
        raise ValueError("not an object")
    at += 1
    while True:
        at = _skip(text, at)
        if text[at] == "}":
            return []
        if text[at] == ",":
            at = _skip(text, at + 1)
        key, at = decoder.raw_decode(text, at)
        at = _skip(text, at)
        if text[at] != ":":
            raise ValueError("no colon")
        at = _skip(text, at + 1)
        start = at
        _, at = decoder.raw_decode(text, at)
        if key != "Statement":
            continue
        if text[start] == "{":
            return [(start, at)]
        spans: list[tuple[int, int]] = []
        item = _skip(text, start + 1)
        while text[item] != "]":
            end = decoder.raw_decode(text, item)[1]
            spans.append((item, end))
            item = _skip(text, end)
            if text[item] == ",":
                item = _skip(text, item + 1)
        return spans


def statement_spans(document: str) -> tuple[Span, ...]:
    """Where each statement of a policy that parses is written, in order, as the simulator reports it
    (StartPosition and EndPosition: lines and columns from 1); () for text that is not a policy."""
    try:
        offsets = _offsets(document)
    except (ValueError, IndexError):
        return ()
    return tuple(Span(_position(document, start), _position(document, end)) for start, end in offsets)


# --- the context keys a policy refers to ------------------------------------------------------


def context_keys(policies: Sequence[Policy]) -> tuple[str, ...]:
    """Condition keys and policy variables the policies use, each once (case-insensitively), in order of
    appearance: what GetContextKeysFor*Policy answer."""
    return _unique(key for policy in policies for statement in policy.statements
                   for key in _referenced(statement, policy, resources=True, conditions=True))
