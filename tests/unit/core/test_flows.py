"""Self-service flows: ownership, expiry, expected state, attempts, and each kind's transition table."""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Any

import pytest

from vestibule.core.flows import (
    MAX_ATTEMPTS,
    Flow,
    FlowError,
    FlowExpired,
    FlowKind,
    FlowNotFound,
    FlowOutOfOrder,
    FlowSpec,
    FlowType,
    FlowWrongBrowser,
    console_signin,
    mfa_enrolment,
    mfa_recovery,
    portal_signin,
    recovery,
    root_email,
    signup,
)
from vestibule.core.flows.base import new_flow
from vestibule.core.flows.console_signin import Audience, ConsoleSignIn, ConsoleSignInState
from vestibule.core.flows.email_codes import EmailCode
from vestibule.core.flows.mfa_enrolment import MfaEnrolment, MfaEnrolmentState
from vestibule.core.flows.mfa_recovery import CodesReveal, CodesRevealState, MfaRecovery, MfaRecoveryState
from vestibule.core.flows.oidc_signin import SPEC as OIDC_SIGNIN_SPEC
from vestibule.core.flows.oidc_signin import OidcSignIn, OidcSignInState
from vestibule.core.flows.portal_saml import SPEC as PORTAL_SAML_SPEC
from vestibule.core.flows.portal_saml import PortalSaml, PortalSamlState
from vestibule.core.flows.portal_signin import PortalReset, PortalResetState, PortalSignIn, PortalSignInState
from vestibule.core.flows.profile_delete import SPEC as PROFILE_DELETE_SPEC
from vestibule.core.flows.profile_delete import ProfileDelete, ProfileDeleteState
from vestibule.core.flows.profile_email import SPEC as PROFILE_EMAIL_SPEC
from vestibule.core.flows.profile_email import ProfileEmailChange, ProfileEmailState
from vestibule.core.flows.profile_reset import SPEC as PROFILE_RESET_SPEC
from vestibule.core.flows.profile_reset import ProfileReset, ProfileResetState
from vestibule.core.flows.profile_signin import SPEC as PROFILE_SIGNIN_SPEC
from vestibule.core.flows.profile_signin import ProfileSignIn, ProfileSignInState
from vestibule.core.flows.profile_signup import SPEC as PROFILE_SIGNUP_SPEC
from vestibule.core.flows.profile_signup import ProfileSignUp, ProfileSignUpState
from vestibule.core.flows.recovery import RecoveryReset, RecoveryState
from vestibule.core.flows.root_email import RootEmailChangeRequest, RootEmailState, UndoLink, UndoState
from vestibule.core.flows.saml_choice import SPEC as SAML_CHOICE_SPEC
from vestibule.core.flows.saml_choice import SamlAssertionData, SamlChoice, SamlChoiceState
from vestibule.core.flows.signup import SignUp, SignUpState
from vestibule.core.flows.webauthn_registration import SPEC as WEBAUTHN_SPEC
from vestibule.core.flows.webauthn_registration import WebAuthnRegistration, WebAuthnRegistrationState
from vestibule.core.principals import PrincipalRef
from vestibule.core.webauthn import CredentialKind, PendingChallenge

C = ConsoleSignInState
T = 1_700_000_000.0
BROWSER = "browser-hash-1"

