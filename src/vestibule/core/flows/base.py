"""A self-service flow: a stored, expiring object with an explicit state and a typed payload.

Each kind (console sign-in, sign-up, MFA enrolment, ...) declares a `FlowSpec`: its states, allowed
transitions, lifetime and the codec that turns its payload into the JSON of the `data` column and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from ..principals import InvalidPrincipalKey, PrincipalRef

MAX_ATTEMPTS = 5

JsonScalar = str | int | float | bool | None
JsonValue = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]


class FlowKind(StrEnum):
    """The stored `kind` column (at most 16 characters)."""

    CONSOLE_SIGNIN = "console_signin"
    SIGNUP = "signup"
    MFA_ENROLMENT = "mfa_enrolment"
    RECOVERY = "recovery"
    PORTAL_SIGNIN = "portal_signin"
    PORTAL_RESET = "portal_reset"
    ROOT_EMAIL = "root_email"  # a root email change: the code mailed to the new address
    EMAIL_UNDO = "email_undo"  # the undo link of a root email change, opened in this browser
    MFA_RECOVERY = "mfa_recovery"
    CODES_REVEAL = "codes_reveal"
    PROFILE_SIGNUP = "profile_signup"  # a personal profile's sign-up (email, name, code, password)
    PROFILE_SIGNIN = "profile_signin"
    PROFILE_RESET = "profile_reset"  # a personal profile's forgotten password: the mailed link, then its page
    PROFILE_EMAIL = "profile_email"  # a personal profile's email change: the code mailed to the new address
    WEBAUTHN_REGISTRATION = "webauthn_reg"  # adding a passkey or security key: the pending challenge
    PROFILE_DELETE = "profile_delete"  # a personal profile's deletion page: its WebAuthn challenge
    SAML_CHOICE = "saml_choice"  # console sign-in by a SAML response: the hand-over, then the role chooser
    PORTAL_SAML = "portal_saml"  # access portal sign-in at an external SAML IdP: the AuthnRequest's ID
    OIDC_SIGNIN = "oidc_signin"  # console sign-in with an OIDC provider: state, nonce, PKCE, then the role chooser


class FlowType(StrEnum):
    """Kratos' distinction: a browser flow is bound to a browser cookie; an API flow to its client."""

    BROWSER = "browser"
    API = "api"


class FlowError(Exception):
    """Base of the flow failures; `code` is the message key the page shows."""

    code = "flow.invalid"


class FlowExpired(FlowError):
    code = "flow.expired"


class FlowNotFound(FlowError):
    code = "flow.not_found"


class FlowWrongBrowser(FlowError):
    code = "flow.wrong_browser"


class FlowOutOfOrder(FlowError):
    code = "flow.out_of_order"


class FlowConflict(FlowOutOfOrder):
    """Another request changed the flow since it was loaded (its version moved on): this one lost the race."""


class FlowDataInvalid(FlowNotFound):
    """Stored data that the kind's codec cannot read: treated as a flow that does not exist."""


S = TypeVar("S", bound=StrEnum)
P = TypeVar("P")


class PayloadCodec(Protocol[P]):
    def encode(self, payload: P) -> JsonObject: ...

    def decode(self, data: PayloadReader) -> P: ...


@dataclass(frozen=True)
class FlowSpec(Generic[S, P]):
    kind: FlowKind
    states: type[S]
    initial: S
    done: S
    transitions: Mapping[S, frozenset[S]]
    lifetime: int
    codec: PayloadCodec[P]
    max_attempts: int = MAX_ATTEMPTS


