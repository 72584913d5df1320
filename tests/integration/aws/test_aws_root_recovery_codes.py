"""Root recovery codes and the IAM API: DeactivateMFADevice of the root user's last device (root credentials,
no UserName) removes the recovery codes with it, as the console and `vestibule iam-user deactivate-mfa` do;
with a device left they stay."""

from __future__ import annotations

from integration.aws.aws_world import Account, AwsWorld
from vestibule.services import recovery_codes
from vestibule.services.context import Client, Deps
from vestibule.services.principals import root_principal


def _codes_left(world: AwsWorld, account: Account) -> int:
    async def count(deps: Deps) -> int:
        async with deps.store.unit() as uow:
            return await uow.recovery_codes.unused(f"root:{account.account_id}")

    return world.run(count)


def test_deactivating_the_root_users_last_device_removes_its_codes(world: AwsWorld, account: Account) -> None:
    first = world.enable_root_mfa(account, "root-phone")
    second = world.enable_root_mfa(account, "root-backup")

    async def issue(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            found = await uow.accounts.get(account.account_id)
            assert found is not None
            await recovery_codes.issue(deps, uow, Client(), root_principal(found), reason="test")

    world.run(issue)
    assert _codes_left(world, account) == 10
    iam = world.iam(account.root)
    iam.deactivate_mfa_device(SerialNumber=first)
    assert _codes_left(world, account) == 10, "a device is left: the codes stay"
    iam.deactivate_mfa_device(SerialNumber=second)
    assert _codes_left(world, account) == 0
    assert iam.list_mfa_devices()["MFADevices"] == []
