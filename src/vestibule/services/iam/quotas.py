"""IAM quotas, one table (AWS: "IAM and AWS STS quotas"). Policy sizes count characters other than whitespace;
the inline limit is the aggregate of all inline policies of one user, group or role."""

from __future__ import annotations

from typing import Literal

from ...core import policy as engine
from ...errors import LimitExceeded
from ..access_keys import MAX_KEYS
from ..mfa import MAX_DEVICES_PER_PRINCIPAL

EntityKind = Literal["user", "group", "role"]

INLINE_POLICIES: dict[EntityKind, int] = {
    "user": engine.USER_INLINE_POLICIES_MAX_SIZE,
    "group": engine.GROUP_INLINE_POLICIES_MAX_SIZE,
    "role": engine.ROLE_INLINE_POLICIES_MAX_SIZE,
}
MANAGED_POLICY = engine.MANAGED_POLICY_MAX_SIZE
TRUST_POLICY = engine.TRUST_POLICY_MAX_SIZE
ATTACHED_POLICIES = 10
POLICY_VERSIONS = 5
GROUPS_PER_USER = 10
TAGS_PER_RESOURCE = 50
ACCESS_KEYS_PER_USER = MAX_KEYS
MFA_DEVICES_PER_USER = MAX_DEVICES_PER_PRINCIPAL
USERS, GROUPS, ROLES, POLICIES = 5000, 300, 1000, 1500


def check_inline_size(kind: EntityKind, documents: list[str]) -> None:
    """All of an entity's inline policies together (the new one included) within its quota."""
    limit = INLINE_POLICIES[kind]
    if sum(engine.policy_size(d) for d in documents) > limit:
        raise LimitExceeded(f"Cannot exceed quota for {kind.capitalize()}PolicySize: {limit}")


def check_managed_size(document: str) -> None:
    if engine.policy_size(document) > MANAGED_POLICY:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY}")


def check_trust_size(document: str) -> None:
    if engine.policy_size(document) > TRUST_POLICY:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY}")
