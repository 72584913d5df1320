"""Access portal sign-in of an Identity Center directory user (flow `core/flows/portal_signin`).

The same methods (password, mailed code, TOTP), throttling, one-time-code budget and completion as the
console. Every user name goes through the same steps: an unknown one fails at the password like a wrong
password (the dummy hash is checked, the same counters count it, the same message is shown)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...core.attempt_origin import describe as describe_origin
from ...core.flows.base import FlowError
from ...core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, EmailCode
from ...core.flows.portal_signin import (
    SPEC,
    PortalSignIn,
    PortalSignInFlow,
    PortalSignInState,
    directory_user_ref,
    user_id_of,
)
from ...core.outbox import MailKind
from ...core.principals import InvalidPrincipalKey, PrincipalKind, PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...core.tokens import hash_token, new_numeric_code
from ...errors import CodeExpired, InvalidCode, InvalidCredentials, TooManyAttempts, VestibuleError
from ...store.repositories import UnitOfWork
from .. import account_lifecycle, flows, mail_templates, metrics, mfa, outbox, sessions, webauthn
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..identity_center import directory, instances
from ..identity_center.directory import DirectoryUser
from ..identity_center.instances import Instance
from ..identity_center.ldap_directory import matching_name
from ..identity_center.portal_users import portal_policy, portal_url
from ..passwords import check_new_password
from ..principals import Principal
from ..throttling import guess
from . import portal_ldap
from .completion import SignedIn, complete_sign_in
from .gate import admit, record_failure, succeeded
from .methods import Attempt, Credential, Verified, WebAuthnAttempt, ask_in_turn
from .steps import console_methods, failure_reason

State = PortalSignInState


class PortalNotFound(VestibuleError):
    """No portal by that name (the same for every name that is not one)."""

    code = "portal.not_found"


class MfaDeviceRequired(VestibuleError):
    """The instance blocks users without an MFA device."""

    code = "portal.mfa_blocked"


@dataclass(frozen=True)
class Continue:
    flow: PortalSignInFlow


Outcome = Continue | SignedIn


def portal_keys(identity_store_id: str, user_name: str, client: Client) -> list[ThrottleKey]:
    return [ThrottleKey(Scope.PRINCIPAL, f"directory-user:{identity_store_id}:{user_name.lower()}"),
            ThrottleKey(Scope.ACCOUNT, identity_store_id), ThrottleKey(Scope.CLIENT, client.ip)]


def principal_of(user: DirectoryUser, instance: Instance) -> Principal:
    return Principal(directory_user_ref(user.id), instance.owner_account_id, "", None,
                     user.user_name, user.arn)


async def portal(deps: Deps, name: str) -> Instance:
    """The instance whose portal is `/portal/<name>/start`; PortalNotFound otherwise."""
    if not name or len(name) > 63:
        raise PortalNotFound()
    async with deps.store.unit() as uow:
        instance = await instances.by_portal_name(uow, name)
        usable = instance is not None and await account_lifecycle.is_usable(uow, instance.owner_account_id)
    if instance is None or instance.status != "ACTIVE" or not usable:  # a closed or suspended owner: no portal
        raise PortalNotFound()
    return instance


async def start(deps: Deps, client: Client, instance: Instance, user_name: str) -> PortalSignInFlow:
    """A flow for whatever name was typed (no lookup here: the next page is the same for everybody)."""
    async with deps.store.unit() as uow:
        return await flows.create(uow, SPEC, client.browser_hash, deps.clock(),
                                  PortalSignIn(instance.identity_store_id, user_name.strip()[:128]))


async def load_flow(deps: Deps, client: Client, flow_id: str, expected: State | set[State]) -> PortalSignInFlow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), expected)
    return flow


async def _user_and_instance(uow: UnitOfWork, ref: PrincipalRef, store: str) -> tuple[DirectoryUser, Instance]:
    user = await directory.get_user(uow, store, user_id_of(ref, store))
    instance = await instances.by_identity_store_id(uow, store)
    if (user is None or not user.enabled or instance is None
            or not await account_lifecycle.is_usable(uow, instance.owner_account_id)):
        raise InvalidCredentials()
    return user, instance


async def submit_password(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str, password: str,
                          captcha_answer: str = "", previous_session: str = "") -> Outcome:
    flow = await load_flow(deps, client, flow_id, State.PASSWORD)
    store, name = flow.payload.identity_store_id, flow.payload.user_name
    async with deps.store.unit() as uow:
        instance = await instances.by_identity_store_id(uow, store)
        found = await directory.user_by_name(uow, store, name) if name else None
    if instance is not None and (ldap := await portal_ldap.source_of(deps, instance)) is not None:
        keys = portal_keys(store, matching_name(name), client)  # one bucket per directory entry
        bound = await portal_ldap.verify_password(deps, client, captcha, instance, ldap, keys, name, password,
                                                  captcha_answer)
        flow.payload = replace(flow.payload, principal=directory_user_ref(bound.id), must_change_password=False)
        async with deps.store.unit() as uow:
            return await _second_factor(deps, uow, client, flow, bound, instance, previous_session)
    user = found if found is not None and found.enabled and instance is not None else None
    admission = await admit(deps, client, portal_keys(store, name, client), captcha, captcha_answer)
    ref = directory_user_ref(user.id) if user is not None else None
    attempt = Attempt(Credential.PASSWORD, password, ref, deps.clock(),
                      password_hash=user.password_hash if user else None)
    result = await ask_in_turn(console_methods(deps), attempt, None)
    if not isinstance(result, Verified) or user is None or instance is None or not user.password_hash:
        await record_failure(deps, client, kind=PrincipalKind.DIRECTORY_USER,
                             account_id=instance.owner_account_id if instance else None,
                             principal=user.arn if user else "", method="portal_password",
                             reason=failure_reason(result, "no password set") if user else "unknown user")
        raise InvalidCredentials()
    await succeeded(deps, admission)
    flow.payload = replace(flow.payload, principal=directory_user_ref(user.id),
                           must_change_password=user.password_must_change)
    async with deps.store.unit() as uow:
        if user.password_must_change:
            flow.advance(State.NEW_PASSWORD)
            await flows.save(uow, flow)
            return Continue(flow)
        return await _second_factor(deps, uow, client, flow, user, instance, previous_session)


async def _second_factor(deps: Deps, uow: UnitOfWork, client: Client, flow: PortalSignInFlow,
                         user: DirectoryUser, instance: Instance, previous_session: str) -> Outcome:
    """After the password (and a new password): the MFA code, a mailed code, or done, as the instance says."""
    principal = principal_of(user, instance)
    settings = instance.settings
    if settings.mfa_prompt == "NEVER":
        return await _complete(deps, client, principal, instance, "password", False, flow, previous_session, uow)
    if settings.mfa_prompt == "CONTEXT_CHANGE" and await uow.browsers.known(principal.key, client.browser_hash):
        # Context-aware: this browser already completed a sign-in of this user (with its second factor), so the
        # context is unchanged; a new browser, or one whose cookie was cleared, is asked again.
        return await _complete(deps, client, principal, instance, "password", False, flow, previous_session, uow)
    if await uow.mfa.enabled_for(principal.key) or await webauthn.has_credentials(uow, principal.key):
        flow.advance(State.MFA)
    elif settings.no_mfa_device == "BLOCK":
        await record_failure(deps, client, kind=PrincipalKind.DIRECTORY_USER,
                             account_id=principal.account_id, principal=principal.arn,
                             method="portal_password", reason="no MFA device (blocked by the instance)")
        raise MfaDeviceRequired()
    else:
        if not user.email:
            raise InvalidCredentials()
        code = new_numeric_code()
        flow.payload = replace(flow.payload, email_code=EmailCode(hash_token(code),
                                                                  deps.clock() + EMAIL_CODE_LIFETIME))
        flow.advance(State.EMAIL_CODE)
        await _queue_code(deps, uow, client, user, instance, user.email, code)
    await flows.save(uow, flow)
    return Continue(flow)


async def _complete(deps: Deps, client: Client, principal: Principal, instance: Instance, method: str,
                    mfa_used: bool, flow: PortalSignInFlow, previous_session: str,
                    within: UnitOfWork | None = None) -> SignedIn:
    return await complete_sign_in(deps.session_ports, principal=principal, client=client, method=method,
                                  mfa_used=mfa_used, flow=flow, previous_session=previous_session, within=within,
                                  lifetime=instance.settings.portal_session_seconds)


async def _queue_code(deps: Deps, uow: UnitOfWork, client: Client, user: DirectoryUser, instance: Instance,
                      to: str, code: str) -> None:
    """After the password: this page's language is the user's choice and is remembered. The mail says which
    portal and user, and where the attempt came from."""
    mail = await mail_templates.compose(deps, uow, "portal_code", to=to, language=client.language,
                                        principal=directory_user_ref(user.id).key, remember=True, code=code,
                                        user_name=user.user_name, portal_url=portal_url(deps, instance),
                                        **describe_origin(client.ip, client.user_agent).mail_values(deps.clock()))
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.SIGNIN_CODE, lifetime=EMAIL_CODE_LIFETIME)


async def submit_new_password(deps: Deps, client: Client, flow_id: str, new_password: str, confirm: str,
                              previous_session: str = "") -> Outcome:
    flow = await load_flow(deps, client, flow_id, State.NEW_PASSWORD)
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        user, instance = await _user_and_instance(uow, ref, flow.payload.identity_store_id)
        new_hash = await check_new_password(deps, uow, portal_policy(), ref.key, new_password, confirm,
                                            user.password_hash, must_differ=True)
        user = await directory.set_password(uow, user.identity_store_id, user.id, new_hash, must_change=False,
                                            now=deps.clock())
        await sessions.end_all(uow, deps.session_ports, ref.key, deps.clock())
        flow.payload = replace(flow.payload, must_change_password=False)
        return await _second_factor(deps, uow, client, flow, user, instance, previous_session)


async def submit_mfa(deps: Deps, client: Client, flow_id: str, code: str, previous_session: str = "") -> Outcome:
    flow = await load_flow(deps, client, flow_id, State.MFA)
    flow = await flows.reserve_attempt(deps.store, SPEC, flow,
                                       lambda again: again.check(client.browser_hash, deps.clock(), State.MFA))
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        user, instance = await _user_and_instance(uow, ref, flow.payload.identity_store_id)
    principal = principal_of(user, instance)
    who = mfa.CodeAttempt(principal.key, client, principal.account_id, principal.arn, "ConsoleLogin", "mfa")
    result = await ask_in_turn(console_methods(deps), Attempt(Credential.TOTP, code, ref, deps.clock(),
                                                              code_attempt=who), None)
    if not isinstance(result, Verified):
        await _attempt_failed(deps, flow)
        raise InvalidCode()
    return await _complete(deps, client, principal, instance, "password+mfa", True, flow, previous_session)


@dataclass(frozen=True)
class MfaChoices:
    """What the MFA page offers: the code form when the user has a TOTP device (or nothing else), and the options
    for navigator.credentials.get when it has a passkey or security key."""

    totp: bool
    webauthn_options: str | None


async def mfa_choices(deps: Deps, flow: PortalSignInFlow) -> MfaChoices:
    """With a WebAuthn credential, the flow's pending challenge again (a reload or a second tab keeps the first
    page's), or a new one kept hashed in the flow."""
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        totp = bool(await uow.mfa.enabled_for(ref.key))
        if not await webauthn.has_credentials(uow, ref.key):
            return MfaChoices(True, None)
    if (options := await webauthn.kept_challenge(deps, flow, ref.key)) is None:
        return MfaChoices(True, None)  # another request changed the flow meanwhile
    return MfaChoices(totp, options)


