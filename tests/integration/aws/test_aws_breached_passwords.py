"""Breached passwords through boto3: CreateLoginProfile, UpdateLoginProfile and ChangePassword answer
PasswordPolicyViolation while the account's option is on (the default); the option is not in the IAM API's
policy, survives UpdateAccountPasswordPolicy and DeleteAccountPasswordPolicy, and alone is no policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.services import accounts
from vestibule.services.context import Deps
from vestibule.services.passwords import has_iam_policy, policy_of

API_FIELDS = {"MinimumPasswordLength", "RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters",
              "RequireLowercaseCharacters", "AllowUsersToChangePassword", "ExpirePasswords", "HardExpiry"}


def _violation(call: Callable[..., object], **kwargs: object) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == "PasswordPolicyViolation", err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message: str = err.value.response["Error"]["Message"]
    return message


def _set_option(world: AwsWorld, account: Account, on: bool) -> None:
    async def change(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            acct = await accounts.require(uow, account.account_id)
            kept = policy_of(acct) if has_iam_policy(acct) else None
            await accounts.set_password_policy(deps, uow, acct, kept, refuse_breached=on)

    world.run(change)


def _option(world: AwsWorld, account: Account) -> bool:
    async def read(deps: Deps) -> bool:
        async with deps.store.unit() as uow:
            return policy_of(await accounts.require(uow, account.account_id)).refuse_breached

    return world.run(read)


def test_login_profiles_and_change_password_refuse_breached_passwords(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = world.api_user(account, "mia")
    message = _violation(iam.create_login_profile, UserName="mia", Password="Passw0rd!")
    assert message == ("Password does not conform to the account password policy: it is known from data "
                       "breaches.")
    iam.create_login_profile(UserName="mia", Password="mia pass phrase 1")
    _violation(iam.update_login_profile, UserName="mia", Password="P@ssw0rd")
    mia = world.iam(keys)
    _violation(mia.change_password, OldPassword="mia pass phrase 1", NewPassword="Password1!")
    mia.change_password(OldPassword="mia pass phrase 1", NewPassword="mia pass phrase 2")
    _set_option(world, account, False)
    mia.change_password(OldPassword="mia pass phrase 2", NewPassword="Passw0rd!")
    iam.update_login_profile(UserName="mia", Password="qwerty123")


def test_the_option_is_kept_beside_the_api_policy(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    assert _option(world, account) is True, "on for a new account"
    _set_option(world, account, False)
    with pytest.raises(ClientError) as err:
        iam.get_account_password_policy()
    assert error_code(err.value) == "NoSuchEntity", "the option alone is no policy"
    with pytest.raises(ClientError) as err:
        iam.delete_account_password_policy()
    assert error_code(err.value) == "NoSuchEntity"

    iam.update_account_password_policy(MinimumPasswordLength=10, RequireNumbers=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert set(policy) == API_FIELDS and policy["MinimumPasswordLength"] == 10
    assert _option(world, account) is False, "UpdateAccountPasswordPolicy replaces the IAM fields only"
    iam.create_user(UserName="noa")
    iam.create_login_profile(UserName="noa", Password="Passw0rd!123")  # option off: only the policy's rules

    _set_option(world, account, True)
    assert iam.get_account_password_policy()["PasswordPolicy"] == policy, "the option changes no API field"
    _violation(iam.update_login_profile, UserName="noa", Password="Password123!")
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as err:
        iam.get_account_password_policy()
    assert error_code(err.value) == "NoSuchEntity"
    assert _option(world, account) is True, "DeleteAccountPasswordPolicy keeps the option"
    _violation(iam.update_login_profile, UserName="noa", Password="Passw0rd!")
