"""Policy documents as the IAM API receives them."""

from __future__ import annotations

from ...core import policy as engine
from ...errors import InvalidPolicy


def checked_document(document: str, kind: engine.PolicyKind = "identity") -> engine.Policy:
    try:
        return engine.parse_policy(document, kind=kind)
    except engine.MalformedPolicy as exc:
        raise InvalidPolicy(str(exc)) from None
