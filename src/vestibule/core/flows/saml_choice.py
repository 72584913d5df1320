"""Console sign-in by a SAML response posted to `/saml`: the verified assertion's data, between the identity
provider's POST and the console session.

posted -> done      the POST's hand-over (an API flow: the IdP's cross-site POST carries no cookie of ours, so it
                    cannot be bound to the browser); the same-site GET it redirects to claims it once, compare-and-
                    set, and starts a browser flow with the same payload
choosing -> done    the browser flow: one role -> the console at once; several -> the role chooser

The assertion is verified and its one-time use recorded at the POST, once; later steps read only this payload,
never the assertion again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowDataInvalid, FlowKind, FlowSpec, JsonObject, PayloadReader

LIFETIME = 5 * 60
HANDOFF_SECONDS = 60  # the POST's hand-over is claimed by the redirect right away


class SamlChoiceState(StrEnum):
    POSTED = "posted"
    CHOOSING = "choosing"
    DONE = "done"


@dataclass(frozen=True)
class SamlAssertionData:
    """What the console keeps of a verified assertion (never its XML)."""

    id: str
    issuer: str
    name_id: str
    name_id_format: str | None
    name_qualifier: str | None
    sp_name_qualifier: str | None
    not_on_or_after: float
    session_not_on_or_after: float | None
    authn_instant: float | None
    issue_instant: float
    attributes: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class SamlChoice:
    assertion: SamlAssertionData
    provider_arn: str  # the provider whose certificate verified the assertion
    roles: tuple[tuple[str, str], ...]  # (role ARN, provider ARN) pairs of the Role attribute, in its order
    session_name: str
    duration: int | None  # the SessionDuration attribute (seconds), None when absent
    relay_state: str  # where to go after sign-in: a path of this site, or ""


def _strings(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FlowDataInvalid(f"{key} is not a list of strings")
    return tuple(value)


def _optional_number(data: PayloadReader, key: str) -> float | None:
    return None if data.data.get(key) is None else data.number(key)


class _Codec:
    def encode(self, payload: SamlChoice) -> JsonObject:
        a = payload.assertion
        return {
            "assertion": {
                "id": a.id, "issuer": a.issuer, "name_id": a.name_id, "name_id_format": a.name_id_format,
                "name_qualifier": a.name_qualifier, "sp_name_qualifier": a.sp_name_qualifier,
                "not_on_or_after": a.not_on_or_after, "session_not_on_or_after": a.session_not_on_or_after,
                "authn_instant": a.authn_instant, "issue_instant": a.issue_instant,
                "attributes": {name: list(values) for name, values in a.attributes.items()},
            },
            "provider_arn": payload.provider_arn,
            "roles": [[role, provider] for role, provider in payload.roles],
            "session_name": payload.session_name,
            "duration": payload.duration,
            "relay_state": payload.relay_state,
        }

    def decode(self, data: PayloadReader) -> SamlChoice:
        a = data.nested("assertion")
        attributes = a.nested("attributes")
        assertion = SamlAssertionData(
            a.string("id"), a.string("issuer"), a.string("name_id"), a.optional_string("name_id_format"),
            a.optional_string("name_qualifier"), a.optional_string("sp_name_qualifier"), a.number("not_on_or_after"),
            _optional_number(a, "session_not_on_or_after"), _optional_number(a, "authn_instant"),
            a.number("issue_instant"),
            {name: _strings(values, "attribute") for name, values in attributes.data.items()})
        raw_roles = data.data.get("roles")
        if not isinstance(raw_roles, list):
            raise FlowDataInvalid("roles is not a list")
        roles = tuple(_pair(item) for item in raw_roles)
        duration = data.data.get("duration")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
            raise FlowDataInvalid("duration is not an integer")
        return SamlChoice(assertion, data.string("provider_arn"), roles, data.string("session_name"), duration,
                          data.string("relay_state"))


def _pair(item: object) -> tuple[str, str]:
    pair = _strings(item, "role")
    if len(pair) != 2:
        raise FlowDataInvalid("a role is not a pair")
    return pair[0], pair[1]


_TRANSITIONS = {SamlChoiceState.POSTED: frozenset({SamlChoiceState.DONE}),
                SamlChoiceState.CHOOSING: frozenset({SamlChoiceState.DONE})}
# one kind, two ways in: the POST's hand-over starts `posted`, the browser's flow `choosing`
HANDOFF: FlowSpec[SamlChoiceState, SamlChoice] = FlowSpec(
    kind=FlowKind.SAML_CHOICE, states=SamlChoiceState, initial=SamlChoiceState.POSTED, done=SamlChoiceState.DONE,
    transitions=_TRANSITIONS, lifetime=HANDOFF_SECONDS, codec=_Codec())
SPEC: FlowSpec[SamlChoiceState, SamlChoice] = FlowSpec(
    kind=FlowKind.SAML_CHOICE, states=SamlChoiceState, initial=SamlChoiceState.CHOOSING, done=SamlChoiceState.DONE,
    transitions=_TRANSITIONS, lifetime=LIFETIME, codec=_Codec())

SamlChoiceFlow = Flow[SamlChoiceState, SamlChoice]
