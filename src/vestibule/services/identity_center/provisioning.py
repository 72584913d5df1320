"""Provisioning: a permission set provisioned to an account is a real IAM role there,
`AWSReservedSSO_<PermissionSetName>_<16 hex>` at `/aws-reserved/sso.amazonaws.com/`, with the permission set's
session duration, managed policies and inline policy (`AwsSSOInlinePolicy`). Provisioning again brings the role
up to date; when the permission set is no longer provisioned there the role goes. IAM users of the account see
the role (`iam list-roles`) but cannot change or delete it (UnmodifiableEntity, as for service-linked roles)."""

from __future__ import annotations

import hashlib
import json

from ...core import identifiers as ids
from ...errors import InUse
from ...store.models import IamRole, SsoPermissionSet, SsoProvisioning
from ...store.repositories import UnitOfWork
from .instances import Instance
from .permission_sets import PermissionSet, managed_arns, of_row

PATH = "/aws-reserved/sso.amazonaws.com/"
INLINE_POLICY_NAME = "AwsSSOInlinePolicy"


def role_name(permission_set: SsoPermissionSet, account_id: str) -> str:
    digest = hashlib.sha256(f"{permission_set.arn}|{account_id}".encode()).hexdigest()[:16]
    return f"AWSReservedSSO_{permission_set.name}_{digest}"


def _trust(account_id: str, instance_arn: str) -> str:
    provider = f"AWSSSO_{hashlib.sha256(instance_arn.encode()).hexdigest()[:16]}_DO_NOT_DELETE"
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{account_id}:saml-provider/{provider}"},
        "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]})


def _made_here(role: IamRole) -> bool:
    """A reserved role provisioning made: only provisioning creates roles at the reserved path (CreateRole refuses
    it and the `AWSReservedSSO_` names, and such roles cannot be deleted or changed through IAM)."""
    return role.path == PATH


def _taken(name: str, account_id: str) -> str:
    return (f"The role {name} in account {account_id} already exists and was not created by IAM Identity Center; "
            "delete or rename it before provisioning this permission set there.")


async def provision(uow: UnitOfWork, permission_set: SsoPermissionSet, account_id: str, now: float) -> IamRole:
    """Create or bring up to date the permission set's reserved role in `account_id`."""
    record = await uow.identity_center.provisioning(permission_set.arn, account_id)
    role = await uow.roles.by_name(account_id, record.role_name) if record is not None else None
    if role is not None and not _made_here(role):
        raise InUse(_taken(role.name, account_id))
    if role is None:
        name = role_name(permission_set, account_id)
        if await uow.roles.by_name(account_id, name) is not None:  # never adopt a role provisioning did not make
            raise InUse(_taken(name, account_id))
        role = IamRole(id=ids.new_iam_id("AROA"), account_id=account_id, name=name, name_lower=name.lower(),
                       path=PATH, description=None, trust_policy=_trust(account_id, permission_set.instance_arn),
                       max_session_duration=permission_set.session_duration, created_at=now)
        await uow.roles.add(role)
    role.max_session_duration = permission_set.session_duration
    await uow.policies.detach_all_from("role", role.id)
    for arn in managed_arns(permission_set):
        await uow.policies.attach(account_id, arn, "role", role.id)
    await uow.policies.delete_all_inline("role", role.id)
    if permission_set.inline_policy:
        await uow.policies.put_inline(account_id, "role", role.id, INLINE_POLICY_NAME, permission_set.inline_policy)
    if record is None:
        await uow.identity_center.add(SsoProvisioning(permission_set_arn=permission_set.arn, account_id=account_id,
                                                      instance_arn=permission_set.instance_arn, role_name=role.name,
                                                      provisioned_at=now))
    else:
        record.provisioned_at, record.role_name = now, role.name
        await uow.identity_center.flush()
    return role


async def remove_role(uow: UnitOfWork, record: SsoProvisioning) -> None:
    """The reserved role goes, and with it the record that the permission set is provisioned there."""
    role = await uow.roles.by_name(record.account_id, record.role_name)
    if role is not None and role.path == PATH:
        await uow.policies.detach_all_from("role", role.id)
        await uow.policies.delete_all_inline("role", role.id)
        await uow.tags.remove_all("role", role.id)
        await uow.roles.delete(role)
    await uow.identity_center.delete(record)


async def unprovision_if_unassigned(uow: UnitOfWork, permission_set_arn: str, account_id: str) -> None:
    """After the last assignment of the permission set in the account is deleted, its role goes too."""
    record = await uow.identity_center.provisioning(permission_set_arn, account_id)
    if record is None:
        return
    if not await uow.identity_center.assignments(record.instance_arn, permission_set_arn=permission_set_arn,
                                                 account_id=account_id):
        await remove_role(uow, record)


async def reserved_role(uow: UnitOfWork, instance: Instance, permission_set_arn: str,
                        account_id: str) -> IamRole | None:
    """The IAM role the portal issues credentials for: the permission set's role in that account, if the
    permission set (of this instance) is provisioned there."""
    record = await uow.identity_center.provisioning(permission_set_arn, account_id)
    if record is None or record.instance_arn != instance.arn:
        return None
    role = await uow.roles.by_name(account_id, record.role_name)
    return role if role is not None and _made_here(role) else None


async def assignments_for_user(uow: UnitOfWork, instance: Instance, user_id: str,
                               group_ids: list[str]) -> list[tuple[str, PermissionSet]]:
    """(account ID, permission set) pairs assigned to the user directly or through one of `group_ids`, each once,
    in account order."""
    principals = [("USER", user_id), *(("GROUP", g) for g in group_ids)]
    found: dict[tuple[str, str], PermissionSet] = {}
    for row in await uow.identity_center.assignments(instance.arn, principals=principals):
        key = (row.account_id, row.permission_set_arn)
        if key not in found:
            permission_set = await uow.identity_center.permission_set(row.permission_set_arn)
            if permission_set is not None:
                found[key] = of_row(permission_set)
    return sorted(((account, ps) for (account, _), ps in found.items()), key=lambda p: (p[0], p[1].name))
