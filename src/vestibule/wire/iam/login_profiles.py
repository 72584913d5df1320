"""Console passwords through the API: login profiles and ChangePassword."""

from __future__ import annotations

from ...errors import PasswordRejected, PasswordsDiffer
from ...services import audit, iam_users
from ...services.context import Client
from ...services.passwords import (
    check_new_password,
    policy_of,
    store_user_password,
    verify_password,
)
from ...store.models import IamUser
from ...store.repositories import UnitOfWork
from ..errors import (
    AccessDenied,
    EntityAlreadyExists,
    InvalidInput,
    InvalidUserType,
    NoSuchEntity,
    PasswordPolicyViolation,
)
from ..registry import CallContext, Result, operation
from ..xml import Timestamp
from .common import account_of, authorize, target_user, user_arn


def _violation(exc: PasswordRejected) -> PasswordPolicyViolation:
    return PasswordPolicyViolation("Password does not conform to the account password policy: "
                                   + ", ".join(p.split(".", 1)[1].replace("_", " ") for p in exc.problems) + ".")


def _profile(user: IamUser) -> dict[str, object]:
    return {"UserName": user.name,
            "CreateDate": Timestamp(user.login_profile_created_at or user.created_at),
            "PasswordResetRequired": bool(user.password_reset_required)}


async def _user(ctx: CallContext, uow: UnitOfWork, action: str) -> IamUser:
    user = await target_user(ctx, uow, action)
    if user is None:
        raise InvalidInput("The root user has no login profile; its password is changed on the console.")
    return user


@operation("iam", "CreateLoginProfile")
async def create_login_profile(ctx: CallContext) -> Result:
    password = ctx.params.text("Password", low=1, high=128)
    reset = bool(ctx.params.boolean("PasswordResetRequired", False))
    if not password:
        raise InvalidInput("A password is required.")
    async with ctx.deps.store.unit() as uow:
        user = await _user(ctx, uow, "iam:CreateLoginProfile")
        if user.password_hash:
            raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
        account = await account_of(ctx, uow)
        try:
            await iam_users.set_password(ctx.deps, uow, account, user, password, reset,
                                         client=Client(ip=ctx.source_ip), actor=ctx.caller.arn)
        except PasswordRejected as exc:
            raise _violation(exc) from None
        user.login_profile_created_at = ctx.deps.clock()
        return {"LoginProfile": _profile(user)}


@operation("iam", "GetLoginProfile")
async def get_login_profile(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await _user(ctx, uow, "iam:GetLoginProfile")
        if not user.password_hash:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
        return {"LoginProfile": _profile(user)}


@operation("iam", "UpdateLoginProfile")
async def update_login_profile(ctx: CallContext) -> Result:
    password = ctx.params.text("Password", low=1, high=128)
    reset = ctx.params.boolean("PasswordResetRequired")
    async with ctx.deps.store.unit() as uow:
        user = await _user(ctx, uow, "iam:UpdateLoginProfile")
        if not user.password_hash:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
        account = await account_of(ctx, uow)
        if password:
            try:
                keep = user.password_reset_required if reset is None else reset
                await iam_users.set_password(ctx.deps, uow, account, user, password, keep,
                                             client=Client(ip=ctx.source_ip), actor=ctx.caller.arn)
            except PasswordRejected as exc:
                raise _violation(exc) from None
        elif reset is not None:
            user.password_reset_required = reset
    return None


@operation("iam", "DeleteLoginProfile")
async def delete_login_profile(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await _user(ctx, uow, "iam:DeleteLoginProfile")
        if not user.password_hash:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
        user.password_hash = None
        user.password_reset_required = False
        user.login_profile_created_at = None
        await uow.sessions.revoke_all(f"user:{user.id}", ctx.deps.clock())
        await audit.record(uow, at=ctx.deps.clock(), event="DeleteLoginProfile", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=ctx.caller.account_id,
                           principal=ctx.caller.arn, method="api", user=user.name)
    return None


@operation("iam", "ChangePassword")
async def change_password(ctx: CallContext) -> Result:
    old = ctx.params.text("OldPassword", low=1, high=128, required=True) or ""
    new = ctx.params.text("NewPassword", low=1, high=128, required=True) or ""
    caller = ctx.caller
    if caller.kind != "user" or not caller.user_name:
        raise InvalidUserType("Only IAM users can change their own password with ChangePassword.")
    async with ctx.deps.store.unit() as uow:
        account = await account_of(ctx, uow)
        user = await uow.users.by_name(caller.account_id, caller.user_name)
        if user is None:
            raise NoSuchEntity(f"The user with name {caller.user_name} cannot be found.")
        if not policy_of(account).allow_users_to_change:
            await authorize(ctx, uow, "iam:ChangePassword", user_arn(user))
        stored = user.password_hash
    if not stored:
        raise NoSuchEntity(f"Login Profile for User {caller.user_name} cannot be found.")
    if not await verify_password(ctx.deps, stored, old):
        async with ctx.deps.store.unit() as uow:
            await audit.record(uow, at=ctx.deps.clock(), event="PasswordChanged", result="Failure",
                               client=Client(ip=ctx.source_ip), account_id=caller.account_id, principal=caller.arn,
                               method="api", reason="wrong old password")
        raise AccessDenied("The old password is incorrect.")
    async with ctx.deps.store.unit() as uow:
        user = await uow.users.by_name(caller.account_id, caller.user_name)
        assert user is not None
        try:
            new_hash = await check_new_password(ctx.deps, uow, policy_of(account), f"user:{user.id}", new, None,
                                                user.password_hash)
        except PasswordRejected as exc:
            raise _violation(exc) from None
        except PasswordsDiffer:
            raise InvalidInput("The passwords do not match.") from None
        await store_user_password(ctx.deps, uow, user, new_hash)
        await audit.record(uow, at=ctx.deps.clock(), event="PasswordChanged", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=caller.account_id, principal=caller.arn,
                           method="api")
    return None
