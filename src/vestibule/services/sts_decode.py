"""DecodeAuthorizationMessage: the failure document behind an AccessDenied's encoded message, for principals
allowed `sts:DecodeAuthorizationMessage` in the account whose request was denied; each reading is audited."""

from __future__ import annotations

import json

from ..errors import PermissionDenied
from . import authorization_messages
from .api_call import ApiCall


async def decode_authorization_message(call: ApiCall, encoded: str) -> str:
    caller = call.caller
    if caller.kind == "federated-user" or caller.session_credentials:
        # AWS: GetFederationToken and GetSessionToken credentials call no STS operation but a few
        raise PermissionDenied("Cannot call DecodeAuthorizationMessage with session credentials")
    async with call.unit() as uow:
        await call.authorize(uow, "*")
    decoded = authorization_messages.decode(call.deps.box, encoded, caller.account_id)
    async with call.unit() as uow:  # who read which failure (the readable part of it)
        await call.record(uow, denied_action=_field(decoded, "action"), denied_resource=_field(decoded, "resource"))
    return decoded


def _field(decoded: str, name: str) -> str | None:
    value = json.loads(decoded).get("context", {}).get(name)
    return str(value)[:256] if value is not None else None
