"""An access portal whose identity source is an external SAML IdP, in Chromium: the portal sends the browser to
the test IdP (tests/saml_idp.py, pysaml2, served on loopback), whose page posts the signed response back by itself;
the portal then shows the user's accounts (no MFA registration asked: the IdP does the authentication). Sign-out
shows a page instead of going straight back to the IdP; a response for another NameID format shows the failure
page with a reference. Screenshots are saved as artifacts."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site, identity_center_admin, run_async
from saml_idp import NAMEID_EMAIL, NAMEID_PERSISTENT, SamlIdpServer
from vestibule.core.saml_metadata import parse_metadata
from vestibule.runtime import Runtime
from vestibule.services.federation import failures
from vestibule.services.identity_center import identity_sources


@pytest.mark.browser
def test_portal_sign_in_at_the_identity_provider(site: Site) -> None:
    account_id, sso, ids = identity_center_admin(site, "saml")
    instance = sso.create_instance(Name="portal")["InstanceArn"]
    store = sso.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    email = "hedy@example.com"
    user_id = ids.create_user(IdentityStoreId=store, UserName="hedy", DisplayName="Hedy Lamarr",
                              Name={"GivenName": "Hedy", "FamilyName": "Lamarr"},
                              Emails=[{"Value": email, "Primary": True}])["UserId"]
    ps_arn = sso.create_permission_set(InstanceArn=instance, Name="Readers")["PermissionSet"]["PermissionSetArn"]
    sso.create_account_assignment(InstanceArn=instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=ps_arn, PrincipalType="USER", PrincipalId=user_id)
    with SamlIdpServer() as idp:
        metadata = idp.idp.metadata()

        async def use_idp(rt: Runtime) -> None:
            await identity_sources.set_source(rt.deps, identity_sources.saml_source(parse_metadata(metadata),
                                                                                    metadata), instance_arn=instance)

        run_async(site.settings, use_idp)
        idp.sign.options = {"name_id": email, "name_id_format": NAMEID_EMAIL, "session_name": None}
        page = site.new_browser()
        page.goto(f"/portal/{store}/start")
        page.wait_for_url(f"{site.url}/portal/{store}/")
        assert len(idp.requests) == 1 and idp.requests[0].acs_url == f"{site.url}/portal/{store}/saml"
        assert page.locator("#portal-user").inner_text() == "Hedy Lamarr"
        assert page.locator(f'[data-account="{account_id}"]').count() == 1
        site.shot(page, "accounts")
        page.click("#sign-out")
        page.wait_for_url(re.compile(r"/start\?signed_out=1"))
        assert page.locator("#sign-in-again").count() == 1 and len(idp.requests) == 1
        site.shot(page, "signed-out")

        # the IdP names the user in another format: the failure page says so, with a reference
        idp.sign.options = {"name_id": email, "name_id_format": NAMEID_PERSISTENT, "session_name": None}
        page.click("#sign-in-again")
        page.wait_for_selector("#failure-cause")
        assert page.url == f"{site.url}/portal/{store}/saml"
        cause = page.locator("#failure-cause")
        assert cause.get_attribute("data-cause") == "nameid_format"
        assert "persistent" in cause.inner_text() and "emailAddress" in cause.inner_text()
        reference = page.locator("#reference").inner_text()
        site.shot(page, "failure")

        async def diagnose(rt: Runtime) -> tuple[str, str] | None:
            found = await failures.diagnose(rt.deps, reference)
            return None if found is None else (found.door, str(found.cause))

        assert run_async(site.settings, diagnose) == ("portal-saml", "nameid_format")

        # the IdP's own application list (IdP-initiated, no request): signed in again
        idp.sign.sp_entity_id = idp.sign.acs_url = f"{site.url}/portal/{store}/saml"
        idp.sign.options = {"name_id": email, "name_id_format": NAMEID_EMAIL, "session_name": None}
        page.goto(f"{idp.base_url}/start")
        page.wait_for_url(f"{site.url}/portal/{store}/")
        assert page.locator("#portal-user").inner_text() == "Hedy Lamarr"
