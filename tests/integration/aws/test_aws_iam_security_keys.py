"""Passkeys and security keys through the IAM API, as AWS shows FIDO security keys: ListMFADevices lists them with
a `u2f/` serial (an IAM user's and the root user's), GetMFADevice finds one, ListVirtualMFADevices does not list
them, GetAccountSummary and the credential report count them as MFA, and DeactivateMFADevice removes one, from
boto3 and from the unmodified `aws` CLI, audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code
from integration.aws.test_aws_cli import Cli
from vestibule.core.webauthn import CredentialKind
from vestibule.services import webauthn
from vestibule.services.context import Client, Deps
from vestibule.services.webauthn import Owner
from webauthn_authenticator import SoftAuthenticator

CLIENT = Client(ip="127.0.0.1", user_agent="test", browser_hash="b")


def _register(world: AwsWorld, owner: Owner, name: str) -> str:
    async def run(deps: Deps) -> str:
        rp = webauthn.relying_party(deps)
        key = SoftAuthenticator(origin=rp.origin, rp_id=rp.id)
        ceremony = await webauthn.begin_registration(deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
        details = await webauthn.finish_registration(deps, CLIENT, owner, ceremony.flow_id,
                                                     key.register(ceremony.options), name)
        assert details.serial
        return details.serial

    return world.run(run)


def _user_id(world: AwsWorld, account: Account, name: str) -> str:
    async def run(deps: Deps) -> str:
        async with deps.store.unit() as uow:
            user = await uow.users.by_name(account.account_id, name)
            assert user is not None
            return user.id

    return world.run(run)


def _events(world: AwsWorld, account: Account) -> list[tuple[str, str, str]]:
    async def run(deps: Deps) -> list[tuple[str, str, str]]:
        async with deps.store.unit() as uow:
            return [(e.event, e.method, str((e.detail or {}).get("serial", "")))
                    for e in await uow.audit.for_account(account.account_id)]

    return world.run(run)


def test_security_keys_in_the_iam_api(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="alice")
    acct = account.account_id
    alice = Owner(f"user:{_user_id(world, account, 'alice')}", "alice", "alice", account.user_arn("alice"), acct,
                  "alice")
    root = Owner(f"root:{acct}", "root", "root", account.root_arn, acct)
    alice_serial = _register(world, alice, "Blue key")
    root_serial = _register(world, root, "Desk key")
    assert alice_serial.startswith(f"arn:aws:iam::{acct}:u2f/user/alice/Blue-key-")
    assert root_serial.startswith(f"arn:aws:iam::{acct}:u2f/root/Desk-key-")

    [listed] = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert listed["UserName"] == "alice" and listed["SerialNumber"] == alice_serial and listed["EnableDate"]
    assert [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]] == [root_serial]
    got = iam.get_mfa_device(SerialNumber=alice_serial, UserName="alice")
    assert got["SerialNumber"] == alice_serial and got["UserName"] == "alice"
    with pytest.raises(ClientError) as err:  # another user's key
        iam.get_mfa_device(SerialNumber=root_serial, UserName="alice")
    assert error_code(err.value) == "NoSuchEntity"
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["AccountMFAEnabled"] == 1 and summary["MFADevicesInUse"] == 2 and summary["MFADevices"] == 2
    assert iam.generate_credential_report()["State"] == "STARTED"
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode()))}
    assert rows["alice"]["mfa_active"] == "true" and rows["<root_account>"]["mfa_active"] == "true"

    iam.deactivate_mfa_device(UserName="alice", SerialNumber=alice_serial)
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    cli = Cli(world, tmp_path)
    assert cli.ok(account.root, "iam", "list-mfa-devices")["MFADevices"][0]["SerialNumber"] == root_serial
    cli.ok(account.root, "iam", "deactivate-mfa-device", "--serial-number", root_serial)
    assert iam.list_mfa_devices()["MFADevices"] == []
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0
    deactivated = [s for e, _method, s in _events(world, account) if e == "DeactivateMFADevice"]
    assert sorted(deactivated) == sorted([alice_serial, root_serial])
