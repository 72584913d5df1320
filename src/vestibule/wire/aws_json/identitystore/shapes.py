"""Identity Store answers: users, groups and memberships as botocore's model shapes them."""

from __future__ import annotations

from ....services.identity_center.directory import DirectoryGroup, DirectoryUser, ExternalId, Membership
from ....services.identity_center.directory_profile import wire
from ...json_values import JsonObject, JsonValue


def _external(ids: tuple[ExternalId, ...]) -> dict[str, JsonValue]:
    return {"ExternalIds": [{"Issuer": e.issuer, "Id": e.id} for e in ids]} if ids else {}


def user_ref(user: DirectoryUser) -> dict[str, JsonValue]:
    return {"IdentityStoreId": user.identity_store_id, "UserId": user.id, "UserArn": user.arn}


def user(user: DirectoryUser) -> JsonObject:
    profile = wire(user.profile)
    assert isinstance(profile, dict)
    return {**user_ref(user), "Revision": str(user.revision), "UserName": user.user_name,
            **_external(user.external_ids), **profile, "UserStatus": user.status, "CreatedAt": user.created_at,
            "CreatedBy": user.created_by, "UpdatedAt": user.updated_at, "UpdatedBy": user.updated_by}


def group_ref(group: DirectoryGroup) -> dict[str, JsonValue]:
    return {"IdentityStoreId": group.identity_store_id, "GroupId": group.id, "GroupArn": group.arn}


def group(group: DirectoryGroup) -> JsonObject:
    shape: dict[str, JsonValue] = {**group_ref(group), "Revision": str(group.revision),
                                   "DisplayName": group.display_name, **_external(group.external_ids)}
    if group.description is not None:
        shape["Description"] = group.description
    return {**shape, "CreatedAt": group.created_at, "CreatedBy": group.created_by, "UpdatedAt": group.updated_at,
            "UpdatedBy": group.updated_by}


def membership_ref(membership: Membership) -> dict[str, JsonValue]:
    return {"IdentityStoreId": membership.identity_store_id, "MembershipId": membership.id,
            "MembershipArn": membership.arn}


def membership(membership: Membership) -> JsonObject:
    return {**membership_ref(membership), "GroupId": membership.group_id,
            "MemberId": {"UserId": membership.user_id}, "CreatedAt": membership.created_at,
            "CreatedBy": membership.created_by, "UpdatedAt": membership.created_at,
            "UpdatedBy": membership.created_by}
