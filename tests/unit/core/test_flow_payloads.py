"""Each flow kind's payload codec: a JSON round trip gives the same typed payload; bad data is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vestibule.core.flows import (
    FlowDataInvalid,
    FlowNotFound,
    FlowType,
    console_signin,
    mfa_enrolment,
    profile_signin,
    profile_signup,
    signup,
)
from vestibule.core.flows.base import Flow, FlowSpec, PayloadReader, decode_flow, encode_data, new_flow
from vestibule.core.flows.console_signin import Audience, ConsoleSignIn, ConsoleSignInState
from vestibule.core.flows.email_codes import EmailCode
from vestibule.core.flows.mfa_enrolment import MfaEnrolment
from vestibule.core.flows.profile_email import SPEC as PROFILE_EMAIL_SPEC
from vestibule.core.flows.profile_email import ProfileEmailChange
from vestibule.core.flows.profile_reset import SPEC as PROFILE_RESET_SPEC
from vestibule.core.flows.profile_reset import ProfileReset
from vestibule.core.flows.profile_signin import ProfileSignIn
from vestibule.core.flows.profile_signup import ProfileSignUp
from vestibule.core.flows.recovery import RecoveryLink, RecoveryLinkState
from vestibule.core.flows.signup import SignUp
from vestibule.core.principals import PrincipalRef
from vestibule.core.webauthn import PendingChallenge

T = 1_700_000_000.0

ROOT_WITH_CODE = ConsoleSignIn(Audience.ROOT, "owner@example.com", PrincipalRef.root("123456789012"),
                               "123456789012", risky=True, email_code=EmailCode("abc", T + 600, 2))
NEW_ACCOUNT = SignUp("new@example.com", "Acme", "$argon2id$v=19$...", EmailCode("def", T + 600.5))

CASES: list[tuple[FlowSpec[Any, Any], object]] = [
    (console_signin.SPEC, ConsoleSignIn(Audience.ROOT, "owner@example.com")),
    (console_signin.SPEC, ROOT_WITH_CODE),
    (console_signin.SPEC, ConsoleSignIn(Audience.IAM, "", PrincipalRef.iam_user("AIDAEXAMPLE"), "123456789012",
                                        must_change_password=True, password_expired=True, mfa_used=True)),
    (signup.SPEC, NEW_ACCOUNT),
    (mfa_enrolment.SPEC, MfaEnrolment(PrincipalRef.iam_user("AIDAEXAMPLE"), "k1:sealed")),
    (profile_signup.SPEC, ProfileSignUp("new@example.com")),
    (profile_signup.SPEC, ProfileSignUp("new@example.com", "Mei Maker", EmailCode("abc", T + 600, 1), risky=True)),
    (profile_signin.SPEC, ProfileSignIn("new@example.com")),
    (profile_signin.SPEC, ProfileSignIn("new@example.com", PrincipalRef.profile("p" + "b" * 20), trust=True,
                                        risky=True, webauthn=PendingChallenge("h", T + 300, True))),
    (PROFILE_RESET_SPEC, ProfileReset("p" + "d" * 20, T - 0.5, "maker@example.com")),
    (PROFILE_RESET_SPEC, ProfileReset("p" + "d" * 20, T, "maker@example.com", "link-flow-id")),
    (PROFILE_RESET_SPEC, ProfileReset("", 0.0)),  # the inert link of an address without a profile
    (PROFILE_EMAIL_SPEC, ProfileEmailChange("p" + "c" * 20, "session-hash", "old@example.com", "new@example.com",
                                            EmailCode("abc", T + 600, 2), False)),
]


def _stored(flow: Flow[Any, Any]) -> dict[str, object]:
    """What the JSON column gives back."""
    loaded: dict[str, object] = json.loads(json.dumps(encode_data(flow)))
    return loaded


def _reload(flow: Flow[Any, Any], data: dict[str, object]) -> Flow[Any, Any]:
    return decode_flow(flow.spec, flow_id=flow.id, state=flow.state.value, browser_hash=flow.browser_hash,
                       issued_at=flow.issued_at, expires_at=flow.expires_at, data=data)


@pytest.mark.parametrize(("spec", "payload"), CASES)
def test_round_trip_through_json(spec: FlowSpec[Any, Any], payload: object) -> None:
    flow = new_flow(spec, "f1", "browser", T, payload, FlowType.API)
    flow.attempts = 3
    again = _reload(flow, _stored(flow))
    assert again.payload == payload
    assert type(again.payload) is type(payload)
    assert (again.type, again.attempts, again.state, again.kind) == (FlowType.API, 3, spec.initial, spec.kind)


def test_principal_is_stored_as_its_key() -> None:
    flow = new_flow(mfa_enrolment.SPEC, "f1", "b", T, MfaEnrolment(PrincipalRef.root("123456789012"), "s"))
    assert _stored(flow)["payload"] == {"principal": "root:123456789012", "secret_sealed": "s"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", 5),
        ("risky", "yes"),
        ("risky", 1),
        ("principal", "nobody:x"),
        ("principal", "root:"),
        ("audience", "admin"),
        ("email_code", "not an object"),
        ("account_id", None),
    ],
)
def test_console_sign_in_refuses_wrongly_typed_fields(field: str, value: object) -> None:
    flow = new_flow(console_signin.SPEC, "f1", "b", T, ROOT_WITH_CODE)
    data = _stored(flow)
    payload = data["payload"]
    assert isinstance(payload, dict)
    payload[field] = value
    with pytest.raises(FlowDataInvalid):
        _reload(flow, data)


@pytest.mark.parametrize("missing", ["type", "attempts", "payload"])
def test_envelope_fields_are_required(missing: str) -> None:
    flow = new_flow(signup.SPEC, "f1", "b", T, NEW_ACCOUNT)
    data = _stored(flow)
    del data[missing]
    with pytest.raises(FlowDataInvalid):
        _reload(flow, data)


def test_unknown_state_or_type_is_a_missing_flow() -> None:
    flow = new_flow(signup.SPEC, "f1", "b", T, NEW_ACCOUNT)
    with pytest.raises(FlowNotFound):
        decode_flow(signup.SPEC, flow_id="f1", state="password", browser_hash="b", issued_at=T, expires_at=T,
                    data=_stored(flow))
    data = _stored(flow)
    data["type"] = "carrier-pigeon"
    with pytest.raises(FlowDataInvalid):
        _reload(flow, data)


def test_nested_email_code_numbers_are_checked() -> None:
    with pytest.raises(FlowDataInvalid):
        EmailCode.decode(PayloadReader({"code_hash": "h", "expires_at": True, "resent": 0}))
    with pytest.raises(FlowDataInvalid):
        EmailCode.decode(PayloadReader({"code_hash": "h", "expires_at": 1.0, "resent": 1.5}))
    assert EmailCode.decode(PayloadReader({"code_hash": "h", "expires_at": 7, "resent": 1})) == EmailCode("h", 7.0, 1)


def test_payload_helpers_of_console_sign_in() -> None:
    start = ConsoleSignIn(Audience.ROOT, "owner@example.com")
    from vestibule.core.flows import FlowOutOfOrder

    with pytest.raises(FlowOutOfOrder):
        start.verified_principal()
    with pytest.raises(FlowOutOfOrder):
        start.pending_code()
    verified = start.password_verified(PrincipalRef.root("123456789012"), "123456789012", risky=True)
    assert verified.verified_principal() == PrincipalRef.root("123456789012")
    assert (verified.email, verified.risky, verified.must_change_password) == ("owner@example.com", True, False)
    assert ConsoleSignInState("email_code") is ConsoleSignInState.EMAIL_CODE


@pytest.mark.parametrize(
    ("used_at", "now", "state"),
    [(None, T, RecoveryLinkState.ISSUED), (None, T + 3600, RecoveryLinkState.EXPIRED),
     (T + 5, T + 10, RecoveryLinkState.USED), (T + 5, T + 7200, RecoveryLinkState.USED)],
)
def test_recovery_link_states(used_at: float | None, now: float, state: RecoveryLinkState) -> None:
    link = RecoveryLink("123456789012", T, T + 3600, used_at)
    assert link.state(now) == state
    assert link.usable(now) == (state == RecoveryLinkState.ISSUED)
