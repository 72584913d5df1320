"""The session policies of one set of temporary credentials, as stored in one column.

A session's permissions are limited by the session policy it was issued with (AssumeRole's and
GetFederationToken's `Policy`/`PolicyArns`, one document) and by up to three scope-down policies that
GetScopedCredentials added, each of which must allow the request on its own (an intersection, which
no single policy document can express). One policy is stored as its document; a chain as a JSON array
`[base document or null, scope-down 1, ...]` (a policy document is always a JSON object, never an array).
"""

from __future__ import annotations

import json

MAX_SCOPE_DOWN_LAYERS = 3


def split(stored: str | None) -> tuple[str | None, tuple[str, ...]]:
    """(the base session policy or None, the scope-down policies in the order they were added)."""
    if stored is None or not stored.lstrip().startswith("["):
        return stored, ()
    chain = json.loads(stored)
    base = chain[0] if chain and isinstance(chain[0], str) else None
    return base, tuple(str(document) for document in chain[1:])


def with_scope_down(stored: str | None, scope_down: str) -> str:
    """The stored form of `stored`'s policies and one more scope-down policy."""
    base, scoped = split(stored)
    return json.dumps([base, *scoped, scope_down])


def scope_down_layers(stored: str | None) -> int:
    return len(split(stored)[1])
