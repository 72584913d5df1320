"""Helpers for the SCIM tests: an identity store (an Identity Center instance of a fresh account, made through
SSO Admin with boto3), its SCIM tokens (made as `vestibule sso scim-token create` makes them) and SCIM clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from integration.aws.aws_world import Account, AwsWorld
from vestibule.services.context import Deps
from vestibule.services.identity_center import scim_tokens

SCIM_JSON = "application/scim+json"


@dataclass
class Store:
    account: Account
    identity_store_id: str
    instance_arn: str


def new_store(world: AwsWorld) -> Store:
    account = world.new_account()
    sso = world.client("sso-admin", account.root)
    arn = sso.create_instance(Name="scim-test")["InstanceArn"]
    store_id = sso.describe_instance(InstanceArn=arn)["IdentityStoreId"]
    return Store(account, store_id, arn)


def new_token(world: AwsWorld, store: Store, expires_in_days: int | None = None) -> scim_tokens.IssuedToken:
    async def make(deps: Deps) -> scim_tokens.IssuedToken:
        return await scim_tokens.create(deps, store.identity_store_id, expires_in_days)

    return world.run(make)


def revoke(world: AwsWorld, store: Store, token_id: str) -> None:
    async def gone(deps: Deps) -> None:
        await scim_tokens.revoke(deps, store.identity_store_id, token_id)

    world.run(gone)


def scim_client(world: AwsWorld, token: str | None) -> httpx.Client:
    headers = {"Accept": SCIM_JSON, "Content-Type": SCIM_JSON}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=world.url + "/scim/v2", headers=headers, timeout=20)


def user_body(user_name: str, **more: Any) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, **more}


def group_body(display_name: str, members: tuple[str, ...] = (), **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": display_name,
                            **more}
    if members:
        body["members"] = [{"value": m} for m in members]
    return body


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
