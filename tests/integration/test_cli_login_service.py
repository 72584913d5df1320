"""`vestibule login` use cases against the store (SQLite, or PostgreSQL + Redis with VESTIBULE_TEST_DATABASE_URL
and VESTIBULE_TEST_REDIS_URL): the authorization request and decision, the code grant with PKCE and DPoP, refresh
rotation and reuse, the user checked again at each refresh, the issued credentials as the user itself, their end
with the login session (in this process and, through the bus, on another node), ListSessions / GetSession /
BatchRevokeSessions, the security page's sessions, the janitor."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from sqlalchemy.engine import Connection

from dpop_proofs import TOKEN_URL, DpopKey, b64url
from http_steps import Clock, make_account, make_user, use_clock
from support import CHEAP_HASH, LiveServer, add_session, on_live_server, reachable_redis_url
from vestibule.core import oauth
from vestibule.core.oauth import ExpiredToken, InvalidClient, InvalidGrant, InvalidRedirectUri, InvalidRequest
from vestibule.core.passwords import PasswordHasher
from vestibule.core.principals import PrincipalRef
from vestibule.core.throttle import RULES, Scope
from vestibule.core.tokens import new_token
from vestibule.errors import InvalidInput, PermissionDenied, TooManyAttempts
from vestibule.runtime import Runtime, build
from vestibule.services import accounts, aws_identity, cli_login, iam_users, janitor, sessions, signin_sessions
from vestibule.services.api_call import ApiCall
from vestibule.services.aws_identity import Caller, KeyDirectory
from vestibule.services.cli_login import LoginRefused, LoginTokens
from vestibule.services.context import Client, Deps
from vestibule.services.mail import DevMailbox
from vestibule.services.sessions import SignedInSession
from vestibule.services.signin_sessions import SessionInfo, SessionNotFound
from vestibule.settings import Settings

CLI = Client(ip="198.51.100.4", user_agent="aws-cli/2 vestibule-login")
BROWSER = Client(ip="203.0.113.9", user_agent="Chromium")
CALLBACK = "http://127.0.0.1:43111/oauth/callback"
ALLOW_CLI = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"], "Resource": "*"}]})


@dataclass
class Login:
    """One `vestibule login`: its request, key and the tokens last received."""

    verifier: str
    key: DpopKey
    tokens: LoginTokens
    client_id: str = cli_login.SAME_DEVICE


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    account_id: str

    @property
    def deps(self) -> Deps:
        return self.runtime.deps

    async def console(self, user: str | None = "alice", *, mfa: bool = False,
                      lifetime: int = 8 * 3600) -> tuple[SignedInSession, str]:
        """A console session of the root (user None) or an IAM user, and its cookie token."""
        async with self.deps.store.unit() as uow:
            account = await accounts.require(uow, self.account_id)
            principal = await uow.users.by_name(account.id, user) if user else None
            ref = PrincipalRef.parse(f"user:{principal.id}" if principal else f"root:{account.id}")
            token = await add_session(self.deps, uow, ref, account.id, BROWSER, now=self.clock(), lifetime=lifetime,
                                      mfa=mfa)
        signed_in = await sessions.signed_in(self.deps.session_ports, token)
        assert signed_in is not None
        return signed_in, token

    async def allow(self, user: str = "alice", document: str = ALLOW_CLI) -> None:
        async with self.deps.store.unit() as uow:
            found = await uow.users.by_name(self.account_id, user)
            assert found is not None
            await uow.policies.put_inline(self.account_id, "user", found.id, "cli-login", document)

    async def request(self, client_id: str = cli_login.SAME_DEVICE, redirect_uri: str = CALLBACK,
                      verifier: str | None = None) -> tuple[cli_login.LoginRequest, str]:
        verifier = verifier or b64url(uuid.uuid4().bytes * 3)
        request = await cli_login.begin(self.deps, CLI, response_type="code", client_id=client_id,
                                        redirect_uri=redirect_uri, state="st-1",
                                        code_challenge=oauth.s256_challenge(verifier), code_challenge_method="SHA-256")
        return request, verifier

    async def code(self, signed_in: SignedInSession, client_id: str = cli_login.SAME_DEVICE
                   ) -> tuple[str, str, str]:
        """A request allowed by `signed_in`: (code, verifier, redirect URI)."""
        redirect = (CALLBACK if client_id == cli_login.SAME_DEVICE
                    else self.deps.settings.public_origin + cli_login.CROSS_DEVICE_REDIRECT_PATH)
        request, verifier = await self.request(client_id, redirect)
        decision = await cli_login.decide(self.deps, BROWSER, signed_in, request.id, True)
        if client_id == cli_login.CROSS_DEVICE:
            assert decision.redirect_to is None and decision.code
            return decision.code, verifier, redirect
        assert decision.redirect_to is not None and decision.code is None
        query = parse_qs(urlsplit(decision.redirect_to).query)
        assert query["state"] == ["st-1"]
        return query["code"][0], verifier, redirect

    async def exchange(self, code: str, verifier: str, key: DpopKey, redirect: str = CALLBACK,
                       client_id: str = cli_login.SAME_DEVICE, proof: str | None = None,
                       client: Client = CLI) -> LoginTokens:
        return await cli_login.create_token(
            self.deps, client, client_id=client_id, grant_type="authorization_code", code=code, redirect_uri=redirect,
            code_verifier=verifier, refresh_token=None, dpop=proof or key.proof(iat=int(self.clock())),
            urls=[TOKEN_URL])

    async def login(self, signed_in: SignedInSession) -> Login:
        code, verifier, redirect = await self.code(signed_in)
        key = DpopKey()
        return Login(verifier, key, await self.exchange(code, verifier, key, redirect))

    async def refresh(self, login: Login, *, token: str | None = None, key: DpopKey | None = None,
                      proof: str | None = None, client: Client = CLI) -> LoginTokens:
        tokens = await cli_login.create_token(
            self.deps, client, client_id=login.client_id, grant_type="refresh_token", code=None, redirect_uri=None,
            code_verifier=None, refresh_token=token or login.tokens.refresh_token,
            dpop=proof or (key or login.key).proof(iat=int(self.clock())), urls=[TOKEN_URL])
        if token is None and key is None and proof is None:
            login.tokens = tokens
        return tokens

    async def caller(self, user: str | None = None) -> Caller:
        key = f"root:{self.account_id}"
        if user:
            async with self.deps.store.unit() as uow:
                found = await uow.users.by_name(self.account_id, user)
                assert found is not None
                key = f"user:{found.id}"
        async with self.deps.store.unit() as uow:
            caller = await aws_identity.caller_for_principal(uow, key, "AKIATESTCALLER000000")
        assert caller is not None
        return caller

    def call(self, caller: Caller, operation: str) -> ApiCall:
        return ApiCall(self.deps, caller, "signin", f"signin:{operation}", operation, source_ip=CLI.ip,
                       user_agent=CLI.user_agent)


@pytest.fixture
async def world(runtime: Runtime) -> World:
    clock = use_clock(runtime, time.time())
    account_id = await make_account(runtime, alias="cli-login")
    await make_user(runtime, account_id, "alice")
    await make_user(runtime, account_id, "bob")
    return World(runtime, clock, account_id)


async def _refusal(pending: Awaitable[object]) -> LoginRefused:
    with pytest.raises(LoginRefused) as caught:
        await pending
    return caught.value


# ---- the code grant ------------------------------------------------------------------------------


async def test_a_root_login_gives_credentials_of_the_root_and_a_refresh_token(world: World) -> None:
    signed_in, _ = await world.console(None, mfa=True)
    login = await world.login(signed_in)
    tokens = login.tokens
    assert tokens.principal_arn == f"arn:aws:iam::{world.account_id}:root"
    assert tokens.account_id == world.account_id and tokens.access_key_id.startswith("ASIA")
    assert tokens.expires_in == cli_login.ACCESS_LIFETIME and tokens.refresh_token
    assert tokens.session_arn.startswith(f"arn:aws:signin::{world.account_id}:session/")
    record = await KeyDirectory(world.deps).lookup(tokens.access_key_id)
    assert record is not None and record.token_ok(tokens.session_token)
    assert record.caller.arn == tokens.principal_arn and record.caller.is_root and record.caller.temporary
    assert not record.caller.session_credentials and record.caller.mfa_authenticated


async def test_an_iam_user_needs_an_allow_and_gets_credentials_of_itself(world: World) -> None:
    signed_in, _ = await world.console("alice")
    request, _ = await world.request()
    with pytest.raises(PermissionDenied) as denied:
        await cli_login.decide(world.deps, BROWSER, signed_in, request.id, True)
    assert "signin:AuthorizeOAuth2Access" in str(denied.value)
    await world.allow()
    login = await world.login(signed_in)
    assert login.tokens.principal_arn == f"arn:aws:iam::{world.account_id}:user/alice"
    record = await KeyDirectory(world.deps).lookup(login.tokens.access_key_id)
    assert record is not None and record.caller.kind == "user" and record.caller.user_name == "alice"
    assert not record.caller.session_credentials and not record.caller.mfa_authenticated


async def test_refresh_rotates_and_stays_bound_to_the_key(world: World) -> None:
    signed_in, _ = await world.console(None)
    login = await world.login(signed_in)
    first = login.tokens
    world.clock.advance(600)
    second = await world.refresh(login)
    assert second.refresh_token != first.refresh_token and second.access_key_id != first.access_key_id
    assert second.session_arn == first.session_arn
    world.clock.advance(1)
    stranger = await _refusal(world.refresh(login, key=DpopKey()))
    assert stranger.reason == "invalid_request" and "key this login is bound to" in stranger.message
    third = await world.refresh(login)  # the stranger's proof neither rotated nor ended anything
    assert third.refresh_token != second.refresh_token


async def test_the_request_is_checked_before_anything_is_stored(world: World) -> None:
    async def begin(**changes: str) -> cli_login.LoginRequest:
        fields = dict(response_type="code", client_id=cli_login.SAME_DEVICE, redirect_uri=CALLBACK, state="s",
                      code_challenge=oauth.s256_challenge("v" * 43), code_challenge_method="SHA-256") | changes
        return await cli_login.begin(world.deps, CLI, **fields)

    with pytest.raises(InvalidClient):
        await begin(client_id="arn:aws:signin:::devtools/other")
    for uri in ("https://127.0.0.1/cb", "http://evil.example/cb", "http://127.0.0.2/cb", "http://user@127.0.0.1/",
                "http://127.0.0.1/cb#f", "http://127.0.0.1/c\x00b"):
        with pytest.raises(InvalidRedirectUri):
            await begin(redirect_uri=uri)
    with pytest.raises(InvalidRedirectUri):  # cross device: only this server's code page
        await begin(client_id=cli_login.CROSS_DEVICE, redirect_uri=CALLBACK)
    with pytest.raises(InvalidRequest):
        await begin(response_type="token")
    with pytest.raises(InvalidRequest):
        await begin(code_challenge_method="plain")
    with pytest.raises(InvalidRequest):
        await begin(code_challenge="short")
    with pytest.raises(InvalidRequest):
        await begin(state="a\x00b")
    assert (await begin(code_challenge_method="S256")).cross_device is False
    cross = await begin(client_id=cli_login.CROSS_DEVICE,
                        redirect_uri=world.deps.settings.public_origin + cli_login.CROSS_DEVICE_REDIRECT_PATH)
    assert cross.cross_device and (await cli_login.pending(world.deps, cross.id)) == cross
    world.clock.advance(cli_login.REQUEST_LIFETIME)
    with pytest.raises(ExpiredToken):
        await cli_login.pending(world.deps, cross.id)
    with pytest.raises(InvalidGrant):
        await cli_login.pending(world.deps, "no-such-request")


async def test_deny_and_single_decisions(world: World) -> None:
    signed_in, _ = await world.console(None)
    request, _ = await world.request()
    denied = await cli_login.decide(world.deps, BROWSER, signed_in, request.id, False)
    assert not denied.allowed and denied.code is None and denied.redirect_to is not None
    assert parse_qs(urlsplit(denied.redirect_to).query)["error"] == ["access_denied"]
    with pytest.raises(InvalidGrant):
        await cli_login.decide(world.deps, BROWSER, signed_in, request.id, True)
    cross = await world.code(signed_in, cli_login.CROSS_DEVICE)
    tokens = await world.exchange(cross[0], cross[1], DpopKey(), cross[2], client_id=cli_login.CROSS_DEVICE)
    assert tokens.principal_arn.endswith(":root")


async def test_a_code_used_twice_ends_the_login_it_gave(world: World) -> None:
    signed_in, _ = await world.console(None)
    code, verifier, redirect = await world.code(signed_in)
    key = DpopKey()
    tokens = await world.exchange(code, verifier, key, redirect)
    directory = KeyDirectory(world.deps)
    assert await directory.lookup(tokens.access_key_id) is not None
    again = await _refusal(world.exchange(code, verifier, key, redirect))
    assert again.reason == "invalid_grant" and "already used" in again.message
    assert await directory.lookup(tokens.access_key_id) is None  # forgotten at once, through the bus
    refused = await _refusal(world.refresh(Login(verifier, key, tokens)))
    assert refused.reason == "USER_CREDENTIALS_CHANGED"


async def test_a_code_redeemed_twice_at_once_ends_the_winners_login(world: World) -> None:
    """Two exchanges of one code at the same moment: one wins the claim, the other (which read the code as still
    allowed) loses it; that is a reuse like any other, so the winner's login is ended too (on PostgreSQL the
    loser's claim waits for the winner's row lock, then reads the session it made). Before, the loser only
    answered "already used" and the winner's login lived on."""
    signed_in, _ = await world.console(None)
    directory = KeyDirectory(world.deps)
    for _ in range(6):
        code, verifier, redirect = await world.code(signed_in)
        first, second = DpopKey(), DpopKey()
        got = await asyncio.gather(world.exchange(code, verifier, first, redirect),
                                   world.exchange(code, verifier, second, redirect), return_exceptions=True)
        won = [(g, key) for g, key in zip(got, (first, second), strict=True) if isinstance(g, LoginTokens)]
        lost = [g for g in got if isinstance(g, LoginRefused)]
        assert len(won) == 1 and len(lost) == 1, got
        assert lost[0].reason == "invalid_grant" and "login it gave is ended" in lost[0].message
        tokens, key = won[0]
        assert await directory.lookup(tokens.access_key_id) is None
        refused = await _refusal(world.refresh(Login(verifier, key, tokens)))
        assert refused.reason == "USER_CREDENTIALS_CHANGED"
    async with world.deps.store.unit() as uow:
        events = [e for e in await uow.audit.for_account(world.account_id)
                  if e.event == "CreateOAuth2Token" and e.result == "Failure"
                  and e.detail.get("detail") == "authorization code reused"]
    assert len(events) == 6 and all(e.detail.get("login_ended") is True for e in events)


