"""IAM users and their tags."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import arns
from ...core.pagination import Page, PageRequest
from ...errors import AlreadyExists, InUse, InvalidInput
from ...store.models import Account, IamUser
from .. import iam_users, sessions
from ..api_call import ApiCall, Target
from .common import TagPairs, account_of, markers, named_user, put_tags, tag_key, tags_of, target_user
from .policies import boundary_key, require_boundary


@dataclass(frozen=True)
class UserDetails:
    """GetUser's answer: an IAM user with its tags, or the account for the root user."""

    user: IamUser | None
    account: Account
    tags: TagPairs


async def create_user(call: ApiCall, name: str, path: str, tags: TagPairs, boundary: str | None = None) -> IamUser:
    """`boundary`: the ARN of the managed policy that is the user's permissions boundary."""
    async with call.unit() as uow:
        await call.authorize(uow, arns.user_arn(call.account_id, name, path), context=boundary_key(boundary))
        if boundary is not None:
            await require_boundary(uow, call.account_id, boundary)
        account = await account_of(call, uow)
        user = await iam_users.create_user(call.deps, uow, account, name, path=path, client=call.client,
                                           actor=call.caller.arn, audited=False)
        user.permissions_boundary = boundary
        await put_tags(uow, call.account_id, "user", user.id, tags)
        await call.record(uow, user=user.name, permissions_boundary=boundary)
        return user


async def get_user(call: ApiCall, name: str | None) -> UserDetails:
    async with call.unit() as uow:
        user = await target_user(call, uow, name)
        account = await account_of(call, uow)
        return UserDetails(user, account, await tags_of(uow, "user", user.id) if user else [])


async def list_users(call: ApiCall, path_prefix: str, request: PageRequest) -> Page[IamUser]:
    """The users under `path_prefix` by name, one page read from the store."""
    codec = markers(call, "ListUsers", path_prefix)
    after = codec.after(request)
    async with call.unit() as uow:
        await call.authorize(uow, arns.all_of_kind(call.account_id, "user", path_prefix))
        rows = await uow.users.page(call.account_id, path_prefix, after, request.limit)
    return codec.page(rows, request, user_key)


def user_key(user: IamUser) -> tuple[str, str]:
    """The order users are listed in: by name without regard to case (unique in an account), then ID."""
    return user.name_lower, user.id


async def update_user(call: ApiCall, name: str, new_name: str | None, new_path: str | None) -> None:
    async with call.unit() as uow:
        user = await named_user(call, uow, name)
        stored = user.name
        if new_name or new_path:
            # AWS: renaming or moving needs the action on the source and on the target ARN
            await call.authorize(uow, arns.user_arn(user.account_id, new_name or user.name, new_path or user.path),
                                 target=Target.user(user))
        if (new_name and new_name.lower() != user.name_lower
                and await uow.users.by_name(user.account_id, new_name) is not None):
            raise AlreadyExists("username", f"User with name {new_name} already exists.")
        if new_name:
            user.name, user.name_lower = new_name, new_name.lower()
            await uow.groups.member_renamed(user.id, user.name_lower)  # the pages' sort keys, in this unit
            await uow.policies.target_renamed("user", user.id, user.name_lower)
        if new_path:
            user.path = new_path
        await uow.accounts.save()
        await call.record(uow, user=stored, new_name=new_name, new_path=new_path)


async def delete_user(call: ApiCall, name: str) -> None:
    async with call.unit() as uow:
        user = await named_user(call, uow, name)
        await uow.credential_owners.lock_user(user.id)  # uploads of keys and certificates wait, then find no user
        key = f"user:{user.id}"
        blockers = []
        if user.password_hash:
            blockers.append("login profile")
        if await uow.access_keys.for_principal(key):
            blockers.append("access keys")
        if await uow.virtual_mfa.all_for(key) or await uow.webauthn.for_principal(key):
            blockers.append("MFA devices")
        if await uow.signing_certificates.for_principal(key):
            blockers.append("signing certificates")
        if await uow.ssh_keys.for_principal(key):
            blockers.append("SSH public keys")
        if await uow.service_credentials.for_principal(key):
            blockers.append("service-specific credentials")
        if await uow.policies.attached_to("user", user.id) or await uow.policies.inline_of("user", user.id):
            blockers.append("policies")
        if await uow.groups.of_user(user.id):
            blockers.append("group memberships")
        if blockers:
            raise InUse(f"Cannot delete entity, must remove {', '.join(blockers)} first.")
        await uow.tags.remove_all("user", user.id)
        await sessions.end_all(uow, call.deps.session_ports, key, call.now())
        await uow.mail_languages.forget(key)
        await uow.users.delete(user)
        await call.record(uow, account_id=user.account_id, user=user.name)


async def put_boundary(call: ApiCall, name: str, boundary: str) -> None:
    """PutUserPermissionsBoundary: sets or replaces the user's permissions boundary."""
    async with call.unit() as uow:
        user = await named_user(call, uow, name, context=boundary_key(boundary))
        await require_boundary(uow, call.account_id, boundary)
        previous, user.permissions_boundary = user.permissions_boundary, boundary
        await call.record(uow, user=user.name, permissions_boundary=boundary, previous=previous)


async def delete_boundary(call: ApiCall, name: str) -> None:
    """DeleteUserPermissionsBoundary: the user has no boundary afterwards (also when it had none)."""
    async with call.unit() as uow:
        user = await named_user(call, uow, name)
        previous, user.permissions_boundary = user.permissions_boundary, None
        await call.record(uow, user=user.name, previous=previous)


async def tag_user(call: ApiCall, name: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        user = await named_user(call, uow, name)
        await put_tags(uow, call.account_id, "user", user.id, tags)
        await call.record(uow, user=user.name, keys=",".join(k for k, _ in tags))


async def untag_user(call: ApiCall, name: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        user = await named_user(call, uow, name)
        await uow.tags.remove("user", user.id, keys)
        await call.record(uow, user=user.name, keys=",".join(keys))


async def list_user_tags(call: ApiCall, name: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        user = await target_user(call, uow, name)
        if user is None:
            raise InvalidInput("username", "UserName is required.")
        tags = await tags_of(uow, "user", user.id)
    return markers(call, "ListUserTags", user.id).page_in_memory(tags, request, tag_key)

