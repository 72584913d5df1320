"""The inputs of a policy simulation, checked as AWS documents them: action names, resource ARNs and the
resources an EC2 scenario (ResourceHandlingOption) needs, the resource owner, and typed context entries."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...core.policy_conditions import ContextValue, glob_match, parse_date, parse_number
from ...errors import InvalidInput

_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_-]+", re.ASCII)
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
_ROOT = re.compile(r"arn:aws:iam::([0-9]{12}):root", re.ASCII)
_EXCLUDED_TYPES = ("inline", "aws-managed", "user-managed", "permission-boundary", "scp", "rcp")
_EXCLUDED_ARN = re.compile(r"arn:aws:iam::(?:aws|[0-9]{12}):policy/(?:[\u0021-\u007E]*/)?([\w+=,.@*?-]+)", re.ASCII)
_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_LIST_TYPES = frozenset({"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"})

# ResourceHandlingOption: the EC2 resource types each scenario must be given (API reference, SimulateCustomPolicy)
SCENARIOS: dict[str, tuple[str, ...]] = {
    "EC2-Classic-InstanceStore": ("instance", "image", "security-group"),
    "EC2-Classic-EBS": ("instance", "image", "security-group", "volume"),
    "EC2-VPC-InstanceStore": ("instance", "image", "security-group", "network-interface"),
    "EC2-VPC-InstanceStore-Subnet": ("instance", "image", "security-group", "network-interface", "subnet"),
    "EC2-VPC-EBS": ("instance", "image", "security-group", "network-interface", "volume"),
    "EC2-VPC-EBS-Subnet": ("instance", "image", "security-group", "network-interface", "subnet", "volume"),
}

Scenario = str


@dataclass(frozen=True)
class ContextEntry:
    """One ContextEntries member as the wire read it."""

    name: str | None
    values: tuple[str, ...]
    type: str | None


def check_actions(actions: Sequence[str]) -> None:
    for action in actions:
        if "*" in action or "?" in action:
            raise InvalidInput("ActionNames", f"Action names cannot contain wildcards: {action}")
        if _ACTION.fullmatch(action) is None:
            raise InvalidInput("ActionNames", f"Action {action} is not in the form service:ActionName.")


def _ec2_type(arn: str) -> str | None:
    fields = arn.split(":", 5)
    if len(fields) < 6 or fields[2] != "ec2":
        return None
    return re.split(r"[/:]", fields[5], maxsplit=1)[0]


def check_resources(resources: Sequence[str], scenario: Scenario | None) -> None:
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise InvalidInput("ResourceArns", f'Resource {resource} must be in ARN format or "*".')
    if scenario is None:
        return
    needed = SCENARIOS.get(scenario)
    if needed is None:
        raise InvalidInput("ResourceHandlingOption", f"Invalid ResourceHandlingOption: {scenario}. Valid values: "
                                                     f"{', '.join(SCENARIOS)}")
    given = {_ec2_type(resource) for resource in resources}
    absent = [kind for kind in needed if kind not in given]
    if absent:
        raise InvalidInput("ResourceArns", f"The scenario {scenario} needs resources of these types: "
                                           f"{', '.join(absent)}")


def owner_account(owner: str | None) -> str | None:
    """ResourceOwner: an account ID, or the account's root ARN as the API reference's example gives it."""
    if owner is None:
        return None
    if _ACCOUNT.fullmatch(owner):
        return owner
    root = _ROOT.fullmatch(owner)
    if root is None:
        raise InvalidInput("ResourceOwner", f"Invalid ResourceOwner: {owner}. Give an account ID or "
                                            "arn:aws:iam::<account ID>:root.")
    return root.group(1)


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _binary(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_CHECKS: dict[str, Callable[[str], bool]] = {
    "numeric": lambda text: parse_number(text) is not None,
    "boolean": lambda text: text.lower() in ("true", "false"),
    "ip": _ip,
    "binary": _binary,
    "date": lambda text: parse_date(text) is not None,
}


def context_of(entries: Sequence[ContextEntry]) -> dict[str, ContextValue]:
    """The request context the entries describe; a value that is not of its entry's type is refused."""
    context: dict[str, ContextValue] = {}
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if not entry.name:
            raise InvalidInput("ContextEntries", f"ContextEntries.{number} has no ContextKeyName.")
        if entry.name.lower() in seen:
            raise InvalidInput("ContextEntries", f"The context key {entry.name} is given more than once.")
        seen.add(entry.name.lower())
        kind = entry.type or ("stringList" if len(entry.values) > 1 else "string")
        scalar = kind.removesuffix("List")
        if kind not in _LIST_TYPES and len(entry.values) != 1:
            raise InvalidInput("ContextEntries", f"The context key {entry.name} of type {kind} takes exactly one "
                                                 "value; use a list type for several.")
        check = _CHECKS.get(scalar)
        for value in entry.values:
            if check is not None and not check(value):
                raise InvalidInput("ContextEntries", f"Invalid value {value} for the context key {entry.name} "
                                                     f"of type {kind}.")
        values = tuple(value.lower() if scalar == "boolean" else value for value in entry.values)
        context[entry.name] = values if kind in _LIST_TYPES else values[0]
    return context


