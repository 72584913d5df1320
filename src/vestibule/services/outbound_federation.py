"""Outbound web identity federation: IAM's Enable/Disable/GetOutboundWebIdentityFederationInfo turn JWT vending on
and off for an account, STS's GetWebIdentityToken vends JWTs naming the caller, and the account's issuer URL
(`<public URL>/outbound-federation/<issuer ID>`) serves the OpenID Connect discovery document and the JWKS that
external services verify them with. Each account has its own keys (RS256 and ES384), made when it first enables
the feature and kept while it is off, so tokens issued before still verify."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass

from ..core import arns, jws
from ..errors import InvalidValue, OutboundFederationState, SessionDurationEscalation, TokenPayloadTooLarge
from ..store.models import OutboundWebIdentity
from ..store.repositories import Conflict, UnitOfWork
from . import authorization
from .api_call import ApiCall
from .context import Deps

ISSUER_PATH = "/outbound-federation/"
NAMESPACE = "https://sts.amazonaws.com/"
DEFAULT_DURATION = 300
MAX_PAYLOAD_BYTES = 8192  # the claims as JSON; past this GetWebIdentityToken answers JWTPayloadSizeExceeded
_ENABLED = "Outbound identity federation is already enabled for this account; GetOutboundWebIdentityFederationInfo " \
           "returns its issuer URL."
_DISABLED = "Outbound identity federation is already disabled for this account."
_NEVER = "Outbound identity federation has never been enabled for this account."
_VENDING_OFF = ("Outbound identity federation is not enabled for this account: enable it with IAM's "
                "EnableOutboundWebIdentityFederation.")


def issuer_url(deps: Deps, issuer_id: str) -> str:
    return f"{deps.settings.public_origin}{ISSUER_PATH}{issuer_id}"


def _context(account_id: str, algorithm: str) -> str:
    return f"outbound-federation:{account_id}:{algorithm}"


def _signing_key(deps: Deps, row: OutboundWebIdentity, algorithm: jws.Algorithm) -> tuple[jws.SigningKey, str]:
    sealed, kid = (row.rsa_key_sealed, row.rsa_kid) if algorithm == "RS256" else (row.ec_key_sealed, row.ec_kid)
    return jws.from_pem(deps.box.open(sealed, _context(row.account_id, algorithm)), algorithm), kid


async def _new_row(deps: Deps, account_id: str, now: float) -> OutboundWebIdentity:
    rsa_key, ec_key = await asyncio.to_thread(lambda: (jws.new_key("RS256"), jws.new_key("ES384")))
    return OutboundWebIdentity(
        account_id=account_id, issuer_id=str(uuid.uuid4()), enabled=True,
        rsa_kid=jws.key_id(rsa_key), rsa_key_sealed=deps.box.seal(jws.to_pem(rsa_key), _context(account_id, "RS256")),
        ec_kid=jws.key_id(ec_key), ec_key_sealed=deps.box.seal(jws.to_pem(ec_key), _context(account_id, "ES384")),
        created_at=now)


# ---- IAM: the account's setting ---------------------------------------------------------------------------------

async def enable(call: ApiCall) -> str:
    """The issuer URL; FeatureEnabled when it is on already. Enabled again after Disable, the issuer and keys
    are the ones it had."""
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        existing = await uow.outbound_web_identities.of_account(call.account_id)
    # the keys are made outside any transaction (RSA key generation takes a moment)
    fresh = await _new_row(call.deps, call.account_id, call.now()) if existing is None else None
    async with call.unit() as uow:
        row = await uow.outbound_web_identities.of_account(call.account_id, lock=True)
        if row is not None and row.enabled:
            raise OutboundFederationState(True, _ENABLED)
        if row is None:
            row = fresh or await _new_row(call.deps, call.account_id, call.now())
            try:
                await uow.outbound_web_identities.add(row)
            except Conflict:  # enabled by a concurrent call
                raise OutboundFederationState(True, _ENABLED) from None
        row.enabled = True
        await call.record(uow, issuer=issuer_url(call.deps, row.issuer_id))
        return issuer_url(call.deps, row.issuer_id)


async def disable(call: ApiCall) -> None:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        row = await uow.outbound_web_identities.of_account(call.account_id, lock=True)
        if row is None or not row.enabled:
            raise OutboundFederationState(False, _DISABLED)
        row.enabled = False
        await call.record(uow, issuer=issuer_url(call.deps, row.issuer_id))


async def info(call: ApiCall) -> tuple[str, bool]:
    """(issuer URL, whether JWT vending is on); FeatureDisabled for an account that never enabled it."""
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        row = await uow.outbound_web_identities.of_account(call.account_id)
    if row is None:
        raise OutboundFederationState(False, _NEVER)
    return issuer_url(call.deps, row.issuer_id), row.enabled


# ---- STS: the tokens -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenRequest:
    audiences: tuple[str, ...]
    algorithm: str
    duration: int | None = None
    scope: str | None = None
    subject_mode: str | None = None
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WebIdentityToken:
    token: str
    expires_at: float


def _checked(request: TokenRequest) -> jws.Algorithm:
    if request.algorithm not in jws.ALGORITHMS:
        raise InvalidValue(f"1 validation error detected: Value '{request.algorithm[:16]}' at 'signingAlgorithm' "
                           "failed to satisfy constraint: Member must satisfy enum value set: [RS256, ES384]")
    for audience in request.audiences:
        if not 1 <= len(audience) <= 1000:
            raise InvalidValue("1 validation error detected: Value at 'audience' failed to satisfy constraint: "
                               "Member must have length between 1 and 1000")
    if request.subject_mode == "OriginIdentity":
        raise InvalidValue("SubjectMode OriginIdentity needs a trusted identity propagation context "
                           "(aws:OriginIdentity/Subject) in the calling session, which sessions here never have.")
    if request.scope is not None:
        raise InvalidValue("Scope can be given only when SubjectMode is OriginIdentity and one Audience is requested.")
    keys = [key.lower() for key, _ in request.tags]
    if len(set(keys)) != len(keys):
        raise InvalidValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    return "RS256" if request.algorithm == "RS256" else "ES384"


async def _subject_arn(call: ApiCall, uow: UnitOfWork) -> str:
    """The caller's ARN, or for a role session the role's (with its path)."""
    caller = call.caller
    if caller.kind == "assumed-role" and caller.role_id is not None:
        role = await uow.roles.get(caller.role_id)
        if role is not None:
            return arns.role_arn(role.account_id, role.name, role.path)
        return arns.role_of_session(caller.arn)
    return caller.arn


async def get_web_identity_token(call: ApiCall, request: TokenRequest) -> WebIdentityToken:
    algorithm = _checked(request)
    caller = call.caller
    duration = request.duration or DEFAULT_DURATION
    async with call.unit() as uow:
        await call.authorize(uow, "*", context={
            "sts:IdentityTokenAudience": list(request.audiences), "sts:DurationSeconds": str(duration),
            "sts:SigningAlgorithm": algorithm, "sts:SubjectMode": request.subject_mode or "AWSIdentity"})
        row = await uow.outbound_web_identities.of_account(caller.account_id)
        if row is None or not row.enabled:
            raise OutboundFederationState(False, _VENDING_OFF, vending=True)
        now = call.now()
        expires = now + duration
        if caller.temporary:
            credentials = await uow.temp_credentials.get(caller.access_key_id)
            if credentials is not None and expires > credentials.expires_at:
                raise SessionDurationEscalation(
                    f"The requested DurationSeconds ({duration}) would let the token outlive the calling session, "
                    f"which expires in {max(0, int(credentials.expires_at - now))} seconds.")
        subject = await _subject_arn(call, uow)
        aws: dict[str, object] = {"aws_account": caller.account_id, "principal_id": subject}
        if call.region:
            aws["source_region"] = call.region
        principal_tags = dict(await authorization.principal_tags(uow, caller))  # session tags over stored ones
        if principal_tags:
            aws["principal_tags"] = principal_tags
        if request.tags:
            aws["request_tags"] = dict(request.tags)
        if caller.source_identity:
            aws["source_identity"] = caller.source_identity
        jti = str(uuid.uuid4())
        claims: dict[str, object] = {
            "iss": issuer_url(call.deps, row.issuer_id),
            "aud": request.audiences[0] if len(request.audiences) == 1 else list(request.audiences),
            "sub": subject, "iat": int(now), "nbf": int(now), "exp": int(expires), "jti": jti, NAMESPACE: aws}
        size = len(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise TokenPayloadTooLarge(f"The token's claims take {size} bytes, more than the {MAX_PAYLOAD_BYTES} "
                                       "allowed: send fewer or shorter Tags.")
        key, kid = _signing_key(call.deps, row, algorithm)
        token = jws.sign(claims, key, algorithm, kid)
        await call.record(uow, audience=",".join(request.audiences)[:512], algorithm=algorithm, jti=jti,
                          expires_in=duration)
    return WebIdentityToken(token, float(int(expires)))


# ---- the issuer's public documents ------------------------------------------------------------------------------

async def _issuer_row(deps: Deps, issuer_id: str) -> OutboundWebIdentity | None:
    async with deps.store.unit() as uow:
        return await uow.outbound_web_identities.by_issuer(issuer_id)


async def discovery_document(deps: Deps, issuer_id: str) -> dict[str, object] | None:
    """OpenID Connect discovery (`/.well-known/openid-configuration`) of an issuer; None for an unknown one."""
    row = await _issuer_row(deps, issuer_id)
    if row is None:
        return None
    issuer = issuer_url(deps, row.issuer_id)
    return {"issuer": issuer, "jwks_uri": f"{issuer}/.well-known/jwks.json", "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": list(jws.ALGORITHMS),
            "claims_supported": ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", NAMESPACE]}


async def key_set(deps: Deps, issuer_id: str) -> dict[str, object] | None:
    """The issuer's JWKS (`/.well-known/jwks.json`): the public keys of both algorithms."""
    row = await _issuer_row(deps, issuer_id)
    if row is None:
        return None
    keys = []
    for algorithm in jws.ALGORITHMS:
        key, kid = _signing_key(deps, row, algorithm)
        keys.append(jws.public_jwk(key, algorithm, kid))
    return {"keys": keys}
