"""Account-wide IAM reports: the credential report and GetAccountAuthorizationDetails."""

from __future__ import annotations

from urllib.parse import quote

from ....core import arns
from ....services.iam import authorization_details as details
from ....services.iam import credential_report
from ....services.iam.records import IamRole
from ...members import string_list
from ..errors import ValidationError
from ..params import shown
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import MARKER, MAX_ITEMS
from .shapes import Shape, group_shape, role_shape, tags_shape, user_shape
from .table import IAM

FILTER = string_list("Filter")


@IAM.operation("GenerateCredentialReport", action="iam:GenerateCredentialReport", audit="GenerateCredentialReport")
async def generate_credential_report(q: QueryRequest) -> Result:
    generation = await credential_report.generate(q.call)
    return {"State": generation.state, "Description": generation.description}


@IAM.operation("GetCredentialReport", action="iam:GetCredentialReport")
async def get_credential_report(q: QueryRequest) -> Result:
    report = await credential_report.get(q.call)
    return {"Content": report.content, "ReportFormat": "text/csv", "GeneratedTime": Timestamp(report.generated_at)}


def _policies(inline: list[details.Inline]) -> list[XmlValue]:
    return [{"PolicyName": p.name, "PolicyDocument": quote(p.document, safe="")} for p in inline]


def _attached(attached: list[details.Attached]) -> list[XmlValue]:
    return [{"PolicyName": a.name, "PolicyArn": a.arn} for a in attached]


def _boundary(arn: str | None) -> Shape | None:
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn} if arn else None


def _user(d: details.UserDetail) -> Shape:
    shape = user_shape(d.user)
    shape.pop("PasswordLastUsed", None)  # not a member of UserDetail
    return {**shape, "UserPolicyList": _policies(d.inline), "GroupList": list(d.groups),
            "AttachedManagedPolicies": _attached(d.attached),
            "PermissionsBoundary": _boundary(d.user.permissions_boundary), "Tags": tags_shape(d.tags)}


def _group(d: details.GroupDetail) -> Shape:
    return {**group_shape(d.group), "GroupPolicyList": _policies(d.inline),
            "AttachedManagedPolicies": _attached(d.attached)}


def _profile(p: details.ProfileDetail, role: IamRole) -> Shape:
    profile = p.profile
    shape: Shape = {"Path": profile.path, "InstanceProfileName": profile.name, "InstanceProfileId": profile.id,
                    "Arn": f"arn:aws:iam::{profile.account_id}:instance-profile{profile.path}{profile.name}",
                    "CreateDate": Timestamp(profile.created_at), "Roles": [role_shape(role)]}
    if p.tags:
        shape["Tags"] = tags_shape(p.tags)
    return shape


def _role(d: details.RoleDetail) -> Shape:
    role = d.role
    used: Shape = {}
    if role.last_used_at:
        used["LastUsedDate"] = Timestamp(role.last_used_at)
    if role.last_used_region:
        used["Region"] = role.last_used_region
    return {"Path": role.path, "RoleName": role.name, "RoleId": role.id,
            "Arn": arns.role_arn(role.account_id, role.name, role.path), "CreateDate": Timestamp(role.created_at),
            "AssumeRolePolicyDocument": quote(role.trust_policy, safe=""),
            "InstanceProfileList": [_profile(p, role) for p in d.profiles], "RolePolicyList": _policies(d.inline),
            "AttachedManagedPolicies": _attached(d.attached),
            "PermissionsBoundary": _boundary(role.permissions_boundary), "Tags": tags_shape(d.tags),
            "RoleLastUsed": used}


def _policy(p: details.PolicyDetail) -> Shape:
    shape: Shape = {"PolicyName": p.name, "PolicyId": p.policy_id, "Arn": p.arn, "Path": p.path,
                    "DefaultVersionId": p.default_version, "AttachmentCount": p.attachments,
                    "PermissionsBoundaryUsageCount": p.boundary_uses, "IsAttachable": True,
                    "CreateDate": Timestamp(p.created_at), "UpdateDate": Timestamp(p.updated_at),
                    "PolicyVersionList": [{"Document": quote(v.document, safe=""), "VersionId": v.version_id,
                                           "IsDefaultVersion": v.is_default, "CreateDate": Timestamp(v.created_at)}
                                          for v in p.versions]}
    if p.description:
        shape["Description"] = p.description
    return shape


def _filter(q: QueryRequest) -> list[str]:
    wanted = q.input.strings("Filter")
    wrong = [w for w in wanted if w not in details.SECTIONS]
    if wrong:
        raise ValidationError(f"1 validation error detected: Value '[{shown(', '.join(wanted))}]' at 'filter' "
                              "failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy "
                              f"enum value set: [{', '.join(details.SECTIONS)}]]")
    return wanted


@IAM.operation("GetAccountAuthorizationDetails", action="iam:GetAccountAuthorizationDetails",
               inputs=(FILTER, MAX_ITEMS, MARKER))
async def get_account_authorization_details(q: QueryRequest) -> Result:
    found = await details.details(q.call, _filter(q), q.input.integer("MaxItems") or 100, q.input.text("Marker"))
    shape: Shape = {"UserDetailList": [_user(u) for u in found.users],
                    "GroupDetailList": [_group(g) for g in found.groups],
                    "RoleDetailList": [_role(r) for r in found.roles],
                    "Policies": [_policy(p) for p in found.policies], "IsTruncated": found.marker is not None}
    if found.marker is not None:
        shape["Marker"] = found.marker
    return shape
