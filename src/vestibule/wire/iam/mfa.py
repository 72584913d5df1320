"""Virtual MFA devices: the same table the console's Security credentials page uses."""

from __future__ import annotations

import io
from typing import Any

import qrcode

from ...core import identifiers as ids
from ...core import totp
from ...services import audit
from ...services.context import Client
from ...store.models import IamUser, MfaDevice
from ...store.repositories import Conflict, UnitOfWork
from ..errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
)
from ..registry import CallContext, Result, operation
from ..xml import Timestamp
from .common import PATH, account_of, authorize, target_user, user_shape

DEVICE_NAME = r"[\w+=,.@-]+"
SERIAL = r"[\w+=/:,.@-]+"
MAX_DEVICES = 8


def _secret(ctx: CallContext, device: MfaDevice) -> str:
    return ctx.deps.box.open(device.secret_sealed, f"mfa:{device.serial}").decode()


async def _device(uow: UnitOfWork, ctx: CallContext, serial: str) -> MfaDevice:
    device = await uow.mfa.by_serial(serial)
    if device is None or device.account_id != ctx.caller.account_id:
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    return device


def _owner_key(ctx: CallContext, user: IamUser | None) -> str:
    return f"root:{ctx.caller.account_id}" if user is None else f"user:{user.id}"


@operation("iam", "CreateVirtualMFADevice")
async def create_virtual_mfa_device(ctx: CallContext) -> Result:
    name = ctx.params.text("VirtualMFADeviceName", pattern=DEVICE_NAME, low=1, high=226, required=True) or ""
    path = ctx.params.text("Path", pattern=PATH, low=1, high=512, default="/") or "/"
    serial = ids.mfa_arn(ctx.caller.account_id, name, path)
    secret = totp.new_secret()
    now = ctx.deps.clock()
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:CreateVirtualMFADevice", serial)
        account = await account_of(ctx, uow)
        try:
            await uow.mfa.add(MfaDevice(account_id=account.id, principal_key=None, name=name, serial=serial,
                                        secret_sealed=ctx.deps.box.seal(secret.encode(), f"mfa:{serial}"),
                                        enabled_at=None, last_used_step=None, created_at=now))
        except Conflict:
            raise EntityAlreadyExists("MFADevice entity at the same path and name already exists.") from None
    uri = totp.provisioning_uri(secret, f"{name}@{account.alias or account.id}", "Vestibule")
    buf = io.BytesIO()
    qrcode.make(uri).save(buf, format="PNG")
    return {"VirtualMFADevice": {"SerialNumber": serial, "Base32StringSeed": secret.encode(),
                                 "QRCodePNG": buf.getvalue()}}


def _codes_ok(secret: str, first: str, second: str, now: float) -> int | None:
    return totp.verify_consecutive(secret, first, second, now)


@operation("iam", "EnableMFADevice")
async def enable_mfa_device(ctx: CallContext) -> Result:
    serial = ctx.params.text("SerialNumber", pattern=SERIAL, low=9, high=256, required=True) or ""
    code1 = ctx.params.text("AuthenticationCode1", pattern=r"[\d]+", low=6, high=6, required=True) or ""
    code2 = ctx.params.text("AuthenticationCode2", pattern=r"[\d]+", low=6, high=6, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:EnableMFADevice")
        owner = _owner_key(ctx, user)
        device = await _device(uow, ctx, serial)
        if device.principal_key is not None:
            raise EntityAlreadyExists("MFA Device is already in use.")
        if len(await uow.mfa.enabled_for(owner)) >= MAX_DEVICES:
            raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES}")
        step = _codes_ok(_secret(ctx, device), code1, code2, ctx.deps.clock())
        if step is None:
            raise InvalidAuthenticationCode("Authentication code for device is not valid.")
        device.principal_key, device.enabled_at, device.last_used_step = owner, ctx.deps.clock(), step
        await audit.record(uow, at=ctx.deps.clock(), event="EnableMFADevice", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=ctx.caller.account_id,
                           principal=ctx.caller.arn, method="api", serial=serial)
    return None


