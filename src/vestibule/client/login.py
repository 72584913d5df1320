"""Console credentials for the command line, from the user's side (`vestibule login`, `vestibule logout`).

Login: a P-256 key made here (dpop_key.py), PKCE S256 and `state`; the browser signs in to the console and the
user allows "the command line on this computer"; the authorization code comes back to a loopback listener (or,
with --remote, the user pastes the code the confirmation page shows). The code is redeemed through botocore's own
`signin` client (CreateOAuth2Token, `authorization_code` grant, unsigned) with a DPoP proof of the key. The answer
is written where and as botocore's login credential provider reads it (`$AWS_LOGIN_CACHE_DIRECTORY` or
`~/.aws/login/cache/<sha256 of the session name>.json`, the session name being the principal's ARN), and the
profile gets `login_session`, `region` and `endpoint_url`. From then on the AWS CLI and SDKs refresh the
credentials themselves (CreateOAuth2Token, `refresh_token` grant, a DPoP proof of the cached key).

Logout: BatchRevokeSessions of the cache's own session ARN, signed with its credentials (botocore's provider
refreshes them first when they are expired), then the cache file and the profile's `login_session` go. When the
server cannot be reached, or the session had already ended, the local files still go and the message says so."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.configprovider import ConstantProvider
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    LoginError,
    LoginRefreshRequired,
    MissingDependencyException,
)
from botocore.utils import generate_login_cache_key, get_login_token_cache_directory

from .aws_config import ConfigFile, check_value, profile_header
from .browser import approved_code, open_url, pkce_pair, where_to_sign_in
from .dpop_key import DpopKey
from .endpoints import answered_by, error_code, error_message
from .errors import (
    AuthorizationExpired,
    BadInput,
    ConfigProblem,
    Denied,
    MissingInput,
    NotSignedIn,
    ServerUnreachable,
    SignInError,
    UntrustedAnswer,
)
from .loopback import LoopbackListener
from .token_cache import iso_z, read_json, remove_file, write_private_json

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"  # the signin model's ClientId values
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
AUTHORIZE_PATH = "/v1/authorize"
CROSS_DEVICE_REDIRECT_PATH = "/v1/authorize/code"
TOKEN_PATH = "/v1/token"
CALLBACK_WAIT = 600.0  # seconds the loopback listener waits (the server's pending requests live 10 minutes)
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
# What may be written as `login_session` (a config value and, hashed, the cache file's name): the root user or an
# IAM user (with its path) of one account, as STS GetCallerIdentity names them.
PRINCIPAL_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):(?:root|user/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64})", re.ASCII)
SESSION_ARN = re.compile(r"arn:aws:signin::([0-9]{12}):session/[A-Za-z0-9_-]{1,128}", re.ASCII)
CODE = re.compile(r"[\x21-\x7e]{1,512}", re.ASCII)  # the model's AuthorizationCode: 1 to 512 characters
# Profile keys by which botocore would sign in another way before it looks at `login_session` (its provider
# chain: assume role, web identity and SSO come first), so a login there would never be used.
_OTHER_SIGN_IN = ("sso_session", "sso_start_url", "role_arn", "web_identity_token_file", "credential_source")
_TOKEN_CONFIG = Config(signature_version=UNSIGNED, connect_timeout=5, read_timeout=30,
                       retries={"max_attempts": 1})  # a code is single-use: a retry could only be refused
_SIGNED_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})
Say = Callable[[str], None]
Read = Callable[[str], str]


def _now() -> datetime:
    return datetime.now(UTC)


# ---- where things are ------------------------------------------------------------------------------

def cache_dir() -> Path:
    """botocore's own answer: `$AWS_LOGIN_CACHE_DIRECTORY` (with ~ and variables expanded) or
    `~/.aws/login/cache`."""
    return Path(get_login_token_cache_directory())


def cache_path(session_name: str) -> Path:
    return cache_dir() / f"{generate_login_cache_key(session_name)}.json"


def endpoint_base(url: str, source: str) -> str:
    """An http(s) base URL without query, fragment or user info, and without its trailing slash."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment \
            or "@" in parts.netloc or "\\" in url or not url.isprintable() or " " in url:
        raise ConfigProblem(f"{source} {url!r} is not an http:// or https:// base URL (no query, fragment or "
                            "user name)")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Target:
    """The profile a login writes, and the server and region it signs in to."""

    profile: str
    endpoint: str
    region: str
    values: dict[str, str]  # the profile's current keys (lower case)


