"""Console passwords through the API: login profiles and ChangePassword."""

from __future__ import annotations

from ....services.iam import login_profiles
from ....services.iam.login_profiles import LoginProfile
from ...members import boolean
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import PASSWORD, USER_NAME
from .table import IAM

RESET = boolean("PasswordResetRequired")


def _profile(profile: LoginProfile) -> dict[str, XmlValue]:
    return {"UserName": profile.user_name, "CreateDate": Timestamp(profile.created_at),
            "PasswordResetRequired": profile.reset_required}


@IAM.operation("CreateLoginProfile", action="iam:CreateLoginProfile", audit="PasswordSetByAdministrator",
               inputs=(USER_NAME, PASSWORD, RESET))
async def create_login_profile(q: QueryRequest) -> Result:
    profile = await login_profiles.create_profile(q.call, q.input.text("UserName"), q.input.text("Password"),
                                                  bool(q.input.boolean("PasswordResetRequired")))
    return {"LoginProfile": _profile(profile)}


@IAM.operation("GetLoginProfile", action="iam:GetLoginProfile", inputs=(USER_NAME,))
async def get_login_profile(q: QueryRequest) -> Result:
    return {"LoginProfile": _profile(await login_profiles.get_profile(q.call, q.input.text("UserName")))}


@IAM.operation("UpdateLoginProfile", action="iam:UpdateLoginProfile", audit="UpdateLoginProfile",
               inputs=(USER_NAME.required(), PASSWORD, RESET))
async def update_login_profile(q: QueryRequest) -> Result:
    await login_profiles.update_profile(q.call, q.input.required("UserName"), q.input.text("Password"),
                                        q.input.boolean("PasswordResetRequired"))
    return None


@IAM.operation("DeleteLoginProfile", action="iam:DeleteLoginProfile", audit="DeleteLoginProfile",
               inputs=(USER_NAME,))
async def delete_login_profile(q: QueryRequest) -> Result:
    await login_profiles.delete_profile(q.call, q.input.text("UserName"))
    return None


@IAM.operation("ChangePassword", action="iam:ChangePassword", audit="PasswordChanged", inputs=(
    PASSWORD.named("OldPassword").required(), PASSWORD.named("NewPassword").required()))
async def change_password(q: QueryRequest) -> Result:
    await login_profiles.change_own_password(q.call, q.input.required("OldPassword"),
                                             q.input.required("NewPassword"))
    return None
