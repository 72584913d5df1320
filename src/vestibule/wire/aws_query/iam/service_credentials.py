"""Service-specific credentials of IAM users: create and reset (the secret shown then only), list, update,
delete."""

from __future__ import annotations

from ....services.iam import service_credentials
from ....services.iam.service_credentials import API_KEY_SERVICES, Listed
from ...members import boolean, enum, integer, text
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import USER_NAME, listing
from .shapes import page_request, page_shape
from .table import IAM

CREDENTIAL_ID = text("ServiceSpecificCredentialId", 20, 128, r"[\w]+").required()
SERVICE_NAME = text("ServiceName")


def _metadata(listed: Listed) -> dict[str, XmlValue]:
    c = listed.credential
    shape: dict[str, XmlValue] = {"UserName": listed.user_name, "Status": listed.status}
    shape["ServiceCredentialAlias" if c.service_name in API_KEY_SERVICES else "ServiceUserName"] = c.service_user_name
    shape["CreateDate"] = Timestamp(c.created_at)
    if c.expires_at is not None:
        shape["ExpirationDate"] = Timestamp(c.expires_at)
    return {**shape, "ServiceSpecificCredentialId": c.id, "ServiceName": c.service_name}


def _issued(issued: service_credentials.Issued) -> dict[str, XmlValue]:
    shape = _metadata(issued.listed)
    shape["ServiceCredentialSecret" if issued.listed.credential.service_name in API_KEY_SERVICES
          else "ServicePassword"] = issued.secret
    return shape


@IAM.operation("CreateServiceSpecificCredential", action="iam:CreateServiceSpecificCredential",
               audit="CreateServiceSpecificCredential", inputs=(
                   USER_NAME.required(), SERVICE_NAME.required(), integer("CredentialAgeDays", 1, 36600)))
async def create_service_specific_credential(q: QueryRequest) -> Result:
    issued = await service_credentials.create(q.call, q.input.required("UserName"), q.input.required("ServiceName"),
                                              q.input.integer("CredentialAgeDays"))
    return {"ServiceSpecificCredential": _issued(issued)}


@IAM.operation("ListServiceSpecificCredentials", action="iam:ListServiceSpecificCredentials",
               inputs=listing(USER_NAME, SERVICE_NAME, boolean("AllUsers")))
async def list_service_specific_credentials(q: QueryRequest) -> Result:
    listed = await service_credentials.list_credentials(q.call, q.input.text("UserName"), q.input.text("ServiceName"),
                                                        bool(q.input.boolean("AllUsers")), page_request(q))
    return {"ServiceSpecificCredentials": [_metadata(c) for c in listed.items], **page_shape(listed)}


@IAM.operation("UpdateServiceSpecificCredential", action="iam:UpdateServiceSpecificCredential",
               audit="UpdateServiceSpecificCredential", inputs=(
                   USER_NAME, CREDENTIAL_ID, enum("Status", "Active", "Inactive", "Expired").required()))
async def update_service_specific_credential(q: QueryRequest) -> Result:
    await service_credentials.update(q.call, q.input.text("UserName"), q.input.required("ServiceSpecificCredentialId"),
                                     q.input.required("Status"))
    return None


@IAM.operation("ResetServiceSpecificCredential", action="iam:ResetServiceSpecificCredential",
               audit="ResetServiceSpecificCredential", inputs=(USER_NAME, CREDENTIAL_ID))
async def reset_service_specific_credential(q: QueryRequest) -> Result:
    issued = await service_credentials.reset(q.call, q.input.text("UserName"),
                                             q.input.required("ServiceSpecificCredentialId"))
    return {"ServiceSpecificCredential": _issued(issued)}


@IAM.operation("DeleteServiceSpecificCredential", action="iam:DeleteServiceSpecificCredential",
               audit="DeleteServiceSpecificCredential", inputs=(USER_NAME, CREDENTIAL_ID))
async def delete_service_specific_credential(q: QueryRequest) -> Result:
    await service_credentials.delete(q.call, q.input.text("UserName"), q.input.required("ServiceSpecificCredentialId"))
    return None
