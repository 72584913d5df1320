"""X.509 signing certificates of IAM users and the root user: upload, list, update, delete."""

from __future__ import annotations

from ....services.iam import signing_certificates
from ....services.iam.records import SigningCertificate
from ...members import enum, text
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import DOCUMENT_PATTERN, EXISTING_USER_NAME, listing
from .shapes import page_request, page_shape
from .table import IAM

CERTIFICATE_ID = text("CertificateId", 24, 128, r"[\w]+").required()
BODY = text("CertificateBody", 1, 16384, DOCUMENT_PATTERN).required()


def _shape(user_name: str | None, certificate: SigningCertificate) -> dict[str, XmlValue]:
    shape: dict[str, XmlValue] = {"UserName": user_name} if user_name else {}
    return {**shape, "CertificateId": certificate.id, "CertificateBody": certificate.body,
            "Status": certificate.status, "UploadDate": Timestamp(certificate.uploaded_at)}


@IAM.operation("UploadSigningCertificate", action="iam:UploadSigningCertificate", audit="UploadSigningCertificate",
               inputs=(EXISTING_USER_NAME, BODY))
async def upload_signing_certificate(q: QueryRequest) -> Result:
    user_name, certificate = await signing_certificates.upload(q.call, q.input.text("UserName"),
                                                               q.input.required("CertificateBody"))
    return {"Certificate": _shape(user_name, certificate)}


@IAM.operation("ListSigningCertificates", action="iam:ListSigningCertificates", inputs=listing(EXISTING_USER_NAME))
async def list_signing_certificates(q: QueryRequest) -> Result:
    owned = await signing_certificates.list_certificates(q.call, q.input.text("UserName"), page_request(q))
    return {"Certificates": [_shape(owned.user_name, c) for c in owned.certificates.items],
            **page_shape(owned.certificates)}


@IAM.operation("UpdateSigningCertificate", action="iam:UpdateSigningCertificate", audit="UpdateSigningCertificate",
               inputs=(EXISTING_USER_NAME, CERTIFICATE_ID, enum("Status", "Active", "Inactive", "Expired").required()))
async def update_signing_certificate(q: QueryRequest) -> Result:
    await signing_certificates.update(q.call, q.input.text("UserName"), q.input.required("CertificateId"),
                                      q.input.required("Status"))
    return None


@IAM.operation("DeleteSigningCertificate", action="iam:DeleteSigningCertificate", audit="DeleteSigningCertificate",
               inputs=(EXISTING_USER_NAME, CERTIFICATE_ID))
async def delete_signing_certificate(q: QueryRequest) -> Result:
    await signing_certificates.delete(q.call, q.input.text("UserName"), q.input.required("CertificateId"))
    return None