def target(config: ConfigFile, profile: str, endpoint_url: str | None, region: str | None) -> Target:
    """--endpoint-url, else the profile's endpoint_url, else $AWS_ENDPOINT_URL_SIGNIN or $AWS_ENDPOINT_URL (which
    botocore would use too); --region, else the profile's region, else us-east-1."""
    check_value("the profile name", profile)
    if not profile.strip() or "[" in profile or "]" in profile:
        raise BadInput(f"--profile {profile!r} is not a profile name (no [ or ], not empty)")
    values = config.section(profile_header(profile)) or {}
    other = [key for key in _OTHER_SIGN_IN if values.get(key)]
    if other:
        raise ConfigProblem(f"profile {profile!r} in {config.path} signs in another way ({', '.join(other)}), "
                            "which the AWS CLI and SDKs would use before a login session; choose another "
                            "--profile (or remove those settings)")
    if endpoint_url:
        source, given = "--endpoint-url", endpoint_url
    elif values.get("endpoint_url"):
        source, given = f"endpoint_url of profile {profile!r}", values["endpoint_url"]
    elif os.environ.get("AWS_ENDPOINT_URL_SIGNIN") or os.environ.get("AWS_ENDPOINT_URL"):
        source = "AWS_ENDPOINT_URL_SIGNIN" if os.environ.get("AWS_ENDPOINT_URL_SIGNIN") else "AWS_ENDPOINT_URL"
        given = os.environ[source]
    else:
        raise ConfigProblem(f"which server? profile {profile!r} in {config.path} has no endpoint_url; give "
                            "--endpoint-url https://<your Vestibule server>")
    chosen_region = region or values.get("region") or DEFAULT_REGION
    if not re.fullmatch(r"[a-z0-9-]{1,32}", chosen_region, re.ASCII):
        raise BadInput(f"--region {chosen_region!r} is not a region name (a-z, 0-9, -)")
    return Target(profile, endpoint_base(given, source), chosen_region, values)


# ---- talking to the server ---------------------------------------------------------------------------

def talking_to(endpoint: str) -> AbstractContextManager[None]:
    """answered_by() for the `signin` and `sts` clients."""
    return answered_by(endpoint, "a Vestibule sign-in server", "the endpoint URL")


def _session(profile: str | None) -> botocore.session.Session:
    """A botocore session for these clients: the profile's settings when it exists (a CA bundle, say), else none
    (so an $AWS_PROFILE naming a missing profile does not stop a first login)."""
    session = botocore.session.Session()
    if profile is not None and profile in session.available_profiles:
        session.set_config_variable("profile", profile)
    else:
        session.get_component("config_store").set_config_provider("profile", ConstantProvider(None))
    return session


def pin_endpoint(api: Any, endpoint: str) -> Any:
    """Send every call of a `signin` client to `endpoint`. botocore's endpoint rules for the signin service send
    its control-plane operations (ListSessions, GetSession, BatchRevokeSessions...) to
    https://signin.<region>.api.aws whatever endpoint_url says (the IsControlPlane rule comes before the Endpoint
    one); CreateOAuth2Token alone follows endpoint_url. The URL is replaced before signing, so the signature covers
    the host the request really goes to."""
    base = urlsplit(endpoint)

    def pin(request: Any, **_: Any) -> None:
        path = urlsplit(request.url)
        request.url = urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path.path, path.query, ""))

    api.meta.events.register("before-sign.signin", pin)
    return api


def signed_client(service: str, endpoint: str, region: str, credentials: dict[str, str],
                  profile: str | None = None) -> Any:
    try:
        api = _session(profile).create_client(
            service, region_name=region, endpoint_url=endpoint, config=_SIGNED_CONFIG,
            aws_access_key_id=credentials["accessKeyId"], aws_secret_access_key=credentials["secretAccessKey"],
            aws_session_token=credentials["sessionToken"])
    except BotoCoreError as exc:
        raise ConfigProblem(str(exc)) from None
    return pin_endpoint(api, endpoint) if service == "signin" else api


EXTRAS = ("accountId", "principalArn", "sessionArn")  # what Vestibule's answer adds to the model's tokenOutput


