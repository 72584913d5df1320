"""IAM answers in the shapes botocore's model describes, and the inputs every IAM area reads alike
(tags, pages)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import quote

from ....core import arns
from ....core.pagination import DEFAULT_LIMIT, Page, PageRequest
from ....services.iam.common import TagPairs, markers
from ....services.iam.policies import PolicyInfo
from ....services.iam.records import Account, IamGroup, IamRole, IamUser
from ..errors import InvalidInput, ValidationError
from ..request import QueryRequest
from ..xml import Timestamp, XmlValue

Item = TypeVar("Item")
Shape = dict[str, XmlValue]
_TAG_EXTRA = frozenset("_.:/=+-@")


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


def page_request(q: QueryRequest) -> PageRequest:
    """Marker/MaxItems as a keyset page request (the marker is checked by the list's use case)."""
    return PageRequest(q.input.text("Marker"), q.input.integer("MaxItems") or DEFAULT_LIMIT)


def snapshot_page(q: QueryRequest, operation: str, scope: str,
                  items: Sequence[Item]) -> tuple[list[Item], Shape]:
    """A page of a list that never changes under its `scope` (a finished job's results, one simulation's): keyed
    by position, with the signed markers of every IAM list, so a marker of another job or simulation is refused."""
    codec = markers(q.call, operation, scope)
    listed = codec.page_in_memory(list(enumerate(items)), page_request(q), lambda entry: (f"{entry[0]:09d}",))
    return [item for _, item in listed.items], page_shape(listed)


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
