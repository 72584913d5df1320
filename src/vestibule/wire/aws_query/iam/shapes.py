"""IAM answers in the shapes botocore's model describes, and the inputs every IAM area reads alike
(tags, pages)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import quote

from ....core import arns
from ....core.pagination import DEFAULT_LIMIT, Page, PageRequest
from ....services.iam.common import TagPairs
from ....services.iam.policies import PolicyInfo
from ....services.iam.records import Account, IamGroup, IamRole, IamUser
from ..errors import InvalidInput, ValidationError
from ..params import shown
from ..request import QueryRequest
from ..xml import Timestamp, XmlValue

Item = TypeVar("Item")
Shape = dict[str, XmlValue]
_TAG_EXTRA = frozenset("_.:/=+-@")
_MARKER = re.compile(r"0|[1-9][0-9]{0,8}", re.ASCII)  # what `page` hands out: an index, never 10 digits


def tags_shape(tags: TagPairs) -> list[XmlValue]:
    return [{"Key": key, "Value": value} for key, value in tags]


def boundary_shape(arn: str) -> Shape:
    """AttachedPermissionsBoundary: its type is always Policy."""
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def user_shape(user: IamUser, tags: TagPairs | None = None, *, boundary: bool = False) -> Shape:
    """A user; `boundary` for the answers that show its PermissionsBoundary (ListUsers leaves it out, as AWS
    does)."""
    shape: Shape = {"Path": user.path, "UserName": user.name, "UserId": user.id,
                    "Arn": arns.user_arn(user.account_id, user.name, user.path),
                    "CreateDate": Timestamp(user.created_at)}
    if user.password_last_used_at:
        shape["PasswordLastUsed"] = Timestamp(user.password_last_used_at)
    if boundary and user.permissions_boundary:
        shape["PermissionsBoundary"] = boundary_shape(user.permissions_boundary)
    if tags:
        shape["Tags"] = tags_shape(tags)
    return shape


def root_shape(account: Account, *, with_path: bool = False) -> Shape:
    shape: Shape = {"UserId": account.id, "Arn": arns.root_arn(account.id), "CreateDate": Timestamp(account.created_at)}
    return {"Path": "/", "UserName": account.id, **shape} if with_path else shape


def group_shape(group: IamGroup) -> Shape:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.id,
            "Arn": arns.group_arn(group.account_id, group.name, group.path), "CreateDate": Timestamp(group.created_at)}


def role_shape(role: IamRole, tags: TagPairs | None = None, *, last_used: bool = False,
               boundary: bool = False) -> Shape:
    """A role; `last_used` for GetRole, the one answer with RoleLastUsed (empty until AssumeRole succeeds);
    `boundary` for the answers that show its PermissionsBoundary (ListRoles leaves it out, as AWS does)."""
    shape: Shape = {
        "Path": role.path, "RoleName": role.name, "RoleId": role.id,
        "Arn": arns.role_arn(role.account_id, role.name, role.path), "CreateDate": Timestamp(role.created_at),
        "AssumeRolePolicyDocument": quote(role.trust_policy, safe=""),
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description is not None:
        shape["Description"] = role.description
    if boundary and role.permissions_boundary:
        shape["PermissionsBoundary"] = boundary_shape(role.permissions_boundary)
    if tags:
        shape["Tags"] = tags_shape(tags)
    if last_used:
        used: Shape = {}
        if role.last_used_at:
            used["LastUsedDate"] = Timestamp(role.last_used_at)
        if role.last_used_region:
            used["Region"] = role.last_used_region
        shape["RoleLastUsed"] = used
    return shape


def policy_shape(policy: PolicyInfo) -> Shape:
    shape: Shape = {"PolicyName": policy.name, "PolicyId": policy.policy_id, "Arn": policy.arn, "Path": policy.path,
                    "DefaultVersionId": policy.default_version, "AttachmentCount": policy.attachments,
                    "PermissionsBoundaryUsageCount": policy.boundary_uses, "IsAttachable": True,
                    "CreateDate": Timestamp(policy.created_at), "UpdateDate": Timestamp(policy.updated_at)}
    if policy.description:
        shape["Description"] = policy.description
    if policy.tags:
        shape["Tags"] = tags_shape(policy.tags)
    return shape


def page(q: QueryRequest, items: Sequence[Item]) -> tuple[Sequence[Item], Shape]:
    """Marker/MaxItems pagination of a list held whole; the marker is the index of the next item, as an earlier
    page gave it. Lists that can grow with the account use `page_request`/`page_shape` (keyset pages) instead."""
    marker = q.input.text("Marker")
    start = 0
    if marker:
        if _MARKER.fullmatch(marker) is None:
            raise ValidationError(f"1 validation error detected: Value '{shown(marker)}' at 'marker' failed to "
                                  "satisfy constraint: Member must be a marker from an earlier page")
        start = int(marker)
    limit = q.input.integer("MaxItems") or 100
    more = start + limit < len(items)
    extra: Shape = {"IsTruncated": more}
    if more:
        extra["Marker"] = str(start + limit)
    return items[start:start + limit], extra


def page_request(q: QueryRequest) -> PageRequest:
    """Marker/MaxItems as a keyset page request (the marker is checked by the list's use case)."""
    return PageRequest(q.input.text("Marker"), q.input.integer("MaxItems") or DEFAULT_LIMIT)


def page_shape(listed: Page[Item]) -> Shape:
    """IsTruncated, and the Marker of the next page when there is one."""
    extra: Shape = {"IsTruncated": listed.next_marker is not None}
    if listed.next_marker is not None:
        extra["Marker"] = listed.next_marker
    return extra


def _tag_text_ok(value: str) -> bool:
    """The model's tag pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`."""
    return all(unicodedata.category(c)[0] in "LZN" or c in _TAG_EXTRA for c in value)


def tags_of(q: QueryRequest) -> TagPairs:
    out = []
    for index, item in enumerate(q.input.structs("Tags"), start=1):
        key, value = item.get("Key"), item.get("Value", "")
        if not key or len(key) > 128 or len(value) > 256:
            raise InvalidInput("Each tag needs a Key of 1-128 characters and a Value of at most 256.")
        for field, checked in (("key", key), ("value", value)):
            if not _tag_text_ok(checked):
                raise ValidationError(f"1 validation error detected: Value at 'tags.{index}.member.{field}' failed "
                                      "to satisfy constraint: Member must satisfy regular expression pattern: "
                                      "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")
        out.append((key, value))
    if len({key.lower() for key, _ in out}) < len(out):
        raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    return out
