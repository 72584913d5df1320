"""ResyncMFADevice through boto3 with a device whose clock has fallen four minutes behind the server's: refused by
GetSessionToken, found by the resync (which records the drift), then its own next code gets session credentials.
The console's resync is the same use case (tests/integration/test_console_mfa_devices_http.py)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code

SLOW = 240  # the device's clock, four minutes behind the server's


def test_resync_through_the_api_lets_a_slow_device_sign_sts_calls(world: AwsWorld, account: Account,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root_iam = world.iam(account.root)
    keys = world.api_user(account, "drifter")
    serial, totp = world.enable_virtual_mfa(root_iam, "drifter-phone", user_name="drifter")
    world.shift(monkeypatch, SLOW)  # the server's time moves on; the device keeps showing real time's codes
    root_iam, sts = world.iam(account.root), world.sts(keys)
    device_now = time.time()
    with pytest.raises(ClientError) as refused:
        sts.get_session_token(SerialNumber=serial, TokenCode=totp.at(device_now))
    assert error_code(refused.value) == "AccessDenied"

    with pytest.raises(ClientError) as wrong:  # not consecutive
        root_iam.resync_mfa_device(UserName="drifter", SerialNumber=serial,
                                   AuthenticationCode1=totp.at(device_now - 60),
                                   AuthenticationCode2=totp.at(device_now))
    assert error_code(wrong.value) == "InvalidAuthenticationCode"
    root_iam.resync_mfa_device(UserName="drifter", SerialNumber=serial,
                               AuthenticationCode1=totp.at(device_now - 30), AuthenticationCode2=totp.at(device_now))

    with pytest.raises(ClientError) as replayed:  # the resync's own code stays used
        sts.get_session_token(SerialNumber=serial, TokenCode=totp.at(device_now))
    assert error_code(replayed.value) == "AccessDenied"
    credentials = sts.get_session_token(SerialNumber=serial, TokenCode=totp.at(device_now + 30))["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