def token_client(endpoint: str, region: str, key: DpopKey, profile: str | None = None
                 ) -> tuple[Any, dict[str, str]]:
    """botocore's `signin` client, unsigned, that adds a DPoP proof of `key` to each CreateOAuth2Token call (the
    proof names the request's own URL, as botocore's refreshes do); and the dict where the members of the answer
    beyond the model (EXTRAS, which botocore's parser drops) are kept."""
    try:
        api = _session(profile).create_client("signin", region_name=region, endpoint_url=endpoint,
                                              config=_TOKEN_CONFIG)
    except BotoCoreError as exc:
        raise ConfigProblem(str(exc)) from None
    extras: dict[str, str] = {}

    def add_proof(params: dict[str, Any], **_: Any) -> None:
        url = urlsplit(str(params["url"]))
        params["headers"]["DPoP"] = key.proof(f"{url.scheme}://{url.netloc}{url.path}")

    def keep_extras(http_response: Any, **_: Any) -> None:
        try:
            body = json.loads(http_response.content)
        except (ValueError, TypeError):
            return
        if isinstance(body, dict):
            extras.update({name: body[name] for name in EXTRAS if isinstance(body.get(name), str)})

    api.meta.events.register("before-call.signin.CreateOAuth2Token", add_proof)
    api.meta.events.register("after-call.signin.CreateOAuth2Token", keep_extras)
    return api, extras


def _token_refused(exc: ClientError) -> SignInError:
    reason = str(exc.response.get("error") or "")
    message = error_message(exc)
    if reason == "AUTHCODE_EXPIRED":
        return AuthorizationExpired(f"the authorization code expired before it was redeemed ({message}); run "
                                    "the login again")
    if reason == "INSUFFICIENT_PERMISSIONS":
        return Denied(f"the server refused: your policies do not allow signin:CreateOAuth2Token ({message}); ask "
                      "an administrator")
    if reason in ("TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"):
        return NotSignedIn(f"the console session that allowed this ended before the code was redeemed "
                           f"({message}); run the login again")
    if reason == "invalid_grant":
        return SignInError(f"the server refused the authorization code ({message}): it was used already, expired, "
                           "or belongs to another login; run the login again")
    return SignInError(f"CreateOAuth2Token failed: {error_code(exc)}"
                       f"{f' ({reason})' if reason else ''}: {message}")


# ---- the login ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoggedIn:
    principal_arn: str
    account_id: str
    session_arn: str | None
    credentials_expire: datetime
    session_expires: datetime | None
    path: Path


def authorize_url(endpoint: str, client_id: str, redirect_uri: str, state: str, challenge: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
             "code_challenge": challenge, "code_challenge_method": "SHA-256"}
    return f"{endpoint}{AUTHORIZE_PATH}?{urlencode(query)}"


