"""SigV4 authentication for every signed AWS protocol: one verification, one answer (a `Caller`), the same
errors (`InvalidClientTokenId`, `SignatureDoesNotMatch`, `ExpiredToken`, skew) whatever the protocol."""

from __future__ import annotations

from collections.abc import Callable

from ..core import sigv4
from ..observe import note_principal
from ..services.aws_identity import Caller, KeyDirectory


class SigV4Authenticator:
    def __init__(self, keys: KeyDirectory, clock: Callable[[], float]) -> None:
        self.keys = keys
        self.clock = clock

    async def authenticate(self, signed: sigv4.SignedRequest, service: str,
                           parts: sigv4.SignatureParts | None = None) -> Caller:
        """The caller behind a request signed for `service`; a `sigv4.SigV4Error` otherwise."""
        parts = parts or sigv4.parse_authorization(signed)
        record = await self.keys.lookup(parts.access_key_id)
        if record is None or not record.active or not record.token_ok(parts.session_token):
            raise sigv4.InvalidClientTokenId()
        sigv4.verify(signed, parts, record.secret, expected_service=service)
        if record.expires_at is not None and record.expires_at <= self.clock():
            raise sigv4.ExpiredToken()
        await self.keys.note_use(parts.access_key_id, service, parts.region)
        note_principal(record.caller.arn)
        return record.caller
