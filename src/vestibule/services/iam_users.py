"""IAM users in an account: the use cases the CLI calls now and the IAM API will call later."""

from __future__ import annotations

from ..core import identifiers as ids
from ..errors import AlreadyExists, InvalidInput, NotFound
from ..store.models import Account, IamUser
from ..store.repositories import Conflict, UnitOfWork
from . import audit, cli_login, recovery_codes, sessions
from .context import Client, Deps
from .passwords import check_new_password, policy_of, store_user_password


async def create_user(
    deps: Deps,
    uow: UnitOfWork,
    account: Account,
    name: str,
    *,
    password: str | None = None,
    password_reset_required: bool = False,
    path: str = "/",
    client: Client = Client(),
    actor: str = "",
    audited: bool = True,
) -> IamUser:
    """`audited=False` when the caller records the change itself (the IAM API's operation table)."""
    try:
        ids.validate_iam_user_name(name)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("username", str(exc)) from None
    if await uow.users.by_name(account.id, name) is not None:
        raise AlreadyExists("username", f"User with name {name} already exists.")
    now = deps.clock()
    user = IamUser(
        id=ids.new_iam_id("AIDA"), account_id=account.id, name=name, name_lower=name.lower(), path=path,
        password_hash=None, password_reset_required=False, password_changed_at=None, created_at=now,
    )
    try:
        await uow.users.add(user)
    except Conflict:
        raise AlreadyExists("username", f"User with name {name} already exists.") from None
    if audited:
        await audit.record(
            uow, at=now, event="CreateUser", result="Success", client=client, account_id=account.id,
            principal=actor or ids.root_arn(account.id), method="cli", user=name,
        )
    if password is not None:
        await set_password(deps, uow, account, user, password, password_reset_required, client=client, actor=actor)
    return user


async def require_user(uow: UnitOfWork, account: Account, name: str) -> IamUser:
    user = await uow.users.by_name(account.id, name)
    if user is None:
        raise NotFound(f"The user with name {name} cannot be found.")
    return user


async def set_password(
    deps: Deps,
    uow: UnitOfWork,
    account: Account,
    user: IamUser,
    password: str,
    reset_required: bool,
    *,
    client: Client = Client(),
    actor: str = "",
    audited: bool = True,
) -> None:
    """An administrator sets (creates or replaces) a user's console password."""
    new_hash = await check_new_password(deps, uow, policy_of(account), f"user:{user.id}", password, None,
                                        user.password_hash)
    await store_user_password(deps, uow, user, new_hash, reset_required)
    await sessions.end_all(uow, deps.session_ports, f"user:{user.id}", deps.clock())
    if audited:
        await audit.record(
            uow, at=deps.clock(), event="PasswordSetByAdministrator", result="Success", client=client,
            account_id=account.id, principal=actor or ids.root_arn(account.id), method="cli",
            user=user.name, password_reset_required=reset_required,
        )


async def deactivate_mfa(
    deps: Deps, uow: UnitOfWork, account: Account, user: IamUser | None, serial: str | None, *,
    client: Client = Client(),
) -> int:
    """Remove one device (by serial) or all of a principal's devices; returns how many."""
    key = f"user:{user.id}" if user is not None else f"root:{account.id}"
    if serial:
        device = await uow.mfa.by_serial(serial)
        security_key = await uow.webauthn.by_serial(serial) if device is None else None  # a `u2f/` serial
        if security_key is not None and security_key.principal_key == key:
            await uow.webauthn.delete(security_key)
        elif device is None or device.principal_key != key:
            raise NotFound(f"MFA device {serial} is not assigned to that user.")
        else:
            await uow.mfa.delete(device)
        removed = 1
    else:  # every TOTP device, passkey and security key
        removed = await uow.mfa.delete_all_for(key) + await uow.webauthn.delete_all_for(key)
    if removed:
        await recovery_codes.forget_without_device(deps, uow, client, account.id, key, ids.user_arn(
            account.id, user.name, user.path) if user is not None else ids.root_arn(account.id), "cli")
        await cli_login.end_logins(deps, uow, key, account.id, ids.user_arn(account.id, user.name, user.path)
                                   if user is not None else ids.root_arn(account.id), "MFA device removed")
    await audit.record(
        uow, at=deps.clock(), event="DeactivateMFADevice", result="Success", client=client, account_id=account.id,
        principal=ids.root_arn(account.id), method="cli", user=user.name if user else "root", removed=removed,
    )
    return removed
