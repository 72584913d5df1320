"""The encoded authorization failure message of AccessDenied answers, and its decoding
(DecodeAuthorizationMessage).

The message is the JSON document AWS's `DecodedMessage` is (`allowed`, `explicitDeny`, `matchedStatements`,
`failures`, and the request's `context`: principal, action, resource, condition keys), compressed and sealed
with AES-256-GCM under the master key, with the denied principal's account in the associated data: only this
installation can open it, only for that account, and any change to it is detected.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence

from ..core import policy as engine
from ..core import session_policies
from ..core.policy_conditions import ContextValue
from ..core.secretbox import SecretBox, SecretBoxError
from ..errors import AuthorizationDenied, InvalidAuthorizationMessage
from .aws_identity import Caller

MAX_ENCODED = 10240  # DecodeAuthorizationMessage's EncodedMessage is at most this long
_MAX_DECODED = 1 << 20


def _context_of(account_id: str) -> str:
    return f"authorization-message:{account_id}"


def _items(values: Sequence[str]) -> dict[str, object]:
    return {"items": [{"value": value} for value in values]}


def _statement(statement: engine.Statement, principal_id: str) -> dict[str, object]:
    rendered: dict[str, object] = {
        "statementId": statement.sid or "",
        "effect": statement.effect.name,
        "principals": _items([principal_id]),
        "principalGroups": _items([]),
        "notActions" if statement.not_action else "actions": _items(statement.actions),
        "notResources" if statement.not_resource else "resources": _items(statement.resources),
        "conditions": {"items": [{"key": f"{c.operator}:{c.key}", "values": _items(c.values)}
                                 for c in statement.conditions]},
    }
    return rendered


def _deciding_deny(groups: Sequence[Sequence[str]], request: engine.AuthzRequest) -> engine.Statement | None:
    """The statement that explicitly denied `request`, if one of the policies holds one."""
    for group in groups:
        try:
            decision = engine.evaluate([engine.parse_policy(d) for d in group], request)
        except engine.MalformedPolicy:
            continue
        if decision.explicit:
            return decision.statement
    return None


def denied(caller: Caller, action: str, resource: str, *, explicit: bool, context: Mapping[str, ContextValue],
           documents: Sequence[str] = (), others: Sequence[str | None] = (),
           message: str | None = None) -> AuthorizationDenied:
    """The AccessDenied of a policy decision: AWS's readable message (or `message`) and the failure document.
    `documents` are the caller's identity policies, `others` the policies evaluated on their own (a permissions
    boundary, a trust policy); the caller's session policies are read from `caller`."""
    text = message or engine.access_denied_message(caller.arn, action, resource, explicit=explicit)
    principal_id = caller.user_id.split(":", 1)[0]
    matched: list[dict[str, object]] = []
    if explicit:
        request = engine.AuthzRequest(principal_arn=caller.arn, action=action, resource=resource, context=context)
        base, scoped = session_policies.split(caller.session_policy)
        groups = [list(documents)] + [[d] for d in (*others, base, *scoped) if d]
        statement = _deciding_deny(groups, request)
        if statement is not None:
            matched.append(_statement(statement, principal_id))
    principal: dict[str, object] = {"id": caller.user_id, "arn": caller.arn}
    if caller.kind == "user" and caller.user_name:
        principal["name"] = caller.user_name
    conditions = [{"key": key, "values": _items([value] if isinstance(value, str) else list(value))}
                  for key, value in sorted(context.items())]
    failure: dict[str, object] = {
        "allowed": False,
        "explicitDeny": explicit,
        "matchedStatements": {"items": matched},
        "failures": {"items": []},
        "context": {"principal": principal, "action": action, "resource": resource,
                    "conditions": {"items": conditions}},
    }
    return AuthorizationDenied(text, failure, caller.account_id)


def _seal(box: SecretBox, failure: Mapping[str, object], account_id: str) -> str:
    packed = zlib.compress(json.dumps(failure, separators=(",", ":")).encode("utf-8"), 9)
    return box.seal(packed, _context_of(account_id))


def encode(box: SecretBox, exc: AuthorizationDenied) -> str:
    """The opaque message; within DecodeAuthorizationMessage's 10,240 characters (the matched statements and
    then the condition keys are left out of a failure too large for it)."""
    encoded = _seal(box, exc.failure, exc.account_id)
    if len(encoded) <= MAX_ENCODED:
        return encoded
    raw_context = exc.failure.get("context")
    context = dict(raw_context) if isinstance(raw_context, dict) else {}
    smaller = {**exc.failure, "matchedStatements": {"items": []}}
    encoded = _seal(box, smaller, exc.account_id)
    if len(encoded) <= MAX_ENCODED:
        return encoded
    smaller["context"] = {**context, "conditions": {"items": []}}
    return _seal(box, smaller, exc.account_id)


def decode(box: SecretBox, encoded: str, account_id: str) -> str:
    """The failure document (JSON text) of a message this installation encoded for `account_id`."""
    try:
        packed = box.open(encoded.strip(), _context_of(account_id))
        inflater = zlib.decompressobj()
        text = inflater.decompress(packed, _MAX_DECODED)
        if inflater.unconsumed_tail:
            raise ValueError("too large")
        json.loads(text)
        return text.decode("utf-8")
    except (SecretBoxError, zlib.error, ValueError):
        raise InvalidAuthorizationMessage(
            "The encoded authorization message is not valid: it was changed, made by another installation, "
            "or is about another account.") from None