# Written out independently of the specs, so a change there must be deliberate.
EXPECTED_TRANSITIONS: dict[FlowKind, set[tuple[str, str]]] = {
    FlowKind.CONSOLE_SIGNIN: {
        (C.PASSWORD, C.MFA),
        (C.PASSWORD, C.EMAIL_CODE),
        (C.PASSWORD, C.NEW_PASSWORD),
        (C.PASSWORD, C.DONE),
        (C.MFA, C.NEW_PASSWORD),
        (C.MFA, C.DONE),
        (C.MFA, C.REOPEN),  # a closed account's root user, every step passed: reopen it, or not
        (C.EMAIL_CODE, C.DONE),
        (C.EMAIL_CODE, C.REOPEN),
        (C.REOPEN, C.DONE),
        (C.NEW_PASSWORD, C.DONE),
    },
    FlowKind.SIGNUP: {(SignUpState.VERIFY_EMAIL, SignUpState.DONE)},
    FlowKind.MFA_ENROLMENT: {(MfaEnrolmentState.ENROL, MfaEnrolmentState.DONE)},
    FlowKind.RECOVERY: {(RecoveryState.NEW_PASSWORD, RecoveryState.DONE)},
    FlowKind.PORTAL_SIGNIN: {
        (PortalSignInState.PASSWORD, PortalSignInState.NEW_PASSWORD),
        (PortalSignInState.PASSWORD, PortalSignInState.MFA),
        (PortalSignInState.PASSWORD, PortalSignInState.EMAIL_CODE),
        (PortalSignInState.PASSWORD, PortalSignInState.DONE),
        (PortalSignInState.NEW_PASSWORD, PortalSignInState.MFA),
        (PortalSignInState.NEW_PASSWORD, PortalSignInState.EMAIL_CODE),
        (PortalSignInState.NEW_PASSWORD, PortalSignInState.DONE),
        (PortalSignInState.MFA, PortalSignInState.DONE),
        (PortalSignInState.EMAIL_CODE, PortalSignInState.DONE),
    },
    FlowKind.PORTAL_RESET: {(PortalResetState.ISSUED, PortalResetState.DONE)},
    FlowKind.ROOT_EMAIL: {(RootEmailState.VERIFY_CODE, RootEmailState.DONE)},
    FlowKind.EMAIL_UNDO: {(UndoState.CONFIRM, UndoState.DONE)},
    FlowKind.MFA_RECOVERY: {(MfaRecoveryState.LINK_SENT, MfaRecoveryState.DONE)},
    FlowKind.CODES_REVEAL: {(CodesRevealState.PENDING, CodesRevealState.DONE)},
    FlowKind.WEBAUTHN_REGISTRATION: {(WebAuthnRegistrationState.AWAITING, WebAuthnRegistrationState.DONE)},
    FlowKind.PROFILE_SIGNUP: {
        (ProfileSignUpState.NAME, ProfileSignUpState.VERIFY_EMAIL),
        (ProfileSignUpState.VERIFY_EMAIL, ProfileSignUpState.PASSWORD),
        (ProfileSignUpState.PASSWORD, ProfileSignUpState.DONE),
    },
    FlowKind.PROFILE_SIGNIN: {
        (ProfileSignInState.PASSWORD, ProfileSignInState.MFA),
        (ProfileSignInState.PASSWORD, ProfileSignInState.DONE),  # no second factor, or a trusted browser
        (ProfileSignInState.MFA, ProfileSignInState.DONE),
    },
    FlowKind.PROFILE_RESET: {(ProfileResetState.LINK, ProfileResetState.DONE),  # the mailed link, used once
                             (ProfileResetState.NEW_PASSWORD, ProfileResetState.DONE)},  # ... its browser's page
    FlowKind.PROFILE_EMAIL: {(ProfileEmailState.VERIFY_CODE, ProfileEmailState.DONE)},
    FlowKind.PROFILE_DELETE: {(ProfileDeleteState.PENDING, ProfileDeleteState.DONE)},
    FlowKind.PORTAL_SAML: {(PortalSamlState.SENT, PortalSamlState.DONE)},  # the IdP's answer, accepted once
    FlowKind.SAML_CHOICE: {(SamlChoiceState.POSTED, SamlChoiceState.DONE),  # the POST's hand-over, claimed once
                           (SamlChoiceState.CHOOSING, SamlChoiceState.DONE)},  # the browser's flow: a role chosen
    FlowKind.OIDC_SIGNIN: {(OidcSignInState.AUTHORIZING, OidcSignInState.DONE),  # one role trusts the token
                           (OidcSignInState.AUTHORIZING, OidcSignInState.CHOOSING),  # several: the chooser
                           (OidcSignInState.CHOOSING, OidcSignInState.DONE)},
}