async def test_a_wrong_verifier_or_redirect_uri_burns_the_code(world: World) -> None:
    signed_in, _ = await world.console(None)
    for wrong in ("verifier", "redirect"):
        code, verifier, redirect = await world.code(signed_in)
        bad_verifier = "w" * 43 if wrong == "verifier" else verifier
        bad_redirect = "http://127.0.0.1:9/other" if wrong == "redirect" else redirect
        refused = await _refusal(world.exchange(code, bad_verifier, DpopKey(), bad_redirect))
        assert refused.reason == "invalid_grant" and "does not match" in refused.message
        burnt = await _refusal(world.exchange(code, verifier, DpopKey(), redirect))
        assert burnt.reason == "invalid_grant"


async def test_an_expired_code_and_a_client_mismatch(world: World) -> None:
    signed_in, _ = await world.console(None)
    code, verifier, redirect = await world.code(signed_in)
    other = await _refusal(world.exchange(code, verifier, DpopKey(), redirect, client_id=cli_login.CROSS_DEVICE))
    assert other.reason == "invalid_grant"
    unknown = await _refusal(world.exchange(code, verifier, DpopKey(), redirect, client_id="someone"))
    assert unknown.reason == "invalid_client"
    world.clock.advance(cli_login.CODE_LIFETIME)
    expired = await _refusal(world.exchange(code, verifier, DpopKey(), redirect))
    assert expired.reason == "AUTHCODE_EXPIRED"


