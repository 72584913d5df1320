"""IAM SSH public keys, signing certificates and service-specific credentials through boto3: the documented
shapes, limits and errors, DeleteUser refusing while any is attached, authorization on the owner's ARN, and audit
events without secrets. Keys and certificates are made here with `cryptography`; fingerprints are checked
against `ssh-keygen -E md5`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID

from integration.aws.aws_world import Account, AwsWorld, at_once, error_code
from integration.aws.test_aws_cli import Cli
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps
from vestibule.store.models import ServiceSpecificCredential

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
_RSA = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(7)]


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _openssh(key: PrivateKey, comment: str = "") -> str:
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"{line} {comment}" if comment else line


def _pem(key: PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _ssh_keygen_md5(line: str, tmp_path: Path) -> str:
    path = tmp_path / "key.pub"
    path.write_text(line + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return out.split()[1].removeprefix("MD5:")


def _certificate(key: rsa.RSAPrivateKey, name: str) -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _events(world: AwsWorld, account_id: str) -> list[dict[str, object]]:
    async def read(deps: Deps) -> list[dict[str, object]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


def _stored_credentials(world: AwsWorld, account_id: str) -> list[ServiceSpecificCredential]:
    async def read(deps: Deps) -> list[ServiceSpecificCredential]:
        async with deps.store.unit() as uow:
            return list(await uow.service_credentials.in_account(account_id))

    return world.run(read)


def test_ssh_public_keys(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    line = _openssh(_RSA[0], "alice@laptop")
    before = dt.datetime.now(dt.UTC)
    key = iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=line)["SSHPublicKey"]
    assert key["UserName"] == "alice" and key["Status"] == "Active"
    assert key["SSHPublicKeyId"].startswith("APKA") and len(key["SSHPublicKeyId"]) == 20
    assert key["Fingerprint"] == _ssh_keygen_md5(line, tmp_path)
    assert key["SSHPublicKeyBody"] == _openssh(_RSA[0])
    assert abs((key["UploadDate"] - before).total_seconds()) < 5

    # PEM encoding in, both encodings out
    pem_key = iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=_pem(_RSA[1]))["SSHPublicKey"]
    assert pem_key["Fingerprint"] == _ssh_keygen_md5(_openssh(_RSA[1]), tmp_path)
    as_ssh = iam.get_ssh_public_key(UserName="alice", SSHPublicKeyId=pem_key["SSHPublicKeyId"],
                                    Encoding="SSH")["SSHPublicKey"]
    assert as_ssh["SSHPublicKeyBody"] == _openssh(_RSA[1]) and as_ssh["Fingerprint"] == pem_key["Fingerprint"]
    as_pem = iam.get_ssh_public_key(UserName="alice", SSHPublicKeyId=key["SSHPublicKeyId"],
                                    Encoding="PEM")["SSHPublicKey"]
    loaded = serialization.load_pem_public_key(as_pem["SSHPublicKeyBody"].encode())
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == _RSA[0].public_key().public_numbers()

    # the same key twice for one user is refused; another user may hold it
    _fails("DuplicateSSHPublicKey", iam.upload_ssh_public_key, UserName="alice", SSHPublicKeyBody=_pem(_RSA[0]))
    bobs = iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=line)["SSHPublicKey"]

    # what IAM refuses
    _fails("UnrecognizedPublicKeyEncoding", iam.upload_ssh_public_key, UserName="alice",
           SSHPublicKeyBody="not a key at all")
    _fails("InvalidPublicKey", iam.upload_ssh_public_key, UserName="alice", SSHPublicKeyBody="ssh-rsa AAAAnotbase64")
    _fails("InvalidPublicKey", iam.upload_ssh_public_key, UserName="alice",
           SSHPublicKeyBody="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    _fails("InvalidPublicKey", iam.upload_ssh_public_key, UserName="alice", SSHPublicKeyBody=_openssh(small))
    _fails("InvalidPublicKey", iam.upload_ssh_public_key, UserName="alice",
           SSHPublicKeyBody=_openssh(ed25519.Ed25519PrivateKey.generate()))
    _fails("NoSuchEntity", iam.upload_ssh_public_key, UserName="ghost", SSHPublicKeyBody=line)

    # five per user
    for private in _RSA[2:5]:
        iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=_openssh(private))
    err = _fails("LimitExceeded", iam.upload_ssh_public_key, UserName="alice", SSHPublicKeyBody=_openssh(_RSA[5]))
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    listed = iam.list_ssh_public_keys(UserName="alice")
    assert len(listed["SSHPublicKeys"]) == 5 and listed["IsTruncated"] is False
    assert listed["SSHPublicKeys"][0]["SSHPublicKeyId"] == key["SSHPublicKeyId"]
    assert all(set(k) == {"UserName", "SSHPublicKeyId", "Status", "UploadDate"} for k in listed["SSHPublicKeys"])
    first = iam.list_ssh_public_keys(UserName="alice", MaxItems=2)
    assert len(first["SSHPublicKeys"]) == 2 and first["IsTruncated"] is True
    rest = iam.list_ssh_public_keys(UserName="alice", Marker=first["Marker"])
    assert [k["SSHPublicKeyId"] for k in first["SSHPublicKeys"] + rest["SSHPublicKeys"]] == [
        k["SSHPublicKeyId"] for k in listed["SSHPublicKeys"]]
    paged = [k["SSHPublicKeyId"] for p in iam.get_paginator("list_ssh_public_keys").paginate(
        UserName="alice", PaginationConfig={"PageSize": 2}) for k in p["SSHPublicKeys"]]
    assert paged == [k["SSHPublicKeyId"] for k in listed["SSHPublicKeys"]]
    _fails("NoSuchEntity", iam.list_ssh_public_keys, UserName="ghost")
    assert iam.list_ssh_public_keys()["SSHPublicKeys"] == []  # the root user has none

    iam.update_ssh_public_key(UserName="alice", SSHPublicKeyId=key["SSHPublicKeyId"], Status="Inactive")
    got = iam.get_ssh_public_key(UserName="alice", SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="SSH")
    assert got["SSHPublicKey"]["Status"] == "Inactive"
    _fails("InvalidInput", iam.update_ssh_public_key, UserName="alice", SSHPublicKeyId=key["SSHPublicKeyId"],
           Status="Expired")
    # another user's key, or one that does not exist, is not found
    for call, extra in ((iam.get_ssh_public_key, {"Encoding": "SSH"}), (iam.update_ssh_public_key,
                                                                         {"Status": "Active"}),
                        (iam.delete_ssh_public_key, {})):
        _fails("NoSuchEntity", call, UserName="alice", SSHPublicKeyId=bobs["SSHPublicKeyId"], **extra)
        _fails("NoSuchEntity", call, UserName="alice", SSHPublicKeyId="APKA" + "Q" * 16, **extra)
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.get_ssh_public_key, UserName="alice", SSHPublicKeyId="short", Encoding="SSH")
    _fails("ValidationError", loose.get_ssh_public_key, UserName="alice", SSHPublicKeyId=key["SSHPublicKeyId"],
           Encoding="DER")

    iam.delete_ssh_public_key(UserName="alice", SSHPublicKeyId=key["SSHPublicKeyId"])
    assert key["SSHPublicKeyId"] not in [k["SSHPublicKeyId"]
                                         for k in iam.list_ssh_public_keys(UserName="alice")["SSHPublicKeys"]]

    # DeleteUser waits until the keys are gone
    err = _fails("DeleteConflict", iam.delete_user, UserName="bob")
    assert "SSH public keys" in err.response["Error"]["Message"]
    iam.delete_ssh_public_key(UserName="bob", SSHPublicKeyId=bobs["SSHPublicKeyId"])
    iam.delete_user(UserName="bob")


def test_signing_certificates(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="carol")
    iam.create_user(UserName="dave")
    body = _certificate(_RSA[0], "carol")
    cert = iam.upload_signing_certificate(UserName="carol", CertificateBody=body)["Certificate"]
    assert cert["UserName"] == "carol" and cert["Status"] == "Active" and cert["CertificateBody"] == body.strip()
    assert len(cert["CertificateId"]) >= 24

    err = _fails("DuplicateCertificate", iam.upload_signing_certificate, UserName="dave", CertificateBody=body)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    _fails("MalformedCertificate", iam.upload_signing_certificate, UserName="carol", CertificateBody="garbage")
    _fails("MalformedCertificate", iam.upload_signing_certificate, UserName="carol",
           CertificateBody="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    _fails("NoSuchEntity", iam.upload_signing_certificate, UserName="ghost", CertificateBody=_certificate(_RSA[1], "x"))
    second = iam.upload_signing_certificate(UserName="carol", CertificateBody=_certificate(_RSA[1], "carol 2"))
    _fails("LimitExceeded", iam.upload_signing_certificate, UserName="carol",
           CertificateBody=_certificate(_RSA[2], "carol 3"))

    listed = iam.list_signing_certificates(UserName="carol")
    assert [c["CertificateId"] for c in listed["Certificates"]] == [
        cert["CertificateId"], second["Certificate"]["CertificateId"]]
    assert listed["IsTruncated"] is False
    page = iam.list_signing_certificates(UserName="carol", MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Certificates"]) == 1

    iam.update_signing_certificate(UserName="carol", CertificateId=cert["CertificateId"], Status="Inactive")
    statuses = {c["CertificateId"]: c["Status"]
                for c in iam.list_signing_certificates(UserName="carol")["Certificates"]}
    assert statuses[cert["CertificateId"]] == "Inactive"
    _fails("InvalidInput", iam.update_signing_certificate, UserName="carol", CertificateId=cert["CertificateId"],
           Status="Expired")
    _fails("NoSuchEntity", iam.update_signing_certificate, UserName="dave", CertificateId=cert["CertificateId"],
           Status="Active")
    _fails("NoSuchEntity", iam.delete_signing_certificate, UserName="carol", CertificateId="Q" * 32)

    # the root user's own certificates: no UserName
    own = iam.upload_signing_certificate(CertificateBody=_certificate(_RSA[3], "root"))["Certificate"]
    assert "UserName" not in own
    assert [c["CertificateId"] for c in iam.list_signing_certificates()["Certificates"]] == [own["CertificateId"]]
    assert iam.get_account_summary()["SummaryMap"]["AccountSigningCertificatesPresent"] == 1
    iam.delete_signing_certificate(CertificateId=own["CertificateId"])
    assert iam.get_account_summary()["SummaryMap"]["AccountSigningCertificatesPresent"] == 0

    err = _fails("DeleteConflict", iam.delete_user, UserName="carol")
    assert "signing certificates" in err.response["Error"]["Message"]
    for c in iam.list_signing_certificates(UserName="carol")["Certificates"]:
        iam.delete_signing_certificate(UserName="carol", CertificateId=c["CertificateId"])
    iam.delete_user(UserName="carol")
    # once deleted, the certificate may be uploaded again (by another user)
    assert iam.upload_signing_certificate(UserName="dave", CertificateBody=body)["Certificate"]["UserName"] == "dave"


def test_service_specific_credentials(world: AwsWorld, account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="erin")
    iam.create_user(UserName="frank")
    made = iam.create_service_specific_credential(UserName="erin", ServiceName="codecommit.amazonaws.com")
    cred = made["ServiceSpecificCredential"]
    assert cred["UserName"] == "erin" and cred["Status"] == "Active"
    assert cred["ServiceName"] == "codecommit.amazonaws.com"
    assert cred["ServiceUserName"] == f"erin-at-{account.account_id}"
    assert cred["ServiceSpecificCredentialId"].startswith("ACCA") and len(cred["ServiceSpecificCredentialId"]) >= 20
    password = cred["ServicePassword"]
    assert len(password) >= 40 and "ExpirationDate" not in cred
    keyspaces = iam.create_service_specific_credential(UserName="erin", ServiceName="cassandra.amazonaws.com")
    iam.create_service_specific_credential(UserName="erin", ServiceName="codecommit.amazonaws.com")
    _fails("LimitExceeded", iam.create_service_specific_credential, UserName="erin",
           ServiceName="codecommit.amazonaws.com")
    err = _fails("NotSupportedService", iam.create_service_specific_credential, UserName="erin",
                 ServiceName="s3.amazonaws.com")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    _fails("NoSuchEntity", iam.create_service_specific_credential, UserName="ghost",
           ServiceName="codecommit.amazonaws.com")
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.create_service_specific_credential, UserName="erin",
           ServiceName="bedrock.amazonaws.com", CredentialAgeDays=0)

    # a Bedrock API key: an alias and a secret, expiring after CredentialAgeDays
    bedrock = iam.create_service_specific_credential(UserName="frank", ServiceName="bedrock.amazonaws.com",
                                                     CredentialAgeDays=1)["ServiceSpecificCredential"]
    assert bedrock["ServiceCredentialAlias"].startswith(f"frank-at-{account.account_id}")
    logs = iam.create_service_specific_credential(UserName="frank", ServiceName="logs.amazonaws.com")
    assert "ServiceCredentialSecret" in logs["ServiceSpecificCredential"]
    iam.delete_service_specific_credential(
        UserName="frank", ServiceSpecificCredentialId=logs["ServiceSpecificCredential"]["ServiceSpecificCredentialId"])
    _fails("ValidationError", iam.create_service_specific_credential, UserName="frank",
           ServiceName="codecommit.amazonaws.com", CredentialAgeDays=30)
    assert bedrock["ServiceCredentialSecret"] and "ServicePassword" not in bedrock
    assert abs((bedrock["ExpirationDate"] - bedrock["CreateDate"]).total_seconds() - 86400) < 2

    listed = iam.list_service_specific_credentials(UserName="erin")["ServiceSpecificCredentials"]
    assert len(listed) == 3
    assert all("ServicePassword" not in c and "ServiceCredentialSecret" not in c for c in listed)
    only = iam.list_service_specific_credentials(UserName="erin", ServiceName="cassandra.amazonaws.com")
    assert [c["ServiceSpecificCredentialId"] for c in only["ServiceSpecificCredentials"]] == [
        keyspaces["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]]
    everyone = iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
    assert sorted(c["UserName"] for c in everyone) == ["erin", "erin", "erin", "frank"]
    _fails("NotSupportedService", iam.list_service_specific_credentials, UserName="erin", ServiceName="nope")
    _fails("NoSuchEntity", iam.list_service_specific_credentials, UserName="ghost")

    # the Bedrock key shows as Expired once its day has passed
    world.shift(monkeypatch, 86400 + 60)
    frank = iam.list_service_specific_credentials(UserName="frank")["ServiceSpecificCredentials"]
    assert [c["Status"] for c in frank] == ["Expired"]
    world.shift(monkeypatch, 0)

    cred_id = cred["ServiceSpecificCredentialId"]
    reset = iam.reset_service_specific_credential(UserName="erin", ServiceSpecificCredentialId=cred_id)
    new_password = reset["ServiceSpecificCredential"]["ServicePassword"]
    assert new_password != password and reset["ServiceSpecificCredential"]["ServiceSpecificCredentialId"] == cred_id

    # only a hash is kept
    stored = {c.id: c for c in _stored_credentials(world, account.account_id)}
    assert stored[cred_id].secret_hash == hashlib.sha256(new_password.encode()).hexdigest()
    assert all(new_password not in str(vars(c)) and password not in str(vars(c)) for c in stored.values())

    iam.update_service_specific_credential(UserName="erin", ServiceSpecificCredentialId=cred_id, Status="Inactive")
    statuses = {c["ServiceSpecificCredentialId"]: c["Status"]
                for c in iam.list_service_specific_credentials(UserName="erin")["ServiceSpecificCredentials"]}
    assert statuses[cred_id] == "Inactive"
    for call, extra in ((iam.update_service_specific_credential, {"Status": "Active"}),
                        (iam.reset_service_specific_credential, {}), (iam.delete_service_specific_credential, {})):
        _fails("NoSuchEntity", call, UserName="frank", ServiceSpecificCredentialId=cred_id, **extra)
        _fails("NoSuchEntity", call, UserName="erin", ServiceSpecificCredentialId="ACCA" + "Q" * 17, **extra)

    err = _fails("DeleteConflict", iam.delete_user, UserName="erin")
    assert "service-specific credentials" in err.response["Error"]["Message"]
    for c in iam.list_service_specific_credentials(UserName="erin")["ServiceSpecificCredentials"]:
        iam.delete_service_specific_credential(UserName="erin",
                                               ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"])
    iam.delete_user(UserName="erin")

    events = _events(world, account.account_id)
    names = [e["event"] for e in events if e["method"] == "sigv4:access-key"]
    for wanted in ("CreateServiceSpecificCredential", "ResetServiceSpecificCredential",
                   "UpdateServiceSpecificCredential", "DeleteServiceSpecificCredential"):
        assert wanted in names, wanted
    text = json.dumps(events)
    for secret in (password, new_password, bedrock["ServiceCredentialSecret"]):
        assert secret not in text


def test_users_manage_their_own_and_nobody_elses(world: AwsWorld, account: Account) -> None:
    """A user allowed these actions on their own ARN may act without naming themselves (where the model lets
    UserName be omitted) and is refused on another user; each change is audited with the caller's ARN."""
    own = account.user_arn("gina")
    actions = ["iam:UploadSSHPublicKey", "iam:ListSSHPublicKeys", "iam:DeleteSSHPublicKey",
               "iam:UploadSigningCertificate", "iam:ListSigningCertificates", "iam:DeleteSigningCertificate",
               "iam:CreateServiceSpecificCredential", "iam:ListServiceSpecificCredentials",
               "iam:ResetServiceSpecificCredential", "iam:DeleteServiceSpecificCredential"]
    document = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": actions, "Resource": own}]})
    root = world.iam(account.root)
    root.create_user(UserName="hank")
    policy = root.create_policy(PolicyName="own-keys", PolicyDocument=document)["Policy"]["Arn"]
    gina = world.iam(world.api_user(account, "gina", policy))

    key = gina.upload_ssh_public_key(UserName="gina", SSHPublicKeyBody=_openssh(_RSA[6]))["SSHPublicKey"]
    assert [k["SSHPublicKeyId"] for k in gina.list_ssh_public_keys()["SSHPublicKeys"]] == [key["SSHPublicKeyId"]]
    cert = gina.upload_signing_certificate(CertificateBody=_certificate(_RSA[6], "gina"))["Certificate"]
    assert cert["UserName"] == "gina"
    assert [c["CertificateId"] for c in gina.list_signing_certificates()["Certificates"]] == [cert["CertificateId"]]
    cred = gina.create_service_specific_credential(UserName="gina", ServiceName="codecommit.amazonaws.com")
    cred_id = cred["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]
    assert [c["ServiceSpecificCredentialId"] for c in
            gina.list_service_specific_credentials()["ServiceSpecificCredentials"]] == [cred_id]
    gina.reset_service_specific_credential(ServiceSpecificCredentialId=cred_id)

    _fails("AccessDenied", gina.upload_ssh_public_key, UserName="hank", SSHPublicKeyBody=_openssh(_RSA[6]))
    _fails("AccessDenied", gina.list_ssh_public_keys, UserName="hank")
    _fails("AccessDenied", gina.upload_signing_certificate, UserName="hank",
           CertificateBody=_certificate(_RSA[5], "hank"))
    _fails("AccessDenied", gina.create_service_specific_credential, UserName="hank",
           ServiceName="codecommit.amazonaws.com")
    _fails("AccessDenied", gina.list_service_specific_credentials, AllUsers=True)
    _fails("AccessDenied", gina.update_ssh_public_key, UserName="gina", SSHPublicKeyId=key["SSHPublicKeyId"],
           Status="Inactive")  # not among her actions
    # a denied caller learns nothing about whether a user exists
    _fails("AccessDenied", gina.list_ssh_public_keys, UserName="nobody")

    gina.delete_ssh_public_key(UserName="gina", SSHPublicKeyId=key["SSHPublicKeyId"])
    gina.delete_signing_certificate(CertificateId=cert["CertificateId"])
    gina.delete_service_specific_credential(ServiceSpecificCredentialId=cred_id)

    events = [(e["event"], e["principal"], e["detail"]) for e in _events(world, account.account_id)]
    for wanted in ("UploadSSHPublicKey", "DeleteSSHPublicKey", "UploadSigningCertificate",
                   "DeleteSigningCertificate", "CreateServiceSpecificCredential", "ResetServiceSpecificCredential",
                   "DeleteServiceSpecificCredential"):
        assert [p for e, p, _ in events if e == wanted] == [own], wanted
    upload = next(d for e, _, d in events if e == "UploadSSHPublicKey")
    assert upload == {"user": "gina", "ssh_public_key_id": key["SSHPublicKeyId"], "fingerprint": key["Fingerprint"]}


def test_concurrent_uploads_keep_the_limits(world: AwsWorld, account: Account) -> None:
    """Requests at the same moment are counted one after another: a user never holds more than the quota, and
    the same key sent many times at once is stored once."""
    clients = [world.iam(account.root) for _ in range(6)]
    iam = clients[0]
    iam.create_user(UserName="busy")
    for private in _RSA[:3]:
        iam.upload_ssh_public_key(UserName="busy", SSHPublicKeyBody=_openssh(private))
    fresh = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(len(clients))]
    answers = at_once([partial(c.upload_ssh_public_key, UserName="busy", SSHPublicKeyBody=_openssh(k))
                        for c, k in zip(clients, fresh, strict=True)])
    assert sorted(answers) == ["LimitExceeded"] * 4 + ["ok"] * 2, answers
    assert len(iam.list_ssh_public_keys(UserName="busy")["SSHPublicKeys"]) == 5

    iam.create_user(UserName="twice")
    answers = at_once([partial(c.upload_ssh_public_key, UserName="twice", SSHPublicKeyBody=_openssh(fresh[0]))
                        for c in clients])
    assert sorted(answers) == ["DuplicateSSHPublicKey"] * 5 + ["ok"], answers

    answers = at_once([partial(c.upload_signing_certificate, UserName="busy",
                                CertificateBody=_certificate(k, f"busy {i}"))
                        for i, (c, k) in enumerate(zip(clients, fresh, strict=True))])
    assert sorted(answers) == ["LimitExceeded"] * 4 + ["ok"] * 2, answers
    body = _certificate(_RSA[6], "shared")
    answers = at_once([partial(c.upload_signing_certificate, UserName=user, CertificateBody=body)
                        for c, user in zip(clients, ["twice", "twice", "twice", "busy", "busy", "busy"], strict=True)])
    assert answers.count("ok") == 1, answers

    answers = at_once([partial(c.create_service_specific_credential, UserName="busy",
                                ServiceName="codecommit.amazonaws.com") for c in clients])
    assert sorted(answers) == ["LimitExceeded"] * 4 + ["ok"] * 2, answers
    assert len(iam.list_service_specific_credentials(UserName="busy")["ServiceSpecificCredentials"]) == 2


