"""Helpers for the SSO-OIDC and SSO portal wire tests: an Identity Center instance made with boto3 (SSO Admin,
Identity Store) in a fresh account, users signed in to its access portal over HTTP, device codes approved
in-process through the service's `decide` (the approval pages are tested on their own), and unsigned boto3
`sso-oidc` and `sso` clients pointed at the live server."""

from __future__ import annotations

from typing import Any

import botocore.config
import httpx
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from integration.aws.aws_world import REGION, Account, AwsWorld
from support import csrf_of
from vestibule.services.context import Client, Deps
from vestibule.services.identity_center import instances, portal_users, sso_oidc
from vestibule.services.identity_center import settings as ic_settings
from vestibule.services.signin import portal as portal_signin

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NEW_PASSWORD = "portal password 9"
BROWSER = Client(ip="127.0.0.1", user_agent="test browser")


def unsigned(world: AwsWorld, service: str) -> Any:
    config = botocore.config.Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 1},
                                    connect_timeout=10, read_timeout=20)
    return world._session.client(service, endpoint_url=world.url, region_name=REGION, config=config)


def raised(call: Any, **kw: Any) -> ClientError:
    try:
        call(**kw)
    except ClientError as exc:
        return exc
    raise AssertionError(f"{call} did not fail")


def status_of(exc: ClientError) -> int:
    return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])


class SsoWorld:
    """One account's Identity Center instance (MFA prompt off: the portal's MFA is tested elsewhere)."""

    def __init__(self, world: AwsWorld, account: Account) -> None:
        self.world, self.account = world, account
        self.admin = world.client("sso-admin", account.root)
        self.instance = self.admin.create_instance(Name="cli")["InstanceArn"]
        self.store = str(self.admin.describe_instance(InstanceArn=self.instance)["IdentityStoreId"])
        self.ids = world.identitystore(account.root)
        self.start_url = f"{world.deps.settings.public_origin}/portal/{self.store}/start"
        self.oidc = unsigned(world, "sso-oidc")
        self.portal = unsigned(world, "sso")
        self.session_cookie = ""  # the portal session cookie's name, known after the first sign-in

        async def no_mfa(deps: Deps) -> None:
            async with deps.store.unit() as uow:
                row = await instances.require(uow, instance_arn=self.instance)
                current = instances.of_row(row).settings
                await instances.set_settings(uow, row, ic_settings.changed(current, mfa_prompt="NEVER"))

        world.run(no_mfa)

    # ---- the directory and its assignments ----------------------------------------------------------------

    def user(self, name: str) -> str:
        return str(self.ids.create_user(IdentityStoreId=self.store, UserName=name, DisplayName=name.title(),
                                        Name={"GivenName": name, "FamilyName": "X"},
                                        Emails=[{"Value": f"{name}@example.com", "Primary": True}])["UserId"])

    def permission_set(self, name: str, duration: str = "PT2H") -> str:
        made = self.admin.create_permission_set(InstanceArn=self.instance, Name=name, SessionDuration=duration)
        arn = str(made["PermissionSet"]["PermissionSetArn"])
        self.admin.attach_managed_policy_to_permission_set(
            InstanceArn=self.instance, PermissionSetArn=arn, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        return arn

    def assign(self, ps: str, principal: str, account_id: str | None = None, kind: str = "USER") -> None:
        self.admin.create_account_assignment(InstanceArn=self.instance, TargetId=account_id or self.account.account_id,
                                             TargetType="AWS_ACCOUNT", PermissionSetArn=ps, PrincipalType=kind,
                                             PrincipalId=principal)

    # ---- the access portal ------------------------------------------------------------------------------------

    def sign_in(self, name: str) -> str:
        """Signs `name` in to the portal over HTTP (one-time password, then a new one): the session token."""

        async def otp(deps: Deps) -> str:
            return await portal_users.reset_with_one_time_password(deps, self.store, name)

        one_time = self.world.run(otp)
        with httpx.Client(base_url=self.world.url, follow_redirects=False, timeout=30) as browser:
            page = browser.get(f"/portal/{self.store}/start")
            r = browser.post(f"/portal/{self.store}/start", data={"csrf_token": csrf_of(page.text),
                                                                  "username": name})
            flow_url = r.headers["location"]
            page = browser.get(flow_url)
            browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                         "password": one_time})
            page = browser.get(flow_url)
            r = browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "new_password",
                                             "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
            assert r.status_code == 303 and r.headers["location"] == f"/portal/{self.store}/", r.text
            tokens = [(c.name, c.value) for c in browser.cookies.jar
                      if "vestibule_portal" in c.name and "user" not in c.name]
        assert len(tokens) == 1, tokens
        self.session_cookie = tokens[0][0]
        return str(tokens[0][1])

    def sign_out(self, session_token: str) -> None:
        async def out(deps: Deps) -> None:
            await portal_signin.sign_out(deps, BROWSER, session_token)

        self.world.run(out)

    def decide(self, session_token: str, user_code: str, allow: bool = True) -> sso_oidc.Decision:
        """What the approval page does when the signed-in user chooses Allow or Deny for `user_code`."""

        async def decide(deps: Deps) -> sso_oidc.Decision:
            signed = await portal_signin.signed_in(deps, session_token)
            assert signed is not None, "the portal session is not live"
            pending = await sso_oidc.pending_device(deps, BROWSER, user_code)
            return await sso_oidc.decide(deps, BROWSER, signed, pending.id, allow)

        return self.world.run(decide)

    # ---- SSO-OIDC -----------------------------------------------------------------------------------------

    def register(self, **kw: Any) -> dict[str, Any]:
        kw.setdefault("clientName", "wire-test")
        kw.setdefault("clientType", "public")
        kw.setdefault("grantTypes", [DEVICE_GRANT, "refresh_token"])
        kw.setdefault("scopes", ["sso:account:access"])
        registered: dict[str, Any] = self.oidc.register_client(**kw)
        return registered

    def start(self, client: dict[str, Any]) -> dict[str, Any]:
        started: dict[str, Any] = self.oidc.start_device_authorization(
            clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=self.start_url)
        return started

    def poll(self, client: dict[str, Any], device_code: str) -> dict[str, Any]:
        token: dict[str, Any] = self.oidc.create_token(clientId=client["clientId"],
                                                       clientSecret=client["clientSecret"], grantType=DEVICE_GRANT,
                                                       deviceCode=device_code)
        return token

    def refresh(self, client: dict[str, Any], refresh_token: str) -> dict[str, Any]:
        token: dict[str, Any] = self.oidc.create_token(clientId=client["clientId"],
                                                       clientSecret=client["clientSecret"], grantType="refresh_token",
                                                       refreshToken=refresh_token)
        return token

    def device_token(self, session_token: str, client: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole device flow for the user behind `session_token`: its CreateToken answer."""
        client = client or self.register()
        started = self.start(client)
        self.decide(session_token, started["userCode"])
        return self.poll(client, started["deviceCode"])