@dataclass
class Login:
    """One `vestibule login`: where it signs in, where messages go and where a pasted code is read from."""

    where: Target
    say: Say
    read: Read = field(default=lambda prompt: input(prompt))  # looked up at each call: tests replace input
    open_browser: bool = True

    def run(self, remote: bool) -> LoggedIn:
        key = DpopKey.generate()
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        api, extras = token_client(self.where.endpoint, self.where.region, key, self.where.profile)
        self._check_server(api)
        if remote:
            client_id, redirect_uri = CROSS_DEVICE, f"{self.where.endpoint}{CROSS_DEVICE_REDIRECT_PATH}"
            url = authorize_url(self.where.endpoint, client_id, redirect_uri, state, challenge)
            self.say("Open this URL in a browser on any device, sign in and allow the command line:\n\n"
                     f"  {url}\n")
            code = self._pasted_code()
        else:
            client_id = SAME_DEVICE
            with LoopbackListener(state) as listener:
                redirect_uri = listener.redirect_uri
                url = authorize_url(self.where.endpoint, client_id, redirect_uri, state, challenge)
                self.say(where_to_sign_in(url, self.open_browser and open_url(url)))
                self.say("Waiting for the approval in the browser...")
                code = self._callback_code(listener)
        with talking_to(self.where.endpoint):
            try:
                answer = api.create_o_auth2_token(tokenInput={
                    "clientId": client_id, "grantType": "authorization_code", "code": code,
                    "redirectUri": redirect_uri, "codeVerifier": verifier})
            except ClientError as exc:
                raise _token_refused(exc) from None
        return self._save(key, client_id, answer, extras)

    def _check_server(self, api: Any) -> None:
        """Before the user signs in for nothing: is a Vestibule sign-in server there? A token request without a
        code, which it refuses on its shape alone (ValidationException; nothing stored or counted). Nothing
        answering is ServerUnreachable (exit 5), another kind of answer a SignInError naming the endpoint."""
        with talking_to(self.where.endpoint):
            try:
                api.create_o_auth2_token(tokenInput={"clientId": SAME_DEVICE, "grantType": "authorization_code"})
            except ClientError as exc:
                if error_code(exc) == "ValidationException":
                    return
                if error_code(exc).isdigit():
                    raise  # not an AWS-shaped answer: talking_to names the endpoint
                raise _token_refused(exc) from None
        raise UntrustedAnswer(f"{self.where.endpoint} accepted a token request without a code: not a Vestibule "
                              "sign-in server; nothing was saved")

    def _callback_code(self, listener: LoopbackListener) -> str:
        code = approved_code(listener.wait(CALLBACK_WAIT), CALLBACK_WAIT, "login")
        if not CODE.fullmatch(code):
            raise UntrustedAnswer("the browser brought back an authorization code that is not one (1 to 512 "
                                  "printable characters); nothing was saved")
        return code

    def _pasted_code(self) -> str:
        try:
            typed = self.read("Paste the code shown in the browser after you allowed: ").strip()
        except EOFError:
            raise MissingInput("no code was pasted; run the login again and paste the code the browser shows"
                               ) from None
        if not CODE.fullmatch(typed):
            raise BadInput("that is not an authorization code (1 to 512 printable characters without spaces); run "
                           "the login again")
        return typed

    def _save(self, key: DpopKey, client_id: str, answer: dict[str, Any], extras: dict[str, str]) -> LoggedIn:
        output = answer.get("tokenOutput") or {}
        access = output.get("accessToken") or {}
        credentials = {name: str(access.get(name) or "") for name in
                       ("accessKeyId", "secretAccessKey", "sessionToken")}
        refresh_token = str(output.get("refreshToken") or "")
        if not all(credentials.values()) or not refresh_token:
            raise UntrustedAnswer("the server's CreateOAuth2Token answer lacks credentials or a refresh token; "
                                  "nothing was saved")
        lasts = int(output.get("expiresIn") or 900)
        expires = (_now() + timedelta(seconds=max(1, min(lasts, 900)))).replace(microsecond=0)
        # who and which session: Vestibule's own members, else the idToken's claims (AWS's way), else asked
        claims = {**id_token_claims(output.get("idToken")), **extras}
        principal, account = self._identity(credentials, claims)
        session_arn = self._session_arn(credentials, claims, account, client_id)
        session_expires = self._session_end(credentials, session_arn)
        token = {
            "accessToken": {**credentials, "accountId": account, "expiresAt": iso_z(expires)},
            "refreshToken": refresh_token,
            "dpopKey": key.pem(),
            "clientId": client_id,
            "signInRegion": self.where.region,
            "endpointUrl": self.where.endpoint,
        }
        if session_arn:
            token["sessionArn"] = session_arn
        path = cache_path(principal)
        old = read_cache(principal)
        write_private_json(path, token)
        self._write_profile(principal)
        old_arn = str((old or {}).get("sessionArn") or "")
        if old_arn and old_arn != session_arn:
            self._end_replaced(credentials, old_arn)
        return LoggedIn(principal, account, session_arn, expires, session_expires, path)

    # -- who signed in, and which session this is

    def _identity(self, credentials: dict[str, str], claims: dict[str, Any]) -> tuple[str, str]:
        """The principal (`principalArn`, else the idToken's `sub`, else STS GetCallerIdentity with the new
        credentials) and its account; refused unless it is the root user or an IAM user of a 12-digit account,
        and the account the answer names (`accountId`) is the principal's."""
        arn = str(claims.get("principalArn") or claims.get("sub") or "")
        if not arn:  # named neither way: ask
            sts = signed_client("sts", self.where.endpoint, self.where.region, credentials, self.where.profile)
            try:
                with talking_to(self.where.endpoint):
                    arn = str(sts.get_caller_identity().get("Arn") or "")
            except ClientError:
                pass
        match = PRINCIPAL_ARN.fullmatch(arn)
        if match is None:
            shown = "".join(c if c.isprintable() else "?" for c in arn)[:200]
            raise UntrustedAnswer(f"the server named the signed-in principal {shown!r}, which is not the root user "
                                  "or an IAM user; nothing was saved")
        named = claims.get("accountId")
        if named is not None and named != match.group(1):
            raise UntrustedAnswer(f"the server named account {str(named)[:20]!r} for {arn}; nothing was saved")
        return arn, match.group(1)

    def _session_arn(self, credentials: dict[str, str], claims: dict[str, Any], account: str,
                     client_id: str) -> str | None:
        """The login session's ARN, for logout: `sessionArn` (or the idToken's `sid`, or `sub` when it is a session
        ARN), else the newest active session of this client in the caller's own ListSessions."""
        for name in ("sessionArn", "sid", "sub"):
            value = str(claims.get(name) or "")
            match = SESSION_ARN.fullmatch(value)
            if match and match.group(1) == account:
                return value
        api = signed_client("signin", self.where.endpoint, self.where.region, credentials, self.where.profile)
        try:
            with talking_to(self.where.endpoint):
                items = api.list_sessions(clientId=client_id, status="ACTIVE").get("items") or []
        except (ClientError, SignInError):
            return None
        ours = [item for item in items if (m := SESSION_ARN.fullmatch(str(item.get("sessionArn") or "")))
                and m.group(1) == account and item.get("clientId") in (None, client_id)]
        ours.sort(key=lambda item: int(item.get("issuedAt") or 0))
        return str(ours[-1]["sessionArn"]) if ours else None

    def _session_end(self, credentials: dict[str, str], session_arn: str | None) -> datetime | None:
        if session_arn is None:
            return None
        api = signed_client("signin", self.where.endpoint, self.where.region, credentials, self.where.profile)
        try:
            with talking_to(self.where.endpoint):
                found = api.get_session(sessionArn=session_arn)
        except (ClientError, SignInError):
            return None
        return epoch(found.get("expiresAt"))

    def _end_replaced(self, credentials: dict[str, str], old_arn: str) -> None:
        """The session this login's cache file replaced can no longer be used from here: end it (best effort)."""
        api = signed_client("signin", self.where.endpoint, self.where.region, credentials, self.where.profile)
        try:
            with talking_to(self.where.endpoint):
                api.batch_revoke_sessions(sessionArns=[old_arn], reason="replaced by a new vestibule login")
        except (ClientError, SignInError, BotoCoreError):
            return

    def _write_profile(self, principal: str) -> None:
        config = ConfigFile.load()
        config.set_section(profile_header(self.where.profile), {
            "login_session": principal, "region": self.where.region, "endpoint_url": self.where.endpoint})
        config.save()


