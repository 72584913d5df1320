"""SCIM filters (RFC 7644 3.4.2.2): parsing and evaluation are scim2-models'; this module reads a parsed filter
for the one equality an index can answer first (`userName eq "x"`, `externalId eq "x"`, `displayName eq "x"`,
`emails.value eq "x"`), so a list does not read the whole directory for the filters identity providers send.

The lookup is a necessary condition only: every resource the filter matches satisfies it, and the caller still
evaluates the whole filter on what the lookup found."""

from __future__ import annotations

from dataclasses import dataclass

from scim2_models.path.expressions import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
)

# filter attribute (lower case, as SCIM compares names) -> the lookup's name
_INDEXED = {
    ("username", None): "userName",
    ("externalid", None): "externalId",
    ("displayname", None): "displayName",
    ("emails", "value"): "emails.value",
}
_CORE_URNS = {"urn:ietf:params:scim:schemas:core:2.0:user", "urn:ietf:params:scim:schemas:core:2.0:group"}


@dataclass(frozen=True)
class Lookup:
    attribute: str  # userName, externalId, displayName or emails.value
    value: str


def _indexed(path: AttrPath) -> str | None:
    if path.uri is not None and path.uri.lower() not in _CORE_URNS:
        return None
    return _INDEXED.get((path.attr.lower(), path.sub_attr.lower() if path.sub_attr else None))


def lookup(node: FilterNode, *, preferred: tuple[str, ...] = ("userName", "externalId", "displayName",
                                                                "emails.value")) -> Lookup | None:
    """An equality every match of `node` satisfies, or None when there is none to use (an `or`, a `not`, other
    operators). Of several in an `and`, the first attribute of `preferred`."""
    if isinstance(node, Comparison):
        name = _indexed(node.attr_path)
        if name is not None and node.op is CompareOperator.eq and isinstance(node.value, str):
            return Lookup(name, node.value)
        return None
    if isinstance(node, LogicalExpr) and node.op is LogicalOperator.and_:
        found = [one for one in (lookup(term, preferred=preferred) for term in node.terms) if one is not None]
        if found:
            return min(found, key=lambda one: preferred.index(one.attribute) if one.attribute in preferred
                       else len(preferred))
    return None