async def test_dpop_proofs_refused_at_the_token_endpoint(world: World) -> None:
    signed_in, _ = await world.console(None)
    code, verifier, redirect = await world.code(signed_in)
    key = DpopKey()
    now = int(world.clock())
    for proof, words in ((None, "required"), ("not.a.proof", "JWS"),
                         (key.proof("http://testserver/v1/other", iat=now), "URL"),
                         (key.proof(iat=now, htm="GET"), "method"),
                         (key.proof(iat=now - 301), "too old"), (key.proof(iat=now + 61), "future")):
        refused = await _refusal(cli_login.create_token(
            world.deps, CLI, client_id=cli_login.SAME_DEVICE, grant_type="authorization_code", code=code,
            redirect_uri=redirect, code_verifier=verifier, refresh_token=None, dpop=proof, urls=[TOKEN_URL]))
        assert refused.reason == "invalid_request" and words in refused.message, (words, refused.message)
    for x in ("A", "AAAAA", "A" * 45, "AA=="):  # malformed base64url in the jwk: a refusal, never a 500
        header, payload, signature = key.proof(iat=now).split(".")
        jwk = json.loads(base64.urlsafe_b64decode(header + "==="))["jwk"]
        bad = b64url(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": {**jwk, "x": x}}).encode())
        refused = await _refusal(cli_login.create_token(
            world.deps, CLI, client_id=cli_login.SAME_DEVICE, grant_type="authorization_code", code=code,
            redirect_uri=redirect, code_verifier=verifier, refresh_token=None, dpop=f"{bad}.{payload}.{signature}",
            urls=[TOKEN_URL]))
        assert refused.reason == "invalid_request" and "base64url" in refused.message
    proof = key.proof(iat=now)
    login = Login(verifier, key, await world.exchange(code, verifier, key, redirect, proof=proof))
    replayed = await _refusal(world.refresh(login, proof=proof))  # the very proof again, on a refresh
    assert replayed.reason == "invalid_request" and "already used" in replayed.message
    await world.refresh(login)  # nothing rotated by the refusals


async def test_refresh_token_reuse_inside_and_after_the_grace(world: World) -> None:
    signed_in, _ = await world.console(None)
    login = await world.login(signed_in)
    old = login.tokens
    await world.refresh(login)
    world.clock.advance(oauth.REFRESH_REUSE_GRACE - 5)
    raced = await _refusal(world.refresh(login, token=old.refresh_token))
    assert raced.reason == "invalid_grant" and "just used" in raced.message
    directory = KeyDirectory(world.deps)
    assert await directory.lookup(login.tokens.access_key_id) is not None
    world.clock.advance(10)
    reused = await _refusal(world.refresh(login, token=old.refresh_token))
    assert reused.reason == "USER_CREDENTIALS_CHANGED" and "already used" in reused.message
    assert await directory.lookup(login.tokens.access_key_id) is None
    after = await _refusal(world.refresh(login))  # the newest token dies with the session
    assert after.reason == "USER_CREDENTIALS_CHANGED"
    unknown = await _refusal(world.refresh(login, token="no-such-token"))
    assert unknown.reason == "invalid_grant"


async def test_credentials_never_outlive_the_console_session_and_the_end_is_token_expired(world: World) -> None:
    signed_in, _ = await world.console(None, lifetime=1200)
    login = await world.login(signed_in)
    assert login.tokens.expires_in == cli_login.ACCESS_LIFETIME
    world.clock.advance(800)
    refreshed = await world.refresh(login)
    assert refreshed.expires_in == 400  # the rest of the console session, not 900
    record = await KeyDirectory(world.deps).lookup(refreshed.access_key_id)
    assert record is not None and record.expires_at == pytest.approx(world.clock() + 400)
    world.clock.advance(400)
    ended = await _refusal(world.refresh(login))
    assert ended.reason == "TOKEN_EXPIRED"


async def test_each_refresh_checks_the_user_again(world: World) -> None:
    signed_in, _ = await world.console("alice")
    await world.allow()
    login = await world.login(signed_in)
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "signin:CreateOAuth2Token", "Resource": "*"}]})
    async with world.deps.store.unit() as uow:
        alice = await uow.users.by_name(world.account_id, "alice")
        assert alice is not None
        await uow.policies.put_inline(world.account_id, "user", alice.id, "no-cli", deny)
    world.clock.advance(1)
    refused = await _refusal(world.refresh(login))
    assert refused.reason == "INSUFFICIENT_PERMISSIONS" and "signin:CreateOAuth2Token" in refused.message
    async with world.deps.store.unit() as uow:
        row = await uow.policies.get_inline("user", alice.id, "no-cli")
        assert row is not None
        await uow.policies.delete_inline(row)
    world.clock.advance(1)
    await world.refresh(login)  # a refusal by policy ended nothing
    async with world.deps.store.unit() as uow:  # an administrator sets a new password: every session ends
        account = await accounts.require(uow, world.account_id)
        user = await uow.users.by_name(world.account_id, "alice")
        assert user is not None
        await iam_users.set_password(world.deps, uow, account, user, "a new password 2", False)
    world.clock.advance(1)
    changed = await _refusal(world.refresh(login))
    assert changed.reason == "USER_CREDENTIALS_CHANGED"
    assert await KeyDirectory(world.deps).lookup(login.tokens.access_key_id) is None