def test_delete_user_racing_uploads_leaves_no_orphans(world: AwsWorld, account: Account) -> None:
    """DeleteUser and uploads at the same moment: either the user is deleted and nothing was stored for it, or the
    uploads won and DeleteUser answered DeleteConflict."""
    clients = [world.iam(account.root) for _ in range(5)]
    for round_ in range(3):
        name = f"racer{round_}"
        user_id = clients[0].create_user(UserName=name)["User"]["UserId"]
        calls: list[Callable[[], Any]] = [partial(clients[0].delete_user, UserName=name)]
        calls += [partial(c.upload_ssh_public_key, UserName=name, SSHPublicKeyBody=_openssh(_RSA[i]))
                  for i, c in enumerate(clients[1:3])]
        calls += [partial(c.create_service_specific_credential, UserName=name,
                          ServiceName="codecommit.amazonaws.com") for c in clients[3:]]
        answers = at_once(calls)

        async def stored(deps: Deps, owner: str = f"user:{user_id}") -> int:
            async with deps.store.unit() as uow:
                return (len(await uow.ssh_keys.for_principal(owner))
                        + len(await uow.service_credentials.for_principal(owner)))

        left = world.run(stored)
        if answers[0] == "ok":
            assert left == 0 and set(answers[1:]) <= {"NoSuchEntity"}, (round_, answers)
        else:
            assert answers[0] == "DeleteConflict" and left == answers.count("ok"), (round_, answers)