async def submit_webauthn(deps: Deps, client: Client, flow_id: str, response: str,
                          previous_session: str = "") -> Outcome:
    """The MFA step with the user's own passkey or security key: the flow's challenge is spent (cleared, one of
    the flow's attempts counted, in one compare-and-set save) before the answer is checked: one answer per
    challenge. WebAuthnRejected (audited) otherwise."""
    flow = await load_flow(deps, client, flow_id, State.MFA)
    pending = flow.payload.webauthn
    flow.payload = replace(flow.payload, webauthn=None)
    flow.reserve_attempt()
    async with deps.store.unit() as uow:
        await flows.save(uow, flow)  # FlowConflict: another answer raced this one
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        user, instance = await _user_and_instance(uow, ref, flow.payload.identity_store_id)
    principal = principal_of(user, instance)
    context = webauthn.AssertionContext(principal.key, client, "ConsoleLogin", "webauthn", principal.account_id,
                                        principal.arn)
    attempt = Attempt(Credential.WEBAUTHN, response, ref, deps.clock(), webauthn=WebAuthnAttempt(pending, context))
    result = await ask_in_turn(console_methods(deps), attempt, None)
    if not isinstance(result, Verified):
        metrics.record_sign_in(PrincipalKind.DIRECTORY_USER, "webauthn", success=False)
        await _attempt_failed(deps, flow)
        raise webauthn.WebAuthnRejected()
    return await _complete(deps, client, principal, instance, "password+webauthn", True, flow, previous_session)


