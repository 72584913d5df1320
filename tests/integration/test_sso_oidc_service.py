"""SSO-OIDC use cases against the store (SQLite, or PostgreSQL + Redis with VESTIBULE_TEST_DATABASE_URL and
VESTIBULE_TEST_REDIS_URL): client registration, the device flow (pending, slow down, deny, expiry, reuse), the
authorization code flow with PKCE, refresh rotation and family revocation, bearer tokens bound to the portal
session (sign-out, expiry, Logout), single use under concurrency, throttled user codes, the janitor."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from http_steps import Clock, make_account, use_clock
from support import add_session
from vestibule.core import oauth
from vestibule.core.flows.portal_signin import directory_user_ref
from vestibule.errors import PermissionDenied, TooManyAttempts
from vestibule.runtime import Runtime
from vestibule.services import janitor
from vestibule.services.context import Client, Deps
from vestibule.services.identity_center import directory
from vestibule.services.identity_center import sso_oidc as oidc
from vestibule.services.identity_center.directory_profile import Email, UserProfile
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.signin import portal
from vestibule.services.signin.portal import PortalSession
from vestibule.store.models import SsoInstance

CLI = Client(ip="198.51.100.4", user_agent="aws-cli/2")
BROWSER = Client(ip="203.0.113.9", user_agent="Chromium")
VERIFIER = "v" * 43 + "-._~0123456789"
CALLBACK = "http://127.0.0.1/oauth/callback"


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    store_id: str
    start_url: str
    account_id: str

    @property
    def deps(self) -> Deps:
        return self.runtime.deps

    async def user(self, name: str = "alice", lifetime: int = 8 * 3600) -> tuple[PortalSession, str]:
        """A directory user signed in to the portal: their live session and its cookie token."""
        async with self.deps.store.unit() as uow:
            user = await directory.create_user(uow, self.store_id, name, UserProfile(
                display_name=name.title(), emails=(Email(value=f"{name}@example.com", primary=True),)),
                actor="test", now=self.clock(), password_hash=None)
            token = await add_session(self.deps, uow, directory_user_ref(user.id), self.account_id, BROWSER,
                                      now=self.clock(), lifetime=lifetime, idle_seconds=lifetime)
        signed_in = await portal.signed_in(self.deps, token)
        assert signed_in is not None
        return signed_in, token

    async def device_client(self, *, refresh: bool = True) -> oidc.RegisteredClient:
        grants = [oauth.DEVICE_CODE_GRANT, *([oauth.REFRESH_TOKEN_GRANT] if refresh else [])]
        return await oidc.register_client(self.deps, CLI, client_name="botocore-client-test", client_type="public",
                                          scopes=["sso:account:access"], grant_types=grants, redirect_uris=None,
                                          issuer_url=self.start_url)

    async def pkce_client(self) -> oidc.RegisteredClient:
        return await oidc.register_client(
            self.deps, CLI, client_name="botocore-client-pkce", client_type="public", scopes=["sso:account:access"],
            grant_types=[oauth.AUTHORIZATION_CODE_GRANT, oauth.REFRESH_TOKEN_GRANT], redirect_uris=[CALLBACK],
            issuer_url=self.start_url)

    async def poll(self, app: oidc.RegisteredClient, device_code: str) -> oidc.IssuedToken:
        return await oidc.create_token(self.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                       grant_type=oauth.DEVICE_CODE_GRANT, device_code=device_code)

    async def refresh(self, app: oidc.RegisteredClient, token: str) -> oidc.IssuedToken:
        return await oidc.create_token(self.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                       grant_type=oauth.REFRESH_TOKEN_GRANT, refresh_token=token)

    async def device_sign_in(self, app: oidc.RegisteredClient, signed_in: PortalSession) -> oidc.IssuedToken:
        started = await oidc.start_device_authorization(self.deps, CLI, client_id=app.client_id,
                                                        client_secret=app.client_secret, start_url=self.start_url)
        pending = await oidc.pending_device(self.deps, BROWSER, started.user_code)
        await oidc.decide(self.deps, BROWSER, signed_in, pending.id, True)
        return await self.poll(app, started.device_code)


@pytest.fixture
async def world(runtime: Runtime) -> World:
    clock = use_clock(runtime, 1_900_000_000.0)
    account_id = await make_account(runtime, alias=None)
    store_id = f"d-{secrets.token_hex(5)}"
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store_id,
            owner_account_id=account_id, name="portal", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=clock(), settings=InstanceSettings().to_json(), tags="[]"))
    return World(runtime, clock, store_id, f"http://testserver/portal/{store_id}/start", account_id)


async def test_register_client_answers_and_refuses(world: World) -> None:
    app = await world.device_client()
    assert app.client_secret_expires_at - app.client_id_issued_at == 90 * 86400
    assert app.client_id_issued_at == int(world.clock())
    bad = dict(client_name="x", client_type="public", scopes=None, grant_types=None, redirect_uris=None,
               issuer_url=None)
    cases: list[tuple[dict[str, object], type[oauth.OAuthError]]] = [
        ({"client_type": "confidential"}, oauth.InvalidClientMetadata),
        ({"client_name": ""}, oauth.InvalidClientMetadata),
        ({"scopes": ["codewhisperer:completions"]}, oauth.InvalidScope),
        ({"grant_types": ["password"]}, oauth.UnsupportedGrantType),
        ({"grant_types": [oauth.AUTHORIZATION_CODE_GRANT], "redirect_uris": ["https://evil.example/cb"]},
         oauth.InvalidRedirectUri),
        ({"grant_types": [oauth.AUTHORIZATION_CODE_GRANT], "redirect_uris": ["http://127.0.0.1.evil.example/cb"]},
         oauth.InvalidRedirectUri),
        ({"grant_types": [oauth.AUTHORIZATION_CODE_GRANT]}, oauth.InvalidRedirectUri),
        ({"issuer_url": "http://testserver/portal/d-0000000000/start"}, oauth.InvalidRequest),
        ({"issuer_url": "https://elsewhere.example/start"}, oauth.InvalidRequest),
    ]
    for change, error in cases:
        with pytest.raises(error):
            await oidc.register_client(world.deps, CLI, **{**bad, **change})  # type: ignore[arg-type]


async def test_device_flow_pending_slow_down_allow_and_reuse(world: World) -> None:
    signed_in, _ = await world.user()
    app = await world.device_client()
    started = await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                    client_secret=app.client_secret, start_url=world.start_url + "/")
    assert started.verification_uri == "http://testserver/device"
    assert started.verification_uri_complete == f"http://testserver/device?user_code={started.user_code}"
    assert started.expires_in == 600 and started.interval == 5
    assert oauth.normalize_user_code(started.user_code) is not None and started.user_code[4] == "-"
    with pytest.raises(oauth.AuthorizationPending):
        await world.poll(app, started.device_code)
    world.clock.advance(2)
    with pytest.raises(oauth.SlowDown):
        await world.poll(app, started.device_code)
    world.clock.advance(6)  # 6 s after the last poll: too fast for the grown interval of 10 s
    with pytest.raises(oauth.SlowDown):
        await world.poll(app, started.device_code)
    world.clock.advance(15)
    with pytest.raises(oauth.AuthorizationPending):
        await world.poll(app, started.device_code)

    pending = await oidc.pending_device(world.deps, BROWSER, started.user_code.lower().replace("-", ""))
    assert pending.kind == "device" and pending.client_name == "botocore-client-test"
    assert pending.user_code == started.user_code and pending.requested_from_ip == CLI.ip
    assert pending.portal_name == world.store_id and pending.scopes == ("sso:account:access",)
    assert (await oidc.approval(world.deps, pending.id)).id == pending.id
    decision = await oidc.decide(world.deps, BROWSER, signed_in, pending.id, True)
    assert decision.allowed and decision.redirect_to is None
    with pytest.raises(oauth.InvalidGrant):
        await oidc.decide(world.deps, BROWSER, signed_in, pending.id, False)
    with pytest.raises(oauth.InvalidGrant):
        await oidc.pending_device(world.deps, BROWSER, started.user_code)

    world.clock.advance(30)
    issued = await world.poll(app, started.device_code)
    assert issued.token_type == "Bearer" and issued.expires_in == 3600 and issued.refresh_token
    held = await oidc.bearer(world.deps, issued.access_token)
    assert held.portal.user.user_name == "alice" and held.portal.session.id_hash == signed_in.session.id_hash
    world.clock.advance(30)
    with pytest.raises(oauth.InvalidGrant):  # single use
        await world.poll(app, started.device_code)
    with pytest.raises(oauth.InvalidClient):
        await oidc.create_token(world.deps, CLI, client_id=app.client_id, client_secret="wrong",
                                grant_type=oauth.DEVICE_CODE_GRANT, device_code=started.device_code)
    with pytest.raises(oauth.InvalidGrant):
        await world.poll(app, "not-a-device-code")


async def test_device_flow_deny_expiry_and_errors(world: World) -> None:
    signed_in, _ = await world.user()
    app = await world.device_client(refresh=False)
    started = await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                    client_secret=app.client_secret, start_url=world.start_url)
    pending = await oidc.pending_device(world.deps, BROWSER, started.user_code)
    assert not (await oidc.decide(world.deps, BROWSER, signed_in, pending.id, False)).allowed
    with pytest.raises(oauth.AccessDenied):
        await world.poll(app, started.device_code)

    expiring = await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                     client_secret=app.client_secret, start_url=world.start_url)
    world.clock.advance(601)
    with pytest.raises(oauth.ExpiredToken):
        await world.poll(app, expiring.device_code)
    with pytest.raises(oauth.ExpiredToken):
        await oidc.pending_device(world.deps, BROWSER, expiring.user_code)

    fresh = await world.device_sign_in(app, signed_in)
    assert fresh.refresh_token is None  # not registered for the refresh_token grant
    with pytest.raises(oauth.UnauthorizedClient):
        await world.refresh(app, "anything")
    with pytest.raises(oauth.UnsupportedGrantType):
        await oidc.create_token(world.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                grant_type="password")
    with pytest.raises(oauth.InvalidRequest):
        await oidc.create_token(world.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                grant_type=oauth.DEVICE_CODE_GRANT)
    for url in ("http://testserver/portal/d-0000000000/start", "http://testserver/start", "https://x.example/"):
        with pytest.raises(oauth.InvalidRequest):
            await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                  client_secret=app.client_secret, start_url=url)
    with pytest.raises(oauth.InvalidClient):
        await oidc.start_device_authorization(world.deps, CLI, client_id="nobody", client_secret="x",
                                              start_url=world.start_url)
    world.clock.advance(90 * 86400)
    with pytest.raises(oauth.InvalidClient):  # the registration expired
        await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                              client_secret=app.client_secret, start_url=world.start_url)


async def test_another_portals_session_cannot_decide(world: World, runtime: Runtime) -> None:
    other_store = f"d-{secrets.token_hex(5)}"
    other_account = await make_account(runtime, email="other@example.com", alias=None)
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=other_store,
            owner_account_id=other_account, name="other", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=world.clock(), settings=InstanceSettings().to_json(), tags="[]"))
    stranger, _ = await World(runtime, world.clock, other_store, "", other_account).user("mallory")
    app = await world.device_client()
    started = await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                    client_secret=app.client_secret, start_url=world.start_url)
    pending = await oidc.pending_device(world.deps, BROWSER, started.user_code)
    with pytest.raises(PermissionDenied):
        await oidc.decide(world.deps, BROWSER, stranger, pending.id, True)
    assert (await oidc.approval(world.deps, pending.id)).id == pending.id  # still pending


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(world: World) -> None:
    signed_in, _ = await world.user()
    app = await world.device_client()
    first = await world.device_sign_in(app, signed_in)
    other_family = await world.device_sign_in(app, signed_in)
    assert first.refresh_token and other_family.refresh_token
    world.clock.advance(60)
    second = await world.refresh(app, first.refresh_token)
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    await oidc.bearer(world.deps, second.access_token)
    await oidc.bearer(world.deps, first.access_token)  # rotation leaves the older access token alive
    world.clock.advance(oauth.REFRESH_REUSE_GRACE - 5)
    with pytest.raises(oauth.InvalidGrant):  # within the grace (another tool sharing the cache): refused only
        await world.refresh(app, first.refresh_token)
    await oidc.bearer(world.deps, second.access_token)
    world.clock.advance(10)
    with pytest.raises(oauth.InvalidGrant):
        await world.refresh(app, first.refresh_token)  # reused after the grace: the whole family goes
    for token in (first.access_token, second.access_token):
        with pytest.raises(oidc.InvalidBearerToken):
            await oidc.bearer(world.deps, token)
    with pytest.raises(oauth.InvalidGrant):
        await world.refresh(app, second.refresh_token)
    await oidc.bearer(world.deps, other_family.access_token)  # another sign-in's tokens are untouched
    assert (await world.refresh(app, other_family.refresh_token)).refresh_token
    another = await world.device_client()
    with pytest.raises(oauth.InvalidGrant):  # another client cannot use it
        await world.refresh(another, other_family.refresh_token)


async def test_tokens_die_with_the_portal_session(world: World) -> None:
    signed_in, cookie = await world.user(lifetime=1800)
    app = await world.device_client()
    issued = await world.device_sign_in(app, signed_in)
    assert issued.expires_in == 1800  # never past the portal session
    world.clock.advance(1700)  # the browser idle limit does not apply to CLI tokens
    await oidc.bearer(world.deps, issued.access_token)
    world.clock.advance(101)
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, issued.access_token)
    assert issued.refresh_token
    with pytest.raises(oauth.InvalidGrant):
        await world.refresh(app, issued.refresh_token)

    signed_in, cookie = await world.user("bob")
    issued = await world.device_sign_in(app, signed_in)
    await oidc.bearer(world.deps, issued.access_token)
    await portal.sign_out(world.deps, BROWSER, cookie)  # signing out in the browser ends the CLI's tokens
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, issued.access_token)
    assert issued.refresh_token
    with pytest.raises(oauth.InvalidGrant):
        await world.refresh(app, issued.refresh_token)
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, "")


async def test_tokens_die_with_a_disabled_user_or_an_inactive_instance(world: World) -> None:
    signed_in, _ = await world.user()
    app = await world.device_client()
    issued = await world.device_sign_in(app, signed_in)
    assert (await oidc.bearer(world.deps, issued.access_token)).portal.user.display_name == "Alice"
    async with world.deps.store.unit() as uow:  # what the bearer check hands out follows every change
        await directory.replace_user(uow, world.store_id, signed_in.user.id, "alice",
                                     UserProfile(display_name="Alice Liddell"), actor="test", now=world.clock())
        await directory.set_password(uow, world.store_id, signed_in.user.id, "$argon2id$new", must_change=False,
                                     now=world.clock())
    held = (await oidc.bearer(world.deps, issued.access_token)).portal.user
    assert held.display_name == "Alice Liddell" and held.password_hash == "$argon2id$new"
    async with world.deps.store.unit() as uow:
        await directory.set_user_status(uow, world.store_id, signed_in.user.id, "DISABLED", actor="test",
                                        now=world.clock())
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, issued.access_token)
    assert issued.refresh_token
    with pytest.raises(oauth.InvalidGrant):
        await world.refresh(app, issued.refresh_token)

    signed_in, _ = await world.user("bob")
    issued = await world.device_sign_in(app, signed_in)
    async with world.deps.store.unit() as uow:
        row = await uow.identity_center.instance_of_store(world.store_id)
        assert row is not None
        row.status = "DELETE_IN_PROGRESS"
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, issued.access_token)
    with pytest.raises(oauth.InvalidRequest):  # no new sign-in to that portal either
        await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                              client_secret=app.client_secret, start_url=world.start_url)


async def test_logout_revokes_tokens_and_the_portal_session(world: World) -> None:
    signed_in, cookie = await world.user()
    app = await world.device_client()
    issued = await world.device_sign_in(app, signed_in)
    heard: list[str] = []
    world.deps.bus.subscribe("session", heard.append)
    await oidc.logout(world.deps, CLI, issued.access_token)
    assert heard == [signed_in.session.id_hash]
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, issued.access_token)
    assert issued.refresh_token
    with pytest.raises(oauth.InvalidGrant):
        await world.refresh(app, issued.refresh_token)
    assert await portal.signed_in(world.deps, cookie) is None
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.logout(world.deps, CLI, issued.access_token)
    async with world.deps.store.unit() as uow:
        events = {e.event: e for e in await uow.audit.for_account(world.account_id)}
    assert {"RegisterClient", "StartDeviceAuthorization", "AuthorizeDevice", "CreateToken", "Logout"} <= set(events)
    assert events["Logout"].principal == signed_in.principal.arn and events["Logout"].client_ip == CLI.ip
    assert events["AuthorizeDevice"].detail["decision"] == "Allow"


async def test_authorization_code_with_pkce(world: World) -> None:
    signed_in, _ = await world.user()
    app = await world.pkce_client()
    challenge = oauth.s256_challenge(VERIFIER)

    async def authorize(**change: object) -> oidc.PendingApproval:
        params: dict[str, object] = dict(response_type="code", client_id=app.client_id,
                                         redirect_uri="http://127.0.0.1:49152/oauth/callback", state="st4te",
                                         code_challenge=challenge, code_challenge_method="S256",
                                         scopes=["sso:account:access"])
        return await oidc.begin_authorization(world.deps, CLI, **{**params, **change})  # type: ignore[arg-type]

    pending = await authorize()
    assert pending.kind == "code" and pending.user_code is None and pending.client_name == "botocore-client-pkce"
    decision = await oidc.decide(world.deps, BROWSER, signed_in, pending.id, True)
    assert decision.allowed and decision.redirect_to
    sent = urlsplit(decision.redirect_to)
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == "http://127.0.0.1:49152/oauth/callback"
    query = parse_qs(sent.query)
    assert query["state"] == ["st4te"]
    code = query["code"][0]

    async def exchange(code: str = code, verifier: str = VERIFIER,
                       redirect: str = "http://127.0.0.1:49152/oauth/callback") -> oidc.IssuedToken:
        return await oidc.create_token(world.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                       grant_type=oauth.AUTHORIZATION_CODE_GRANT, code=code, redirect_uri=redirect,
                                       code_verifier=verifier)

    issued = await exchange()
    assert issued.refresh_token and (await oidc.bearer(world.deps, issued.access_token)).portal.user.user_name
    with pytest.raises(oauth.InvalidGrant):  # reused: refused, and what it granted is revoked
        await exchange()
    with pytest.raises(oidc.InvalidBearerToken):
        await oidc.bearer(world.deps, issued.access_token)

    for wrong in ({"verifier": "w" * 43}, {"redirect": "http://127.0.0.1:40000/oauth/callback"}):
        pending = await authorize()
        code = parse_qs(urlsplit((await oidc.decide(world.deps, BROWSER, signed_in, pending.id, True)
                                  ).redirect_to or "").query)["code"][0]
        with pytest.raises(oauth.InvalidGrant):
            await exchange(code, **wrong)
        with pytest.raises(oauth.InvalidGrant):  # and the code is burnt
            await exchange(code)

    pending = await authorize()
    denied = await oidc.decide(world.deps, BROWSER, signed_in, pending.id, False)
    assert not denied.allowed and parse_qs(urlsplit(denied.redirect_to or "").query) == {
        "error": ["access_denied"], "error_description": ["The user denied the request."], "state": ["st4te"]}

    pending = await authorize()
    code = parse_qs(urlsplit((await oidc.decide(world.deps, BROWSER, signed_in, pending.id, True)
                              ).redirect_to or "").query)["code"][0]
    world.clock.advance(301)
    with pytest.raises(oauth.InvalidGrant):  # the code lives 5 minutes
        await exchange(code)

    cases: list[tuple[dict[str, object], type[oauth.OAuthError]]] = [
        ({"client_id": "nobody"}, oauth.InvalidClient),
        ({"redirect_uri": "http://127.0.0.1:49152/elsewhere"}, oauth.InvalidRedirectUri),
        ({"redirect_uri": "https://127.0.0.1/oauth/callback"}, oauth.InvalidRedirectUri),
        ({"response_type": "token"}, oauth.InvalidRequest),
        ({"code_challenge_method": "plain"}, oauth.InvalidRequest),
        ({"code_challenge": "short"}, oauth.InvalidRequest),
        ({"scopes": ["openid"]}, oauth.InvalidScope),
    ]
    for change, error in cases:
        with pytest.raises(error):
            await authorize(**change)
    device_only = await world.device_client()
    with pytest.raises(oauth.UnauthorizedClient):
        await authorize(client_id=device_only.client_id)


async def test_single_use_under_concurrency(world: World) -> None:
    signed_in, _ = await world.user()
    app = await world.device_client()
    started = await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                    client_secret=app.client_secret, start_url=world.start_url)
    pending = await oidc.pending_device(world.deps, BROWSER, started.user_code)
    decisions = await asyncio.gather(*(oidc.decide(world.deps, BROWSER, signed_in, pending.id, True)
                                       for _ in range(4)), return_exceptions=True)
    assert sum(isinstance(d, oidc.Decision) for d in decisions) == 1
    assert all(isinstance(d, oidc.Decision | oauth.InvalidGrant) for d in decisions), decisions
    tokens = await asyncio.gather(*(world.poll(app, started.device_code) for _ in range(4)),
                                  return_exceptions=True)
    assert sum(isinstance(t, oidc.IssuedToken) for t in tokens) == 1, tokens
    assert all(isinstance(t, oidc.IssuedToken | oauth.InvalidGrant) for t in tokens), tokens
    issued = next(t for t in tokens if isinstance(t, oidc.IssuedToken))
    assert issued.refresh_token
    rotated = await asyncio.gather(*(world.refresh(app, issued.refresh_token) for _ in range(4)),
                                   return_exceptions=True)
    winners = [t for t in rotated if isinstance(t, oidc.IssuedToken)]
    assert len(winners) <= 1 and all(isinstance(t, oidc.IssuedToken | oauth.InvalidGrant) for t in rotated)
    assert len(winners) == 1
    # the losers were refused within the grace: the winner's new tokens live on (tools sharing one cache)
    await oidc.bearer(world.deps, winners[0].access_token)


async def test_user_codes_are_throttled_per_client(world: World) -> None:
    app = await world.device_client()
    started = await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                                    client_secret=app.client_secret, start_url=world.start_url)
    with pytest.raises(oauth.InvalidGrant):  # malformed: not counted
        await oidc.pending_device(world.deps, BROWSER, "not a code")
    attacker = Client(ip="192.0.2.66")
    refused = 0
    for _ in range(25):
        code = oauth.new_user_code()
        try:
            await oidc.pending_device(world.deps, attacker, code)
        except TooManyAttempts:
            refused += 1
            # the attacker's own valid code does not reopen the budget
        except oauth.InvalidGrant:
            pass
    assert refused == 5  # 20 wrong codes an hour from one address
    with pytest.raises(TooManyAttempts):
        await oidc.pending_device(world.deps, attacker, started.user_code)
    assert (await oidc.pending_device(world.deps, BROWSER, started.user_code)).user_code == started.user_code


async def test_janitor_purges_expired_grants_tokens_and_clients(world: World) -> None:
    signed_in, _ = await world.user(lifetime=3600)
    app = await world.device_client()
    await world.device_sign_in(app, signed_in)
    ports = janitor.JanitorPorts(store=world.deps.store, clock=world.clock)
    assert (await janitor.run_once(ports)).sso_oidc == 0
    world.clock.advance(3600 + 86400 + 1)
    assert (await janitor.run_once(ports)).sso_oidc == 3  # the grant, the access and the refresh token
    world.clock.advance(90 * 86400)
    assert (await janitor.run_once(ports)).sso_oidc == 1  # the client


async def test_anonymous_requests_that_store_rows_are_budgeted_per_address(world: World) -> None:
    async def register(client: Client) -> oidc.RegisteredClient:
        return await oidc.register_client(world.deps, client, client_name="flood", client_type="public", scopes=None,
                                          grant_types=None, redirect_uris=None, issuer_url=None)

    app = await world.device_client()  # 1 of the address's budget
    for _ in range(30):
        await register(CLI)
    for _ in range(29):
        await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                              client_secret=app.client_secret, start_url=world.start_url)
    with pytest.raises(TooManyAttempts) as refused:  # the 61st row of the hour from that address
        await register(CLI)
    with pytest.raises(TooManyAttempts):
        await oidc.start_device_authorization(world.deps, CLI, client_id=app.client_id,
                                              client_secret=app.client_secret, start_url=world.start_url)
    assert refused.value.retry_after >= 1
    async with world.deps.store.unit() as uow:  # nothing stored for the refused ones
        assert len([a for a in await uow.audit.for_account(world.account_id)
                    if a.event == "StartDeviceAuthorization"]) == 29
    await register(Client(ip="192.0.2.10"))
    world.clock.advance(refused.value.retry_after + 1)  # then one at a time, after the wait it names
    await register(CLI)
