"""The console and the AWS APIs share one set of users, passwords, MFA devices and access keys:
what one side makes, the other sees and enforces (httpx as the browser, boto3 as the API client)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pyotp
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from support import csrf_of


@pytest.fixture
def browser(world: AwsWorld) -> Iterator[httpx.Client]:
    world.clear_signin_failures()
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=20) as client:
        yield client


def _password_step(browser: httpx.Client, account: str, username: str, password: str) -> httpx.Response:
    page = browser.get(f"/{account}/console")
    assert page.status_code == 200
    return browser.post(f"/{account}/console", data={"csrf_token": csrf_of(page.text), "username": username,
                                                     "password": password})


def _flow_step(browser: httpx.Client, flow_url: str, step: str, **fields: str) -> httpx.Response:
    page = browser.get(flow_url)
    return browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": step, **fields})


def test_api_user_signs_in_on_the_console(world: AwsWorld, account: Account, browser: httpx.Client) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="webby")
    iam.create_login_profile(UserName="webby", Password="webby password 1")
    r = _password_step(browser, account.alias, "webby", "webby password 1")
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text
    home = browser.get("/console")
    assert home.status_code == 200 and account.user_arn("webby") in home.text
    # PasswordResetRequired set through the API forces a change at the next sign-in
    iam.update_login_profile(UserName="webby", Password="admin chosen 1", PasswordResetRequired=True)
    with httpx.Client(base_url=world.url, follow_redirects=False) as other:
        r = _password_step(other, account.account_id, "webby", "admin chosen 1")
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
        r = _flow_step(other, r.headers["location"], "new_password", new_password="webby password 2",
                       confirm_password="webby password 2")
        assert r.status_code == 303 and r.headers["location"] == "/console"
    assert iam.get_login_profile(UserName="webby")["LoginProfile"]["PasswordResetRequired"] is False
    # a deleted login profile cannot sign in any more
    iam.delete_login_profile(UserName="webby")
    with httpx.Client(base_url=world.url, follow_redirects=False) as other:
        r = _password_step(other, account.alias, "webby", "webby password 2")
        assert r.status_code != 303 or r.headers["location"] != "/console"


def test_mfa_enabled_through_the_api_is_required_on_the_console(world: AwsWorld, account: Account,
                                                                browser: httpx.Client) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="guarded")
    iam.create_login_profile(UserName="guarded", Password="guarded password 1")
    serial, totp = world.enable_virtual_mfa(iam, "guarded-phone", user_name="guarded")
    r = _password_step(browser, account.alias, "guarded", "guarded password 1")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow="), "MFA is asked for"
    flow_url = r.headers["location"]
    assert browser.get("/console").status_code == 303, "not signed in before the code"
    page = browser.get(flow_url)
    assert 'name="mfa_code"' in page.text
    r = _flow_step(browser, flow_url, "mfa", mfa_code="000000" if totp.at(world.clock()) != "000000" else "111111")
    assert r.status_code == 200 and 'name="mfa_code"' in r.text, "a wrong code leaves the MFA step open"
    assert browser.get("/console").status_code == 303
    r = _flow_step(browser, flow_url, "mfa", mfa_code=totp.at(world.clock()))
    assert r.status_code == 303 and r.headers["location"] == "/console"
    home = browser.get("/console").text
    assert account.user_arn("guarded") in home and "Signed in with MFA</dt><dd>Yes" in home
    # the device as the console lists it
    assert serial in browser.get("/console/security").text


def test_device_enabled_on_the_console_is_listed_by_the_api(world: AwsWorld, account: Account,
                                                            browser: httpx.Client) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="consoler")
    iam.create_login_profile(UserName="consoler", Password="consoler password 1")
    r = _password_step(browser, account.alias, "consoler", "consoler password 1")
    assert r.headers["location"] == "/console"
    security = browser.get("/console/security")
    r = browser.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text),
                                               "password": "consoler password 1"})
    assert r.status_code == 303
    enrol_url = r.headers["location"]
    page = browser.get(enrol_url)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    now = world.clock()
    r = browser.post(enrol_url, data={"csrf_token": csrf_of(page.text), "device_name": "consoler-phone",
                                      "mfa_code": totp.at(now - 30), "mfa_code_2": totp.at(now)})
    assert r.status_code == 303 and "mfa.added" in r.headers["location"], r.text
    serial = f"arn:aws:iam::{account.account_id}:mfa/consoler-phone"
    listed = iam.list_mfa_devices(UserName="consoler")["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in listed] == [("consoler", serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in assigned] == [serial] and assigned[0]["User"]["UserName"] == "consoler"
    assert iam.get_mfa_device(UserName="consoler", SerialNumber=serial)["SerialNumber"] == serial
    # the console's device works for STS too
    keys = Keys.of(iam.create_access_key(UserName="consoler")["AccessKey"])
    session = world.sts(keys).get_session_token(SerialNumber=serial, TokenCode=totp.at(world.clock() + 30))
    assert session["Credentials"]["AccessKeyId"].startswith("ASIA")
    # and the API can take it away again
    iam.deactivate_mfa_device(UserName="consoler", SerialNumber=serial)
    assert serial not in browser.get("/console/security").text


def test_console_access_keys_are_api_access_keys(world: AwsWorld, account: Account, browser: httpx.Client) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="keyed")
    iam.create_login_profile(UserName="keyed", Password="keyed password 1")
    api_key = iam.create_access_key(UserName="keyed")["AccessKey"]["AccessKeyId"]
    assert _password_step(browser, account.alias, "keyed", "keyed password 1").headers["location"] == "/console"
    security = browser.get("/console/security")
    assert api_key in security.text, "a key made with the API is on the console"
    shown = browser.post("/console/access-keys/new", data={"csrf_token": csrf_of(security.text),
                                                           "password": "keyed password 1"})
    assert shown.status_code == 200
    key_id = re.search(r'id="new-access-key-id">(AKIA[A-Z2-7]{16})<', shown.text)
    secret = re.search(r'id="new-secret-access-key">([^<]{40})<', shown.text)
    assert key_id and secret
    keys = Keys(key_id.group(1), secret.group(1))
    listed = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="keyed")["AccessKeyMetadata"]}
    assert listed == {api_key: "Active", keys.access_key_id: "Active"}
    assert world.sts(keys).get_caller_identity()["Arn"] == account.user_arn("keyed")
    with pytest.raises(ClientError) as err:
        iam.create_access_key(UserName="keyed")
    assert error_code(err.value) == "LimitExceeded"
    iam.update_access_key(UserName="keyed", AccessKeyId=keys.access_key_id, Status="Inactive")
    row = browser.get("/console/security").text.split(f"<code>{keys.access_key_id}</code>")[1].split("</tr>")[0]
    assert "<td>Inactive</td>" in row, "the console shows what the API changed"
    with pytest.raises(ClientError) as err:
        world.sts(keys).get_caller_identity()
    assert error_code(err.value) == "InvalidClientTokenId"


def test_user_made_outside_the_api_is_an_api_user(world: AwsWorld, account: Account) -> None:
    """A user made by the services (as `vestibule iam-user create` and `access-key create` do) is the
    same IAM user the API lists, describes and authenticates."""
    keys = world.service_user(account, "from-cli", password="from cli password 1")
    iam = world.iam(account.root)
    user = iam.get_user(UserName="from-cli")["User"]
    assert user["Arn"] == account.user_arn("from-cli")
    assert iam.get_login_profile(UserName="from-cli")["LoginProfile"]["PasswordResetRequired"] is False
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="from-cli")["AccessKeyMetadata"]] == [
        keys.access_key_id]
    me = world.sts(keys).get_caller_identity()
    assert (me["Arn"], me["UserId"]) == (user["Arn"], user["UserId"])
