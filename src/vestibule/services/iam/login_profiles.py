"""Console passwords through the IAM API: login profiles and ChangePassword."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied, WrongPrincipalType
from ...store.models import IamUser
from ...store.repositories import UnitOfWork
from .. import iam_users, sessions
from ..api_call import ApiCall
from ..passwords import check_new_password, policy_of, store_user_password, verify_password
from ..signin import gate
from .common import account_of, no_such_user, target_user, user_arn


@dataclass(frozen=True)
class LoginProfile:
    user_name: str
    created_at: float
    reset_required: bool


def _profile(user: IamUser) -> LoginProfile:
    return LoginProfile(user.name, user.login_profile_created_at or user.created_at, bool(user.password_reset_required))


def _missing(user: IamUser) -> NotFound:
    return NotFound(f"Login Profile for User {user.name} cannot be found.")


async def _user(call: ApiCall, uow: UnitOfWork, name: str | None) -> IamUser:
    user = await target_user(call, uow, name)
    if user is None:  # the root user (no UserName): it has no login profile, as AWS answers it
        raise NotFound("Login Profile for User root cannot be found.")
    return user


async def create_profile(call: ApiCall, user_name: str | None, password: str | None, reset: bool) -> LoginProfile:
    if not password:
        raise InvalidInput("password", "A password is required.")
    async with call.unit() as uow:
        user = await _user(call, uow, user_name)
        if user.password_hash:
            raise AlreadyExists("username", f"Login Profile for user {user.name} already exists.")
        account = await account_of(call, uow)
        await iam_users.set_password(call.deps, uow, account, user, password, reset, client=call.client,
                                     actor=call.caller.arn, audited=False)
        user.login_profile_created_at = call.now()
        await call.record(uow, user=user.name, password_reset_required=reset)
        return _profile(user)


async def get_profile(call: ApiCall, user_name: str | None) -> LoginProfile:
    async with call.unit() as uow:
        user = await _user(call, uow, user_name)
        if not user.password_hash:
            raise _missing(user)
        return _profile(user)


async def update_profile(call: ApiCall, user_name: str | None, password: str | None, reset: bool | None) -> None:
    async with call.unit() as uow:
        user = await _user(call, uow, user_name)
        if not user.password_hash:
            raise _missing(user)
        account = await account_of(call, uow)
        if password:
            keep = user.password_reset_required if reset is None else reset
            await iam_users.set_password(call.deps, uow, account, user, password, keep, client=call.client,
                                         actor=call.caller.arn, audited=False)
        elif reset is not None:
            user.password_reset_required = reset
        await call.record(uow, user=user.name, password_changed=bool(password), password_reset_required=reset)


async def delete_profile(call: ApiCall, user_name: str | None) -> None:
    async with call.unit() as uow:
        user = await _user(call, uow, user_name)
        if not user.password_hash:
            raise _missing(user)
        user.password_hash = None
        user.password_reset_required = False
        user.login_profile_created_at = None
        await sessions.end_all(uow, call.deps.session_ports, f"user:{user.id}", call.now())
        await call.record(uow, user=user.name)


async def change_own_password(call: ApiCall, old: str, new: str) -> None:
    """An IAM user changes its own password: allowed by the account's password policy, or else by
    `iam:ChangePassword` in the user's policies."""
    caller = call.caller
    if caller.kind != "user" or not caller.user_name:
        raise WrongPrincipalType("Only IAM users can change their own password with ChangePassword.")
    async with call.unit() as uow:
        account = await account_of(call, uow)
        user = await uow.users.by_name(caller.account_id, caller.user_name)
        if user is None:
            raise no_such_user(caller.user_name)
        if policy_of(account).allow_users_to_change:
            call.authorized_by_rule()
        else:
            await call.authorize(uow, user_arn(user))
        stored = user.password_hash
    if not stored:
        raise NotFound(f"Login Profile for User {caller.user_name} cannot be found.")
    # the old password is a guess like a sign-in's: the user's own counter, reserved before it is checked;
    # no CAPTCHA can be asked here, so where sign-in would ask for one this call is refused
    admission = await gate.admit_without_captcha(call.deps, gate.password_keys(caller.account_id, caller.user_name,
                                                                               call.client))
    if not await verify_password(call.deps, stored, old):
        async with call.unit() as uow:
            await call.record(uow, result="Failure", reason="wrong old password")
        raise PermissionDenied("The old password is incorrect.")
    await gate.succeeded(call.deps, admission)
    async with call.unit() as uow:
        user = await uow.users.by_name(caller.account_id, caller.user_name)
        if user is None:
            raise no_such_user(caller.user_name)
        new_hash = await check_new_password(call.deps, uow, policy_of(account), f"user:{user.id}", new, None,
                                            user.password_hash)
        await store_user_password(call.deps, uow, user, new_hash)
        # as on the console: a new password ends the user's sessions, on every node at their next request
        ended = await sessions.end_all(uow, call.deps.session_ports, f"user:{user.id}", call.now())
        await call.record(uow, sessions_ended=ended)
