"""The one TOTP path: every MFA code (console sign-in, STS, IAM enrolment, console enrolment) is checked here,
and the one device limit is enforced here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..core import totp
from ..core.throttle import Scope, ThrottleKey
from ..errors import InvalidMfaCode, LimitExceeded, NotFound
from ..store.models import MfaDevice
from ..store.repositories import UnitOfWork
from . import audit, metrics
from .context import Client, Deps
from .throttling import guess

MAX_DEVICES_PER_PRINCIPAL = 8  # AWS: MFADevicesPerUser


def sealing_context(serial: str) -> str:
    return f"mfa:{serial}"


def device_secret(deps: Deps, device: MfaDevice) -> str:
    return deps.box.open(device.secret_sealed, sealing_context(device.serial)).decode()


def seal_secret(deps: Deps, serial: str, secret: str) -> str:
    return deps.box.seal(secret.encode(), sealing_context(serial))


@dataclass(frozen=True)
class CodeAttempt:
    """Whose TOTP code is checked (the device owner, or the principal enrolling one), from where, and the
    audit event a failure records."""

    principal_key: str
    client: Client
    account_id: str | None
    principal_arn: str
    event: str  # ConsoleLogin, GetSessionToken, AssumeRole, EnableMFADevice, ResyncMFADevice
    method: str  # mfa (console sign-in), api, console


def code_keys(principal_key: str, devices: Sequence[MfaDevice] = ()) -> list[ThrottleKey]:
    """The counters of one guess: the principal's one-time codes, and every device the code is tried on (by its
    serial, an ARN naming the account: row IDs are reused by SQLite and restart when a database is rebuilt, while
    Redis keeps the counters)."""
    return [ThrottleKey(Scope.CODES, principal_key), *(ThrottleKey(Scope.DEVICE, d.serial) for d in devices)]


async def verify_device_code(deps: Deps, device: MfaDevice, code: str, attempt: CodeAttempt) -> bool:
    """True when `code` is valid for this enabled device and its time step was not used before (STS:
    SerialNumber + TokenCode). Counted per device and per principal before it is checked; TooManyAttempts
    while those counters refuse a guess. Opens its own units: call it outside a writing transaction."""
    return await _checked(deps, attempt, [device], code) is not None


async def verify_principal_code(deps: Deps, attempt: CodeAttempt, code: str) -> MfaDevice | None:
    """The enabled device of `attempt.principal_key` that accepts `code`, or None (console sign-in)."""
    async with deps.store.unit() as uow:
        devices = list(await uow.mfa.enabled_for(attempt.principal_key))
    return await _checked(deps, attempt, devices, code)


async def _checked(deps: Deps, attempt: CodeAttempt, devices: Sequence[MfaDevice], code: str) -> MfaDevice | None:
    async def check() -> MfaDevice | None:
        for device in devices:
            if await _accepts(deps, device, code):
                return device
        return None

    found = await guess(deps.throttle, deps.clock, code_keys(attempt.principal_key, devices), check)
    if found is None:
        await _record_failure(deps, attempt, "wrong or reused MFA code", devices)
    return found


async def _accepts(deps: Deps, device: MfaDevice, code: str) -> bool:
    """The step is recorded atomically, so two requests racing with one code cannot both pass."""
    if device.enabled_at is None:
        return False
    now = deps.clock()
    check = totp.verify(device_secret(deps, device), code, now, device.last_used_step, device.drift_steps or 0)
    if not check.accepted or check.step is None:
        return False
    async with deps.store.unit() as uow:
        return await uow.mfa.mark_used(device.id, check.step, now)


async def checked_enrolment_step(deps: Deps, attempt: CodeAttempt, device: MfaDevice | None, secret: str,
                                 code1: str, code2: str, window: int = totp.WINDOW) -> int | None:
    """Enrolment and resync: `enrolment_step` through the same counters (the device's, when it exists, and
    the principal's), a failure audited; TooManyAttempts while they refuse a guess."""
    devices = [device] if device is not None else []

    async def check() -> int | None:
        return enrolment_step(secret, code1, code2, deps.clock(), window)

    step = await guess(deps.throttle, deps.clock, code_keys(attempt.principal_key, devices), check)
    if step is None:
        await _record_failure(deps, attempt, "wrong MFA codes", devices)
    return step


async def _owned_device(uow: UnitOfWork, account_id: str, owner: str, serial: str) -> MfaDevice:
    device = await uow.mfa.by_serial(serial)
    if device is None or device.account_id != account_id:
        raise NotFound(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    if device.principal_key != owner or device.enabled_at is None:
        raise NotFound(f"MFA device {serial} is not assigned to that user.")
    return device


async def resync(deps: Deps, attempt: CodeAttempt, account_id: str, serial: str, code1: str, code2: str,
                 record: Callable[[UnitOfWork], Awaitable[None]]) -> None:
    """ResyncMFADevice, for the IAM API and the console's Security credentials page alike (each authorizes the
    caller first): two consecutive codes of `attempt.principal_key`'s own device, through the one TOTP check's
    counters, found up to `totp.RESYNC_WINDOW` steps from now; the device's clock drift (the step found minus
    now's), step and last use are saved with the caller's audit event (`record`) in one unit. The step never
    moves back, so a code once accepted stays refused. NotFound for a device not the owner's, InvalidMfaCode for
    wrong codes (audited), TooManyAttempts."""
    async with deps.store.unit() as uow:
        device = await _owned_device(uow, account_id, attempt.principal_key, serial)
    step = await checked_enrolment_step(deps, attempt, device, device_secret(deps, device), code1, code2,
                                        totp.RESYNC_WINDOW)
    if step is None:
        raise InvalidMfaCode("Authentication code for device is not valid.")
    now = deps.clock()
    async with deps.store.unit() as uow:
        device = await _owned_device(uow, account_id, attempt.principal_key, serial)
        device.drift_steps = step - totp.step_of(now)
        device.last_used_step, device.last_used_at = max(step, device.last_used_step or step), now
        await record(uow)


async def _record_failure(deps: Deps, attempt: CodeAttempt, reason: str, devices: Sequence[MfaDevice]) -> None:
    metrics.record_mfa_failure(attempt.event)
    if attempt.event == "ConsoleLogin":  # a sign-in's MFA step (console or access portal)
        metrics.record_sign_in(attempt.principal_key.partition(":")[0], attempt.method, success=False)
    async with deps.store.unit() as uow:
        await audit.record(uow, at=deps.clock(), event=attempt.event, result="Failure", client=attempt.client,
                           account_id=attempt.account_id, principal=attempt.principal_arn, method=attempt.method,
                           mfa_used=True, reason=reason, serial=",".join(d.serial for d in devices))


def enrolment_step(secret: str, code1: str, code2: str, now: float, window: int = totp.WINDOW) -> int | None:
    """Two consecutive codes prove the device holds the secret; the step of the second, or None."""
    return totp.verify_consecutive(secret, code1, code2, now, window)


async def ensure_room_for_device(uow: UnitOfWork, principal_key: str) -> None:
    """Room for one more TOTP device: the limit counts every factor, security keys and passkeys too."""
    factors = len(await uow.mfa.enabled_for(principal_key)) + len(await uow.webauthn.for_principal(principal_key))
    if factors >= MAX_DEVICES_PER_PRINCIPAL:
        raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_PRINCIPAL}")