async def test_a_closed_account_or_deleted_user_refuses_the_refresh(world: World) -> None:
    signed_in, _ = await world.console("bob")
    await world.allow("bob")
    login = await world.login(signed_in)
    async with world.deps.store.unit() as uow:  # the user row goes (as DeleteUser does, after its checks)
        bob = await uow.users.by_name(world.account_id, "bob")
        assert bob is not None
        await uow.policies.delete_all_inline("user", bob.id)
        await uow.db.delete(bob)
    world.clock.advance(1)
    assert await KeyDirectory(world.deps).lookup(login.tokens.access_key_id) is None
    gone = await _refusal(world.refresh(login))
    assert gone.reason == "USER_CREDENTIALS_CHANGED"
    root, _ = await world.console(None)
    root_login = await world.login(root)
    async with world.deps.store.unit() as uow:
        account = await accounts.require(uow, world.account_id)
        account.status = "closed"
    world.clock.advance(1)
    closed = await _refusal(world.refresh(root_login))
    assert closed.reason == "USER_CREDENTIALS_CHANGED"


async def test_mfa_removal_ends_login_sessions_but_not_console_ones(world: World) -> None:
    signed_in, token = await world.console(None)
    login = await world.login(signed_in)
    async with world.deps.store.unit() as uow:
        account = await accounts.require(uow, world.account_id)
        from vestibule.store.models import MfaDevice

        await uow.mfa.add(MfaDevice(account_id=account.id, principal_key=f"root:{account.id}", name="phone",
                                    serial=f"arn:aws:iam::{account.id}:mfa/root-phone", secret_sealed="x",
                                    enabled_at=world.clock(), created_at=world.clock()))
    async with world.deps.store.unit() as uow:
        account = await accounts.require(uow, world.account_id)
        assert await iam_users.deactivate_mfa(world.deps, uow, account, None, None) == 1
    refused = await _refusal(world.refresh(login))
    assert refused.reason == "USER_CREDENTIALS_CHANGED"
    assert await sessions.signed_in(world.deps.session_ports, token) is not None


