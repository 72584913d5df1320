"""Virtual MFA devices: the same table and TOTP path the console's Security credentials page uses."""

from __future__ import annotations

from ....services.iam import mfa_devices
from ...members import enum, text
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import AUTH_CODE, EXISTING_USER_NAME, NAME, PATH, SERIAL, TAG_KEYS, TAGS, USER_NAME, listing
from .shapes import page_request, page_shape, root_shape, tags_of, tags_shape, user_shape
from .table import IAM

CODES = (AUTH_CODE.required(), AUTH_CODE.named("AuthenticationCode2").required())
DEVICE = SERIAL.required()


def _codes(q: QueryRequest) -> tuple[str, str]:
    return q.input.required("AuthenticationCode1"), q.input.required("AuthenticationCode2")


@IAM.operation("CreateVirtualMFADevice", action="iam:CreateVirtualMFADevice", audit="CreateVirtualMFADevice",
               inputs=(PATH, text("VirtualMFADeviceName", 1, None, NAME).required()))
async def create_virtual_mfa_device(q: QueryRequest) -> Result:
    device = await mfa_devices.create_virtual_device(q.call, q.input.required("VirtualMFADeviceName"),
                                                     q.input.text("Path") or "/")
    return {"VirtualMFADevice": {"SerialNumber": device.serial, "Base32StringSeed": device.seed.encode(),
                                 "QRCodePNG": device.qr_png}}


@IAM.operation("EnableMFADevice", action="iam:EnableMFADevice", audit="EnableMFADevice", inputs=(
    EXISTING_USER_NAME.required(), DEVICE, *CODES))
async def enable_mfa_device(q: QueryRequest) -> Result:
    await mfa_devices.enable_device(q.call, q.input.required("UserName"), q.input.required("SerialNumber"),
                                    *_codes(q))
    return None


@IAM.operation("ResyncMFADevice", action="iam:ResyncMFADevice", audit="ResyncMFADevice", inputs=(
    EXISTING_USER_NAME.required(), DEVICE, *CODES))
async def resync_mfa_device(q: QueryRequest) -> Result:
    await mfa_devices.resync_device(q.call, q.input.required("UserName"), q.input.required("SerialNumber"),
                                    *_codes(q))
    return None


@IAM.operation("DeactivateMFADevice", action="iam:DeactivateMFADevice", audit="DeactivateMFADevice", inputs=(
    EXISTING_USER_NAME, DEVICE))
async def deactivate_mfa_device(q: QueryRequest) -> Result:
    await mfa_devices.deactivate_device(q.call, q.input.text("UserName"), q.input.required("SerialNumber"))
    return None


@IAM.operation("DeleteVirtualMFADevice", action="iam:DeleteVirtualMFADevice", audit="DeleteVirtualMFADevice",
               inputs=(DEVICE,))
async def delete_virtual_mfa_device(q: QueryRequest) -> Result:
    await mfa_devices.delete_virtual_device(q.call, q.input.required("SerialNumber"))
    return None


@IAM.operation("ListMFADevices", action="iam:ListMFADevices", inputs=listing(EXISTING_USER_NAME))
async def list_mfa_devices(q: QueryRequest) -> Result:
    listed = await mfa_devices.list_devices(q.call, q.input.text("UserName"), page_request(q))
    return {"MFADevices": [{"UserName": d.user_name or q.call.account_id, "SerialNumber": d.serial,
                            "EnableDate": Timestamp(d.enabled_at)} for d in listed.items], **page_shape(listed)}


@IAM.operation("GetMFADevice", action="iam:GetMFADevice", inputs=(DEVICE, USER_NAME))
async def get_mfa_device(q: QueryRequest) -> Result:
    device = await mfa_devices.get_device(q.call, q.input.text("UserName"), q.input.required("SerialNumber"))
    shape: dict[str, XmlValue] = {"SerialNumber": device.serial, "EnableDate": Timestamp(device.enabled_at)}
    return {"UserName": device.user_name, **shape} if device.user_name else shape


@IAM.operation("ListVirtualMFADevices", action="iam:ListVirtualMFADevices", inputs=listing(
    enum("AssignmentStatus", "Assigned", "Unassigned", "Any")))
async def list_virtual_mfa_devices(q: QueryRequest) -> Result:
    members = []
    listed = await mfa_devices.list_virtual_devices(q.call, q.input.text("AssignmentStatus") or "Any", page_request(q))
    for d in listed.items:
        item: dict[str, XmlValue] = {"SerialNumber": d.serial}
        if d.user is not None:
            item["User"] = user_shape(d.user)
        elif d.root_account is not None:
            item["User"] = root_shape(d.root_account, with_path=True)
        if d.enabled_at:
            item["EnableDate"] = Timestamp(d.enabled_at)
        members.append(item)
    return {"VirtualMFADevices": members, **page_shape(listed)}


@IAM.operation("TagMFADevice", action="iam:TagMFADevice", audit="TagMFADevice", inputs=(DEVICE, TAGS.required()))
async def tag_mfa_device(q: QueryRequest) -> Result:
    await mfa_devices.tag_device(q.call, q.input.required("SerialNumber"), tags_of(q))
    return None


@IAM.operation("UntagMFADevice", action="iam:UntagMFADevice", audit="UntagMFADevice", inputs=(
    DEVICE, TAG_KEYS.required()))
async def untag_mfa_device(q: QueryRequest) -> Result:
    await mfa_devices.untag_device(q.call, q.input.required("SerialNumber"), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListMFADeviceTags", action="iam:ListMFADeviceTags", inputs=listing(DEVICE))
async def list_mfa_device_tags(q: QueryRequest) -> Result:
    listed = await mfa_devices.list_device_tags(q.call, q.input.required("SerialNumber"), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}
