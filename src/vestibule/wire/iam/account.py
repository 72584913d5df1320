"""Account-level IAM operations: alias, password policy, summary."""

from __future__ import annotations

from ...core import passwords as rules
from ...errors import AlreadyExists
from ...errors import InvalidInput as DomainInvalidInput
from ...services import accounts
from ...services.context import Client
from ..errors import EntityAlreadyExists, InvalidInput, NoSuchEntity, ValidationError
from ..registry import CallContext, Result, operation
from ..xml import XmlMap
from .common import account_of, authorize

ALIAS = r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"


def _account_resource(ctx: CallContext) -> str:
    return f"arn:aws:iam::{ctx.caller.account_id}:*"


@operation("iam", "CreateAccountAlias")
async def create_account_alias(ctx: CallContext) -> Result:
    alias = ctx.params.text("AccountAlias", low=3, high=63, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:CreateAccountAlias", "*")
        account = await account_of(ctx, uow)
        try:
            await accounts.set_alias(ctx.deps, uow, account, alias, Client(ip=ctx.source_ip))
        except AlreadyExists:
            raise EntityAlreadyExists(f"The account alias {alias} already exists.") from None
        except DomainInvalidInput as exc:
            raise ValidationError(exc.message) from None
    return None


@operation("iam", "DeleteAccountAlias")
async def delete_account_alias(ctx: CallContext) -> Result:
    alias = ctx.params.text("AccountAlias", low=3, high=63, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:DeleteAccountAlias", "*")
        account = await account_of(ctx, uow)
        if account.alias != alias:
            raise NoSuchEntity(f"The account alias {alias} does not exist.")
        await accounts.set_alias(ctx.deps, uow, account, None, Client(ip=ctx.source_ip))
    return None


@operation("iam", "ListAccountAliases")
async def list_account_aliases(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListAccountAliases", "*")
        account = await account_of(ctx, uow)
    return {"AccountAliases": [account.alias] if account.alias else [], "IsTruncated": False}


@operation("iam", "GetAccountPasswordPolicy")
async def get_account_password_policy(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:GetAccountPasswordPolicy", "*")
        account = await account_of(ctx, uow)
    if not account.password_policy:
        raise NoSuchEntity(f"The Password Policy with domain name {account.id} cannot be found.")
    return {"PasswordPolicy": rules.PasswordPolicy.from_dict(account.password_policy).api_shape()}


@operation("iam", "UpdateAccountPasswordPolicy")
async def update_account_password_policy(ctx: CallContext) -> Result:
    p = ctx.params
    max_age = p.integer("MaxPasswordAge", None, 1, 1095)
    reuse = p.integer("PasswordReusePrevention", None, 1, 24)
    try:
        policy = rules.PasswordPolicy(
            minimum_length=p.integer("MinimumPasswordLength", 6, 6, 128) or 6,
            require_symbols=bool(p.boolean("RequireSymbols", False)),
            require_numbers=bool(p.boolean("RequireNumbers", False)),
            require_uppercase=bool(p.boolean("RequireUppercaseCharacters", False)),
            require_lowercase=bool(p.boolean("RequireLowercaseCharacters", False)),
            allow_users_to_change=bool(p.boolean("AllowUsersToChangePassword", False)),
            max_age_days=max_age,
            reuse_prevention=reuse,
            hard_expiry=bool(p.boolean("HardExpiry", False)),
        )
    except rules.PolicyError as exc:
        raise InvalidInput(str(exc)) from None
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:UpdateAccountPasswordPolicy", "*")
        account = await account_of(ctx, uow)
        await accounts.set_password_policy(ctx.deps, uow, account, policy, Client(ip=ctx.source_ip))
    return None


@operation("iam", "DeleteAccountPasswordPolicy")
async def delete_account_password_policy(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:DeleteAccountPasswordPolicy", "*")
        account = await account_of(ctx, uow)
        if not account.password_policy:
            raise NoSuchEntity("The account policy with name PasswordPolicy cannot be found.")
        await accounts.set_password_policy(ctx.deps, uow, account, None, Client(ip=ctx.source_ip))
    return None


@operation("iam", "GetAccountSummary")
async def get_account_summary(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:GetAccountSummary", "*")
        account = await account_of(ctx, uow)
        users = await uow.users.list(account.id)
        groups = await uow.groups.list(account.id)
        roles = await uow.roles.list(account.id)
        policies = await uow.policies.list(account.id)
        devices = await uow.virtual_mfa.in_account(account.id)
        root_key = f"root:{account.id}"
        root_mfa = [d for d in devices if d.principal_key == root_key and d.enabled_at]
        root_keys = await uow.access_keys.for_principal(root_key)
    summary = {
        "Users": len(users), "UsersQuota": 5000,
        "Groups": len(groups), "GroupsQuota": 300,
        "Roles": len(roles), "RolesQuota": 1000,
        "Policies": len(policies), "PoliciesQuota": 1500,
        "ServerCertificates": 0, "ServerCertificatesQuota": 20,
        "Providers": 0, "InstanceProfiles": 0, "InstanceProfilesQuota": 1000,
        "MFADevices": len(devices), "MFADevicesInUse": sum(1 for d in devices if d.principal_key),
        "AccountMFAEnabled": 1 if root_mfa else 0,
        "AccountAccessKeysPresent": 1 if root_keys else 0,
        "AccountPasswordPresent": 1,
        "AccountSigningCertificatesPresent": 0,
        "AttachedPoliciesPerGroupQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
        "AttachedPoliciesPerUserQuota": 10, "GroupsPerUserQuota": 10,
        "GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240, "UserPolicySizeQuota": 2048,
        "PolicySizeQuota": 6144, "PolicyVersionsInUse": len(policies), "PolicyVersionsInUseQuota": 10000,
        "VersionsPerPolicyQuota": 5, "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2,
        "AssumeRolePolicySizeQuota": 2048, "GlobalEndpointTokenVersion": 1,
    }
    return {"SummaryMap": XmlMap(summary)}