def epoch(value: Any) -> datetime | None:
    """A time of the signin API: epoch seconds, as the model documents them (a number past the year 5138 is read
    as milliseconds, which some servers send)."""
    try:
        number = int(value)
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC).replace(microsecond=0)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def id_token_claims(id_token: Any) -> dict[str, Any]:
    """The payload of the idToken JWT (read, not verified: it came straight from the server over the connection
    the credentials came on, and only names things the client checks again); {} when there is none."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return {}
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


# ---- the cache file ------------------------------------------------------------------------------------

def read_cache(session_name: str) -> dict[str, Any] | None:
    data = read_json(cache_path(session_name))
    return data if isinstance(data, dict) else None


def remove_cache(session_name: str) -> bool:
    return remove_file(cache_path(session_name))


def remove_login_session(config: ConfigFile, profile: str) -> bool:
    """Drop the `login_session` line of the profile, keeping every other line; True when there was one."""
    header = " ".join(profile_header(profile).split())
    changed = False
    for name, start, end in reversed(config._spans()):
        if name != header:
            continue
        for i in range(end - 1, start, -1):
            line = config.lines[i]
            if line[:1] not in (" ", "\t") and re.match(r"login_session\s*[=:]", line, re.IGNORECASE):
                del config.lines[i]
                changed = True
    return changed


# ---- logout ------------------------------------------------------------------------------------------

class LoggedOut(Enum):
    NOTHING = "no login session"
    ENDED = "ended at the server"
    ALREADY_ENDED = "had already ended at the server"
    UNREACHABLE = "the server could not be reached"
    REFUSED = "the server refused to end it"


@dataclass(frozen=True)
class LogoutResult:
    outcome: LoggedOut
    principal: str | None
    detail: str = ""


def logout(profile: str) -> LogoutResult:
    """End the profile's login session at the server, then remove its cache file and `login_session`."""
    config = ConfigFile.load()
    values = config.section(profile_header(profile))
    if values is None:
        raise ConfigProblem(f"there is no profile {profile!r} in {config.path}")
    name = values.get("login_session")
    if not name:
        return LogoutResult(LoggedOut.NOTHING, None)
    cached = read_cache(name)
    result = LogoutResult(LoggedOut.NOTHING, name) if cached is None else _end_at_server(profile, values, cached)
    remove_cache(name)
    if remove_login_session(config, profile):
        config.save()
    return result


