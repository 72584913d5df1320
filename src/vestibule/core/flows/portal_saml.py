"""Access portal sign-in through the instance's external SAML identity provider (SP-initiated).

sent (the AuthnRequest went to the IdP; its ID kept here, the flow's ID travels as RelayState) -> done (the
response answering it was accepted: at most once). A response whose InResponseTo names no open flow of this
browser's is refused; an IdP-initiated response (no InResponseTo) needs no flow."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader

LIFETIME = 10 * 60  # typing a password and a second factor at the IdP
REUSE_MIN_LEFT = 60  # a reload of the start page sends the same request while this much is left


class PortalSamlState(StrEnum):
    SENT = "sent"
    DONE = "done"


@dataclass(frozen=True)
class PortalSaml:
    identity_store_id: str
    request_id: str  # the AuthnRequest's ID: the response's InResponseTo must be this


class _Codec:
    def encode(self, payload: PortalSaml) -> JsonObject:
        return {"identity_store_id": payload.identity_store_id, "request_id": payload.request_id}

    def decode(self, data: PayloadReader) -> PortalSaml:
        return PortalSaml(data.string("identity_store_id"), data.string("request_id"))


SPEC: FlowSpec[PortalSamlState, PortalSaml] = FlowSpec(
    kind=FlowKind.PORTAL_SAML,
    states=PortalSamlState,
    initial=PortalSamlState.SENT,
    done=PortalSamlState.DONE,
    transitions={PortalSamlState.SENT: frozenset({PortalSamlState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

PortalSamlFlow = Flow[PortalSamlState, PortalSaml]
