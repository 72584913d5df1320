"""Virtual MFA devices through the IAM API: the same table and the same TOTP path (`services.mfa`) as the
console's Security credentials page."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import qrcode

from ...core import arns, totp
from ...core.pagination import Page, PageRequest
from ...core.webauthn import is_u2f_serial
from ...errors import AlreadyExists, InUse, InvalidInput, InvalidMfaCode, NotFound
from ...store.models import Account, IamUser, MfaDevice, WebAuthnCredential
from ...store.repositories import Conflict, UnitOfWork
from .. import cli_login, mfa, recovery_codes
from ..api_call import ApiCall
from .common import TagPairs, account_of, markers, put_tags, tag_key, tags_of, target_user

TAG_KIND = "mfa"
MAX_NAME = 128  # the model sets no maximum; the stored name is at most this
MAX_SERIAL = 256  # serialNumberType: every other MFA operation names the device by a serial of at most this


def _tag_target(device: MfaDevice) -> str:
    """The tags' key for a device: its serial and creation time, hashed to the tag table's 40 characters, so a
    device created again under the same serial (or a reused SQLite row ID) never finds an earlier one's tags."""
    return hashlib.sha256(f"{device.serial} {device.created_at!r}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class NewDevice:
    serial: str
    seed: str
    qr_png: bytes


@dataclass(frozen=True)
class AssignedDevice:
    user_name: str | None  # None: the root user's
    serial: str
    enabled_at: float


@dataclass(frozen=True)
class VirtualDevice:
    serial: str
    enabled_at: float | None
    user: IamUser | None
    root_account: Account | None  # set when assigned to the root user


async def _device(call: ApiCall, uow: UnitOfWork, serial: str) -> MfaDevice:
    device = await uow.mfa.by_serial(serial)
    if device is None or device.account_id != call.account_id:
        raise NotFound(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    return device


def _owner_key(call: ApiCall, user: IamUser | None) -> str:
    return f"root:{call.account_id}" if user is None else f"user:{user.id}"


async def _enrolment_step(call: ApiCall, device: MfaDevice, owner: str, code1: str, code2: str) -> int:
    """Two consecutive codes, through the one TOTP check (counted per device and owner, audited); outside the
    call's units, which are closed around it."""
    attempt = mfa.CodeAttempt(owner, call.client, call.account_id, call.caller.arn, call.event or "", "api")
    step = await mfa.checked_enrolment_step(call.deps, attempt, device, mfa.device_secret(call.deps, device),
                                            code1, code2)
    if step is None:
        raise InvalidMfaCode("Authentication code for device is not valid.")
    return step


async def create_virtual_device(call: ApiCall, name: str, path: str) -> NewDevice:
    serial = arns.mfa_arn(call.account_id, name, path)
    if len(name) > MAX_NAME or len(serial) > MAX_SERIAL:
        raise InvalidInput("virtualMFADeviceName", f"The device name must be at most {MAX_NAME} characters and "
                           f"its serial number (the ARN of path and name) at most {MAX_SERIAL}.")
    secret = totp.new_secret()
    async with call.unit() as uow:
        await call.authorize(uow, serial)
        account = await account_of(call, uow)
        try:
            await uow.mfa.add(MfaDevice(account_id=account.id, principal_key=None, name=name, serial=serial,
                                        secret_sealed=mfa.seal_secret(call.deps, serial, secret), enabled_at=None,
                                        last_used_step=None, created_at=call.now()))
        except Conflict:
            raise AlreadyExists("serial", "MFADevice entity at the same path and name already exists.") from None
        await call.record(uow, serial=serial)
    uri = totp.provisioning_uri(secret, f"{name}@{account.alias or account.id}", "Vestibule")
    buf = io.BytesIO()
    qrcode.make(uri).save(buf, format="PNG")
    return NewDevice(serial, secret, buf.getvalue())


async def enable_device(call: ApiCall, user_name: str | None, serial: str, code1: str, code2: str) -> None:
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        owner = _owner_key(call, user)
        device = await _device(call, uow, serial)
        if device.principal_key is not None:
            raise AlreadyExists("serial", "MFA Device is already in use.")
        await mfa.ensure_room_for_device(uow, owner)
    step = await _enrolment_step(call, device, owner, code1, code2)
    async with call.unit() as uow:
        device = await _device(call, uow, serial)
        if device.principal_key is not None:
            raise AlreadyExists("serial", "MFA Device is already in use.")
        await mfa.ensure_room_for_device(uow, owner)
        device.principal_key, device.enabled_at, device.last_used_step = owner, call.now(), step
        device.drift_steps = None  # a resync measures it again
        await call.record(uow, serial=serial, owner=owner)


async def resync_device(call: ApiCall, user_name: str | None, serial: str, code1: str, code2: str) -> None:
    """The caller is authorized here; the resync itself is `mfa.resync`, which the console's page calls too."""
    async with call.unit() as uow:
        owner = _owner_key(call, await target_user(call, uow, user_name))
    attempt = mfa.CodeAttempt(owner, call.client, call.account_id, call.caller.arn, call.event or "", "api")

    async def record(uow: UnitOfWork) -> None:
        await call.record(uow, serial=serial)

    await mfa.resync(call.deps, attempt, call.account_id, serial, code1, code2, record)


async def deactivate_device(call: ApiCall, user_name: str | None, serial: str) -> None:
    if is_u2f_serial(serial):
        await _deactivate_security_key(call, user_name, serial)
        return
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        device = await _device(call, uow, serial)
        if device.principal_key != _owner_key(call, user):
            raise NotFound(f"MFA Device with serial number {serial} is not assigned to that user.")
        device.principal_key, device.enabled_at = None, None
        owner_arn = arns.root_arn(call.account_id) if user is None else arns.user_arn(call.account_id, user.name,
                                                                                        user.path)
        await recovery_codes.forget_without_device(call.deps, uow, call.client, call.account_id,
                                                   _owner_key(call, user), owner_arn, "api")
        ended = await cli_login.end_logins(call.deps, uow, _owner_key(call, user), call.account_id, owner_arn,
                                           "MFA device deactivated")
        await call.record(uow, serial=serial, login_sessions_ended=ended)


async def _security_key(call: ApiCall, uow: UnitOfWork, user: IamUser | None, serial: str) -> WebAuthnCredential:
    """A passkey or security key (a `u2f` serial) of this user (None: the root user) in the caller's account."""
    found = await uow.webauthn.by_serial(serial)
    if found is None or found.account_id != call.account_id or found.principal_key != _owner_key(call, user):
        raise NotFound(f"MFA Device with serial number {serial} is not assigned to that user.")
    return found


async def _deactivate_security_key(call: ApiCall, user_name: str | None, serial: str) -> None:
    """DeactivateMFADevice of a FIDO security key: the credential is removed (it cannot be assigned again), as a
    TOTP device's removal does: CLI logins end, recovery codes go when no MFA is left."""
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        key = await _security_key(call, uow, user, serial)
        owner_key = _owner_key(call, user)
        owner_arn = arns.root_arn(call.account_id) if user is None else arns.user_arn(call.account_id, user.name,
                                                                                        user.path)
        name = key.name
        await uow.webauthn.delete(key)
        await recovery_codes.forget_without_device(call.deps, uow, call.client, call.account_id, owner_key,
                                                   owner_arn, "api")
        ended = await cli_login.end_logins(call.deps, uow, owner_key, call.account_id, owner_arn,
                                           "MFA device deactivated")
        await call.record(uow, serial=serial, name=name, login_sessions_ended=ended)


async def delete_virtual_device(call: ApiCall, serial: str) -> None:
    async with call.unit() as uow:
        await call.authorize(uow, serial)
        device = await _device(call, uow, serial)
        if device.principal_key is not None:
            raise InUse("MFA VirtualDevice in use. Must deactivate first.")
        await uow.tags.remove_all(TAG_KIND, _tag_target(device))
        await uow.mfa.delete(device)
        await call.record(uow, serial=serial)


async def list_devices(call: ApiCall, user_name: str | None, request: PageRequest) -> Page[AssignedDevice]:
    """The user's enabled TOTP devices and security keys (at most 8: a page cut in memory), by serial (TOTP
    serials `...:mfa/...` before the security keys' `...:u2f/...`)."""
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        owner = _owner_key(call, user)
        devices = await uow.mfa.enabled_for(owner)
        keys = await uow.webauthn.for_principal(owner)
    name = user.name if user is not None else None
    listed = [*(AssignedDevice(name, d.serial, d.enabled_at or 0) for d in devices),
              *(AssignedDevice(name, k.serial, k.created_at) for k in keys if k.serial)]  # FIDO: `u2f/` serials
    return markers(call, "ListMFADevices", owner).page_in_memory(listed, request, _serial_key)


def _serial_key(device: AssignedDevice | VirtualDevice) -> tuple[str]:
    return (device.serial,)


async def get_device(call: ApiCall, user_name: str | None, serial: str) -> AssignedDevice:
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        if is_u2f_serial(serial):
            key = await _security_key(call, uow, user, serial)
            return AssignedDevice(user.name if user else None, serial, key.created_at)
        device = await _device(call, uow, serial)
        if device.principal_key != _owner_key(call, user):
            raise NotFound(f"MFA device {serial} is not assigned to that user.")
    return AssignedDevice(user.name if user else None, serial, device.enabled_at or 0)


async def list_virtual_devices(call: ApiCall, assignment: str, request: PageRequest) -> Page[VirtualDevice]:
    """One page of the account's virtual devices by serial, read from the store (`assignment`: Assigned,
    Unassigned or Any, in SQL)."""
    codec = markers(call, "ListVirtualMFADevices", assignment)
    after = codec.after(request)
    async with call.unit() as uow:
        await call.authorize(uow, arns.all_of_kind(call.account_id, "mfa"))
        rows = await uow.virtual_mfa.page(call.account_id, assignment, after, request.limit)
        account: Account | None = None
        out = []
        for d in rows:
            user, root = None, None
            if d.principal_key and d.principal_key.startswith("user:"):
                user = await uow.users.get(d.principal_key.split(":", 1)[1])
            elif d.principal_key is not None:
                root = account = account or await account_of(call, uow)
            out.append(VirtualDevice(d.serial, d.enabled_at, user, root))
    return codec.page(out, request, _serial_key)


async def _tagged_device(call: ApiCall, uow: UnitOfWork, serial: str) -> MfaDevice:
    await call.authorize(uow, serial)
    return await _device(call, uow, serial)


async def tag_device(call: ApiCall, serial: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        device = await _tagged_device(call, uow, serial)
        await put_tags(uow, call.account_id, TAG_KIND, _tag_target(device), tags)
        await call.record(uow, serial=serial, keys=",".join(k for k, _ in tags))


async def untag_device(call: ApiCall, serial: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        device = await _tagged_device(call, uow, serial)
        await uow.tags.remove(TAG_KIND, _tag_target(device), keys)
        await call.record(uow, serial=serial, keys=",".join(keys))


async def list_device_tags(call: ApiCall, serial: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        device = await _tagged_device(call, uow, serial)
        tags = await tags_of(uow, TAG_KIND, _tag_target(device))
    return markers(call, "ListMFADeviceTags", _tag_target(device)).page_in_memory(tags, request, tag_key)