SPECS: dict[FlowKind, FlowSpec[Any, Any]] = {
    FlowKind.CONSOLE_SIGNIN: console_signin.SPEC,
    FlowKind.SIGNUP: signup.SPEC,
    FlowKind.MFA_ENROLMENT: mfa_enrolment.SPEC,
    FlowKind.RECOVERY: recovery.SPEC,
    FlowKind.PORTAL_SIGNIN: portal_signin.SPEC,
    FlowKind.PORTAL_RESET: portal_signin.RESET_SPEC,
    FlowKind.ROOT_EMAIL: root_email.SPEC,
    FlowKind.EMAIL_UNDO: root_email.UNDO_SPEC,
    FlowKind.MFA_RECOVERY: mfa_recovery.SPEC,
    FlowKind.CODES_REVEAL: mfa_recovery.REVEAL_SPEC,
    FlowKind.WEBAUTHN_REGISTRATION: WEBAUTHN_SPEC,
    FlowKind.PROFILE_SIGNUP: PROFILE_SIGNUP_SPEC,
    FlowKind.PROFILE_SIGNIN: PROFILE_SIGNIN_SPEC,
    FlowKind.PROFILE_RESET: PROFILE_RESET_SPEC,
    FlowKind.PROFILE_EMAIL: PROFILE_EMAIL_SPEC,
    FlowKind.PROFILE_DELETE: PROFILE_DELETE_SPEC,
    FlowKind.PORTAL_SAML: PORTAL_SAML_SPEC,
    FlowKind.SAML_CHOICE: SAML_CHOICE_SPEC,
    FlowKind.OIDC_SIGNIN: OIDC_SIGNIN_SPEC,
}
STATES: dict[FlowKind, list[StrEnum]] = {
    FlowKind.CONSOLE_SIGNIN: list(ConsoleSignInState),
    FlowKind.SIGNUP: list(SignUpState),
    FlowKind.MFA_ENROLMENT: list(MfaEnrolmentState),
    FlowKind.RECOVERY: list(RecoveryState),
    FlowKind.PORTAL_SIGNIN: list(PortalSignInState),
    FlowKind.PORTAL_RESET: list(PortalResetState),
    FlowKind.ROOT_EMAIL: list(RootEmailState),
    FlowKind.EMAIL_UNDO: list(UndoState),
    FlowKind.MFA_RECOVERY: list(MfaRecoveryState),
    FlowKind.CODES_REVEAL: list(CodesRevealState),
    FlowKind.WEBAUTHN_REGISTRATION: list(WebAuthnRegistrationState),
    FlowKind.PROFILE_SIGNUP: list(ProfileSignUpState),
    FlowKind.PROFILE_SIGNIN: list(ProfileSignInState),
    FlowKind.PROFILE_RESET: list(ProfileResetState),
    FlowKind.PROFILE_EMAIL: list(ProfileEmailState),
    FlowKind.PROFILE_DELETE: list(ProfileDeleteState),
    FlowKind.PORTAL_SAML: list(PortalSamlState),
    FlowKind.SAML_CHOICE: list(SamlChoiceState),
    FlowKind.OIDC_SIGNIN: list(OidcSignInState),
}
PAYLOADS: dict[FlowKind, object] = {
    FlowKind.CONSOLE_SIGNIN: ConsoleSignIn(Audience.ROOT, "alice@example.com"),
    FlowKind.SIGNUP: SignUp("a@example.com", "acme", "$argon2id$...", EmailCode("h", T + 600)),
    FlowKind.MFA_ENROLMENT: MfaEnrolment(PrincipalRef.root("123456789012"), "sealed"),
    FlowKind.RECOVERY: RecoveryReset("token-hash"),
    FlowKind.PORTAL_SIGNIN: PortalSignIn("d-0123456789", "alice"),
    FlowKind.PORTAL_RESET: PortalReset("d-0123456789", "0123456789-user"),
    FlowKind.ROOT_EMAIL: RootEmailChangeRequest("123456789012", "session-hash", "old@example.com", "new@example.com",
                                                EmailCode("h", T + 600), T, True),
    FlowKind.EMAIL_UNDO: UndoLink("token-hash"),
    FlowKind.MFA_RECOVERY: MfaRecovery(PrincipalRef.root("123456789012"), "123456789012", "link-hash", T + 3600),
    FlowKind.CODES_REVEAL: CodesReveal(PrincipalRef.root("123456789012"), "sealed"),
    FlowKind.WEBAUTHN_REGISTRATION: WebAuthnRegistration("root:123456789012", CredentialKind.PASSKEY, "aGFuZGxl",
                                                         PendingChallenge("h", T + 300, True)),
    FlowKind.PROFILE_SIGNUP: ProfileSignUp("a@example.com", "Mei", EmailCode("h", T + 600)),
    FlowKind.PROFILE_SIGNIN: ProfileSignIn("a@example.com", PrincipalRef.profile("p" + "a" * 20), True),
    FlowKind.PROFILE_RESET: ProfileReset("p" + "a" * 20, T - 60, "a@example.com"),
    FlowKind.PROFILE_EMAIL: ProfileEmailChange("p" + "a" * 20, "session-hash", "old@example.com", "new@example.com",
                                               EmailCode("h", T + 600), True),
    FlowKind.PROFILE_DELETE: ProfileDelete(PrincipalRef.profile("p" + "a" * 20), PendingChallenge("h", T + 300, False)),
    FlowKind.PORTAL_SAML: PortalSaml("d-0123456789", "_request-id"),
    FlowKind.SAML_CHOICE: SamlChoice(
        SamlAssertionData("_a1", "https://idp.example.com", "alice@example.com", None, None, None, T + 300, None, T, T,
                          {"https://aws.amazon.com/SAML/Attributes/RoleSessionName": ("alice",)}),
        "arn:aws:iam::123456789012:saml-provider/Corp",
        (("arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:saml-provider/Corp"),), "alice", 3600,
        "/console"),
    FlowKind.OIDC_SIGNIN: OidcSignIn("123456789012", "arn:aws:iam::123456789012:oidc-provider/idp.example.com",
                                     "nonce", "sealed"),
}


