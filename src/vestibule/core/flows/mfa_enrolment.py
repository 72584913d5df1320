"""Console enrolment of a virtual MFA device: the secret is shown, two consecutive codes prove it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..principals import PrincipalRef
from .base import Flow, FlowKind, FlowSpec, JsonObject, PayloadReader

LIFETIME = 15 * 60


class MfaEnrolmentState(StrEnum):
    ENROL = "enrol"  # secret shown, device name and two codes next
    DONE = "done"


@dataclass(frozen=True)
class MfaEnrolment:
    principal: PrincipalRef
    secret_sealed: str  # the TOTP secret, sealed for this principal


class _Codec:
    def encode(self, payload: MfaEnrolment) -> JsonObject:
        return {"principal": payload.principal.key, "secret_sealed": payload.secret_sealed}

    def decode(self, data: PayloadReader) -> MfaEnrolment:
        return MfaEnrolment(data.principal("principal"), data.string("secret_sealed"))


SPEC: FlowSpec[MfaEnrolmentState, MfaEnrolment] = FlowSpec(
    kind=FlowKind.MFA_ENROLMENT,
    states=MfaEnrolmentState,
    initial=MfaEnrolmentState.ENROL,
    done=MfaEnrolmentState.DONE,
    transitions={MfaEnrolmentState.ENROL: frozenset({MfaEnrolmentState.DONE})},
    lifetime=LIFETIME,
    codec=_Codec(),
)

MfaEnrolmentFlow = Flow[MfaEnrolmentState, MfaEnrolment]
