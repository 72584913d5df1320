"""Account-level IAM use cases: alias, password policy, summary."""

from __future__ import annotations

from ...core import passwords as rules
from ...errors import AlreadyExists, InvalidInput, InvalidValue, NotFound
from ...store.models import Account
from .. import accounts
from ..api_call import ApiCall
from ..passwords import has_iam_policy
from . import account_settings, instance_profiles, quotas, signing_certificates
from . import server_certificates as server_certs
from .common import account_of


async def _account(call: ApiCall) -> Account:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        return await account_of(call, uow)


async def create_alias(call: ApiCall, alias: str) -> None:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        account = await account_of(call, uow)
        old = account.alias
        try:
            await accounts.set_alias(call.deps, uow, account, alias, call.client, audited=False)
        except InvalidInput as exc:
            raise InvalidValue(exc.message) from None
        except AlreadyExists:
            raise AlreadyExists("alias", f"The account alias {alias} already exists.") from None
        await call.record(uow, old=old, new=alias)


async def delete_alias(call: ApiCall, alias: str) -> None:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        account = await account_of(call, uow)
        if account.alias != alias:
            raise NotFound(f"The account alias {alias} does not exist.")
        await accounts.set_alias(call.deps, uow, account, None, call.client, audited=False)
        await call.record(uow, old=alias, new=None)


async def aliases(call: ApiCall) -> list[str]:
    account = await _account(call)
    return [account.alias] if account.alias else []


async def password_policy(call: ApiCall) -> rules.PasswordPolicy:
    account = await _account(call)
    if not has_iam_policy(account):
        raise NotFound(f"The Password Policy with domain name {account.id} cannot be found.")
    return rules.PasswordPolicy.from_dict(account.password_policy)


def new_password_policy(*, minimum_length: int, require_symbols: bool, require_numbers: bool,
                        require_uppercase: bool, require_lowercase: bool, allow_users_to_change: bool,
                        max_age_days: int | None, reuse_prevention: int | None,
                        hard_expiry: bool) -> rules.PasswordPolicy:
    """A password policy from the API's fields, checked by the core's rules."""
    try:
        return rules.PasswordPolicy(minimum_length, require_symbols, require_numbers, require_uppercase,
                                    require_lowercase, allow_users_to_change, max_age_days, reuse_prevention,
                                    hard_expiry)
    except rules.PolicyError as exc:
        raise InvalidInput("password_policy", str(exc)) from None


async def set_password_policy(call: ApiCall, policy: rules.PasswordPolicy | None) -> None:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        account = await account_of(call, uow)
        if policy is None and not has_iam_policy(account):
            raise NotFound("The account policy with name PasswordPolicy cannot be found.")
        await accounts.set_password_policy(call.deps, uow, account, policy, call.client, audited=False)
        await call.record(uow, removed=policy is None)


async def summary(call: ApiCall) -> dict[str, int]:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        account = await account_of(call, uow)
        counted = await uow.entity_counts.of_account(account.id)  # maintained counters: one indexed read
        mfa = await uow.entity_counts.mfa(account.id)
        root_key = f"root:{account.id}"
        root_keys = await uow.access_keys.for_principal(root_key)
        server_certificates = await uow.server_certificates.count_in_account(account.id)  # at most 20
        providers = (await uow.oidc_providers.count_in_account(account.id)  # at most 100 of each
                     + await uow.saml_providers.count_in_account(account.id))
        root_certificates = await uow.signing_certificates.for_principal(root_key)
        token_version = await account_settings.token_version(uow, account.id)
    return {
        "Users": counted.get("users", 0), "UsersQuota": quotas.USERS,
        "Groups": counted.get("groups", 0), "GroupsQuota": quotas.GROUPS,
        "Roles": counted.get("roles", 0), "RolesQuota": quotas.ROLES,
        "Policies": counted.get("policies", 0), "PoliciesQuota": quotas.POLICIES,
        "ServerCertificates": server_certificates, "ServerCertificatesQuota": server_certs.MAX_PER_ACCOUNT,
        "Providers": providers,
        "InstanceProfiles": counted.get("instance_profiles", 0),
        "InstanceProfilesQuota": instance_profiles.MAX_PER_ACCOUNT,
        "MFADevices": mfa.devices, "MFADevicesInUse": mfa.in_use, "AccountMFAEnabled": 1 if mfa.root else 0,
        "AccountAccessKeysPresent": 1 if root_keys else 0,
        "AccountPasswordPresent": 1,
        "AccountSigningCertificatesPresent": 1 if root_certificates else 0,
        "AttachedPoliciesPerGroupQuota": quotas.ATTACHED_POLICIES,
        "AttachedPoliciesPerRoleQuota": quotas.ATTACHED_POLICIES,
        "AttachedPoliciesPerUserQuota": quotas.ATTACHED_POLICIES, "GroupsPerUserQuota": quotas.GROUPS_PER_USER,
        "GroupPolicySizeQuota": quotas.INLINE_POLICIES["group"], "RolePolicySizeQuota": quotas.INLINE_POLICIES["role"],
        "UserPolicySizeQuota": quotas.INLINE_POLICIES["user"], "PolicySizeQuota": quotas.MANAGED_POLICY,
        "PolicyVersionsInUse": counted.get("policy_versions", 0), "PolicyVersionsInUseQuota": 10000,
        "VersionsPerPolicyQuota": quotas.POLICY_VERSIONS, "AccessKeysPerUserQuota": quotas.ACCESS_KEYS_PER_USER,
        "SigningCertificatesPerUserQuota": signing_certificates.MAX_CERTIFICATES_PER_USER,
        "AssumeRolePolicySizeQuota": quotas.TRUST_POLICY,
        "GlobalEndpointTokenVersion": token_version,
    }
