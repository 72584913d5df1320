"""NextTokens of the Identity Center lists (Identity Store, SSO Admin): H8's signed keyset markers
(`core/pagination.py`), bound to the operation, the caller's account and the list's scope (instance, store,
parent, filters). "/" parts key and tag, as these services' NextToken patterns allow it and not "."."""

from __future__ import annotations

from ...core.pagination import Key, MarkerCodec
from ..api_call import ApiCall


def markers(call: ApiCall, operation: str, *scope: str) -> MarkerCodec:
    return MarkerCodec(call.deps.box.signing_key, operation, call.account_id, *scope, separator="/")


def timed(key: Key | None) -> tuple[float, str] | None:
    """A (timestamp, ID) key as the store compares it (the marker holds the timestamp's repr)."""
    return None if key is None else (float(key[0]), key[1])
