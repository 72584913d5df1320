"""Sign-in from the terminal, as AWS CLI v2 does it: a registered public client (cached and reused until it
expires), then either the authorization code grant with PKCE through a loopback listener and the browser
(RFC 7636, RFC 8252), or the device authorization grant (RFC 8628: show the URL and user code, poll politely),
and finally the token in botocore's cache, where the AWS CLI and SDKs find and refresh it. Logout revokes the
token at the server (the SSO portal's Logout) and removes it from the cache."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any
from urllib.parse import urlencode, urlsplit

from botocore.exceptions import ClientError

from . import token_cache
from .aws_config import SsoSession
from .browser import approved_code, open_url, pkce_pair, where_to_sign_in
from .endpoints import client, error_code, error_message, talking_to
from .errors import AuthorizationExpired, Denied, NoSuchPortal, NotSignedIn, SignInError, UntrustedAnswer
from .loopback import REGISTERED_REDIRECT_URI, LoopbackListener

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ["authorization_code", DEVICE_GRANT, "refresh_token"]
CALLBACK_WAIT = 600.0  # seconds the loopback listener waits for the browser (the server's codes live 5 minutes)
Say = Callable[[str], None]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SignIn:
    """One sign-in of an sso-session: its config, where messages go, and the clients it uses."""

    session: SsoSession
    say: Say
    profile: str | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.oidc = client("sso-oidc", self.session.start_url, self.session.region, self.profile)

    # -- the registered client

    def _registration_key(self) -> str:
        s = self.session
        return token_cache.registration_key(s.start_url, s.region, s.registration_scopes, s.name)

    def registration(self, fresh: bool = False) -> token_cache.Registration:
        key = self._registration_key()
        if not fresh:
            cached = token_cache.load_registration(key, _now())
            if cached is not None:
                return cached
        with talking_to(self.oidc):
            try:
                made = self.oidc.register_client(
                    clientName=_client_name(), clientType="public",
                    scopes=list(self.session.registration_scopes), grantTypes=GRANT_TYPES,
                    redirectUris=[REGISTERED_REDIRECT_URI], issuerUrl=self.session.start_url)
            except ClientError as exc:
                raise self._refused("RegisterClient", exc) from None
        registration = token_cache.Registration(
            made["clientId"], made["clientSecret"], datetime.fromtimestamp(made["clientSecretExpiresAt"], UTC),
            self.session.registration_scopes)
        token_cache.save_registration(key, registration)
        return registration

    def _refused(self, operation: str, exc: ClientError) -> SignInError:
        code, message = error_code(exc), error_message(exc)
        if code == "InvalidRequestException" and any(w in message.lower() for w in ("start", "portal", "issuer")):
            return NoSuchPortal(f"the server has no access portal at {self.session.start_url} ({message}); "
                                f"check sso_start_url of [sso-session {self.session.name}]")
        return SignInError(f"{operation} failed: {code}: {message}")

    def _with_registration(self, work: Callable[[token_cache.Registration], Any]) -> Any:
        """Run `work` with the cached registration; once more with a new one if the server forgot the old."""
        registration = self.registration()
        try:
            return work(registration)
        except ClientError as exc:
            if error_code(exc) != "InvalidClientException":
                raise
            token_cache.forget_registration(self._registration_key())
            return work(self.registration(fresh=True))

    # -- the device authorization grant

    def device_code(self, open_browser: bool) -> token_cache.CachedToken:
        def start(registration: token_cache.Registration) -> tuple[token_cache.Registration, Any]:
            with talking_to(self.oidc):
                return registration, self.oidc.start_device_authorization(
                    clientId=registration.client_id, clientSecret=registration.client_secret,
                    startUrl=self.session.start_url)

        try:
            registration, grant = self._with_registration(start)
        except ClientError as exc:
            raise self._refused("StartDeviceAuthorization", exc) from None
        for uri in (grant.get("verificationUri"), grant.get("verificationUriComplete")):
            if uri is not None:
                self._check_verification_uri(str(uri))
        complete = grant.get("verificationUriComplete") or grant["verificationUri"]
        self.say("To sign in, open this page in a browser on any device:\n\n"
                 f"  {grant['verificationUri']}\n\nand enter the code:\n\n  {grant['userCode']}\n\n"
                 f"(or open {complete} directly)")
        if open_browser:
            open_url(complete)
        self.say("Waiting for the approval in the browser...")
        return self._poll(registration, grant)

    def _check_verification_uri(self, uri: str) -> None:
        """RFC 8628 5.4: show or open only an http(s) page on the start URL's host or the endpoint's, never a
        file:, a custom scheme or another site the server names."""
        hosts = {urlsplit(u).hostname for u in (self.session.start_url, str(self.oidc.meta.endpoint_url))}
        try:
            parts = urlsplit(uri)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if parts is None or parts.scheme not in ("http", "https") or host is None or host not in hosts \
                or "@" in parts.netloc or "\\" in uri or not uri.isprintable():  # a browser reads \ as /
            shown = "".join(c if c.isprintable() else "?" for c in uri)[:200]
            raise UntrustedAnswer(f"the server asked to open {shown!r}, which is not an http(s) page of "
                                  f"{' or '.join(sorted(h for h in hosts if h))}; nothing was opened or saved. "
                                  "Check sso_start_url (or AWS_ENDPOINT_URL)")

    def _poll(self, registration: token_cache.Registration, grant: dict[str, Any]) -> token_cache.CachedToken:
        interval = float(grant.get("interval") or 5)
        deadline = time.monotonic() + float(grant.get("expiresIn") or 600)
        while True:
            self.sleep(interval)
            if time.monotonic() > deadline:
                raise AuthorizationExpired("the code expired before it was approved; run the sign-in again")
            with talking_to(self.oidc):
                try:
                    issued = self.oidc.create_token(
                        grantType=DEVICE_GRANT, deviceCode=grant["deviceCode"], clientId=registration.client_id,
                        clientSecret=registration.client_secret)
                except ClientError as exc:
                    code = error_code(exc)
                    if code == "AuthorizationPendingException":
                        continue
                    if code == "SlowDownException":
                        interval += 5  # RFC 8628 3.5
                        continue
                    raise self._token_refused(exc) from None
            return self._save(registration, issued)

    def _token_refused(self, exc: ClientError) -> SignInError:
        code = error_code(exc)
        if code == "AccessDeniedException":
            return Denied("the sign-in was denied in the browser; nothing was saved")
        if code == "ExpiredTokenException":
            return AuthorizationExpired("the code expired before it was approved; run the sign-in again")
        return SignInError(f"CreateToken failed: {code}: {error_message(exc)}")

    # -- the authorization code grant with PKCE

    def browser(self, open_browser: bool) -> token_cache.CachedToken:
        registration = self.registration()
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        with LoopbackListener(state) as listener:
            query = {"response_type": "code", "client_id": registration.client_id,
                     "redirect_uri": listener.redirect_uri, "state": state, "code_challenge_method": "S256",
                     "scopes": " ".join(self.session.registration_scopes), "code_challenge": challenge}
            url = f"{str(self.oidc.meta.endpoint_url).rstrip('/')}/authorize?{urlencode(query)}"
            self.say(where_to_sign_in(url, open_browser and open_url(url)))
            self.say("Waiting for the approval in the browser...")
            answer = listener.wait(CALLBACK_WAIT)
        code = approved_code(answer, CALLBACK_WAIT, "sign-in")
        with talking_to(self.oidc):
            try:
                issued = self.oidc.create_token(
                    grantType="authorization_code", clientId=registration.client_id,
                    clientSecret=registration.client_secret, code=code, codeVerifier=verifier,
                    redirectUri=listener.redirect_uri)
            except ClientError as exc:
                raise self._token_refused(exc) from None
        return self._save(registration, issued)

    # -- the token

    def _save(self, registration: token_cache.Registration, issued: dict[str, Any]) -> token_cache.CachedToken:
        token = token_cache.CachedToken(
            start_url=self.session.start_url, region=self.session.region, access_token=issued["accessToken"],
            expires_at=(_now() + timedelta(seconds=int(issued.get("expiresIn") or 3600))).replace(microsecond=0),
            refresh_token=issued.get("refreshToken"), client_id=registration.client_id,
            client_secret=registration.client_secret, registration_expires_at=registration.expires_at)
        path = token_cache.save_token(self.session.name, token)
        self.say(f"Signed in to {self.session.start_url}. The token is in {path} "
                 f"until {token_cache.iso_z(token.expires_at)} (the AWS CLI and SDKs refresh it).")
        return token


def _client_name() -> str:
    """What the approval page shows as the asking application: this command and the computer it runs on."""
    host = "".join(c for c in socket.gethostname() if c.isprintable())[:64]
    return f"vestibule sso login on {host}" if host else "vestibule sso login"


class LoggedOut(Enum):
    NOTHING = "nothing cached"
    ENDED = "ended at the server"
    UNTOLD = "the server refused the token, so it could not be told"


def logout(session: SsoSession, say: Say, profile: str | None = None) -> LoggedOut:
    """Revoke the cached token at the server (the SSO portal's Logout, which ends the sign-in's portal session
    and refresh tokens) and remove it. An access token the server refuses (it expired) is first refreshed with
    the cached refresh token, so Logout still ends the sign-in. When the server refuses both, it cannot be told:
    the file is removed and the answer says so (UNTOLD). The file stays when the server cannot be reached, so
    the token can still be revoked later."""
    token = token_cache.load_token(session.name)
    if token is None:
        return LoggedOut.ENDED if token_cache.remove_token(session.name) else LoggedOut.NOTHING
    portal = client("sso", token.start_url, token.region, profile)
    if not _ended_at_server(portal, token.access_token):
        refreshed = _refreshed(session.name, token, profile)
        if refreshed is None or not _ended_at_server(portal, refreshed.access_token):
            token_cache.remove_token(session.name)
            say(f"The server refused the token of [sso-session {session.name}]"
                f"{' and its refresh token' if token.refresh_token else ''}, so it could not be told to end this "
                "sign-in. If the sign-in had not already ended there (signed out in the portal, or revoked), its "
                "portal session and refresh token stay valid at the server until they expire; to end them now, "
                f"sign out in the access portal: {token.start_url}. The cached token is removed.")
            return LoggedOut.UNTOLD
        say(f"The access token of [sso-session {session.name}] had expired; a refreshed one ended the sign-in at "
            "the server.")
    token_cache.remove_token(session.name)
    return LoggedOut.ENDED


def _ended_at_server(portal: Any, access_token: str) -> bool:
    """Logout with this access token: True when the server ended the sign-in, False when it refused the token."""
    with talking_to(portal):
        try:
            portal.logout(accessToken=access_token)
        except ClientError as exc:
            if error_code(exc) != "UnauthorizedException":
                raise SignInError(f"Logout failed: {error_code(exc)}: {error_message(exc)}; "
                                  "the token was kept") from None
            return False
    return True


def _refreshed(name: str, token: token_cache.CachedToken, profile: str | None) -> token_cache.CachedToken | None:
    """A new access token from the cached refresh token and registration (saved, as botocore would, so the file
    stays usable if the next call cannot reach the server); None when there is none or the server refuses."""
    if not token.refresh_token or token.registration_expires_at <= _now():
        return None
    oidc = client("sso-oidc", token.start_url, token.region, profile)
    with talking_to(oidc):
        try:
            issued = oidc.create_token(grantType="refresh_token", refreshToken=token.refresh_token,
                                       clientId=token.client_id, clientSecret=token.client_secret)
        except ClientError:
            return None  # InvalidGrant (revoked or expired), InvalidClient, ...: the server will not say more
    lasts = timedelta(seconds=int(issued.get("expiresIn") or 3600))
    fresh = replace(token, access_token=str(issued["accessToken"]), expires_at=(_now() + lasts).replace(microsecond=0),
                    refresh_token=issued.get("refreshToken") or token.refresh_token)
    token_cache.save_token(name, fresh)
    return fresh


def not_signed_in(session: SsoSession) -> NotSignedIn:
    return NotSignedIn(f"the server refused the token of [sso-session {session.name}] (signed out, expired or "
                       f"revoked); sign in again: vestibule sso login --sso-session {session.name}")
