"""Virtual MFA devices through boto3: create (seed and QR code), enable with two consecutive codes,
resync, list (with assignment filters), get, deactivate and delete."""

from __future__ import annotations

import base64
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def test_create_enable_list_get_deactivate_delete(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="alice")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{account.account_id}:mfa/alice-phone"
    seed = device["Base32StringSeed"]
    assert isinstance(seed, bytes) and len(base64.b32decode(seed + b"=" * (-len(seed) % 8))) >= 10
    assert device["QRCodePNG"].startswith(PNG_MAGIC)
    err = _fails("EntityAlreadyExists", iam.create_virtual_mfa_device, VirtualMFADeviceName="alice-phone")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial] and "User" not in unassigned[0]
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"] == []
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []

    totp = pyotp.TOTP(seed.decode())
    now = world.clock()
    bad = "000000" if totp.at(now) != "000000" else "111111"
    err = _fails("InvalidAuthenticationCode", iam.enable_mfa_device, UserName="alice", SerialNumber=serial,
                 AuthenticationCode1=bad, AuthenticationCode2=totp.at(now))
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # the same code twice is not two consecutive codes, nor are codes a step apart
    _fails("InvalidAuthenticationCode", iam.enable_mfa_device, UserName="alice", SerialNumber=serial,
           AuthenticationCode1=totp.at(now), AuthenticationCode2=totp.at(now))
    _fails("InvalidAuthenticationCode", iam.enable_mfa_device, UserName="alice", SerialNumber=serial,
           AuthenticationCode1=totp.at(now - 90), AuthenticationCode2=totp.at(now - 30))
    _fails("NoSuchEntity", iam.enable_mfa_device, UserName="alice",
           SerialNumber=f"arn:aws:iam::{account.account_id}:mfa/unknown",
           AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    _fails("NoSuchEntity", iam.enable_mfa_device, UserName="ghost", SerialNumber=serial,
           AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial,
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    _fails("EntityAlreadyExists", iam.enable_mfa_device, UserName="alice", SerialNumber=serial,
           AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))

    listed = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in listed] == [("alice", serial)] and listed[0]["EnableDate"]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in assigned] == [serial]
    assert assigned[0]["User"]["UserName"] == "alice" and assigned[0]["User"]["Arn"] == account.user_arn("alice")
    assert assigned[0]["EnableDate"]
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == []
    assert [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial]
    got = iam.get_mfa_device(UserName="alice", SerialNumber=serial)
    assert got["SerialNumber"] == serial and got["UserName"] == "alice" and got["EnableDate"]

    # resync with the next two codes; a wrong pair is refused
    _fails("InvalidAuthenticationCode", iam.resync_mfa_device, UserName="alice", SerialNumber=serial,
           AuthenticationCode1=bad, AuthenticationCode2=bad)
    iam.resync_mfa_device(UserName="alice", SerialNumber=serial,
                          AuthenticationCode1=totp.at(now), AuthenticationCode2=totp.at(now + 30))

    err = _fails("DeleteConflict", iam.delete_virtual_mfa_device, SerialNumber=serial)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    _fails("DeleteConflict", iam.delete_user, UserName="alice")
    iam.create_user(UserName="bob")
    _fails("NoSuchEntity", iam.deactivate_mfa_device, UserName="bob", SerialNumber=serial)
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    _fails("NoSuchEntity", iam.get_mfa_device, UserName="alice", SerialNumber=serial)
    assert [d["SerialNumber"] for d in iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")
            ["VirtualMFADevices"]] == [serial]
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    _fails("NoSuchEntity", iam.delete_virtual_mfa_device, SerialNumber=serial)
    iam.delete_user(UserName="alice")


def test_devices_are_per_account_and_paths_work(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="tok", Path="/ops/")["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{account.account_id}:mfa/ops/tok"
    other = world.iam(world.new_account().root)
    assert other.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    _fails("AccessDenied", other.delete_virtual_mfa_device, SerialNumber=device["SerialNumber"])  # not its account
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.create_virtual_mfa_device, VirtualMFADeviceName="bad name")
    _fails("ValidationError", loose.enable_mfa_device, UserName="x", SerialNumber=device["SerialNumber"],
           AuthenticationCode1="12345", AuthenticationCode2="123456")


def test_a_user_enables_its_own_device(world: AwsWorld, account: Account) -> None:
    """The usual self-service policy: manage a device named after yourself, and your own MFA."""
    iam = world.iam(account.root)
    keys = world.api_user(account, "carol")
    iam.put_user_policy(UserName="carol", PolicyName="own-mfa", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":['
        '{"Effect":"Allow","Action":["iam:CreateVirtualMFADevice","iam:DeleteVirtualMFADevice"],'
        '"Resource":"arn:aws:iam::*:mfa/${aws:username}"},'
        '{"Effect":"Allow","Action":["iam:EnableMFADevice","iam:ListMFADevices","iam:ResyncMFADevice",'
        '"iam:DeactivateMFADevice","iam:GetMFADevice"],"Resource":"arn:aws:iam::*:user/${aws:username}"}]}'))
    me = world.iam(keys)
    serial, _ = world.enable_virtual_mfa(me, "carol", user_name="carol")
    assert [d["SerialNumber"] for d in me.list_mfa_devices()["MFADevices"]] == [serial]
    _fails("AccessDenied", me.create_virtual_mfa_device, VirtualMFADeviceName="someone-else")
    _fails("AccessDenied", me.list_mfa_devices, UserName="root-only")
    me.deactivate_mfa_device(UserName="carol", SerialNumber=serial)
    me.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_enable_mfa_device_names_the_user_as_the_model_requires(world: AwsWorld, account: Account) -> None:
    """Root MFA is enrolled on the console; the API's EnableMFADevice needs `UserName`, even from a client
    that skips botocore's own parameter validation."""
    lax = world.iam(account.root, validate=False)
    serial = lax.create_virtual_mfa_device(VirtualMFADeviceName="rootish")["VirtualMFADevice"]["SerialNumber"]
    err = _fails("ValidationError", lax.enable_mfa_device, SerialNumber=serial, AuthenticationCode1="123456",
                 AuthenticationCode2="654321")
    assert "'userName'" in err.response["Error"]["Message"]
