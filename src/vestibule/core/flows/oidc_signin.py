"""Console sign-in with an OIDC provider (authorization code flow with PKCE, `state` and `nonce`).

authorizing (sent to the provider) -> done (one role trusts the token: a console session)
authorizing -> choosing (several roles trust it: the chooser page) -> done

The flow's ID is the SHA-256 of the `state` sent to the provider, so the state itself is stored nowhere and the
callback finds its flow by it; the flow is bound to the browser that started it. The PKCE verifier is sealed
under the master key (`verifier_sealed`, context `oidc-signin:<nonce>`) and dropped once the code is exchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowDataInvalid, FlowKind, FlowSpec, JsonObject, JsonValue, PayloadReader

LIFETIME = 10 * 60


class OidcSignInState(StrEnum):
    AUTHORIZING = "authorizing"
    CHOOSING = "choosing"
    DONE = "done"


@dataclass(frozen=True)
class OidcSignIn:
    account_id: str
    provider_arn: str
    nonce: str
    verifier_sealed: str | None  # None once the code was exchanged
    roles: tuple[str, ...] = ()  # choosing: the ARNs of the roles that trust the token
    session_name: str = ""  # choosing: the session name the token gave
    claims: JsonObject | None = None  # choosing: the verified ID token's claims (never the token itself)


def verifier_context(nonce: str) -> str:
    """The sealing context of a flow's PKCE verifier."""
    return f"oidc-signin:{nonce}"


def flow_id_of(state: str) -> str:
    """The flow a `state` names (64 hex characters, as a flow ID may be)."""
    return hashlib.sha256(f"oidc-signin:{state}".encode()).hexdigest()


def _json_value(value: object) -> JsonValue:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v) for k, v in value.items()}
    raise FlowDataInvalid("not a JSON value")


def json_object(data: Mapping[str, object]) -> JsonObject:
    """A checked copy of a JSON object read from storage (FlowDataInvalid for anything that is not JSON)."""
    return {key: _json_value(value) for key, value in data.items()}


class _Codec:
    def encode(self, payload: OidcSignIn) -> JsonObject:
        return {"account_id": payload.account_id, "provider_arn": payload.provider_arn, "nonce": payload.nonce,
                "verifier_sealed": payload.verifier_sealed, "roles": list(payload.roles),
                "session_name": payload.session_name, "claims": payload.claims}

    def decode(self, data: PayloadReader) -> OidcSignIn:
        roles = data.data.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise FlowDataInvalid("roles is not a list of strings")
        claims = data.optional_nested("claims")
        return OidcSignIn(data.string("account_id"), data.string("provider_arn"), data.string("nonce"),
                          data.optional_string("verifier_sealed"), tuple(roles), data.string("session_name"),
                          json_object(claims.data) if claims is not None else None)


SPEC: FlowSpec[OidcSignInState, OidcSignIn] = FlowSpec(
    kind=FlowKind.OIDC_SIGNIN,
    states=OidcSignInState,
    initial=OidcSignInState.AUTHORIZING,
    done=OidcSignInState.DONE,
    transitions={OidcSignInState.AUTHORIZING: frozenset({OidcSignInState.CHOOSING, OidcSignInState.DONE}),
                 OidcSignInState.CHOOSING: frozenset({OidcSignInState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

OidcSignInFlow = Flow[OidcSignInState, OidcSignIn]