def make_flow(kind: FlowKind = FlowKind.CONSOLE_SIGNIN, state: StrEnum | None = None,
              flow_type: FlowType = FlowType.BROWSER) -> Flow[Any, Any]:
    spec = SPECS[kind]
    flow = new_flow(spec, "flow-1", BROWSER, T, PAYLOADS[kind], flow_type)
    if state is not None:
        flow.state = state
    return flow


def test_initial_states_and_lifetimes() -> None:
    assert {kind: spec.initial for kind, spec in SPECS.items()} == {
        FlowKind.CONSOLE_SIGNIN: C.PASSWORD,
        FlowKind.SIGNUP: SignUpState.VERIFY_EMAIL,
        FlowKind.MFA_ENROLMENT: MfaEnrolmentState.ENROL,
        FlowKind.RECOVERY: RecoveryState.NEW_PASSWORD,
        FlowKind.PORTAL_SIGNIN: PortalSignInState.PASSWORD,
        FlowKind.PORTAL_RESET: PortalResetState.ISSUED,
        FlowKind.ROOT_EMAIL: RootEmailState.VERIFY_CODE,
        FlowKind.EMAIL_UNDO: UndoState.CONFIRM,
        FlowKind.MFA_RECOVERY: MfaRecoveryState.LINK_SENT,
        FlowKind.CODES_REVEAL: CodesRevealState.PENDING,
        FlowKind.WEBAUTHN_REGISTRATION: WebAuthnRegistrationState.AWAITING,
        FlowKind.PROFILE_SIGNUP: ProfileSignUpState.NAME,
        FlowKind.PROFILE_SIGNIN: ProfileSignInState.PASSWORD,
        FlowKind.PROFILE_RESET: ProfileResetState.LINK,
        FlowKind.PROFILE_EMAIL: ProfileEmailState.VERIFY_CODE,
        FlowKind.PROFILE_DELETE: ProfileDeleteState.PENDING,
        FlowKind.PORTAL_SAML: PortalSamlState.SENT,
        FlowKind.SAML_CHOICE: SamlChoiceState.CHOOSING,  # the browser's flow (the POST's hand-over: posted)
        FlowKind.OIDC_SIGNIN: OidcSignInState.AUTHORIZING,
    }
    assert {kind: spec.lifetime for kind, spec in SPECS.items()} == {
        FlowKind.CONSOLE_SIGNIN: 900, FlowKind.SIGNUP: 1800, FlowKind.MFA_ENROLMENT: 900, FlowKind.RECOVERY: 900,
        FlowKind.PORTAL_SIGNIN: 900, FlowKind.PORTAL_RESET: 86400,
        FlowKind.ROOT_EMAIL: 1800,  # the code in it lasts 10 minutes; resends within the flow
        FlowKind.EMAIL_UNDO: 900,  # the opened link's confirmation page; the link itself lasts 7 days
        FlowKind.MFA_RECOVERY: 3600,  # the mailed link: at most an hour (DESIGN)
        FlowKind.CODES_REVEAL: 600,
        FlowKind.WEBAUTHN_REGISTRATION: 300,  # a WebAuthn challenge expires within 5 minutes
        FlowKind.PROFILE_RESET: 3600,  # the mailed link: at most an hour (its page: 15 minutes within it)
        FlowKind.PROFILE_SIGNUP: 1800, FlowKind.PROFILE_SIGNIN: 900,
        FlowKind.PROFILE_DELETE: 300,  # the deletion page's WebAuthn challenge
        FlowKind.PORTAL_SAML: 600,  # the user signs in at the IdP meanwhile
        FlowKind.SAML_CHOICE: 300,  # the role chooser (the POST's hand-over: 60 s)
        FlowKind.OIDC_SIGNIN: 600,  # the user signs in at the provider meanwhile, then may choose a role
        FlowKind.PROFILE_EMAIL: 1800}  # the code in it lasts 10 minutes; resends within the flow
    flow = make_flow()
    assert (flow.issued_at, flow.expires_at, flow.attempts, flow.type) == (T, T + 900, 0, FlowType.BROWSER)


