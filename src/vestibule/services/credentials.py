"""Security credentials of the signed-in principal: password change, virtual MFA devices, access keys.

Each change needs the password again: the current one for a password change, a `Reauthenticated` proof (a
password confirmed in this session in the last minutes, `reauthentication.py`) for the rest."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import identifiers as ids
from ..core import passwords as rules
from ..core import totp
from ..core.flows.mfa_enrolment import SPEC, MfaEnrolment, MfaEnrolmentFlow, MfaEnrolmentState
from ..errors import (
    AlreadyExists,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    PasswordChangeNotAllowed,
)
from ..store.models import MfaDevice
from ..store.repositories import Conflict
from . import access_keys, audit, cli_login, console_mfa, flows, mfa, reauthentication, recovery_codes, sessions
from .access_keys import NewKey
from .captcha import CaptchaService
from .context import Client, Deps
from .passwords import (
    check_new_password,
    policy_of,
    store_root_password,
    store_user_password,
)
from .principals import Principal
from .principals import load as load_principal
from .reauthentication import Reauthenticated

_DEVICE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")


@dataclass(frozen=True)
class DeviceView:
    serial: str
    name: str
    enabled_at: float
    last_used_at: float | None = None


@dataclass(frozen=True)
class AccessKeyView:
    id: str
    status: str
    created_at: float
    last_used_at: float | None
    last_used_service: str | None


def _enrol_context(principal: Principal) -> str:
    return f"enrol:{principal.key}"


async def list_devices(deps: Deps, principal: Principal) -> list[DeviceView]:
    async with deps.store.unit() as uow:
        rows = await uow.mfa.enabled_for(principal.key)
    return [DeviceView(d.serial, d.name, d.enabled_at or 0.0, d.last_used_at) for d in rows]


async def change_password(deps: Deps, client: Client, principal: Principal, session_hash: str, current: str,
                          new_password: str, confirm: str, captcha: CaptchaService, captcha_answer: str) -> None:
    """The current password is checked as a re-authentication (the sign-in throttle, the CAPTCHA it asks for)."""
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, principal.key)
        if loaded is None:
            raise InvalidCredentials()
        if loaded.user is not None and not policy_of(loaded.account).allow_users_to_change:
            raise PasswordChangeNotAllowed()
        stored = loaded.password_hash
    await reauthentication.confirm_password(deps, client, principal, session_hash, current, captcha, captcha_answer,
                                            action="PasswordChanged")
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, principal.key)
        if loaded is None:
            raise InvalidCredentials()
        account, user = loaded.account, loaded.user
        policy = policy_of(account) if user is not None else rules.ROOT_POLICY
        new_hash = await check_new_password(deps, uow, policy, principal.key, new_password, confirm, stored)
        if user is None:
            await store_root_password(deps, uow, account, new_hash)
        else:
            await store_user_password(deps, uow, user, new_hash)
        ended = await sessions.end_all(uow, deps.session_ports, principal.key, deps.clock(), keep=session_hash)
        await audit.record(uow, at=deps.clock(), event="PasswordChanged", result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console",
                           other_sessions_ended=ended)


async def begin_enrolment(deps: Deps, client: Client, principal: Principal,
                          proof: Reauthenticated) -> MfaEnrolmentFlow:
    """The flow the device is enrolled in (bound to this browser): it carries the re-authentication to the end."""
    async with deps.store.unit() as uow:
        await mfa.ensure_room_for_device(uow, principal.key)
        secret = totp.new_secret()
        sealed = deps.box.seal(secret.encode(), _enrol_context(principal))
        return await flows.create(uow, SPEC, client.browser_hash, deps.clock(), MfaEnrolment(principal.ref, sealed))


async def enrolment_secret(deps: Deps, client: Client, principal: Principal,
                           flow_id: str) -> tuple[MfaEnrolmentFlow, str]:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), MfaEnrolmentState.ENROL)
    if flow.payload.principal != principal.ref:
        raise InvalidCredentials()
    return flow, deps.box.open(flow.payload.secret_sealed, _enrol_context(principal)).decode()


def _checked_device_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 64 or not set(name) <= _DEVICE_NAME_CHARS:
        raise InvalidInput("device_name", "A device name is 1 to 64 letters, digits and + = , . @ _ -")
    return name


async def complete_enrolment(deps: Deps, client: Client, principal: Principal, flow_id: str,
                             device_name: str, code1: str, code2: str) -> DeviceView:
    flow, secret = await enrolment_secret(deps, client, principal, flow_id)
    name = _checked_device_name(device_name)
    attempt = mfa.CodeAttempt(principal.key, client, principal.account_id, principal.arn, "EnableMFADevice",
                              "console")
    step = await mfa.checked_enrolment_step(deps, attempt, None, secret, code1, code2)
    now = deps.clock()
    if step is None:
        raise InvalidCode()
    serial = ids.mfa_arn(principal.account_id, name)
    taken = AlreadyExists("device_name", "An MFA device with that name already exists in this account.")
    async with deps.store.unit() as uow:
        await mfa.ensure_room_for_device(uow, principal.key)
        if await uow.mfa.by_serial(serial) is not None:
            raise taken
        device = MfaDevice(account_id=principal.account_id, principal_key=principal.key, name=name, serial=serial,
                           secret_sealed=mfa.seal_secret(deps, serial, secret), enabled_at=now,
                           last_used_step=step, created_at=now)
        try:
            await uow.mfa.add(device)
        except Conflict:
            raise taken from None
        flow.complete()
        await flows.save(uow, flow)
        await audit.record(uow, at=now, event="EnableMFADevice", result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console", serial=serial)
    return DeviceView(serial, name, now)


async def remove_device(deps: Deps, client: Client, principal: Principal, serial: str,
                        proof: Reauthenticated, *, last_confirmed: bool = True) -> None:
    """`last_confirmed=False`: console_mfa.LastMfaDevice instead when it is the principal's last device."""
    async with deps.store.unit() as uow:
        device = await uow.mfa.by_serial(serial)
        if device is None or device.principal_key != principal.key:
            raise NotFound("No such MFA device.")
        if not last_confirmed:
            await console_mfa.check_not_last(uow, principal.key, serial)
        await uow.mfa.delete(device)
        await recovery_codes.forget_without_device(deps, uow, client, principal.account_id, principal.key,
                                                   principal.arn, "console")
        ended = await cli_login.end_logins(deps, uow, principal.key, principal.account_id, principal.arn,
                                           "MFA device removed")
        await audit.record(uow, at=deps.clock(), event="DeactivateMFADevice", result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console", serial=serial,
                           reauthenticated_at=proof.at, login_sessions_ended=ended)


# ---- access keys of the signed-in principal (console) -------------------------------------------

async def list_access_keys(deps: Deps, principal: Principal) -> list[AccessKeyView]:
    rows = await access_keys.list_for(deps, principal.key)
    return [AccessKeyView(k.id, k.status, k.created_at, k.last_used_at, k.last_used_service) for k in rows]


async def create_access_key(deps: Deps, client: Client, principal: Principal, proof: Reauthenticated) -> NewKey:
    async with deps.store.unit() as uow:
        return await access_keys.create(deps, uow, principal.account_id, principal.key, client=client,
                                        actor=principal.arn, via="console")


async def update_access_key(deps: Deps, client: Client, principal: Principal, key_id: str, action: str,
                            proof: Reauthenticated) -> None:
    """`action`: activate, deactivate or delete."""
    async with deps.store.unit() as uow:
        if action == "delete":
            await access_keys.delete(deps, uow, key_id, principal.key, client=client, actor=principal.arn)
        else:
            await access_keys.set_status(deps, uow, key_id, principal.key,
                                         "Active" if action == "activate" else "Inactive",
                                         client=client, actor=principal.arn)
