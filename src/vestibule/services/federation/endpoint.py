"""The federation endpoint for custom identity brokers (AWS's `signin.aws.amazon.com/federation`).

`getSigninToken` trades temporary credentials of a role session (AssumeRole, AssumeRoleWithWebIdentity,
AssumeRoleWithSAML, the access portal's) or of a federated user (GetFederationToken) for a sign-in token:
256 random bits, stored as SHA-256, single use, 15 minutes. `login` spends the token and opens a console session
on those credentials, which never outlives them (docs/federation.md, "The federation endpoint").

Session durations (AWS's rules, and where Vestibule is stricter):
- `SessionDuration` (900-43200 s) only for role sessions; refused for GetFederationToken's credentials, and above
  one hour for a chained role session (a role session assumed with another role session's credentials).
- the console session lasts `SessionDuration`, or without it as long as the credentials, but never past the
  credentials' expiry: Vestibule's console session stands on them and issues none of its own."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ...core import throttle as rules
from ...core.federation_failures import Cause, FederationFailure
from ...core.principals import InvalidPrincipalKey, PrincipalKind, PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...core.tokens import hash_token, new_token
from ...errors import TooManyAttempts, VestibuleError
from ...store.models import FederationSigninToken, TemporaryCredential
from ...store.repositories import UnitOfWork
from .. import audit, metrics
from ..aws_identity import KeyDirectory, KeyRecord
from ..context import Client, Deps
from ..principals import Principal
from ..signin.completion import SignedIn, complete_sign_in
from .failures import record_failure

TOKEN_SECONDS = 900  # AWS: a sign-in token is valid for 15 minutes
SESSION_DURATION_MIN, SESSION_DURATION_MAX = 900, 43200
CHAINED_SESSION_MAX = 3600  # AWS: role chaining limits a session to one hour
FEDERATED_USER_MAX = 129600  # GetFederationToken's longest credentials (36 hours)
_SERVED_KINDS = frozenset({"assumed-role", "federated-user"})
_MAX_SESSION_JSON = 8192
_MAX_ISSUER = 2048


class SigninTokenRefused(VestibuleError):
    """`getSigninToken` refused; `reason`: `malformed` (the request cannot be read), `invalid` (no such live
    credentials: unknown key, wrong secret or token, expired), `unsupported` (long-term keys, GetSessionToken's
    or `vestibule login`'s credentials), `duration` (a SessionDuration these credentials may not ask)."""

    code = "federation_endpoint.refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class DestinationRefused(VestibuleError):
    """`login` names a Destination that is not on this site (checked before the token is spent)."""

    code = "federation_endpoint.destination"


@dataclass(frozen=True)
class SessionCredentials:
    """The `Session` parameter: `{"sessionId": ..., "sessionKey": ..., "sessionToken": ...}`."""

    access_key_id: str
    secret_access_key: str
    session_token: str


def parse_session(text: str) -> SessionCredentials:
    if not text:
        raise SigninTokenRefused("malformed", "The Session parameter is required.")
    if len(text) > _MAX_SESSION_JSON:
        raise SigninTokenRefused("malformed", "The Session parameter is too long.")
    try:
        data = json.loads(text)
    except ValueError:
        raise SigninTokenRefused("malformed", "The Session parameter is not a JSON object.") from None
    if not isinstance(data, dict):
        raise SigninTokenRefused("malformed", "The Session parameter is not a JSON object.")
    values = [data.get(name) for name in ("sessionId", "sessionKey", "sessionToken")]
    if not all(isinstance(v, str) and v for v in values):
        raise SigninTokenRefused("malformed", "The Session parameter needs sessionId, sessionKey and sessionToken "
                                              "(strings).")
    key_id, secret, token = (str(v) for v in values)
    return SessionCredentials(key_id, secret, token)


def parse_session_duration(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise SigninTokenRefused("malformed", "SessionDuration must be a whole number of seconds.")
    seconds = int(text)
    if not SESSION_DURATION_MIN <= seconds <= SESSION_DURATION_MAX:
        raise SigninTokenRefused("malformed", f"SessionDuration must be between {SESSION_DURATION_MIN} and "
                                              f"{SESSION_DURATION_MAX} seconds.")
    return seconds


def destination_path(destination: str, public_origin: str) -> str:
    """The path (and query) to redirect to after `login`: a path of this site, or a URL whose origin is the
    public URL's; DestinationRefused otherwise. No Destination: the console home."""
    if not destination:
        return "/console"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in destination) or "\\" in destination:
        raise DestinationRefused("The Destination is not a URL of this site.")
    if destination.startswith("/") and not destination.startswith("//"):
        return destination
    try:
        parts = urlsplit(destination)
        origin = urlsplit(public_origin)
        same = (parts.scheme.lower(), parts.hostname, parts.port) == (
            origin.scheme.lower(), origin.hostname, origin.port)
    except ValueError:
        raise DestinationRefused("The Destination is not a URL of this site.") from None
    if not same or parts.username is not None or parts.password is not None:
        raise DestinationRefused("The Destination is not a URL of this site.")
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        raise DestinationRefused("The Destination is not a URL of this site.")
    return path + (f"?{parts.query}" if parts.query else "")


def throttle_keys(client: Client) -> list[ThrottleKey]:
    """Wrong credentials and unknown sign-in tokens, counted per client address."""
    return [ThrottleKey(Scope.CODES, f"federation-endpoint:{client.ip}")]


async def _admitted(deps: Deps, client: Client) -> list[ThrottleKey]:
    """The address's budget, checked before and counted only after a wrong request: a broker's server is one
    address whose many concurrent right requests must never wait for each other (a reservation counted before
    the check would). The secrets guessed at are 256-bit tokens and STS keys: a few concurrent wrong guesses
    past the budget gain nothing."""
    keys = throttle_keys(client)
    wait = rules.wait_without_captcha(keys, await deps.throttle.states(keys, deps.clock()), deps.clock())
    metrics.record_throttle("code", "delayed" if wait > 0 else "allowed")
    if wait > 0:
        raise TooManyAttempts(wait)
    return keys


async def _count_wrong(deps: Deps, keys: list[ThrottleKey]) -> None:
    await deps.throttle.reserve(keys, deps.clock(), captcha_solved=False)  # over the budget already: not counted


def _chained(source_principal_key: str) -> bool:
    try:
        return PrincipalRef.parse(source_principal_key).kind is PrincipalKind.ROLE
    except InvalidPrincipalKey:
        return False


async def _live_record(keys: KeyDirectory, key_id: str, now: float) -> KeyRecord | None:
    record = await keys.lookup(key_id)
    if record is None or not record.active or record.expires_at is None or record.expires_at <= now:
        return None
    return record


async def signin_token(deps: Deps, keys: KeyDirectory, client: Client, session: SessionCredentials,
                       session_duration: int | None) -> str:
    """A new sign-in token for `session`'s credentials (see the module's rules); SigninTokenRefused,
    TooManyAttempts while this address has guessed wrong too often."""
    throttled = await _admitted(deps, client)
    now = deps.clock()
    record = await keys.lookup(session.access_key_id[:128])
    if (record is None or not record.active
            or not hmac.compare_digest(record.secret.encode(), session.secret_access_key.encode())
            or (record.expires_at is not None and record.expires_at <= now)
            or (record.token_hash is not None and not record.token_ok(session.session_token))):
        await _count_wrong(deps, throttled)
        async with deps.store.unit() as uow:
            await audit.record(uow, at=now, event="GetSigninToken", result="Failure", client=client,
                               reason="invalid", access_key_id=session.access_key_id[:128])
        raise SigninTokenRefused("invalid", "The credentials in the Session parameter are not valid: unknown, "
                                            "expired, or a wrong secret key or session token.")
    caller = record.caller
    async with deps.store.unit() as uow:
        row = await uow.temp_credentials.get(caller.access_key_id) if caller.temporary else None
        refusal: SigninTokenRefused | None = None
        token = ""
        if row is None or row.kind not in _SERVED_KINDS:
            refusal = SigninTokenRefused("unsupported", "Only the temporary credentials of a role session "
                                                        "(AssumeRole, AssumeRoleWithWebIdentity, AssumeRoleWithSAML) "
                                                        "or of GetFederationToken can sign in to the console, not "
                                                        "long-term access keys or GetSessionToken's credentials.")
        elif row.kind == "federated-user" and session_duration is not None:
            refusal = SigninTokenRefused("duration", "SessionDuration cannot be used with credentials from "
                                                     "GetFederationToken: the console session lasts as long as "
                                                     "they do.")
        elif (session_duration is not None and session_duration > CHAINED_SESSION_MAX
              and _chained(row.source_principal_key)):
            refusal = SigninTokenRefused("duration", "A role session assumed with another role session's "
                                                     f"credentials may ask at most {CHAINED_SESSION_MAX} seconds "
                                                     "of SessionDuration.")
        if refusal is not None:
            await audit.record(uow, at=now, event="GetSigninToken", result="Failure", client=client,
                               account_id=caller.account_id, principal=caller.arn, reason=refusal.reason,
                               access_key_id=caller.access_key_id)
        elif row is not None:
            token = await _new_token(uow, row, session_duration, now)
            await audit.record(uow, at=now, event="GetSigninToken", result="Success", client=client,
                               account_id=caller.account_id, principal=caller.arn,
                               access_key_id=caller.access_key_id, session_duration=session_duration)
    if refusal is not None:
        raise refusal
    return token


async def _new_token(uow: UnitOfWork, row: TemporaryCredential, session_duration: int | None, now: float) -> str:
    seconds = session_duration or (FEDERATED_USER_MAX if row.kind == "federated-user" else SESSION_DURATION_MAX)
    token = new_token()
    await uow.federation_signin_tokens.add(FederationSigninToken(
        token_hash=hash_token(token), credential_id=row.id, session_seconds=seconds, created_at=now,
        expires_at=now + TOKEN_SECONDS, used_at=None))
    return token


class LoginFailed(VestibuleError):
    """`login` refused: the failure (EXPIRED, REPLAYED, MALFORMED) and the reference it was recorded under."""

    code = "federation.failure"

    def __init__(self, failure: FederationFailure, reference: str) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.reference = reference


class _Refused(Exception):
    def __init__(self, failure: FederationFailure, credential_id: str | None) -> None:
        super().__init__(str(failure))
        self.failure, self.credential_id = failure, credential_id


async def login(deps: Deps, keys: KeyDirectory, client: Client, token: str, *, previous_session: str = "",
                issuer: str = "") -> SignedIn:
    """Spend `token` and open a console session on its credentials (method `federation`). LoginFailed for a
    token that is unknown, used or past its 15 minutes, or whose credentials are no longer valid, recorded
    (door `federation-endpoint`, with the credentials' account and ARN when known, `issuer` as the provider);
    TooManyAttempts while this address has guessed wrong too often."""
    try:
        return await _login(deps, keys, client, token, previous_session)
    except _Refused as refused:
        account_id, principal = None, ""
        if refused.credential_id is not None:
            async with deps.store.unit() as uow:
                row = await uow.temp_credentials.get(refused.credential_id)
            if row is not None:
                account_id, principal = row.account_id, row.arn
        reference = await record_failure(deps, client, refused.failure, door="federation-endpoint",
                                         account_id=account_id, provider=issuer[:_MAX_ISSUER], principal=principal)
        raise LoginFailed(refused.failure, reference) from None


async def _login(deps: Deps, keys: KeyDirectory, client: Client, token: str, previous_session: str) -> SignedIn:
    throttled = await _admitted(deps, client)
    now = deps.clock()
    token_hash = hash_token(token) if token and len(token) <= 256 else ""
    async with deps.store.unit() as uow:
        spent = await uow.federation_signin_tokens.spend(token_hash, now) if token_hash else None
        known = (None if spent is not None or not token_hash
                 else await uow.federation_signin_tokens.get(token_hash))
    if spent is None:
        if known is None:
            await _count_wrong(deps, throttled)
            raise _Refused(FederationFailure(Cause.MALFORMED, "no such sign-in token",
                                             admin={"token": "unknown (not issued here, or purged)"}), None)
        if known.used_at is not None:
            raise _Refused(FederationFailure(Cause.REPLAYED, "sign-in token used before",
                                             admin={"credential": known.credential_id,
                                                    "used_at": _utc(known.used_at)}), known.credential_id)
        raise _Refused(FederationFailure(Cause.EXPIRED, "sign-in token past its 15 minutes",
                                         admin={"credential": known.credential_id,
                                                "expired_at": _utc(known.expires_at)}), known.credential_id)
    record = await _live_record(keys, spent.credential_id, now)
    if record is None or record.caller.kind not in _SERVED_KINDS or record.expires_at is None:
        raise _Refused(FederationFailure(Cause.EXPIRED, "the sign-in token's credentials expired or were revoked",
                                         admin={"credential": spent.credential_id}), spent.credential_id)
    caller = record.caller
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(caller.account_id)
    if account is None:
        raise _Refused(FederationFailure(Cause.EXPIRED, "the credentials' account is gone",
                                         admin={"credential": spent.credential_id}), spent.credential_id)
    shown = (caller.arn.partition(":assumed-role/")[2] if caller.kind == "assumed-role"
             else caller.arn.rpartition(":")[2])
    principal = Principal(PrincipalRef.role(caller.access_key_id), account.id, account.name, account.alias, shown,
                          caller.arn)
    lifetime = max(1, int(min(spent.session_seconds, record.expires_at - now)))
    return await complete_sign_in(deps.session_ports, principal=principal, client=client, method="federation",
                                  mfa_used=caller.mfa_authenticated, previous_session=previous_session,
                                  lifetime=lifetime)


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
