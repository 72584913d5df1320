"""The one TOTP path: every MFA code (console sign-in, STS, IAM enrolment, console enrolment) is checked here,
and the one device limit is enforced here."""

from __future__ import annotations

from ..core import totp
from ..errors import LimitExceeded
from ..store.models import MfaDevice
from ..store.repositories import UnitOfWork
from .context import Deps

MAX_DEVICES_PER_PRINCIPAL = 8  # AWS: MFADevicesPerUser


def sealing_context(serial: str) -> str:
    return f"mfa:{serial}"


def device_secret(deps: Deps, device: MfaDevice) -> str:
    return deps.box.open(device.secret_sealed, sealing_context(device.serial)).decode()


def seal_secret(deps: Deps, serial: str, secret: str) -> str:
    return deps.box.seal(secret.encode(), sealing_context(serial))


async def verify_device_code(deps: Deps, uow: UnitOfWork, device: MfaDevice, code: str) -> bool:
    """True when `code` is valid for this enabled device and its time step was not used before.
    The step is recorded atomically, so two requests racing with one code cannot both pass."""
    if device.enabled_at is None:
        return False
    check = totp.verify(device_secret(deps, device), code, deps.clock(), device.last_used_step)
    return check.accepted and check.step is not None and await uow.mfa.mark_used(device.id, check.step)


async def verify_principal_code(deps: Deps, uow: UnitOfWork, principal_key: str, code: str) -> MfaDevice | None:
    """The enabled device of `principal_key` that accepts `code`, or None."""
    for device in await uow.mfa.enabled_for(principal_key):
        if await verify_device_code(deps, uow, device, code):
            return device
    return None


def enrolment_step(secret: str, code1: str, code2: str, now: float) -> int | None:
    """Two consecutive codes prove the device holds the secret; the step of the second, or None."""
    return totp.verify_consecutive(secret, code1, code2, now)


async def ensure_room_for_device(uow: UnitOfWork, principal_key: str) -> None:
    if len(await uow.mfa.enabled_for(principal_key)) >= MAX_DEVICES_PER_PRINCIPAL:
        raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_PRINCIPAL}")
