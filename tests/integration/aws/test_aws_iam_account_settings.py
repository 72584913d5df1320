"""Account settings and AWS Organizations features through boto3: SetSecurityTokenServicePreferences (reported
by GetAccountSummary), and the organization-only operations answered as AWS answers a standalone account."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps

ENTITY_PATH = "o-a1b2c3d4e5/r-f6g7/123456789012"


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def test_sts_token_version_is_kept_and_reported(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    other = world.new_account()
    assert world.iam(other.root).get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    _fails("ValidationError", world.iam(account.root, validate=False).set_security_token_service_preferences,
           GlobalEndpointTokenVersion="v3Token")
    nobody = world.api_user(account, "nobody", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    _fails("AccessDenied", world.iam(nobody).set_security_token_service_preferences,
           GlobalEndpointTokenVersion="v2Token")

    async def events(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account.account_id)
                    if e.event == "SetSecurityTokenServicePreferences"]

    assert [e["detail"]["global_endpoint_token_version"] for e in world.run(events)] == ["v2Token", "v1Token"]


@pytest.mark.parametrize("operation", [
    "enable_organizations_root_credentials_management", "disable_organizations_root_credentials_management",
    "enable_organizations_root_sessions", "disable_organizations_root_sessions", "list_organizations_features"])
def test_root_access_features_need_an_organization(world: AwsWorld, account: Account, operation: str) -> None:
    iam = world.iam(account.root)
    err = _fails("OrganizationNotFoundException", getattr(iam, operation))
    assert isinstance(err, iam.exceptions.OrganizationNotFoundException)  # botocore maps it to the modeled error
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    nobody = world.api_user(account, "nobody")
    _fails("AccessDenied", getattr(world.iam(nobody), operation))  # authorization comes first


def test_organizations_access_report_fails_for_a_standalone_account(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    job_id = iam.generate_organizations_access_report(EntityPath=ENTITY_PATH)["JobId"]
    report = iam.get_organizations_access_report(JobId=job_id)
    assert report["JobStatus"] == "FAILED" and "JobCompletionDate" in report
    assert report["ErrorDetails"]["Code"] == "OrganizationNotFoundException"
    assert "no organization" in report["ErrorDetails"]["Message"]
    _fails("NoSuchEntity", iam.get_organizations_access_report, JobId="00000000-0000-4000-8000-000000000000")
    unvalidated = world.iam(account.root, validate=False)
    _fails("ValidationError", unvalidated.generate_organizations_access_report, EntityPath="not/a/path/at/all/x")
    _fails("ValidationError", unvalidated.generate_organizations_access_report, EntityPath=ENTITY_PATH,
           OrganizationsPolicyId="p-1")
    nobody = world.api_user(account, "nobody")
    _fails("AccessDenied", world.iam(nobody).generate_organizations_access_report, EntityPath=ENTITY_PATH)
    _fails("AccessDenied", world.iam(nobody).get_organizations_access_report, JobId=job_id)
