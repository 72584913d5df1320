"""Which services an entity's identity policies allow, as IAM's service last accessed data names them.

Only `Action`/`NotAction` of `Allow` statements are read (IAM's report ignores resources, conditions, denies,
boundaries and session policies). The services Vestibule serves are matched action by action against the
actions it really has; any other service can be named only when a policy spells its namespace out
(`s3:GetObject`, `ec2:*`): `*` or `*:Get*` cannot list services nobody here knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from .policy import Effect, Policy, Statement
from .policy_conditions import glob_match

SERVICE_NAMES: Mapping[str, str] = {
    "iam": "AWS Identity and Access Management",
    "sts": "AWS Security Token Service",
}
_NAMESPACE = re.compile(r"[a-z0-9-]{1,64}")

ServedActions = Mapping[str, Sequence[str]]  # namespace -> the action names served there ("GetUser")


def service_name(namespace: str) -> str:
    """The service's name in the report: its own for the served ones, else its namespace."""
    return SERVICE_NAMES.get(namespace, namespace)


def _allows(statement: Statement, action: str) -> bool:
    matched = any(glob_match(pattern, action, ignore_case=True) for pattern in statement.actions)
    return matched != statement.not_action


def _named(statement: Statement) -> set[str]:
    """Namespaces a statement's `Action` spells out without a wildcard."""
    if statement.not_action:
        return set()
    found = set()
    for pattern in statement.actions:
        namespace, colon, _ = pattern.partition(":")
        namespace = namespace.lower()
        if colon and _NAMESPACE.fullmatch(namespace):
            found.add(namespace)
    return found


def _allow_statements(policies: Iterable[Policy]) -> list[Statement]:
    return [s for p in policies for s in p.statements if s.effect is Effect.ALLOW]


def allowed_services(policies: Iterable[Policy], served: ServedActions) -> list[str]:
    """The namespaces some `Allow` statement reaches, sorted."""
    statements = _allow_statements(policies)
    found: set[str] = set()
    for statement in statements:
        found |= _named(statement)
        for namespace, actions in served.items():
            if namespace not in found and any(_allows(statement, f"{namespace}:{a}") for a in actions):
                found.add(namespace)
    return sorted(found)


def allowed_actions(policies: Iterable[Policy], namespace: str, actions: Sequence[str]) -> list[str]:
    """The served `actions` of `namespace` some `Allow` statement reaches, in the order given."""
    statements = _allow_statements(policies)
    return [a for a in actions if any(_allows(s, f"{namespace}:{a}") for s in statements)]
