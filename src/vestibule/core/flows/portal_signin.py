"""Access portal sign-in of an Identity Center directory user.

user name -> password -> (a new password first when it must change) -> an MFA code, or a mailed code -> done.
Every user name typed goes through the same steps: whether the user exists is learned only at the password.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from enum import StrEnum

from ..principals import PrincipalKind, PrincipalRef
from ..webauthn import PendingChallenge
from .base import Flow, FlowDataInvalid, FlowKind, FlowOutOfOrder, FlowSpec, JsonObject, PayloadReader
from .email_codes import EmailCode

LIFETIME = 15 * 60


class PortalSignInState(StrEnum):
    PASSWORD = "password"  # user name typed, the password next
    NEW_PASSWORD = "new_password"  # password verified, but it is a one-time password: set a new one first
    MFA = "mfa"  # an MFA code from a registered device next
    EMAIL_CODE = "email_code"  # the mailed verification code next
    DONE = "done"


def directory_user_ref(user_id: str) -> PrincipalRef:
    """`directory-user:<the user's UUID, 22 characters base64url>`: principal keys are stored in 40 characters,
    so the store's part of the ID (`<10 hex>-`, the store's own hex) is left out; whoever resolves the key
    knows the store (the flow's, or the session's account's instance)."""
    _, _, tail = user_id.partition("-")
    try:
        packed = uuid.UUID(tail).bytes
    except ValueError:
        raise FlowOutOfOrder() from None
    return PrincipalRef(PrincipalKind.DIRECTORY_USER, base64.urlsafe_b64encode(packed).decode().rstrip("="))


def user_id_of(ref: PrincipalRef, identity_store_id: str) -> str:
    """The Identity Store user ID a directory user's reference names in `identity_store_id`."""
    if ref.kind != PrincipalKind.DIRECTORY_USER or len(ref.id) != 22:
        raise FlowOutOfOrder()
    try:
        unpacked = uuid.UUID(bytes=base64.urlsafe_b64decode(ref.id + "=="))
    except (ValueError, binascii.Error):
        raise FlowOutOfOrder() from None
    return f"{identity_store_id.removeprefix('d-')}-{unpacked}"


@dataclass(frozen=True)
class PortalSignIn:
    identity_store_id: str
    user_name: str  # as typed (remembered for the pages; never proof of existence)
    principal: PrincipalRef | None = None  # set once the password is verified
    must_change_password: bool = False
    email_code: EmailCode | None = None
    webauthn: PendingChallenge | None = None  # the MFA page's WebAuthn challenge (hashed), spent by an answer

    def verified_principal(self) -> PrincipalRef:
        if self.principal is None:
            raise FlowOutOfOrder()
        return self.principal

    def pending_code(self) -> EmailCode:
        if self.email_code is None:
            raise FlowOutOfOrder()
        return self.email_code


class _Codec:
    def encode(self, payload: PortalSignIn) -> JsonObject:
        return {
            "identity_store_id": payload.identity_store_id,
            "user_name": payload.user_name,
            "principal": payload.principal.key if payload.principal else None,
            "must_change_password": payload.must_change_password,
            "email_code": payload.email_code.encode() if payload.email_code else None,
            "webauthn": dict(payload.webauthn.encode()) if payload.webauthn else None,
        }

    def decode(self, data: PayloadReader) -> PortalSignIn:
        code = data.optional_nested("email_code")
        challenge = data.optional_nested("webauthn")  # absent in flows from before portal WebAuthn
        try:
            webauthn = PendingChallenge.decode(dict(challenge.data)) if challenge else None
        except ValueError:
            raise FlowDataInvalid("unknown WebAuthn challenge") from None
        return PortalSignIn(
            identity_store_id=data.string("identity_store_id"),
            user_name=data.string("user_name"),
            principal=data.optional_principal("principal"),
            must_change_password=data.flag("must_change_password"),
            email_code=EmailCode.decode(code) if code else None,
            webauthn=webauthn,
        )


_S = PortalSignInState

SPEC: FlowSpec[PortalSignInState, PortalSignIn] = FlowSpec(
    kind=FlowKind.PORTAL_SIGNIN,
    states=PortalSignInState,
    initial=_S.PASSWORD,
    done=_S.DONE,
    transitions={
        _S.PASSWORD: frozenset({_S.NEW_PASSWORD, _S.MFA, _S.EMAIL_CODE, _S.DONE}),
        _S.NEW_PASSWORD: frozenset({_S.MFA, _S.EMAIL_CODE, _S.DONE}),
        _S.MFA: frozenset({_S.DONE}),
        _S.EMAIL_CODE: frozenset({_S.DONE}),
    },
    lifetime=LIFETIME,
    codec=_Codec(),
)

PortalSignInFlow = Flow[PortalSignInState, PortalSignIn]


# A mailed link that lets a directory user set a password (an invitation is the first one): an API flow (bound to
# no browser) whose ID is the SHA-256 of the link's token, so the token itself is stored nowhere.
RESET_LIFETIME = 24 * 3600
INVITATION_LIFETIME = 7 * 24 * 3600


class PortalResetState(StrEnum):
    ISSUED = "issued"
    DONE = "done"  # used once


@dataclass(frozen=True)
class PortalReset:
    identity_store_id: str
    user_id: str
    invitation: bool = False


class _ResetCodec:
    def encode(self, payload: PortalReset) -> JsonObject:
        return {"identity_store_id": payload.identity_store_id, "user_id": payload.user_id,
                "invitation": payload.invitation}

    def decode(self, data: PayloadReader) -> PortalReset:
        return PortalReset(data.string("identity_store_id"), data.string("user_id"), data.flag("invitation"))


RESET_SPEC: FlowSpec[PortalResetState, PortalReset] = FlowSpec(
    kind=FlowKind.PORTAL_RESET,
    states=PortalResetState,
    initial=PortalResetState.ISSUED,
    done=PortalResetState.DONE,
    transitions={PortalResetState.ISSUED: frozenset({PortalResetState.DONE})},
    lifetime=RESET_LIFETIME,
    codec=_ResetCodec(),
)

PortalResetFlow = Flow[PortalResetState, PortalReset]