@operation("iam", "ResyncMFADevice")
async def resync_mfa_device(ctx: CallContext) -> Result:
    serial = ctx.params.text("SerialNumber", pattern=SERIAL, low=9, high=256, required=True) or ""
    code1 = ctx.params.text("AuthenticationCode1", pattern=r"[\d]+", low=6, high=6, required=True) or ""
    code2 = ctx.params.text("AuthenticationCode2", pattern=r"[\d]+", low=6, high=6, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:ResyncMFADevice")
        device = await _device(uow, ctx, serial)
        if device.principal_key != _owner_key(ctx, user):
            raise NoSuchEntity(f"MFA device {serial} is not assigned to that user.")
        step = _codes_ok(_secret(ctx, device), code1, code2, ctx.deps.clock())
        if step is None:
            raise InvalidAuthenticationCode("Authentication code for device is not valid.")
        device.last_used_step = step
    return None


@operation("iam", "DeactivateMFADevice")
async def deactivate_mfa_device(ctx: CallContext) -> Result:
    serial = ctx.params.text("SerialNumber", pattern=SERIAL, low=9, high=256, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:DeactivateMFADevice")
        device = await _device(uow, ctx, serial)
        if device.principal_key != _owner_key(ctx, user):
            raise NoSuchEntity(f"MFA Device with serial number {serial} is not assigned to that user.")
        device.principal_key, device.enabled_at = None, None
        await audit.record(uow, at=ctx.deps.clock(), event="DeactivateMFADevice", result="Success",
                           client=Client(ip=ctx.source_ip), account_id=ctx.caller.account_id,
                           principal=ctx.caller.arn, method="api", serial=serial)
    return None


@operation("iam", "DeleteVirtualMFADevice")
async def delete_virtual_mfa_device(ctx: CallContext) -> Result:
    serial = ctx.params.text("SerialNumber", pattern=SERIAL, low=9, high=256, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:DeleteVirtualMFADevice", serial)
        device = await _device(uow, ctx, serial)
        if device.principal_key is not None:
            raise DeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
        await uow.mfa.delete(device)
    return None


@operation("iam", "ListMFADevices")
async def list_mfa_devices(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:ListMFADevices")
        devices = await uow.mfa.enabled_for(_owner_key(ctx, user))
    name = user.name if user is not None else str(ctx.caller.account_id)
    return {"MFADevices": [{"UserName": name, "SerialNumber": d.serial, "EnableDate": Timestamp(d.enabled_at or 0)}
                           for d in devices], "IsTruncated": False}


@operation("iam", "GetMFADevice")
async def get_mfa_device(ctx: CallContext) -> Result:
    serial = ctx.params.text("SerialNumber", pattern=SERIAL, low=9, high=256, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:GetMFADevice")
        device = await _device(uow, ctx, serial)
        if device.principal_key != _owner_key(ctx, user):
            raise NoSuchEntity(f"MFA device {serial} is not assigned to that user.")
    out: dict[str, Any] = {"SerialNumber": serial, "EnableDate": Timestamp(device.enabled_at or 0)}
    if user is not None:
        out = {"UserName": user.name, **out}
    return out


@operation("iam", "ListVirtualMFADevices")
async def list_virtual_mfa_devices(ctx: CallContext) -> Result:
    status = ctx.params.get("AssignmentStatus", "Any")
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListVirtualMFADevices", f"arn:aws:iam::{ctx.caller.account_id}:mfa/*")
        devices = await uow.virtual_mfa.in_account(ctx.caller.account_id)
        members = []
        for d in devices:
            assigned = d.principal_key is not None
            if (status == "Assigned" and not assigned) or (status == "Unassigned" and assigned):
                continue
            item: dict[str, Any] = {"SerialNumber": d.serial}
            if assigned and d.principal_key and d.principal_key.startswith("user:"):
                owner = await uow.users.get(d.principal_key.split(":", 1)[1])
                if owner is not None:
                    item["User"] = user_shape(owner)
            elif assigned:
                account = await account_of(ctx, uow)
                item["User"] = {"Path": "/", "UserName": account.id, "UserId": account.id,
                                "Arn": ids.root_arn(account.id), "CreateDate": Timestamp(account.created_at)}
            if d.enabled_at:
                item["EnableDate"] = Timestamp(d.enabled_at)
            members.append(item)
    return {"VirtualMFADevices": members, "IsTruncated": False}
