"""Versions of customer managed policies: up to five, one of them the default (the one evaluated); built-in
policies have one version, `v1`."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.pagination import Page, PageRequest
from ...errors import InUse, LimitExceeded, NotFound
from ...store.models import ManagedPolicy, ManagedPolicyVersion
from ...store.repositories import Conflict, UnitOfWork
from .. import authorization
from ..api_call import ApiCall
from . import quotas
from .common import markers
from .documents import checked_document
from .policies import BUILTIN_CREATED


@dataclass(frozen=True)
class PolicyVersionInfo:
    version_id: str
    is_default: bool
    created_at: float
    document: str


def _no_version(arn: str, version_id: str) -> NotFound:
    return NotFound(f"Policy {arn} version {version_id} does not exist or is not attachable.")


async def _customer(call: ApiCall, uow: UnitOfWork, arn: str) -> ManagedPolicy:
    """This account's policy `arn`, after authorizing the call on it (built-in policies cannot change)."""
    await call.authorize(uow, arn)
    row = await uow.policies.get(arn, lock=True)
    if row is None or row.account_id != call.account_id:
        raise NotFound(f"Policy {arn} does not exist or is not attachable.")
    return row


def _info(policy: ManagedPolicy, version: ManagedPolicyVersion) -> PolicyVersionInfo:
    return PolicyVersionInfo(version.version_id, version.version_id == policy.default_version, version.created_at,
                             version.document)


async def create_version(call: ApiCall, arn: str, document: str, set_as_default: bool) -> PolicyVersionInfo:
    checked_document(document)
    quotas.check_managed_size(document)
    now = call.now()
    async with call.unit() as uow:
        policy = await _customer(call, uow, arn)
        if len(await uow.policies.versions(arn)) >= quotas.POLICY_VERSIONS:
            raise LimitExceeded(f"A managed policy can have up to {quotas.POLICY_VERSIONS} versions. Before you "
                                "create a new version, you must delete an existing version.")
        policy.versions_created += 1
        version = ManagedPolicyVersion(policy_arn=arn, version_id=f"v{policy.versions_created}", document=document,
                                       created_at=now)
        try:
            await uow.policies.add_version(version)
        except Conflict:
            raise LimitExceeded("A concurrent change created this version; try again.") from None
        if set_as_default:
            _make_default(policy, version, now)
        await call.record(uow, policy=arn, version=version.version_id, default=set_as_default)
        return _info(policy, version)


def _make_default(policy: ManagedPolicy, version: ManagedPolicyVersion, now: float) -> None:
    """The policy row carries the default version's document, which is what evaluation reads."""
    policy.default_version = version.version_id
    policy.document = version.document
    policy.updated_at = now


async def set_default(call: ApiCall, arn: str, version_id: str) -> None:
    async with call.unit() as uow:
        policy = await _customer(call, uow, arn)
        version = await uow.policies.version(arn, version_id)
        if version is None:
            raise _no_version(arn, version_id)
        _make_default(policy, version, call.now())
        await call.record(uow, policy=arn, version=version_id)


async def delete_version(call: ApiCall, arn: str, version_id: str) -> None:
    async with call.unit() as uow:
        policy = await _customer(call, uow, arn)
        version = await uow.policies.version(arn, version_id)
        if version is None:
            raise _no_version(arn, version_id)
        if version_id == policy.default_version:
            raise InUse("Cannot delete the default version of a policy.")
        await uow.policies.delete_version(version)
        await call.record(uow, policy=arn, version=version_id)


async def _all(call: ApiCall, uow: UnitOfWork, arn: str) -> list[PolicyVersionInfo]:
    await call.authorize(uow, arn)
    builtin = authorization.BUILTIN_POLICIES.get(arn)
    if builtin is not None:
        return [PolicyVersionInfo("v1", True, BUILTIN_CREATED, builtin.document)]
    row = await uow.policies.get(arn)
    if row is None or row.account_id != call.account_id:
        raise NotFound(f"Policy {arn} does not exist or is not attachable.")
    return [_info(row, version) for version in await uow.policies.versions(arn)]


async def get_version(call: ApiCall, arn: str, version_id: str) -> PolicyVersionInfo:
    async with call.unit() as uow:
        for version in await _all(call, uow, arn):
            if version.version_id == version_id:
                return version
    raise _no_version(arn, version_id)


async def list_versions(call: ApiCall, arn: str, request: PageRequest) -> Page[PolicyVersionInfo]:
    """A page of the policy's versions (at most 5), newest first."""
    async with call.unit() as uow:
        versions = await _all(call, uow, arn)
    return markers(call, "ListPolicyVersions", arn).page_in_memory(versions, request, _newest_first)


def _newest_first(version: PolicyVersionInfo) -> tuple[str]:
    """v12 before v3: the number's complement, zero-padded, sorts as text in that order."""
    return (f"{10**9 - int(version.version_id[1:].split('.', 1)[0]):010d}",)
