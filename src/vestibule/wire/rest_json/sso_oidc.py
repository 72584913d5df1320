"""SSO-OIDC (`POST /client/register`, `POST /device_authorization`, `POST /token`), unsigned: client
registration, the device authorization grant and the token endpoint of the CLI's sign-in. OAuth errors are
raised by the use cases (`core.oauth`) and answered as the model's exceptions (`errors.OAUTH_ERRORS`)."""

from __future__ import annotations

from ...services.identity_center import sso_oidc
from ..json_values import JsonObject, JsonValue
from ..members import string_list, text
from .request import RestRequest, RestTable

SSO_OIDC: RestTable = RestTable()

_CLIENT_ID = text("clientId").required()
_CLIENT_SECRET = text("clientSecret").required().sensitive()


@SSO_OIDC.operation("RegisterClient", action=None, audit="RegisterClient", signed=False,
                    http=("POST", "/client/register"),
                    inputs=(text("clientName").required(), text("clientType").required(), string_list("scopes"),
                            string_list("redirectUris"), string_list("grantTypes"), text("issuerUrl")))
async def register_client(r: RestRequest) -> JsonObject:
    i = r.input
    made = await sso_oidc.register_client(
        r.deps, r.client, client_name=i.required("clientName"), client_type=i.required("clientType"),
        scopes=i.strings("scopes"), grant_types=i.strings("grantTypes"), redirect_uris=i.strings("redirectUris"),
        issuer_url=i.text("issuerUrl"))
    origin = r.deps.settings.public_origin
    return {"clientId": made.client_id, "clientSecret": made.client_secret,
            "clientIdIssuedAt": made.client_id_issued_at, "clientSecretExpiresAt": made.client_secret_expires_at,
            "authorizationEndpoint": f"{origin}/authorize", "tokenEndpoint": f"{origin}/token"}


@SSO_OIDC.operation("StartDeviceAuthorization", action=None, audit="StartDeviceAuthorization", signed=False,
                    http=("POST", "/device_authorization"),
                    inputs=(_CLIENT_ID, _CLIENT_SECRET, text("startUrl").required()))
async def start_device_authorization(r: RestRequest) -> JsonObject:
    i = r.input
    started = await sso_oidc.start_device_authorization(
        r.deps, r.client, client_id=i.required("clientId"), client_secret=i.required("clientSecret"),
        start_url=i.required("startUrl"))
    return {"deviceCode": started.device_code, "userCode": started.user_code,
            "verificationUri": started.verification_uri,
            "verificationUriComplete": started.verification_uri_complete, "expiresIn": started.expires_in,
            "interval": started.interval}


@SSO_OIDC.operation("CreateToken", action=None, audit="CreateToken", signed=False, http=("POST", "/token"),
                    inputs=(_CLIENT_ID, _CLIENT_SECRET, text("grantType").required(), text("deviceCode"),
                            text("code"), text("refreshToken").sensitive(), string_list("scope"),
                            text("redirectUri"), text("codeVerifier").sensitive()))
async def create_token(r: RestRequest) -> JsonObject:
    i = r.input
    issued = await sso_oidc.create_token(
        r.deps, r.client, client_id=i.required("clientId"), client_secret=i.required("clientSecret"),
        grant_type=i.required("grantType"), device_code=i.text("deviceCode"), code=i.text("code"),
        redirect_uri=i.text("redirectUri"), code_verifier=i.text("codeVerifier"),
        refresh_token=i.text("refreshToken"), scope=i.strings("scope"))
    reply: dict[str, JsonValue] = {"accessToken": issued.access_token, "tokenType": issued.token_type,
                                   "expiresIn": issued.expires_in}
    if issued.refresh_token is not None:
        reply["refreshToken"] = issued.refresh_token
    return reply
