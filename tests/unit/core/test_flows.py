"""Self-service flows: ownership, expiry, expected state, and the transition tables."""

from __future__ import annotations

import itertools

import pytest

from vestibule.core.flows import (
    INITIAL,
    LIFETIME,
    Flow,
    FlowError,
    FlowExpired,
    FlowKind,
    FlowNotFound,
    FlowOutOfOrder,
    FlowState,
    FlowWrongBrowser,
)

S = FlowState
T = 1_700_000_000.0
BROWSER = "browser-hash-1"

# Written out independently of flows._ALLOWED, so a change there must be deliberate.
EXPECTED_TRANSITIONS: dict[FlowKind, set[tuple[FlowState, FlowState]]] = {
    FlowKind.SIGNIN: {
        (S.PASSWORD, S.MFA),
        (S.PASSWORD, S.EMAIL_CODE),
        (S.PASSWORD, S.NEW_PASSWORD),
        (S.PASSWORD, S.DONE),
        (S.MFA, S.NEW_PASSWORD),
        (S.MFA, S.DONE),
        (S.EMAIL_CODE, S.DONE),
        (S.NEW_PASSWORD, S.DONE),
    },
    FlowKind.SIGNUP: {(S.VERIFY_EMAIL, S.DONE)},
    FlowKind.MFA_ENROL: {(S.ENROL, S.DONE)},
}


def make_flow(kind: FlowKind = FlowKind.SIGNIN, state: FlowState | None = None) -> Flow:
    return Flow(
        id="flow-1",
        kind=kind,
        state=INITIAL[kind] if state is None else state,
        browser_hash=BROWSER,
        issued_at=T,
        expires_at=T + LIFETIME[kind],
    )


def test_initial_states_and_lifetimes() -> None:
    assert INITIAL == {
        FlowKind.SIGNIN: S.PASSWORD,
        FlowKind.SIGNUP: S.VERIFY_EMAIL,
        FlowKind.MFA_ENROL: S.ENROL,
    }
    assert LIFETIME == {FlowKind.SIGNIN: 900, FlowKind.SIGNUP: 1800, FlowKind.MFA_ENROL: 900}


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


def test_flow_data_is_per_instance() -> None:
    first, second = make_flow(), make_flow()
    first.data["identifier"] = "alice@example.com"
    assert second.data == {}


# --- check -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FlowKind))
def test_check_passes_for_owner_in_time_at_expected_state(kind: FlowKind) -> None:
    flow = make_flow(kind)
    flow.check(BROWSER, T, INITIAL[kind])
    flow.check(BROWSER, T + LIFETIME[kind] - 0.001, {INITIAL[kind], S.DONE})


@pytest.mark.parametrize("other", ["browser-hash-2", "", BROWSER.upper(), BROWSER + " "])
def test_check_wrong_browser(other: str) -> None:
    with pytest.raises(FlowWrongBrowser):
        make_flow().check(other, T, S.PASSWORD)


def test_wrong_browser_is_reported_before_expiry_and_order() -> None:
    flow = make_flow(state=S.DONE)
    with pytest.raises(FlowWrongBrowser):
        flow.check("someone-else", T + 10**6, S.MFA)


@pytest.mark.parametrize(
    ("kind", "offset"),
    [
        (FlowKind.SIGNIN, 900),
        (FlowKind.SIGNIN, 900.001),
        (FlowKind.SIGNIN, 86400),
        (FlowKind.SIGNUP, 1800),
        (FlowKind.MFA_ENROL, 900),
    ],
)
def test_check_expired_by_time(kind: FlowKind, offset: float) -> None:
    flow = make_flow(kind)
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T + offset, INITIAL[kind])


@pytest.mark.parametrize("expected", [S.DONE, {S.DONE}, S.PASSWORD, set(FlowState)])
def test_check_done_flow_is_expired(expected: FlowState | set[FlowState]) -> None:
    flow = make_flow(state=S.DONE)
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T, expected)


def test_expiry_is_reported_before_order() -> None:
    with pytest.raises(FlowExpired):
        make_flow().check(BROWSER, T + 10**6, S.MFA)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (S.PASSWORD, S.MFA),
        (S.PASSWORD, {S.MFA, S.EMAIL_CODE}),
        (S.MFA, S.PASSWORD),
        (S.EMAIL_CODE, S.MFA),
        (S.NEW_PASSWORD, {S.PASSWORD, S.MFA}),
        (S.MFA, set()),
    ],
)
def test_check_out_of_order(state: FlowState, expected: FlowState | set[FlowState]) -> None:
    with pytest.raises(FlowOutOfOrder):
        make_flow(state=state).check(BROWSER, T, expected)


@pytest.mark.parametrize(
    ("state", "expected"),
    [(S.MFA, S.MFA), (S.MFA, {S.MFA, S.EMAIL_CODE}), (S.EMAIL_CODE, {S.MFA, S.EMAIL_CODE})],
)
def test_check_accepts_single_state_or_set(state: FlowState, expected: FlowState | set[FlowState]) -> None:
    make_flow(state=state).check(BROWSER, T, expected)


# --- advance -----------------------------------------------------------------

ALL_MOVES = [
    (kind, src, dst, (src, dst) in EXPECTED_TRANSITIONS[kind])
    for kind in FlowKind
    for src, dst in itertools.product(FlowState, FlowState)
]


@pytest.mark.parametrize(
    ("kind", "src", "dst"),
    [(k, s, d) for k, s, d, allowed in ALL_MOVES if allowed],
)
def test_allowed_transition(kind: FlowKind, src: FlowState, dst: FlowState) -> None:
    flow = make_flow(kind, src)
    flow.advance(dst)
    assert flow.state == dst


@pytest.mark.parametrize(
    ("kind", "src", "dst"),
    [(k, s, d) for k, s, d, allowed in ALL_MOVES if not allowed],
)
def test_disallowed_transition(kind: FlowKind, src: FlowState, dst: FlowState) -> None:
    flow = make_flow(kind, src)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(dst)
    assert flow.state == src


def test_transition_table_counts() -> None:
    assert len(ALL_MOVES) == 3 * 7 * 7
    assert sum(allowed for *_, allowed in ALL_MOVES) == 10


@pytest.mark.parametrize("kind", list(FlowKind))
def test_done_is_terminal(kind: FlowKind) -> None:
    for dst in FlowState:
        with pytest.raises(FlowOutOfOrder):
            make_flow(kind, S.DONE).advance(dst)


@pytest.mark.parametrize(
    "path",
    [
        [S.DONE],
        [S.MFA, S.DONE],
        [S.MFA, S.NEW_PASSWORD, S.DONE],
        [S.EMAIL_CODE, S.DONE],
        [S.NEW_PASSWORD, S.DONE],
    ],
)
def test_sign_in_paths(path: list[FlowState]) -> None:
    flow = make_flow(FlowKind.SIGNIN)
    for step in path:
        flow.check(BROWSER, T + 1, flow.state)
        flow.advance(step)
    assert flow.state == S.DONE
    with pytest.raises(FlowExpired):
        flow.check(BROWSER, T + 2, S.DONE)


def test_cannot_skip_back_after_mfa() -> None:
    flow = make_flow(FlowKind.SIGNIN)
    flow.advance(S.MFA)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(S.PASSWORD)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(S.EMAIL_CODE)
    assert flow.state == S.MFA
