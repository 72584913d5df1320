"""IAM instance profiles: named containers for at most one role (what EC2 hands an instance), and their tags."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import arns
from ...core import identifiers as ids
from ...core.pagination import Page, PageRequest
from ...errors import AlreadyExists, InUse, LimitExceeded, NotFound
from ...store.models import IamRole, InstanceProfile
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall, Target
from . import service_linked_roles as linked
from .common import TagPairs, markers, named_role, put_tags, role_arn, tag_key, tags_of

TAG_KIND = "profile"
ROLES_PER_PROFILE = 1  # AWS: InstanceSessionsPerInstanceProfile
MAX_PER_ACCOUNT = 1000  # AWS: InstanceProfilesPerAccount


@dataclass(frozen=True)
class ProfileView:
    """An instance profile with the role it holds (if any); tags only where the operation returns them."""

    profile: InstanceProfile
    roles: list[IamRole]
    tags: TagPairs


def profile_arn(profile: InstanceProfile) -> str:
    return instance_profile_arn(profile.account_id, profile.name, profile.path)


def instance_profile_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:instance-profile{path}{name}"


def _missing(name: str) -> NotFound:
    return NotFound(f"Instance Profile {name} cannot be found.")


async def _named(call: ApiCall, uow: UnitOfWork, name: str) -> InstanceProfile:
    """The profile `name`, after authorizing the call on its ARN (so a denied caller learns nothing): the stored
    profile's ARN when there is one (names match without regard to case)."""
    profile = await uow.instance_profiles.by_name(call.account_id, name)
    await call.authorize(uow, profile_arn(profile) if profile else instance_profile_arn(call.account_id, name),
                         target=Target(TAG_KIND, profile.id) if profile else None)
    if profile is None:
        raise _missing(name)
    return profile


async def _roles(uow: UnitOfWork, profile: InstanceProfile) -> list[IamRole]:
    role = await uow.roles.get(profile.role_id) if profile.role_id else None
    return [role] if role is not None else []


async def create_profile(call: ApiCall, name: str, path: str, tags: TagPairs) -> ProfileView:
    def exists() -> AlreadyExists:
        return AlreadyExists("instanceprofile", f"Instance Profile {name} already exists.")

    async with call.unit() as uow:
        await call.authorize(uow, instance_profile_arn(call.account_id, name, path))
        if await uow.instance_profiles.by_name(call.account_id, name) is not None:
            raise exists()
        profile = InstanceProfile(id=ids.new_iam_id("AIPA"), account_id=call.account_id, name=name,
                                  name_lower=name.lower(), path=path, role_id=None, created_at=call.now())
        try:
            if not await uow.instance_profiles.add(profile, limit=MAX_PER_ACCOUNT):
                raise LimitExceeded(f"Cannot exceed quota for InstanceProfilesPerAccount: {MAX_PER_ACCOUNT}")
        except Conflict:
            raise exists() from None
        await put_tags(uow, call.account_id, TAG_KIND, profile.id, tags)
        await call.record(uow, instance_profile=name)
        return ProfileView(profile, [], await tags_of(uow, TAG_KIND, profile.id))


async def get_profile(call: ApiCall, name: str) -> ProfileView:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        return ProfileView(profile, await _roles(uow, profile), await tags_of(uow, TAG_KIND, profile.id))


async def delete_profile(call: ApiCall, name: str) -> None:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        if profile.role_id is not None:
            raise InUse("Cannot delete entity, must remove roles from instance profile first.")
        await uow.tags.remove_all(TAG_KIND, profile.id)
        await uow.instance_profiles.delete(profile)
        await call.record(uow, instance_profile=profile.name)


def _profile_key(view: ProfileView) -> tuple[str, str]:
    return view.profile.name_lower, view.profile.id


async def list_profiles(call: ApiCall, path_prefix: str, request: PageRequest) -> Page[ProfileView]:
    codec = markers(call, "ListInstanceProfiles", path_prefix)
    after = codec.after(request)
    async with call.unit() as uow:
        await call.authorize(uow, arns.all_of_kind(call.account_id, "instance-profile", path_prefix))
        rows = await uow.instance_profiles.page(call.account_id, path_prefix, after, request.limit)
        views = [ProfileView(p, await _roles(uow, p), []) for p in rows]
    return codec.page(views, request, _profile_key)


async def add_role(call: ApiCall, name: str, role_name: str) -> None:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        role = await uow.roles.by_name(call.account_id, role_name)
        # AWS: the caller must also be allowed iam:PassRole on the role (checked before the role's existence shows)
        await call.authorize(uow, role_arn(role) if role else arns.role_arn(call.account_id, role_name),
                             action="iam:PassRole", target=Target.role(role) if role else None,
                             context={"iam:PassedToService": "ec2.amazonaws.com"})
        if role is None:
            raise NotFound(f"The role with name {role_name} cannot be found.")
        linked.refuse_if_service_linked(role)  # AWS: UnmodifiableEntity; only its service may use the role
        if not await uow.instance_profiles.put_role(profile, role.id):
            raise LimitExceeded(f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}")
        await call.record(uow, instance_profile=profile.name, role=role.name)


async def remove_role(call: ApiCall, name: str, role_name: str) -> None:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        role = await uow.roles.by_name(call.account_id, role_name)
        if role is None:
            raise NotFound(f"The role with name {role_name} cannot be found.")
        if not await uow.instance_profiles.take_role(profile, role.id):
            raise NotFound(f"The role with name {role.name} is not in instance profile {profile.name}.")
        await call.record(uow, instance_profile=profile.name, role=role.name)


async def profiles_for_role(call: ApiCall, role_name: str, request: PageRequest) -> Page[ProfileView]:
    async with call.unit() as uow:
        role = await named_role(call, uow, role_name)
        codec = markers(call, "ListInstanceProfilesForRole", role.id)
        rows = await uow.instance_profiles.holding_page(role.id, codec.after(request), request.limit)
    return codec.page([ProfileView(p, [role], []) for p in rows], request, _profile_key)


async def tag_profile(call: ApiCall, name: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        await put_tags(uow, call.account_id, TAG_KIND, profile.id, tags)
        await call.record(uow, instance_profile=profile.name, keys=",".join(k for k, _ in tags))


async def untag_profile(call: ApiCall, name: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        await uow.tags.remove(TAG_KIND, profile.id, keys)
        await call.record(uow, instance_profile=profile.name, keys=",".join(keys))


async def list_profile_tags(call: ApiCall, name: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        profile = await _named(call, uow, name)
        tags = await tags_of(uow, TAG_KIND, profile.id)
    return markers(call, "ListInstanceProfileTags", profile.id).page_in_memory(tags, request, tag_key)