def test_kind_values_fit_the_stored_column() -> None:
    assert all(len(kind.value) <= 16 for kind in FlowKind)
    assert all(len(state.value) <= 16 for states in STATES.values() for state in states)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (FlowError, "flow.invalid"),
        (FlowExpired, "flow.expired"),
        (FlowNotFound, "flow.not_found"),
        (FlowWrongBrowser, "flow.wrong_browser"),
        (FlowOutOfOrder, "flow.out_of_order"),
    ],
)
def test_error_codes(error: type[FlowError], code: str) -> None:
    assert error.code == code
    assert issubclass(error, FlowError)


# --- check -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FlowKind))
def test_check_passes_for_owner_in_time_at_expected_state(kind: FlowKind) -> None:
    flow = make_flow(kind)
    spec = SPECS[kind]
    flow.check(BROWSER, T, spec.initial)
    flow.check(BROWSER, T + spec.lifetime - 0.001, {spec.initial, spec.done})


@pytest.mark.parametrize("other", ["browser-hash-2", "", BROWSER.upper(), BROWSER + " "])
def test_check_wrong_browser(other: str) -> None:
    with pytest.raises(FlowWrongBrowser):
        make_flow().check(other, T, C.PASSWORD)


def test_api_flow_is_not_bound_to_a_browser() -> None:
    make_flow(flow_type=FlowType.API).check("any-client", T, C.PASSWORD)


def test_wrong_browser_is_reported_before_expiry_and_order() -> None:
    flow = make_flow(state=C.DONE)
    with pytest.raises(FlowWrongBrowser):
        flow.check("someone-else", T + 10**6, C.MFA)


@pytest.mark.parametrize(
    ("kind", "offset"),
    [
        (FlowKind.CONSOLE_SIGNIN, 900),
        (FlowKind.CONSOLE_SIGNIN, 900.001),
        (FlowKind.CONSOLE_SIGNIN, 86400),
        (FlowKind.SIGNUP, 1800),
        (FlowKind.MFA_ENROLMENT, 900),
        (FlowKind.RECOVERY, 900),
    ],
)
def test_check_expired_by_time(kind: FlowKind, offset: float) -> None:
    flow = make_flow(kind)
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T + offset, SPECS[kind].initial)


@pytest.mark.parametrize("expected", [C.DONE, {C.DONE}, C.PASSWORD, set(ConsoleSignInState)])
def test_check_done_flow_is_expired(expected: ConsoleSignInState | set[ConsoleSignInState]) -> None:
    flow = make_flow(state=C.DONE)
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T, expected)


def test_expiry_is_reported_before_order() -> None:
    with pytest.raises(FlowExpired):
        make_flow().check(BROWSER, T + 10**6, C.MFA)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (C.PASSWORD, C.MFA),
        (C.PASSWORD, {C.MFA, C.EMAIL_CODE}),
        (C.MFA, C.PASSWORD),
        (C.EMAIL_CODE, C.MFA),
        (C.NEW_PASSWORD, {C.PASSWORD, C.MFA}),
        (C.MFA, set()),
    ],
)
def test_check_out_of_order(state: ConsoleSignInState, expected: ConsoleSignInState | set[ConsoleSignInState]) -> None:
    with pytest.raises(FlowOutOfOrder):
        make_flow(state=state).check(BROWSER, T, expected)


@pytest.mark.parametrize(
    ("state", "expected"),
    [(C.MFA, C.MFA), (C.MFA, {C.MFA, C.EMAIL_CODE}), (C.EMAIL_CODE, {C.MFA, C.EMAIL_CODE})],
)
def test_check_accepts_single_state_or_set(state: ConsoleSignInState,
                                           expected: ConsoleSignInState | set[ConsoleSignInState]) -> None:
    make_flow(state=state).check(BROWSER, T, expected)


