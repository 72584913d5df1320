"""Account-level IAM operations: alias, password policy, summary."""

from __future__ import annotations

from ....services.iam import account
from ...members import boolean, integer, text
from ..request import QueryRequest
from ..xml import Result, XmlMap
from .members import listing
from .table import IAM

ALIAS = text("AccountAlias", 3, 63, r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$").required()
POLICY_FLAGS = ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters", "RequireLowercaseCharacters",
                "AllowUsersToChangePassword", "HardExpiry")


@IAM.operation("CreateAccountAlias", action="iam:CreateAccountAlias", audit="AccountAliasChanged", inputs=(ALIAS,))
async def create_account_alias(q: QueryRequest) -> Result:
    await account.create_alias(q.call, q.input.required("AccountAlias"))
    return None


@IAM.operation("DeleteAccountAlias", action="iam:DeleteAccountAlias", audit="AccountAliasChanged", inputs=(ALIAS,))
async def delete_account_alias(q: QueryRequest) -> Result:
    await account.delete_alias(q.call, q.input.required("AccountAlias"))
    return None


@IAM.operation("ListAccountAliases", action="iam:ListAccountAliases", inputs=listing())
async def list_account_aliases(q: QueryRequest) -> Result:
    return {"AccountAliases": await account.aliases(q.call), "IsTruncated": False}


@IAM.operation("GetAccountPasswordPolicy", action="iam:GetAccountPasswordPolicy")
async def get_account_password_policy(q: QueryRequest) -> Result:
    return {"PasswordPolicy": (await account.password_policy(q.call)).api_shape()}


@IAM.operation("UpdateAccountPasswordPolicy", action="iam:UpdateAccountPasswordPolicy",
               audit="PasswordPolicyChanged", inputs=(
                   integer("MinimumPasswordLength", 6, 128), *(boolean(flag) for flag in POLICY_FLAGS),
                   integer("MaxPasswordAge", 1, 1095), integer("PasswordReusePrevention", 1, 24)))
async def update_account_password_policy(q: QueryRequest) -> Result:
    i = q.input
    policy = account.new_password_policy(
        minimum_length=i.integer("MinimumPasswordLength") or 6,
        require_symbols=bool(i.boolean("RequireSymbols")),
        require_numbers=bool(i.boolean("RequireNumbers")),
        require_uppercase=bool(i.boolean("RequireUppercaseCharacters")),
        require_lowercase=bool(i.boolean("RequireLowercaseCharacters")),
        allow_users_to_change=bool(i.boolean("AllowUsersToChangePassword")),
        max_age_days=i.integer("MaxPasswordAge"),
        reuse_prevention=i.integer("PasswordReusePrevention"),
        hard_expiry=bool(i.boolean("HardExpiry")),
    )
    await account.set_password_policy(q.call, policy)
    return None


@IAM.operation("DeleteAccountPasswordPolicy", action="iam:DeleteAccountPasswordPolicy", audit="PasswordPolicyChanged")
async def delete_account_password_policy(q: QueryRequest) -> Result:
    await account.set_password_policy(q.call, None)
    return None


@IAM.operation("GetAccountSummary", action="iam:GetAccountSummary")
async def get_account_summary(q: QueryRequest) -> Result:
    return {"SummaryMap": XmlMap(await account.summary(q.call))}
