"""Access keys: create (secret shown once), list, activate or deactivate, delete, last used."""

from __future__ import annotations

from ....services.iam import access_keys
from ...members import enum
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import ACCESS_KEY_ID, EXISTING_USER_NAME, listing
from .shapes import page_request, page_shape
from .table import IAM

KEY_ID = ACCESS_KEY_ID.required()


def _owned(user_name: str | None, shape: dict[str, XmlValue]) -> dict[str, XmlValue]:
    return {"UserName": user_name, **shape} if user_name else shape


@IAM.operation("CreateAccessKey", action="iam:CreateAccessKey", audit="CreateAccessKey", inputs=(EXISTING_USER_NAME,))
async def create_access_key(q: QueryRequest) -> Result:
    user_name, key = await access_keys.create_access_key(q.call, q.input.text("UserName"))
    return {"AccessKey": _owned(user_name, {
        "AccessKeyId": key.access_key_id, "Status": key.status, "SecretAccessKey": key.secret_access_key,
        "CreateDate": Timestamp(key.created_at)})}


@IAM.operation("ListAccessKeys", action="iam:ListAccessKeys", inputs=listing(EXISTING_USER_NAME))
async def list_access_keys(q: QueryRequest) -> Result:
    owned = await access_keys.list_access_keys(q.call, q.input.text("UserName"), page_request(q))
    return {"AccessKeyMetadata": [_owned(owned.user_name, {
        "AccessKeyId": k.id, "Status": k.status, "CreateDate": Timestamp(k.created_at)}) for k in owned.keys.items],
        **page_shape(owned.keys)}


@IAM.operation("UpdateAccessKey", action="iam:UpdateAccessKey", audit="UpdateAccessKey", inputs=(
    EXISTING_USER_NAME, KEY_ID, enum("Status", "Active", "Inactive", "Expired").required()))
async def update_access_key(q: QueryRequest) -> Result:
    await access_keys.update_access_key(q.call, q.input.text("UserName"), q.input.required("AccessKeyId"),
                                        q.input.required("Status"))
    return None


@IAM.operation("DeleteAccessKey", action="iam:DeleteAccessKey", audit="DeleteAccessKey", inputs=(
    EXISTING_USER_NAME, KEY_ID))
async def delete_access_key(q: QueryRequest) -> Result:
    await access_keys.delete_access_key(q.call, q.input.text("UserName"), q.input.required("AccessKeyId"))
    return None


@IAM.operation("GetAccessKeyLastUsed", action="iam:GetAccessKeyLastUsed", inputs=(KEY_ID,))
async def get_access_key_last_used(q: QueryRequest) -> Result:
    used = await access_keys.last_used(q.call, q.input.required("AccessKeyId"))
    shape: dict[str, XmlValue] = {"ServiceName": used.service or "N/A", "Region": used.region or "N/A"}
    if used.used_at:
        shape = {"LastUsedDate": Timestamp(used.used_at), **shape}
    return _owned(used.user_name, {"AccessKeyLastUsed": shape})