async def _attempt_failed(deps: Deps, flow: PortalSignInFlow) -> None:
    if not flow.reserved_attempt_failed(deps.clock()):
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)


async def submit_email_code(deps: Deps, client: Client, flow_id: str, code: str,
                            previous_session: str = "") -> Outcome:
    flow = await load_flow(deps, client, flow_id, State.EMAIL_CODE)
    if flow.payload.pending_code().expired(deps.clock()):
        raise CodeExpired()
    flow = await flows.reserve_attempt(deps.store, SPEC, flow,
                                       lambda again: again.check(client.browser_hash, deps.clock(), State.EMAIL_CODE))
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        user, instance = await _user_and_instance(uow, ref, flow.payload.identity_store_id)
    principal = principal_of(user, instance)
    attempt = Attempt(Credential.EMAIL_CODE, code, ref, deps.clock(), email_code=flow.payload.pending_code())

    async def check() -> Verified | None:
        answer = await ask_in_turn(console_methods(deps), attempt, None)
        return answer if isinstance(answer, Verified) else None

    if await guess(deps.throttle, deps.clock, mfa.code_keys(principal.key), check) is not None:
        return await _complete(deps, client, principal, instance, "password+email_code", False, flow,
                               previous_session)
    await _attempt_failed(deps, flow)
    await record_failure(deps, client, kind=PrincipalKind.DIRECTORY_USER,
                         account_id=principal.account_id, principal=principal.arn,
                         method="email_code", reason="wrong verification code")
    raise InvalidCode()