# --- failed attempts ---------------------------------------------------------


def test_failed_attempts_expire_the_flow_at_the_limit() -> None:
    flow = make_flow(state=C.MFA)
    for _ in range(MAX_ATTEMPTS - 1):
        assert flow.fail_attempt(T + 5)
        flow.check(BROWSER, T + 5, C.MFA)
    assert not flow.fail_attempt(T + 5)
    assert flow.attempts == MAX_ATTEMPTS
    assert flow.expires_at == T + 5
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T + 5, C.MFA)


def test_failed_attempt_never_extends_the_lifetime() -> None:
    flow = make_flow()
    flow.attempts = MAX_ATTEMPTS - 1
    flow.fail_attempt(T + 10**6)
    assert flow.expires_at == T + 900


# --- advance -----------------------------------------------------------------

ALL_MOVES = [
    (kind, src, dst, (src, dst) in EXPECTED_TRANSITIONS[kind])
    for kind in FlowKind
    for src, dst in itertools.product(STATES[kind], STATES[kind])
]


@pytest.mark.parametrize(("kind", "src", "dst"), [(k, s, d) for k, s, d, allowed in ALL_MOVES if allowed])
def test_allowed_transition(kind: FlowKind, src: StrEnum, dst: StrEnum) -> None:
    flow = make_flow(kind, src)
    flow.advance(dst)
    assert flow.state == dst


@pytest.mark.parametrize(("kind", "src", "dst"), [(k, s, d) for k, s, d, allowed in ALL_MOVES if not allowed])
def test_disallowed_transition(kind: FlowKind, src: StrEnum, dst: StrEnum) -> None:
    flow = make_flow(kind, src)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(dst)
    assert flow.state == src


def test_transition_table_counts() -> None:
    assert len(ALL_MOVES) == 6 * 6 + 2 * 2 + 2 * 2 + 2 * 2 + 5 * 5 + 2 * 2 + 4 * (2 * 2) + 2 * 2 \
        + 4 * 4 + 3 * 3 + 3 * 3 + 2 * 2 + 2 * 2 \
        + 2 * 2 + 3 * 3 + 3 * 3  # + WebAuthn, + the profile's sign-up, sign-in, reset, email, delete, + the
    # portal's SAML sign-in, + the console's SAML sign-in (hand-over and chooser), + the console's OIDC sign-in
    assert sum(allowed for *_, allowed in ALL_MOVES) == 11 + 3 + 9 + 1 + 4 + 1 + 3 + 3 + 2 + 1 + 1 + 1 + 2 + 3


@pytest.mark.parametrize("kind", list(FlowKind))
def test_done_is_terminal(kind: FlowKind) -> None:
    for dst in STATES[kind]:
        with pytest.raises(FlowOutOfOrder):
            make_flow(kind, SPECS[kind].done).advance(dst)


_LAST_STEP: dict[FlowKind, StrEnum] = {FlowKind.PROFILE_SIGNUP: ProfileSignUpState.PASSWORD}  # (not the first)


@pytest.mark.parametrize("kind", list(FlowKind))
def test_complete_moves_to_done_from_the_last_step(kind: FlowKind) -> None:
    flow = make_flow(kind, _LAST_STEP.get(kind))
    flow.complete()
    assert flow.done


@pytest.mark.parametrize(
    "path",
    [
        [C.DONE],
        [C.MFA, C.DONE],
        [C.MFA, C.NEW_PASSWORD, C.DONE],
        [C.EMAIL_CODE, C.DONE],
        [C.NEW_PASSWORD, C.DONE],
    ],
)
def test_sign_in_paths(path: list[ConsoleSignInState]) -> None:
    flow = make_flow(FlowKind.CONSOLE_SIGNIN)
    for step in path:
        flow.check(BROWSER, T + 1, flow.state)
        flow.advance(step)
    assert flow.state == C.DONE
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T + 2, C.DONE)


def test_cannot_skip_back_after_mfa() -> None:
    flow = make_flow(FlowKind.CONSOLE_SIGNIN)
    flow.advance(C.MFA)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(C.PASSWORD)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(C.EMAIL_CODE)
    assert flow.state == C.MFA
