"""SSH public keys of IAM users: upload, get (SSH or PEM encoding), list, update, delete."""

from __future__ import annotations

from ....services.iam import ssh_keys
from ...members import enum, text
from ..request import QueryRequest
from ..xml import Result, Timestamp
from .members import DOCUMENT_PATTERN, USER_NAME, listing
from .shapes import page_request, page_shape
from .table import IAM

KEY_ID = text("SSHPublicKeyId", 20, 128, r"[\w]+").required()
BODY = text("SSHPublicKeyBody", 1, 16384, DOCUMENT_PATTERN).required()
STATUS = enum("Status", "Active", "Inactive", "Expired").required()


@IAM.operation("UploadSSHPublicKey", action="iam:UploadSSHPublicKey", audit="UploadSSHPublicKey", inputs=(
    USER_NAME.required(), BODY))
async def upload_ssh_public_key(q: QueryRequest) -> Result:
    key = await ssh_keys.upload(q.call, q.input.required("UserName"), q.input.required("SSHPublicKeyBody"))
    return {"SSHPublicKey": {"UserName": q.input.required("UserName"), "SSHPublicKeyId": key.id,
                             "Fingerprint": key.fingerprint, "SSHPublicKeyBody": key.body, "Status": key.status,
                             "UploadDate": Timestamp(key.uploaded_at)}}


@IAM.operation("GetSSHPublicKey", action="iam:GetSSHPublicKey", inputs=(
    USER_NAME.required(), KEY_ID, enum("Encoding", "SSH", "PEM").required()))
async def get_ssh_public_key(q: QueryRequest) -> Result:
    key, body = await ssh_keys.get(q.call, q.input.required("UserName"), q.input.required("SSHPublicKeyId"),
                                   q.input.required("Encoding"))
    return {"SSHPublicKey": {"UserName": q.input.required("UserName"), "SSHPublicKeyId": key.id,
                             "Fingerprint": key.fingerprint, "SSHPublicKeyBody": body, "Status": key.status,
                             "UploadDate": Timestamp(key.uploaded_at)}}


@IAM.operation("ListSSHPublicKeys", action="iam:ListSSHPublicKeys", inputs=listing(USER_NAME))
async def list_ssh_public_keys(q: QueryRequest) -> Result:
    owned = await ssh_keys.list_keys(q.call, q.input.text("UserName"), page_request(q))
    return {"SSHPublicKeys": [{"UserName": owned.user_name, "SSHPublicKeyId": k.id, "Status": k.status,
                               "UploadDate": Timestamp(k.uploaded_at)} for k in owned.keys.items],
            **page_shape(owned.keys)}


@IAM.operation("UpdateSSHPublicKey", action="iam:UpdateSSHPublicKey", audit="UpdateSSHPublicKey", inputs=(
    USER_NAME.required(), KEY_ID, STATUS))
async def update_ssh_public_key(q: QueryRequest) -> Result:
    await ssh_keys.update(q.call, q.input.required("UserName"), q.input.required("SSHPublicKeyId"),
                          q.input.required("Status"))
    return None


@IAM.operation("DeleteSSHPublicKey", action="iam:DeleteSSHPublicKey", audit="DeleteSSHPublicKey", inputs=(
    USER_NAME.required(), KEY_ID))
async def delete_ssh_public_key(q: QueryRequest) -> Result:
    await ssh_keys.delete(q.call, q.input.required("UserName"), q.input.required("SSHPublicKeyId"))
    return None