async def resend_email_code(deps: Deps, client: Client, flow_id: str) -> PortalSignInFlow:
    flow = await load_flow(deps, client, flow_id, State.EMAIL_CODE)
    sent = flow.payload.pending_code().resent
    if sent >= MAX_RESENDS:
        raise TooManyAttempts(int(flow.expires_at - deps.clock()))
    async with deps.store.unit() as uow:
        user, instance = await _user_and_instance(uow, flow.payload.verified_principal(),
                                                  flow.payload.identity_store_id)
        code = new_numeric_code()
        flow.payload = replace(flow.payload, email_code=EmailCode(hash_token(code), deps.clock() + EMAIL_CODE_LIFETIME,
                                                                  sent + 1))
        await flows.save(uow, flow)
        if user.email:
            await _queue_code(deps, uow, client, user, instance, user.email, code)
    return flow


@dataclass(frozen=True)
class PortalSession:
    session: sessions.SessionView
    user: DirectoryUser
    instance: Instance
    principal: Principal


async def signed_in(deps: Deps, token: str | None, instance: Instance | None = None) -> PortalSession | None:
    """The live portal session behind `token` (of `instance`'s portal when given), or None."""
    if not token:
        return None
    async with deps.store.unit() as uow:
        view = await sessions.current(uow, deps.session_ports, token)
        if view is None or view.principal.kind != PrincipalKind.DIRECTORY_USER:
            return None
        row = await uow.sessions.get(view.id_hash)
        owned = await instances.of_account(uow, row.account_id) if row is not None else None
        if owned is None:
            return None
        try:
            user, found = await _user_and_instance(uow, view.principal, owned.identity_store_id)
        except (VestibuleError, FlowError, InvalidPrincipalKey):
            return None
    if instance is not None and found.identity_store_id != instance.identity_store_id:
        return None
    return PortalSession(view, user, found, principal_of(user, found))


async def session_by_id(uow: UnitOfWork, id_hash: str, now: float) -> PortalSession | None:
    """The portal session with this ID hash while it is not revoked and not past its absolute expiry, or None
    (for CLI tokens bound to it: no idle limit, no touch)."""
    row = await uow.sessions.get(id_hash)
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    try:
        ref = PrincipalRef.parse(row.principal_key)
        owned = await instances.of_account(uow, row.account_id) if ref.kind == PrincipalKind.DIRECTORY_USER else None
        if owned is None:
            return None
        user, found = await _user_and_instance(uow, ref, owned.identity_store_id)
    except (VestibuleError, FlowError, InvalidPrincipalKey):
        return None
    view = sessions.SessionView(row.id_hash, ref, row.created_at, row.expires_at, row.idle_seconds, row.mfa_used,
                                row.reauthenticated_at, row.reauthenticated_browser)
    return PortalSession(view, user, found, principal_of(user, found))


async def sign_out(deps: Deps, client: Client, token: str) -> None:
    await sessions.sign_out(deps, client, token)