# ---- PolicyExclusionList ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a principal's stored policy comes from, as a PolicyIdentifier names it."""

    type: str  # inline | aws-managed | user-managed | permission-boundary
    arn: str | None = None  # managed policies and the boundary
    name: str | None = None  # inline policies
    attachment: tuple[str, str] | None = None  # inline policies: (user | group | role, entity name)


@dataclass(frozen=True)
class Exclusion:
    """One PolicyIdentifier of PolicyExclusionList: exactly one of the three ways to name policies."""

    policy_type: str | None = None
    policy_arn: str | None = None
    inline: tuple[str | None, str | None, str | None] | None = None  # (PolicyName, AttachmentType, AttachmentName)


def _one_star(text: str) -> bool:
    return text.count("*") <= 1


def check_exclusions(exclusions: Sequence[Exclusion]) -> None:
    """AWS: syntactically invalid identifiers (malformed ARNs, wildcards where none may be) are InvalidInput."""
    for number, item in enumerate(exclusions, start=1):
        named = [item.policy_type is not None, item.policy_arn is not None, item.inline is not None]
        if named.count(True) != 1:
            raise InvalidInput("PolicyExclusionList", f"PolicyExclusionList.{number} must name exactly one of "
                                                      "PolicyType, PolicyArn and InlinePolicyIdentifier.")
        if item.policy_type is not None and item.policy_type not in _EXCLUDED_TYPES:
            raise InvalidInput("PolicyExclusionList", f"Invalid PolicyType {item.policy_type}: valid values are "
                                                      f"{', '.join(_EXCLUDED_TYPES)}.")
        if item.policy_arn is not None:
            match = _EXCLUDED_ARN.fullmatch(item.policy_arn)
            wild_elsewhere = match is not None and any(c in item.policy_arn[:match.start(1)] for c in "*?")
            if match is None or wild_elsewhere or not _one_star(match.group(1)):
                raise InvalidInput("PolicyExclusionList", f"Invalid PolicyArn {item.policy_arn}: a managed policy "
                                                          "ARN, with wildcards only in its name (at most one *).")
        if item.inline is not None:
            name, kind, entity = item.inline
            if name is None or _NAME.fullmatch(name) is None:
                raise InvalidInput("PolicyExclusionList", f"Invalid PolicyName {name} in PolicyExclusionList."
                                                          f"{number}.InlinePolicyIdentifier.")
            if kind not in ("user", "group", "role"):
                raise InvalidInput("PolicyExclusionList", f"Invalid AttachmentType {kind}: user, group or role.")
            if entity is None or _NAME.fullmatch(entity.replace("*", "a").replace("?", "a")) is None \
                    or not _one_star(entity):
                raise InvalidInput("PolicyExclusionList", f"Invalid AttachmentName {entity}: an entity name, "
                                                          "with at most one * and any number of ?.")


def excluded(origin: Origin | None, exclusions: Sequence[Exclusion]) -> bool:
    """Whether one of `exclusions` names the stored policy `origin` describes (identifiers that match nothing,
    and those for SCPs and RCPs, are ignored)."""
    if origin is None:
        return False
    for item in exclusions:
        if item.policy_type is not None and item.policy_type == origin.type:
            return True
        if (item.policy_arn is not None and origin.arn is not None and origin.type != "permission-boundary"
                and glob_match(item.policy_arn, origin.arn)):
            return True
        if item.inline is not None and origin.attachment is not None:
            name, kind, entity = item.inline
            if (name == origin.name and kind == origin.attachment[0] and entity is not None
                    and glob_match(entity, origin.attachment[1])):
                return True
    return False