async def test_the_console_cookie_check_refuses_login_sessions(world: World) -> None:
    signed_in, _ = await world.console(None)
    await world.login(signed_in)
    async with world.deps.store.unit() as uow:  # give the login session a known token, as an attacker would want
        rows = await uow.sessions.live_for(f"root:{world.account_id}", world.clock())
        cli_row = next(row for row, login in rows if login is not None)
        known = "known-token"
        from vestibule.core.tokens import hash_token
        from vestibule.store.models import CliLogin

        login_row = await uow.cli_logins.get(cli_row.id_hash)
        assert login_row is not None
        await uow.db.delete(login_row)
        await uow.db.flush()
        cli_row.id_hash = hash_token(known)
        uow.db.add(CliLogin(session_hash=hash_token(known), client_id=login_row.client_id,
                            dpop_jkt=login_row.dpop_jkt, approved_session_hash=login_row.approved_session_hash,
                            region="", created_at=login_row.created_at))
    assert await sessions.signed_in(world.deps.session_ports, known) is None
    async with world.deps.store.unit() as uow:
        assert await sessions.current(uow, world.deps.session_ports, known) is None


# ---- sessions as the signin API and the security page see them -------------------------------------


async def test_own_sessions_list_get_and_revoke_without_permission(world: World) -> None:
    signed_in, _ = await world.console("alice")
    await world.allow()
    login = await world.login(signed_in)
    alice = await world.caller("alice")
    call = world.call(alice, "ListSessions")
    items, more = await signin_sessions.list_sessions(call, principal_arn=None, max_results=None, next_token=None,
                                                      status=None, client_id=None, issued_after=None,
                                                      issued_before=None)
    assert call.authorized and more is None
    assert {i.kind for i in items} == {"cli", "console"} and all(i.status == "ACTIVE" for i in items)
    cli = next(i for i in items if i.kind == "cli")
    assert cli.session_arn == login.tokens.session_arn and cli.client_id == cli_login.SAME_DEVICE
    assert cli.client_ip == CLI.ip and cli.principal_arn.endswith(":user/alice")
    only_cli, _ = await signin_sessions.list_sessions(
        world.call(alice, "ListSessions"), principal_arn=None, max_results=None, next_token=None, status=None,
        client_id=cli_login.SAME_DEVICE, issued_after=None, issued_before=None)
    assert [i.session_arn for i in only_cli] == [cli.session_arn]
    got = await signin_sessions.get_session(world.call(alice, "GetSession"), session_arn=cli.session_arn,
                                            principal_arn=None)
    assert got == cli
    directory = KeyDirectory(world.deps)
    assert await directory.lookup(login.tokens.access_key_id) is not None
    revoke = world.call(alice, "BatchRevokeSessions")
    revoked, errors = await signin_sessions.batch_revoke(revoke, session_arns=[cli.session_arn], principal_arn=None,
                                                         reason="logout")
    assert revoked == [cli.session_arn] and errors == [] and revoke.authorized and revoke.recorded
    assert await directory.lookup(login.tokens.access_key_id) is None
    again, _ = await signin_sessions.batch_revoke(world.call(alice, "BatchRevokeSessions"),
                                                  session_arns=[cli.session_arn], principal_arn=None, reason=None)
    assert again == [cli.session_arn]  # already revoked: still a success
    gone = await signin_sessions.get_session(world.call(alice, "GetSession"), session_arn=cli.session_arn,
                                             principal_arn=None)
    assert gone.status == "REVOKED"
    revoked_only, _ = await signin_sessions.list_sessions(
        world.call(alice, "ListSessions"), principal_arn=None, max_results=None, next_token=None, status="REVOKED",
        client_id=None, issued_after=None, issued_before=None)
    assert [i.session_arn for i in revoked_only] == [cli.session_arn]
    assert (await _refusal(world.refresh(login))).reason == "USER_CREDENTIALS_CHANGED"