def test_aws_cli_uploads_from_files_and_pages(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    """The aws CLI reads key and certificate bodies from file:// and pages --max-items/--starting-token."""
    cli = Cli(world, tmp_path)
    cli.ok(account.root, "iam", "create-user", "--user-name", "cli-user")
    ids = []
    for i, private in enumerate(_RSA[:3]):
        path = tmp_path / f"key{i}.pub"
        path.write_text(_openssh(private, f"cli{i}") + "\n")
        made = cli.ok(account.root, "iam", "upload-ssh-public-key", "--user-name", "cli-user",
                      "--ssh-public-key-body", f"file://{path}")["SSHPublicKey"]
        assert made["Fingerprint"] == _ssh_keygen_md5(path.read_text().strip(), tmp_path)
        ids.append(made["SSHPublicKeyId"])
    first = cli.ok(account.root, "iam", "list-ssh-public-keys", "--user-name", "cli-user", "--max-items", "2")
    assert [k["SSHPublicKeyId"] for k in first["SSHPublicKeys"]] == ids[:2] and first["NextToken"]
    rest = cli.ok(account.root, "iam", "list-ssh-public-keys", "--user-name", "cli-user", "--max-items", "2",
                  "--starting-token", first["NextToken"])
    assert [k["SSHPublicKeyId"] for k in rest["SSHPublicKeys"]] == ids[2:] and "NextToken" not in rest
    pem = cli.ok(account.root, "iam", "get-ssh-public-key", "--user-name", "cli-user", "--ssh-public-key-id", ids[0],
                 "--encoding", "PEM")["SSHPublicKey"]["SSHPublicKeyBody"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")

    cert_path = tmp_path / "cert.pem"
    cert_path.write_text(_certificate(_RSA[0], "cli"))
    cert = cli.ok(account.root, "iam", "upload-signing-certificate", "--user-name", "cli-user",
                  "--certificate-body", f"file://{cert_path}")["Certificate"]
    assert cert["CertificateBody"] == cert_path.read_text().strip()
    made = cli.ok(account.root, "iam", "create-service-specific-credential", "--user-name", "cli-user",
                  "--service-name", "codecommit.amazonaws.com")["ServiceSpecificCredential"]
    assert made["ServicePassword"]


def test_concurrent_access_key_creations_keep_the_limit(world: AwsWorld, account: Account) -> None:
    """Six CreateAccessKey calls at the same moment, for an IAM user and for the root user: two keys each."""
    clients = [world.iam(account.root) for _ in range(6)]
    clients[0].create_user(UserName="keys")
    answers = at_once([partial(c.create_access_key, UserName="keys") for c in clients])
    assert sorted(answers) == ["LimitExceeded"] * 4 + ["ok"] * 2, answers
    assert len(clients[0].list_access_keys(UserName="keys")["AccessKeyMetadata"]) == 2
    before = len(clients[0].list_access_keys()["AccessKeyMetadata"])  # the root user's (one signs these calls)
    answers = at_once([partial(c.create_access_key) for c in clients])
    assert answers.count("ok") == 2 - before, answers
    assert len(clients[0].list_access_keys()["AccessKeyMetadata"]) == 2
