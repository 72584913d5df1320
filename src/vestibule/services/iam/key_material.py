"""Key and certificate material users upload, read with `cryptography`: SSH public keys (ssh-rsa in OpenSSH or
PEM encoding, at least 2048 bits, as IAM accepts them) and X.509 certificates in PEM."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ...errors import RejectedMaterial

MIN_RSA_BITS = 2048
MAX_SERVER_RSA_BITS = 4096


@dataclass(frozen=True)
class SshKey:
    openssh: str  # "ssh-rsa AAAA..." without a comment
    pem: str  # SubjectPublicKeyInfo
    fingerprint: str  # MD5 of the key blob, colon-separated hex (as IAM and `ssh-keygen -E md5` show it)


def _invalid_key(detail: str) -> RejectedMaterial:
    return RejectedMaterial("InvalidPublicKey", detail)


def read_ssh_key(body: str) -> SshKey:
    text = body.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("latin-1"))
        elif text.startswith("ssh-"):
            key = serialization.load_ssh_public_key(text.encode("latin-1"))
        else:
            raise RejectedMaterial("UnrecognizedPublicKeyEncoding",
                                   "The public key must be encoded in ssh-rsa format or PEM format.")
    except (ValueError, UnsupportedAlgorithm):
        raise _invalid_key("The public key is malformed or otherwise invalid.") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise _invalid_key("The public key must be an RSA key (ssh-rsa).")
    if key.key_size < MIN_RSA_BITS:
        raise _invalid_key(f"The public key must be at least {MIN_RSA_BITS} bits long.")
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    digest = hashlib.md5(base64.b64decode(openssh.split()[1]), usedforsecurity=False).hexdigest()
    return SshKey(openssh, pem, ":".join(digest[i:i + 2] for i in range(0, 32, 2)))


@dataclass(frozen=True)
class Certificate:
    body: str  # the PEM as uploaded, surrounding whitespace removed
    der_sha256: str


def read_certificate(body: str) -> Certificate:
    text = body.strip()
    try:
        certificate = x509.load_pem_x509_certificate(text.encode("latin-1"))
    except ValueError:
        raise RejectedMaterial("MalformedCertificate",
                               "The certificate body is not a valid X.509 certificate in PEM format.") from None
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Certificate(text, hashlib.sha256(der).hexdigest())


@dataclass(frozen=True)
class ServerCertificateMaterial:
    body: str
    chain: str | None
    expires_at: float


def _malformed(detail: str) -> RejectedMaterial:
    return RejectedMaterial("MalformedCertificate", detail)


def read_server_certificate(body: str, private_key: str, chain: str | None) -> ServerCertificateMaterial:
    """The certificate, the private key that must be its key (then forgotten), and the chain, all PEM."""
    text = body.strip()
    try:
        certificate = x509.load_pem_x509_certificate(text.encode("latin-1"))
    except ValueError:
        raise _malformed("Unable to parse certificate. Please ensure the certificate is in PEM format.") from None
    key_pem = private_key.strip().encode("latin-1", "replace")
    unreadable = _malformed("Unable to parse private key. Please ensure the key is in PEM format and not encrypted.")
    try:
        # read without the RSA consistency check first, so its cost is only paid for a key of a size IAM takes
        key = serialization.load_pem_private_key(key_pem, password=None, unsafe_skip_rsa_key_validation=True)
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size > MAX_SERVER_RSA_BITS:
                raise _malformed(f"The private key must be an RSA key of at most {MAX_SERVER_RSA_BITS} bits.")
            key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise unreadable from None
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise RejectedMaterial("KeyPairMismatch", "The public key certificate and the private key do not match.")
    chain_text = None
    if chain is not None:
        chain_text = chain.strip()
        try:
            if not x509.load_pem_x509_certificates(chain_text.encode("latin-1")):
                raise ValueError("empty chain")
        except ValueError:
            raise _malformed("Unable to parse certificate chain. Please ensure the chain is in PEM "
                             "format.") from None
    return ServerCertificateMaterial(text, chain_text, certificate.not_valid_after_utc.timestamp())
