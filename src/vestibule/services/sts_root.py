"""AssumeRoot: privileged root sessions on member accounts of an AWS Organizations organization, for its
management account or the delegated administrator for IAM. Vestibule has no organizations yet, so no account
is either: every caller but the root user (which may never call it) is told so, once the input is checked."""

from __future__ import annotations

import re

from ..core import arns
from ..errors import PermissionDenied, UnknownReference
from .api_call import ApiCall

ROOT_TASK_POLICIES = frozenset(f"arn:aws:iam::aws:policy/root-task/{name}" for name in (
    "IAMAuditRootUserCredentials", "IAMCreateRootUserPassword", "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy", "SQSUnlockQueuePolicy"))
_ACCOUNT = re.compile(r"\d{12}")
_ROOT_ARN = re.compile(r"arn:aws:iam::(\d{12}):root")


def target_account(target_principal: str) -> str | None:
    """The member account TargetPrincipal names: an account ID or the ARN of its root user."""
    if _ACCOUNT.fullmatch(target_principal):
        return target_principal
    match = _ROOT_ARN.fullmatch(target_principal)
    return match.group(1) if match else None


async def assume_root(call: ApiCall, target_principal: str, task_policy_arn: str) -> None:
    """Never returns: PermissionDenied for every caller (DurationSeconds, at most 900, is checked by the wire)."""
    caller = call.caller
    account = target_account(target_principal)
    if account is None:
        raise UnknownReference(f"TargetPrincipal {target_principal[:64]} is not an account ID or the ARN of an "
                               "account's root user (arn:aws:iam::123456789012:root).")
    if task_policy_arn not in ROOT_TASK_POLICIES:
        raise UnknownReference(f"TaskPolicyArn {task_policy_arn[:128]} is not a root task policy: use one of "
                               + ", ".join(sorted(ROOT_TASK_POLICIES)) + ".")
    if caller.is_root:
        raise PermissionDenied("Root user credentials cannot be used to call AssumeRoot: sign in as an IAM user or "
                               "role of the organization's management account or delegated administrator account.")
    call.authorized_by_rule()  # the rule: no account here is an organization's management account
    raise PermissionDenied(
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot on resource: {arns.root_arn(account)} "
        f"because the account {caller.account_id} is not the management account or the delegated administrator "
        "account of an organization with centralized root access (this server has no organizations yet)")