async def test_another_principals_sessions_need_permission(world: World) -> None:
    root_console, _ = await world.console(None)
    root_login = await world.login(root_console)
    bob = await world.caller("bob")
    root_arn = f"arn:aws:iam::{world.account_id}:root"
    with pytest.raises(PermissionDenied):
        await signin_sessions.list_sessions(world.call(bob, "ListSessions"), principal_arn=root_arn, max_results=None,
                                            next_token=None, status=None, client_id=None, issued_after=None,
                                            issued_before=None)
    with pytest.raises(PermissionDenied):  # before anything is told about the session
        await signin_sessions.get_session(world.call(bob, "GetSession"), session_arn=root_login.tokens.session_arn,
                                          principal_arn=None)
    with pytest.raises(PermissionDenied):
        await signin_sessions.get_session(world.call(bob, "GetSession"),
                                          session_arn=f"arn:aws:signin::{world.account_id}:session/{'0' * 32}",
                                          principal_arn=None)
    refused_call = world.call(bob, "BatchRevokeSessions")
    revoked, errors = await signin_sessions.batch_revoke(refused_call, session_arns=[root_login.tokens.session_arn],
                                                         principal_arn=None, reason=None)
    assert revoked == [] and [e[1] for e in errors] == ["INSUFFICIENT_PERMISSIONS"]
    assert refused_call.authorized and refused_call.recorded  # what the endpoint checks: the call itself succeeded
    await world.refresh(root_login)  # still alive
    admin = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["signin:ListSessions", "signin:GetSession", "signin:BatchRevokeSessions"],
         "Resource": f"arn:aws:signin::{world.account_id}:session/*"}]})
    await world.allow("bob", admin)
    everyone, _ = await signin_sessions.list_sessions(
        world.call(bob, "ListSessions"), principal_arn=f"arn:aws:iam::{world.account_id}:*", max_results=None,
        next_token=None, status="ACTIVE", client_id=None, issued_after=None, issued_before=None)
    assert {i.session_arn for i in everyone} >= {root_login.tokens.session_arn}
    missing = f"arn:aws:signin::{world.account_id}:session/{'0' * 32}"
    with pytest.raises(SessionNotFound):
        await signin_sessions.get_session(world.call(bob, "GetSession"), session_arn=missing, principal_arn=None)
    with pytest.raises(SessionNotFound):  # not that principal's
        await signin_sessions.get_session(world.call(bob, "GetSession"), session_arn=root_login.tokens.session_arn,
                                          principal_arn=f"arn:aws:iam::{world.account_id}:user/bob")
    other_account = f"arn:aws:signin::111122223333:session/{'1' * 32}"
    revoked, errors = await signin_sessions.batch_revoke(
        world.call(bob, "BatchRevokeSessions"), session_arns=[root_login.tokens.session_arn, missing, other_account],
        principal_arn=None, reason="admin")
    assert revoked == [root_login.tokens.session_arn]
    assert [e[1] for e in errors] == ["RESOURCE_NOT_FOUND", "INSUFFICIENT_PERMISSIONS"]
    assert (await _refusal(world.refresh(root_login))).reason == "USER_CREDENTIALS_CHANGED"
    with pytest.raises(InvalidInput):
        await signin_sessions.batch_revoke(world.call(bob, "BatchRevokeSessions"), session_arns=[], principal_arn=None,
                                           reason=None)


async def test_list_sessions_pages_with_sealed_tokens(world: World) -> None:
    signed_in, _ = await world.console(None)
    made = []
    for _ in range(5):
        world.clock.advance(1)
        made.append((await world.login(signed_in)).tokens.session_arn)
    root = await world.caller()

    async def page(token: str | None, **filters: Any) -> tuple[list[SessionInfo], str | None]:
        args: dict[str, Any] = dict(principal_arn=None, max_results=2, next_token=token, status=None,
                                       client_id=None, issued_after=None, issued_before=None) | filters
        return await signin_sessions.list_sessions(world.call(root, "ListSessions"), **args)

    seen: list[str] = []
    token: str | None = None
    while True:
        items, token = await page(token)
        assert len(items) <= 2
        seen += [i.session_arn for i in items]
        if token is None:
            break
        assert len(token) <= 2048 and all(c.isalnum() or c in "-_" for c in token)
    assert seen[:5] == made[::-1] and len(seen) == 6  # newest first, then the console session
    _, token = await page(None)
    assert token is not None
    with pytest.raises(InvalidInput):  # another filter with this token
        await page(token, status="ACTIVE")
    with pytest.raises(InvalidInput):
        await page(token[:-3] + "AAA")
    with pytest.raises(InvalidInput):
        await page("bogus")
    with pytest.raises(InvalidInput):
        await page(None, max_results=101)
    windowed, _ = await page(None, max_results=10, issued_after=int((world.clock() - 2.5) * 1000))
    assert [i.session_arn for i in windowed] == made[:-4:-1]


async def test_the_security_page_sees_and_ends_its_own_sessions(world: World) -> None:
    signed_in, token = await world.console(None)
    world.clock.advance(1)
    login = await world.login(signed_in)
    listed = await signin_sessions.sessions_of(world.deps, signed_in)
    assert [(i.kind, i.current) for i in listed] == [("cli", False), ("console", True)]
    bob_console, _ = await world.console("bob")
    with pytest.raises(SessionNotFound):  # not bob's
        await signin_sessions.end_session(world.deps, BROWSER, bob_console, login.tokens.session_arn)
    await signin_sessions.end_session(world.deps, BROWSER, signed_in, login.tokens.session_arn)
    assert [i.kind for i in await signin_sessions.sessions_of(world.deps, signed_in)] == ["console"]
    assert (await _refusal(world.refresh(login))).reason == "USER_CREDENTIALS_CHANGED"
    second = await world.login(signed_in)
    assert await cli_login.end_for_principal(world.deps, signed_in.principal, "test") == 1
    assert (await _refusal(world.refresh(second))).reason == "USER_CREDENTIALS_CHANGED"
    assert await sessions.signed_in(world.deps.session_ports, token) is not None  # the console session stays


