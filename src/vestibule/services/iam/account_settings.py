"""Account settings through IAM: the version of the tokens STS's global endpoint issues
(SetSecurityTokenServicePreferences, reported by GetAccountSummary as GlobalEndpointTokenVersion)."""

from __future__ import annotations

from ...store.repositories import UnitOfWork
from ..api_call import ApiCall
from .common import account_of

TOKEN_VERSIONS = {"v1Token": 1, "v2Token": 2}
DEFAULT_TOKEN_VERSION = 1  # AWS's default: v1 tokens, valid in the Regions enabled by default


async def token_version(uow: UnitOfWork, account_id: str) -> int:
    settings = await uow.account_settings.get(account_id)
    return settings.global_endpoint_token_version if settings is not None else DEFAULT_TOKEN_VERSION


async def set_sts_preferences(call: ApiCall, version: str) -> None:
    """`version`: `v1Token` or `v2Token` (the input's enum). Vestibule has one endpoint and no Regions to enable,
    so its tokens work wherever they are sent either way; the preference is kept and reported."""
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        await account_of(call, uow)
        await uow.account_settings.set_token_version(call.account_id, TOKEN_VERSIONS[version])
        await call.record(uow, global_endpoint_token_version=version)