def _end_at_server(profile: str, values: dict[str, str], cached: dict[str, Any]) -> LogoutResult:
    name = values["login_session"]
    session_arn = str(cached.get("sessionArn") or "")
    endpoint = values.get("endpoint_url") or str(cached.get("endpointUrl") or "")
    if not session_arn or not SESSION_ARN.fullmatch(session_arn) or not endpoint:
        return LogoutResult(LoggedOut.REFUSED, name, "the cache file names no login session or server to tell")
    region = str(cached.get("signInRegion") or values.get("region") or DEFAULT_REGION)
    try:
        endpoint = endpoint_base(endpoint, "the endpoint URL")
        credentials = _fresh_credentials(profile)
        api = signed_client("signin", endpoint, region, credentials, profile)
        with talking_to(endpoint):
            answer = api.batch_revoke_sessions(sessionArns=[session_arn], reason="vestibule logout")
    except ServerUnreachable as exc:
        return LogoutResult(LoggedOut.UNREACHABLE, name, exc.message)
    except LoginRefreshRequired:
        return LogoutResult(LoggedOut.ALREADY_ENDED, name, "its refresh was refused: it has expired or was revoked")
    except ClientError as exc:
        code = error_code(exc)
        if code in ("InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
                    "ResourceNotFoundException"):
            return LogoutResult(LoggedOut.ALREADY_ENDED, name, f"the server no longer accepts it ({code})")
        return LogoutResult(LoggedOut.REFUSED, name, f"{code}: {error_message(exc)}")
    except (LoginError, MissingDependencyException, SignInError, BotoCoreError) as exc:
        message = exc.message if isinstance(exc, SignInError) else str(exc)
        return LogoutResult(LoggedOut.REFUSED, name, message)
    if session_arn in [str(s.get("sessionArn")) for s in answer.get("revokedSessions") or []]:
        return LogoutResult(LoggedOut.ENDED, name)
    for error in answer.get("errors") or []:
        if str(error.get("sessionArn")) == session_arn:
            if "notfound" in str(error.get("code") or "").lower().replace("_", ""):
                return LogoutResult(LoggedOut.ALREADY_ENDED, name, f"the server does not know it any more "
                                                                   f"({error.get('code')})")
            return LogoutResult(LoggedOut.REFUSED, name, f"{error.get('code')}: {error.get('message')}")
    return LogoutResult(LoggedOut.REFUSED, name, "the server's answer does not name the session")


def _fresh_credentials(profile: str) -> dict[str, str]:
    """The profile's credentials through botocore's own login provider, which refreshes them (CreateOAuth2Token
    with a DPoP proof, saving the new ones) when they are expired or about to be."""
    from botocore.credentials import LoginProvider

    session = _session(profile)
    provider = LoginProvider(load_config=lambda: session.full_config, client_creator=session.create_client,
                             profile_name=profile)
    quiet = logging.getLogger("botocore.credentials")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a refused refresh is logged with its traceback: the outcome says it
    try:
        loaded = provider.load()
        if loaded is None:
            raise ConfigProblem(f"profile {profile!r} has no login_session")
        frozen = loaded.get_frozen_credentials()
        if loaded.refresh_needed(0):  # expired, and botocore could not refresh them
            raise LoginRefreshRequired()
    finally:
        quiet.setLevel(level)
    return {"accessKeyId": frozen.access_key, "secretAccessKey": frozen.secret_key,
            "sessionToken": frozen.token or ""}