async def test_the_janitor_purges_what_expired(world: World) -> None:
    signed_in, _ = await world.console(None, lifetime=1000)
    await world.login(signed_in)
    await world.request()
    ports = janitor.JanitorPorts(world.deps.store, lambda: world.clock() + 5 * 86400, retention_seconds=86400)
    report = await janitor.run_once(ports)
    # the proof, the pending request, the refresh token, the login data of the purged session
    assert report.cli_login >= 4
    async with world.deps.store.unit() as uow:
        from sqlalchemy import func, select

        from vestibule.store.models import CliLogin, CliLoginGrant, CliLoginRefreshToken, DpopReplay

        for model in (CliLogin, CliLoginGrant, CliLoginRefreshToken, DpopReplay):
            assert (await uow.db.execute(select(func.count()).select_from(model))).scalar_one() == 0


# ---- the budget of refused token requests -----------------------------------------------------------

TOKEN_BUDGET = RULES[Scope.REQUESTS].delay_after  # refusals per address and hour before any wait


def _address() -> Client:
    """An address of its own per test (counters in a Redis shared by runs are not wiped by every test)."""
    raw = uuid.uuid4().bytes
    return Client(ip=f"10.{raw[0]}.{raw[1]}.{raw[2]}", user_agent="flood")


async def _forged_refresh(deps: Deps, client: Client, clock: Clock, *, signed: bool = True) -> object:
    """A refresh with a key made for the purpose and a refresh token nobody was given: refused (or 429)."""
    proof = DpopKey().proof(iat=int(clock()))
    if not signed:
        proof = proof.rsplit(".", 1)[0] + "." + b64url(bytes(64))
    return await cli_login.create_token(
        deps, client, client_id=cli_login.SAME_DEVICE, grant_type="refresh_token", code=None, redirect_uri=None,
        code_verifier=None, refresh_token=new_token(), dpop=proof, urls=[TOKEN_URL])


async def _rows(deps: Deps) -> tuple[int, int]:
    from sqlalchemy import func, select

    from vestibule.store.models import AuditEvent, DpopReplay

    async with deps.store.unit() as uow:
        replays = (await uow.db.execute(select(func.count()).select_from(DpopReplay))).scalar_one()
        events = (await uow.db.execute(select(func.count()).select_from(AuditEvent))).scalar_one()
    return replays, events


async def test_refused_token_requests_are_budgeted_per_address_and_successes_cost_nothing(world: World) -> None:
    nat = _address()
    signed_in, _ = await world.console(None)
    code, verifier, redirect = await world.code(signed_in)
    key = DpopKey()
    login = Login(verifier, key, await world.exchange(code, verifier, key, redirect, client=nat))
    for _ in range(5):
        await world.refresh(login, client=nat)  # successes from the address take their attempt back
    for _ in range(TOKEN_BUDGET - 1):
        assert (await _refusal(_forged_refresh(world.deps, nat, world.clock))).reason == "invalid_grant"
    await world.refresh(login, client=nat)  # still free: one refusal left in the budget
    assert (await _refusal(_forged_refresh(world.deps, nat, world.clock))).reason == "invalid_grant"
    before = await _rows(world.deps)
    with pytest.raises(TooManyAttempts) as caught:
        await _forged_refresh(world.deps, nat, world.clock, signed=False)  # answered before the signature check
    assert 1 <= caught.value.retry_after <= 60
    with pytest.raises(TooManyAttempts):
        await world.refresh(login, client=nat)  # the address is over its budget, even for a good refresh
    assert await _rows(world.deps) == before  # nothing written: no replay row, no audit event
    # another address is not hurt: a good refresh and a good login from it
    await world.refresh(login, client=CLI)
    await world.login(signed_in)
    # the wait passes: one attempt more is considered
    world.clock.advance(caught.value.retry_after)
    await world.refresh(login, client=nat)


async def test_the_token_budget_holds_across_nodes(settings: Settings) -> None:
    """Two runtimes on one database (and one Redis when configured): refusals on either count for both."""
    a = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    b = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    try:
        from vestibule.services.throttling import RedisThrottle

        assert all(isinstance(n.deps.throttle, RedisThrottle) == bool(settings.redis_url) for n in (a, b))
        nat, clock = _address(), Clock()
        for i in range(TOKEN_BUDGET):
            await _refusal(_forged_refresh((a if i % 2 else b).deps, nat, clock))
        for node in (a, b):
            with pytest.raises(TooManyAttempts):
                await _forged_refresh(node.deps, nat, clock)
        await _refusal(_forged_refresh(a.deps, _address(), clock))  # another address: refused, not throttled
    finally:
        await a.close()
        await b.close()


