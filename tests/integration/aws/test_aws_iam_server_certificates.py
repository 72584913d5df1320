"""IAM server certificates through boto3: upload with a private key that must match and a chain (the key is
never returned nor kept), get, list by path in pages, rename and move, delete, tags, the 20 per account quota,
the documented errors, and authorization on the certificate's ARN."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from integration.aws.aws_world import Account, AwsWorld, at_once, error_code
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps
from vestibule.store.models import ServerCertificate

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_CA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_LEAF_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _signed(subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey, days: int) -> x509.Certificate:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days)).sign(issuer_key, hashes.SHA256()))


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: PrivateKey, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


CA = _signed("Test CA", _CA_KEY, "Test CA", _CA_KEY, 3650)
LEAF = _signed("www.example.test", _LEAF_KEY, "Test CA", _CA_KEY, 400)


def _stored(world: AwsWorld, account_id: str) -> list[ServerCertificate]:
    async def read(deps: Deps) -> list[ServerCertificate]:
        async with deps.store.unit() as uow:
            return list(await uow.server_certificates.in_account(account_id))

    return world.run(read)


def _events(world: AwsWorld, account_id: str) -> list[dict[str, object]]:
    async def read(deps: Deps) -> list[dict[str, object]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


def test_server_certificate_lifecycle(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    key_pem = _key_pem(_LEAF_KEY)
    made = iam.upload_server_certificate(ServerCertificateName="www", Path="/web/", CertificateBody=_pem(LEAF),
                                         PrivateKey=key_pem, CertificateChain=_pem(CA),
                                         Tags=[{"Key": "team", "Value": "web"}])
    meta = made["ServerCertificateMetadata"]
    assert meta["ServerCertificateName"] == "www" and meta["Path"] == "/web/"
    assert meta["ServerCertificateId"].startswith("ASCA") and len(meta["ServerCertificateId"]) == 21
    assert meta["Arn"] == f"arn:aws:iam::{account.account_id}:server-certificate/web/www"
    assert meta["Expiration"] == LEAF.not_valid_after_utc
    assert made["Tags"] == [{"Key": "team", "Value": "web"}]

    got = iam.get_server_certificate(ServerCertificateName="WWW")["ServerCertificate"]  # names ignore case
    assert got["ServerCertificateMetadata"]["ServerCertificateId"] == meta["ServerCertificateId"]
    assert got["CertificateBody"] == _pem(LEAF).strip() and got["CertificateChain"] == _pem(CA).strip()
    assert got["Tags"] == [{"Key": "team", "Value": "web"}]
    assert "PrivateKey" not in json.dumps(got, default=str)

    # an EC certificate without a chain or tags
    ec_cert = _signed("api.example.test", _OTHER_KEY, "api.example.test", _OTHER_KEY, 30)
    iam.upload_server_certificate(ServerCertificateName="api", CertificateBody=_pem(ec_cert),
                                  PrivateKey=_key_pem(_OTHER_KEY))
    plain = iam.get_server_certificate(ServerCertificateName="api")["ServerCertificate"]
    assert "CertificateChain" not in plain and "Tags" not in plain
    assert plain["ServerCertificateMetadata"]["Path"] == "/"
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["ServerCertificates"] == 2 and summary["ServerCertificatesQuota"] == 20

    # refused material
    _fails("KeyPairMismatch", iam.upload_server_certificate, ServerCertificateName="bad", CertificateBody=_pem(LEAF),
           PrivateKey=_key_pem(_CA_KEY))
    _fails("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="bad",
           CertificateBody="not a certificate", PrivateKey=key_pem)
    _fails("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="bad",
           CertificateBody=_pem(LEAF), PrivateKey="not a key")
    _fails("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="bad",
           CertificateBody=_pem(LEAF), PrivateKey=_key_pem(_LEAF_KEY, b"secret"))
    _fails("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="bad",
           CertificateBody=_pem(LEAF), PrivateKey=key_pem, CertificateChain="no chain here")
    # RSA keys above 4096 bits are refused before the (costly) consistency check of the private key
    big = rsa.generate_private_key(public_exponent=65537, key_size=4160)
    err = _fails("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="bad",
                 CertificateBody=_pem(LEAF), PrivateKey=_key_pem(big))
    assert "4096" in err.response["Error"]["Message"]
    _fails("EntityAlreadyExists", iam.upload_server_certificate, ServerCertificateName="Www",
           CertificateBody=_pem(LEAF), PrivateKey=key_pem)
    _fails("ValidationError", world.iam(account.root, validate=False).upload_server_certificate,
           ServerCertificateName="bad name!", CertificateBody=_pem(LEAF), PrivateKey=key_pem)

    # the private key is not kept, nor audited
    for row in _stored(world, account.account_id):
        assert "PRIVATE KEY" not in str(vars(row))
    assert "PRIVATE KEY" not in json.dumps(_events(world, account.account_id))

    listed = iam.list_server_certificates()["ServerCertificateMetadataList"]
    assert [c["ServerCertificateName"] for c in listed] == ["api", "www"]
    assert [c["ServerCertificateName"] for c in iam.list_server_certificates(PathPrefix="/web/")[
        "ServerCertificateMetadataList"]] == ["www"]
    first = iam.list_server_certificates(MaxItems=1)
    assert first["IsTruncated"] is True and len(first["ServerCertificateMetadataList"]) == 1
    rest = iam.list_server_certificates(Marker=first["Marker"])
    assert [c["ServerCertificateName"] for c in rest["ServerCertificateMetadataList"]] == ["www"]
    assert rest["IsTruncated"] is False

    # rename and move
    iam.update_server_certificate(ServerCertificateName="www", NewServerCertificateName="www-2026",
                                  NewPath="/web/2026/")
    _fails("NoSuchEntity", iam.get_server_certificate, ServerCertificateName="www")
    moved = iam.get_server_certificate(ServerCertificateName="www-2026")["ServerCertificate"]
    assert moved["ServerCertificateMetadata"]["Arn"].endswith(":server-certificate/web/2026/www-2026")
    assert moved["ServerCertificateMetadata"]["ServerCertificateId"] == meta["ServerCertificateId"]
    _fails("EntityAlreadyExists", iam.update_server_certificate, ServerCertificateName="www-2026",
           NewServerCertificateName="API")
    _fails("NoSuchEntity", iam.update_server_certificate, ServerCertificateName="ghost", NewPath="/x/")

    # tags
    iam.tag_server_certificate(ServerCertificateName="www-2026", Tags=[{"Key": "env", "Value": "prod"}])
    tags = iam.list_server_certificate_tags(ServerCertificateName="www-2026")["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "prod"), ("team", "web")]
    iam.untag_server_certificate(ServerCertificateName="www-2026", TagKeys=["team"])
    assert iam.list_server_certificate_tags(ServerCertificateName="www-2026")["Tags"] == [
        {"Key": "env", "Value": "prod"}]
    _fails("LimitExceeded", iam.tag_server_certificate, ServerCertificateName="www-2026",
           Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    _fails("NoSuchEntity", iam.list_server_certificate_tags, ServerCertificateName="ghost")
    _fails("NoSuchEntity", iam.tag_server_certificate, ServerCertificateName="ghost",
           Tags=[{"Key": "a", "Value": "b"}])

    iam.delete_server_certificate(ServerCertificateName="www-2026")
    _fails("NoSuchEntity", iam.get_server_certificate, ServerCertificateName="www-2026")
    _fails("NoSuchEntity", iam.delete_server_certificate, ServerCertificateName="www-2026")
    # a certificate of the same name made again starts untagged
    iam.upload_server_certificate(ServerCertificateName="www-2026", CertificateBody=_pem(LEAF), PrivateKey=key_pem)
    assert iam.list_server_certificate_tags(ServerCertificateName="www-2026")["Tags"] == []

    events = [e["event"] for e in _events(world, account.account_id)]
    for wanted in ("UploadServerCertificate", "UpdateServerCertificate", "TagServerCertificate",
                   "UntagServerCertificate", "DeleteServerCertificate"):
        assert wanted in events, wanted


def test_twenty_per_account(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    for i in range(20):
        iam.upload_server_certificate(ServerCertificateName=f"c{i:02d}", CertificateBody=_pem(LEAF),
                                      PrivateKey=_key_pem(_LEAF_KEY))
    _fails("LimitExceeded", iam.upload_server_certificate, ServerCertificateName="c20", CertificateBody=_pem(LEAF),
           PrivateKey=_key_pem(_LEAF_KEY))
    pages = list(iam.get_paginator("list_server_certificates").paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p["ServerCertificateMetadataList"]) for p in pages] == [7, 7, 6]


def test_authorized_on_the_certificate_arn(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    for name in ("mine", "theirs"):
        root.upload_server_certificate(ServerCertificateName=name, CertificateBody=_pem(LEAF),
                                       PrivateKey=_key_pem(_LEAF_KEY))
    arn = f"arn:aws:iam::{account.account_id}:server-certificate/mine"
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetServerCertificate", "iam:UpdateServerCertificate"], "Resource": arn}]})
    policy = root.create_policy(PolicyName="one-cert", PolicyDocument=document)["Policy"]["Arn"]
    ivy = world.iam(world.api_user(account, "ivy", policy))
    assert ivy.get_server_certificate(ServerCertificateName="mine")["ServerCertificate"]["CertificateBody"]
    _fails("AccessDenied", ivy.get_server_certificate, ServerCertificateName="theirs")
    _fails("AccessDenied", ivy.get_server_certificate, ServerCertificateName="nothing-here")
    _fails("AccessDenied", ivy.list_server_certificates)
    _fails("AccessDenied", ivy.delete_server_certificate, ServerCertificateName="mine")
    # renaming needs the action on the new name's ARN too
    _fails("AccessDenied", ivy.update_server_certificate, ServerCertificateName="mine",
           NewServerCertificateName="renamed")
    assert root.get_server_certificate(ServerCertificateName="mine")


def test_concurrent_uploads_keep_the_quota_and_one_name(world: AwsWorld, account: Account) -> None:
    clients = [world.iam(account.root) for _ in range(6)]
    key = _key_pem(_LEAF_KEY)
    answers = at_once([partial(c.upload_server_certificate, ServerCertificateName="same", CertificateBody=_pem(LEAF),
                                PrivateKey=key) for c in clients])
    assert sorted(answers) == ["EntityAlreadyExists"] * 5 + ["ok"], answers
    for i in range(17):
        clients[0].upload_server_certificate(ServerCertificateName=f"c{i:02d}", CertificateBody=_pem(LEAF),
                                             PrivateKey=key)
    answers = at_once([partial(c.upload_server_certificate, ServerCertificateName=f"n{i}",
                                CertificateBody=_pem(LEAF), PrivateKey=key) for i, c in enumerate(clients)])
    assert sorted(answers) == ["LimitExceeded"] * 4 + ["ok"] * 2, answers
    assert len(clients[0].list_server_certificates()["ServerCertificateMetadataList"]) == 20
