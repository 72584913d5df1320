"""Console sign-in with an OIDC provider, its pure parts: the oidc_signin flow's payload (round trip, refusals,
transitions), PKCE S256 (RFC 7636 appendix B's example), the authorization URL and the session name."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from vestibule.core.flows import FlowDataInvalid, FlowOutOfOrder
from vestibule.core.flows.base import decode_flow, encode_data, new_flow
from vestibule.core.flows.oidc_signin import SPEC, OidcSignIn, OidcSignInState, flow_id_of, json_object
from vestibule.core.oidc_code_flow import authorization_url, new_pkce, pkce_challenge, scope_for, session_name

ARN = "arn:aws:iam::111122223333:oidc-provider/127.0.0.1:4711"


def _round_trip(payload: OidcSignIn, state: OidcSignInState = OidcSignInState.AUTHORIZING) -> OidcSignIn:
    flow = new_flow(SPEC, flow_id_of("s"), "browser", 1000.0, payload)
    flow.state = state
    stored = json.loads(json.dumps(encode_data(flow)))
    back = decode_flow(SPEC, flow_id=flow.id, state=state.value, browser_hash="browser", issued_at=1000.0,
                       expires_at=flow.expires_at, data=stored)
    assert back.expires_at == 1000.0 + 600
    return back.payload


def test_payload_round_trips_in_both_states() -> None:
    started = OidcSignIn("111122223333", ARN, "nonce", "v1.sealed")
    assert _round_trip(started) == started
    choosing = OidcSignIn("111122223333", ARN, "nonce", None, ("arn:aws:iam::111122223333:role/a",
                                                               "arn:aws:iam::111122223333:role/b"),
                          "alice@example.com", {"sub": "alice", "aud": ["app"], "amr": ["pwd"], "n": 1.5})
    assert _round_trip(choosing, OidcSignInState.CHOOSING) == choosing


@pytest.mark.parametrize(("field", "value"), [("roles", "arn"), ("roles", [1]), ("nonce", None),
                                              ("claims", "text"), ("verifier_sealed", 5), ("session_name", None)])
def test_wrongly_typed_fields_make_no_flow(field: str, value: object) -> None:
    payload: dict[str, Any] = {"account_id": "111122223333", "provider_arn": ARN, "nonce": "n",
                               "verifier_sealed": None, "roles": [], "session_name": "", "claims": None}
    payload[field] = value
    with pytest.raises(FlowDataInvalid):
        decode_flow(SPEC, flow_id="x", state="authorizing", browser_hash="b", issued_at=0.0, expires_at=1.0,
                    data={"type": "browser", "attempts": 0, "payload": payload})


def test_claims_must_be_json() -> None:
    with pytest.raises(FlowDataInvalid):
        json_object({"sub": object()})
    assert json_object({"a": [1, {"b": None}]}) == {"a": [1, {"b": None}]}


def test_transitions() -> None:
    flow = new_flow(SPEC, "f", "b", 0.0, OidcSignIn("111122223333", ARN, "n", None))
    flow.advance(OidcSignInState.CHOOSING)
    with pytest.raises(FlowOutOfOrder):
        flow.advance(OidcSignInState.AUTHORIZING)
    flow.complete()
    assert flow.done


def test_flow_id_is_a_hash_of_the_state() -> None:
    assert flow_id_of("abc") == flow_id_of("abc") != flow_id_of("abd")
    assert len(flow_id_of("abc")) == 64 and "abc" not in flow_id_of("abc")


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    pair = new_pkce()
    assert 43 <= len(pair.verifier) <= 128 and pair.challenge == pkce_challenge(pair.verifier)
    assert new_pkce().verifier != pair.verifier


def test_authorization_url_keeps_the_endpoints_query() -> None:
    url = authorization_url("https://idp.example.com/oauth2/authorize?tenant=acme", client_id="app id",
                            redirect_uri="https://signin.example.com/oidc/callback", state="s t", nonce="n",
                            challenge="c", scope=scope_for(["openid"]))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "idp.example.com", "/oauth2/authorize")
    query = parse_qs(parts.query)
    assert query == {"tenant": ["acme"], "response_type": ["code"], "client_id": ["app id"],
                     "redirect_uri": ["https://signin.example.com/oidc/callback"], "scope": ["openid"],
                     "state": ["s t"], "nonce": ["n"], "code_challenge": ["c"], "code_challenge_method": ["S256"]}
    assert scope_for(None) == scope_for(["openid", "email"]) == "openid email"


@pytest.mark.parametrize(("claims", "name"), [
    ({"email": "alice@example.com", "sub": "x"}, "alice@example.com"),
    ({"sub": "auth0|12345"}, "auth0-12345"),
    ({"email": "名字@example.com", "sub": "s"}, "--@example.com"),
    ({"email": "a" * 80}, "a" * 64),
    ({"email": "!", "sub": "ab"}, "ab"),
    ({"sub": "7"}, "oidc-user"),
    ({}, "oidc-user"),
])
def test_session_name(claims: dict[str, object], name: str) -> None:
    assert session_name(claims) == name