def test_the_token_endpoint_answers_429_once_over_budget(live_server: LiveServer) -> None:
    import httpx

    body = {"clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "x" * 40}
    url = live_server.url + "/v1/token"
    statuses = []
    with httpx.Client() as http:
        for _ in range(TOKEN_BUDGET + 2):
            answer = http.post(url, json=body, headers={"DPoP": DpopKey().proof(url)})
            statuses.append(answer.status_code)
        assert statuses == [400] * TOKEN_BUDGET + [429, 429], statuses
        refused = answer.json()
        assert refused["__type"].endswith("TooManyRequestsError") and refused["error"] == "rate_exceeded"
        assert "seconds" in refused["message"]


# ---- the credentials on the wire, and on another node ----------------------------------------------


def test_the_credentials_sign_sts_and_iam_calls_until_the_login_ends(live_server: LiveServer) -> None:
    runtime = live_server.runtime

    async def setup() -> tuple[World, LoginTokens, LoginTokens]:
        account_id = await make_account(runtime, alias="cli-login-live")
        await make_user(runtime, account_id, "alice")
        world = World(runtime, Clock(), account_id)
        await world.allow("alice", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token", "iam:GetUser"],
             "Resource": "*"}]}))
        alice, _ = await world.console("alice")
        root, _ = await world.console(None)
        return world, (await world.login(alice)).tokens, (await world.login(root)).tokens

    world, alice, root = on_live_server(live_server, setup())

    def client(service: str, tokens: LoginTokens) -> Any:
        return boto3.client(service, endpoint_url=live_server.url, region_name="us-east-1",
                            aws_access_key_id=tokens.access_key_id, aws_secret_access_key=tokens.secret_access_key,
                            aws_session_token=tokens.session_token)

    sts = client("sts", alice)
    who = sts.get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{world.account_id}:user/alice" and who["Account"] == world.account_id
    assert client("iam", alice).get_user()["User"]["UserName"] == "alice"
    root_who = client("sts", root).get_caller_identity()
    assert root_who["Arn"] == f"arn:aws:iam::{world.account_id}:root"
    assert "Users" in client("iam", root).list_users()

    async def revoke() -> None:
        call = world.call(await world.caller(), "BatchRevokeSessions")
        revoked, _ = await signin_sessions.batch_revoke(call, session_arns=[alice.session_arn], principal_arn=None,
                                                        reason="admin")
        assert revoked == [alice.session_arn]

    on_live_server(live_server, revoke())
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert client("sts", root).get_caller_identity()["Arn"] == root_who["Arn"]


async def test_a_login_ended_on_one_node_is_forgotten_by_the_other_through_the_bus(settings: Settings) -> None:
    """Two runtimes on one database and one Redis: node B caches the credentials (for an hour here), node A
    ends the login; B forgets them through the invalidation bus, not through its cache running out."""
    shared = settings.with_overrides(redis_url=await reachable_redis_url())
    a = await build(shared, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    b = await build(shared, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    try:
        await a.bus.start()
        await b.bus.start()
        assert a.bus.crosses_processes and a.bus.node != b.bus.node
        world = World(a, Clock(), await make_account(a, alias="cli-login-nodes"))
        signed_in, _ = await world.console(None)
        first, second = await world.login(signed_in), await world.login(signed_in)
        on_b = KeyDirectory(b.deps, ttl=3600)
        for login in (first, second):
            record = await on_b.lookup(login.tokens.access_key_id)
            assert record is not None and record.caller.is_root
        async with a.deps.store.unit() as uow:  # a change B does not hear of: its cached answer stays
            await uow.sessions.revoke_one("no-such-session", time.time())
        assert await on_b.lookup(first.tokens.access_key_id) is not None
        call = world.call(await world.caller(), "BatchRevokeSessions")
        await signin_sessions.batch_revoke(call, session_arns=[first.tokens.session_arn], principal_arn=None,
                                           reason=None)
        for _ in range(100):
            if await on_b.lookup(first.tokens.access_key_id) is None:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("node B still accepts the credentials of a login ended on node A")
        assert await on_b.lookup(second.tokens.access_key_id) is not None  # only that session's keys went
    finally:
        await a.close()
        await b.close()


async def test_migration_0022_upgrades_older_sessions_and_downgrades(tmp_path: Path) -> None:
    """From 0021 with a console session in it: up to the head (the row becomes kind console, no public ID), down
    to 0021 (the new tables and columns gone), up again. PostgreSQL runs the same chain in the schema test."""
    from alembic import command
    from sqlalchemy import inspect, text

    from vestibule.store import database
    from vestibule.store.probes import head_revision

    engine = database.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")

    def tables(conn: Connection) -> set[str]:
        return {t for t in inspect(conn).get_table_names() if t.startswith(("cli_login", "dpop"))}

    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(database._alembic_config(c), "0021"))
            await conn.execute(text(
                "INSERT INTO sessions (id_hash, account_id, principal_key, created_at, last_seen_at, expires_at, "
                "idle_seconds, mfa_used, csrf_secret, client_ip, user_agent) VALUES ('h', '111122223333', "
                "'root:111122223333', 1, 1, 2, 1, 0, 'c', '', '')"))
        await database.migrate(engine)
        async with engine.connect() as conn:
            assert list(await conn.execute(text("SELECT kind, public_id FROM sessions"))) == [("console", None)]
            assert await conn.run_sync(tables) == {"cli_login_grants", "cli_logins", "cli_login_refresh_tokens",
                                                    "dpop_replays"}
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(database._alembic_config(c), "0021"))
        async with engine.connect() as conn:
            assert await conn.run_sync(tables) == set()
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("sessions")})
            assert not {"kind", "public_id"} & columns
            assert list(await conn.execute(text("SELECT id_hash FROM sessions"))) == [("h",)]
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()  # 0022 and every later one
    finally:
        await engine.dispose()


async def test_deleting_the_login_profile_through_iam_ends_the_users_login(world: World) -> None:
    signed_in, _ = await world.console("alice")
    await world.allow()
    login = await world.login(signed_in)
    directory = KeyDirectory(world.deps)
    assert await directory.lookup(login.tokens.access_key_id) is not None
    from vestibule.services.iam import login_profiles

    root = await world.caller()
    call = ApiCall(world.deps, root, "iam", "iam:DeleteLoginProfile", "DeleteLoginProfile")
    await login_profiles.delete_profile(call, "alice")
    assert await directory.lookup(login.tokens.access_key_id) is None
    assert (await _refusal(world.refresh(login))).reason == "USER_CREDENTIALS_CHANGED"
