"""Server certificates: upload, get, list, update (rename or move), delete, and their tags."""

from __future__ import annotations

from ....services.iam import server_certificates as certificates
from ....services.iam.records import ServerCertificate
from ...members import text
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import DOCUMENT_PATTERN, NAME, PATH, PATH_PREFIX, TAG_KEYS, TAGS, listing
from .shapes import page_request, page_shape, tags_of, tags_shape
from .table import IAM

CERTIFICATE_NAME = text("ServerCertificateName", 1, 128, NAME).required()


def _metadata(certificate: ServerCertificate) -> dict[str, XmlValue]:
    return {"Path": certificate.path, "ServerCertificateName": certificate.name,
            "ServerCertificateId": certificate.id,
            "Arn": certificates.certificate_arn(certificate.account_id, certificate.name, certificate.path),
            "UploadDate": Timestamp(certificate.uploaded_at), "Expiration": Timestamp(certificate.expires_at)}


@IAM.operation("UploadServerCertificate", action="iam:UploadServerCertificate", audit="UploadServerCertificate",
               inputs=(PATH, CERTIFICATE_NAME, text("CertificateBody", 1, 16384, DOCUMENT_PATTERN).required(),
                       text("PrivateKey", 1, 16384, DOCUMENT_PATTERN).sensitive().required(),
                       text("CertificateChain", 1, 2097152, DOCUMENT_PATTERN), TAGS))
async def upload_server_certificate(q: QueryRequest) -> Result:
    tags = tags_of(q)
    certificate = await certificates.upload(
        q.call, q.input.required("ServerCertificateName"), q.input.text("Path") or "/",
        q.input.required("CertificateBody"), q.input.required("PrivateKey"), q.input.text("CertificateChain"), tags)
    shape: dict[str, XmlValue] = {"ServerCertificateMetadata": _metadata(certificate)}
    if tags:
        shape["Tags"] = tags_shape(tags)
    return shape


@IAM.operation("GetServerCertificate", action="iam:GetServerCertificate", inputs=(CERTIFICATE_NAME,))
async def get_server_certificate(q: QueryRequest) -> Result:
    found = await certificates.get(q.call, q.input.required("ServerCertificateName"))
    shape: dict[str, XmlValue] = {"ServerCertificateMetadata": _metadata(found.certificate),
                                  "CertificateBody": found.certificate.body}
    if found.certificate.chain:
        shape["CertificateChain"] = found.certificate.chain
    if found.tags:
        shape["Tags"] = tags_shape(found.tags)
    return {"ServerCertificate": shape}


@IAM.operation("ListServerCertificates", action="iam:ListServerCertificates", inputs=listing(PATH_PREFIX))
async def list_server_certificates(q: QueryRequest) -> Result:
    listed = await certificates.list_certificates(q.call, q.input.text("PathPrefix") or "/", page_request(q))
    return {"ServerCertificateMetadataList": [_metadata(c) for c in listed.items], **page_shape(listed)}


@IAM.operation("UpdateServerCertificate", action="iam:UpdateServerCertificate", audit="UpdateServerCertificate",
               inputs=(CERTIFICATE_NAME, PATH.named("NewPath"),
                       text("NewServerCertificateName", 1, 128, NAME)))
async def update_server_certificate(q: QueryRequest) -> Result:
    await certificates.update(q.call, q.input.required("ServerCertificateName"),
                              q.input.text("NewServerCertificateName"), q.input.text("NewPath"))
    return None


@IAM.operation("DeleteServerCertificate", action="iam:DeleteServerCertificate", audit="DeleteServerCertificate",
               inputs=(CERTIFICATE_NAME,))
async def delete_server_certificate(q: QueryRequest) -> Result:
    await certificates.delete(q.call, q.input.required("ServerCertificateName"))
    return None


@IAM.operation("TagServerCertificate", action="iam:TagServerCertificate", audit="TagServerCertificate",
               inputs=(CERTIFICATE_NAME, TAGS.required()))
async def tag_server_certificate(q: QueryRequest) -> Result:
    await certificates.tag(q.call, q.input.required("ServerCertificateName"), tags_of(q))
    return None


@IAM.operation("UntagServerCertificate", action="iam:UntagServerCertificate", audit="UntagServerCertificate",
               inputs=(CERTIFICATE_NAME, TAG_KEYS.required()))
async def untag_server_certificate(q: QueryRequest) -> Result:
    await certificates.untag(q.call, q.input.required("ServerCertificateName"), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListServerCertificateTags", action="iam:ListServerCertificateTags",
               inputs=listing(CERTIFICATE_NAME))
async def list_server_certificate_tags(q: QueryRequest) -> Result:
    listed = await certificates.list_tags(q.call, q.input.required("ServerCertificateName"), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}