@dataclass
class Flow(Generic[S, P]):
    spec: FlowSpec[S, P]
    id: str
    type: FlowType
    state: S
    browser_hash: str
    issued_at: float
    expires_at: float
    payload: P
    attempts: int = 0
    version: int = 0  # the stored version this copy was loaded at; every save is a compare-and-set on it

    @property
    def kind(self) -> FlowKind:
        return self.spec.kind

    @property
    def done(self) -> bool:
        return self.state == self.spec.done

    def check(self, browser_hash: str, now: float, expected: S | set[S]) -> None:
        """Raise unless this flow belongs to this browser, is alive and is at an expected state."""
        if self.type == FlowType.BROWSER and self.browser_hash != browser_hash:
            raise FlowWrongBrowser()
        if now >= self.expires_at or self.done:
            raise FlowExpired()
        wanted = expected if isinstance(expected, set) else {expected}
        if self.state not in wanted:
            raise FlowOutOfOrder()

    def advance(self, to: S) -> None:
        if to not in self.spec.transitions.get(self.state, frozenset()):
            raise FlowOutOfOrder()
        self.state = to

    def complete(self) -> None:
        self.advance(self.spec.done)

    def reserve_attempt(self) -> None:
        """Count an attempt before its code is checked (saved compare-and-set, so concurrent submissions each
        get their own count); FlowExpired once `max_attempts` are used."""
        if self.attempts >= self.spec.max_attempts:
            raise FlowExpired()
        self.attempts += 1

    def reserved_attempt_failed(self, now: float) -> bool:
        """The reserved attempt failed: after the last one the flow expires. True while it is still usable."""
        if self.attempts >= self.spec.max_attempts:
            self.expires_at = min(self.expires_at, now)
            return False
        return True

    def fail_attempt(self, now: float) -> bool:
        """Count a failed attempt; after `max_attempts` the flow expires. True while it is still usable."""
        self.attempts += 1
        if self.attempts >= self.spec.max_attempts:
            self.expires_at = min(self.expires_at, now)
            return False
        return True


def new_flow(spec: FlowSpec[S, P], flow_id: str, browser_hash: str, now: float, payload: P,
             flow_type: FlowType = FlowType.BROWSER) -> Flow[S, P]:
    return Flow(spec, flow_id, flow_type, spec.initial, browser_hash, now, now + spec.lifetime, payload)


@dataclass(frozen=True)
class PayloadReader:
    """Typed reads from stored JSON; anything of the wrong type raises FlowDataInvalid."""

    data: Mapping[str, object] = field(default_factory=dict)

    def _value(self, key: str) -> object:
        if key not in self.data:
            raise FlowDataInvalid(f"missing {key}")
        return self.data[key]

    def string(self, key: str) -> str:
        value = self._value(key)
        if not isinstance(value, str):
            raise FlowDataInvalid(f"{key} is not a string")
        return value

    def optional_string(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.string(key)

    def number(self, key: str) -> float:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FlowDataInvalid(f"{key} is not a number")
        return float(value)

    def integer(self, key: str) -> int:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FlowDataInvalid(f"{key} is not an integer")
        return value

    def flag(self, key: str) -> bool:
        value = self._value(key)
        if not isinstance(value, bool):
            raise FlowDataInvalid(f"{key} is not a boolean")
        return value

    def principal(self, key: str) -> PrincipalRef:
        try:
            return PrincipalRef.parse(self.string(key))
        except InvalidPrincipalKey:
            raise FlowDataInvalid(f"{key} is not a principal key") from None

    def optional_principal(self, key: str) -> PrincipalRef | None:
        return None if self.data.get(key) is None else self.principal(key)

    def nested(self, key: str) -> PayloadReader:
        value = self._value(key)
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise FlowDataInvalid(f"{key} is not an object")
        return PayloadReader(value)

    def optional_nested(self, key: str) -> PayloadReader | None:
        return None if self.data.get(key) is None else self.nested(key)


# The envelope of the `data` column: the base fields the table has no column for, and the payload.
_TYPE, _ATTEMPTS, _PAYLOAD = "type", "attempts", "payload"


def encode_data(flow: Flow[S, P]) -> JsonObject:
    return {_TYPE: flow.type.value, _ATTEMPTS: flow.attempts, _PAYLOAD: flow.spec.codec.encode(flow.payload)}


def decode_flow(spec: FlowSpec[S, P], *, flow_id: str, state: str, browser_hash: str, issued_at: float,
                expires_at: float, data: Mapping[str, object], version: int = 0) -> Flow[S, P]:
    """Rebuild a flow of `spec` from its stored columns; FlowDataInvalid when they do not fit the kind."""
    reader = PayloadReader(data)
    try:
        parsed_state = spec.states(state)
        flow_type = FlowType(reader.string(_TYPE))
    except ValueError:
        raise FlowDataInvalid("unknown state or type") from None
    return Flow(spec, flow_id, flow_type, parsed_state, browser_hash, issued_at, expires_at,
                spec.codec.decode(reader.nested(_PAYLOAD)), reader.integer(_ATTEMPTS), version)
