"""The signed-in principal's own MFA devices on the console's Security credentials page: what each shows (name,
added, last used), renaming one, resyncing one (the IAM API's ResyncMFADevice use case, `mfa.resync`), and the
warning before the last one is removed (`LastMfaDevice`, raised by `credentials.remove_device`).

Each change needs a `Reauthenticated` proof, as every other credential change of the page does."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidInput, NotFound, VestibuleError
from ..store.models import MfaDevice
from ..store.repositories import UnitOfWork
from . import audit, mfa
from .context import Client, Deps
from .principals import Principal
from .reauthentication import Reauthenticated

MAX_LABEL = 64
RENAME_EVENT = "RenameMFADevice"
RESYNC_EVENT = "ResyncMFADevice"


class LastMfaDevice(VestibuleError):
    """Removing this device leaves the principal without MFA: the page asks to confirm first."""

    code = "mfa_devices.last_device"


@dataclass(frozen=True)
class DeviceDetails:
    serial: str
    name: str  # the owner's label, else the name in the serial
    added_at: float
    last_used_at: float | None  # its last accepted code (sign-in, STS, resync); None: never since it was added


def _details(device: MfaDevice) -> DeviceDetails:
    return DeviceDetails(device.serial, device.label or device.name, device.enabled_at or device.created_at,
                         device.last_used_at)


async def devices_of(deps: Deps, principal: Principal) -> list[DeviceDetails]:
    async with deps.store.unit() as uow:
        return [_details(d) for d in await uow.mfa.enabled_for(principal.key)]


async def device_of(deps: Deps, principal: Principal, serial: str) -> DeviceDetails:
    """One of the principal's own enabled devices; NotFound for any other serial (another user's alike)."""
    async with deps.store.unit() as uow:
        return _details(await _own(uow, principal, serial))


async def _own(uow: UnitOfWork, principal: Principal, serial: str) -> MfaDevice:
    device = await uow.mfa.by_serial(serial) if serial else None
    if device is None or device.principal_key != principal.key or device.enabled_at is None:
        raise NotFound("No such MFA device.")
    return device


def checked_label(label: str) -> str:
    """A label is 1 to 64 printable characters (any script; spaces inside, none at either end)."""
    label = label.strip()
    if not 1 <= len(label) <= MAX_LABEL or not label.isprintable():
        raise InvalidInput("device_label", f"A device name is 1 to {MAX_LABEL} printable characters.")
    return label


async def rename(deps: Deps, client: Client, principal: Principal, serial: str, label: str,
                 proof: Reauthenticated) -> DeviceDetails:
    """The label only: the serial (an ARN the API and policies name) stays."""
    label = checked_label(label)
    async with deps.store.unit() as uow:
        device = await _own(uow, principal, serial)
        before = device.label or device.name
        device.label = label
        await audit.record(uow, at=deps.clock(), event=RENAME_EVENT, result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console",
                           serial=serial, previous_name=before, name=label, reauthenticated_at=proof.at)
        return _details(device)


async def resync(deps: Deps, client: Client, principal: Principal, serial: str, code1: str, code2: str,
                 proof: Reauthenticated) -> None:
    """Two consecutive codes of the device, through the API's ResyncMFADevice use case (`mfa.resync`: the same
    counters, the same failure audit). NotFound, InvalidMfaCode, TooManyAttempts."""
    attempt = mfa.CodeAttempt(principal.key, client, principal.account_id, principal.arn, RESYNC_EVENT, "console")

    async def record(uow: UnitOfWork) -> None:
        await audit.record(uow, at=deps.clock(), event=RESYNC_EVENT, result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console",
                           mfa_used=True, serial=serial, reauthenticated_at=proof.at)

    await mfa.resync(deps, attempt, principal.account_id, serial, code1, code2, record)


async def check_not_last(uow: UnitOfWork, principal_key: str, serial: str) -> None:
    """LastMfaDevice when `serial` is the principal's only enabled device (in the removal's own unit)."""
    enabled = await uow.mfa.enabled_for(principal_key)
    if [d.serial for d in enabled] == [serial] and not await uow.webauthn.for_principal(principal_key):
        raise LastMfaDevice()  # (a passkey or security key left is MFA still)
