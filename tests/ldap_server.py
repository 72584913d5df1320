"""A real OpenLDAP server for the tests: Debian's slapd on two free loopback ports (ldap:// with StartTLS, ldaps://),
its cn=config made from a slapd.conf by `slaptest` in a temporary directory, its TLS certificate signed by a test CA
made with `cryptography`, and a small directory loaded with `slapadd`:

    dc=example,dc=com
      ou=people:   uid=alice (groups engineers, admins), uid=bob (engineers), uid=carol (locked: pwdAccountLockedTime),
                   uid=dave (no mail), uid=erin (employeeType: disabled: for a source's own disabled filter)
      ou=groups:   cn=engineers, cn=admins, cn=unmapped (groupOfNames, member = user DNs)
      ou=services: cn=vestibule (the service account), cn=expired (its password past pwdMaxAge with no grace binds:
                   the ppolicy overlay refuses it)
      ou=policies: cn=default (no expiry), cn=expiring (pwdMaxAge 3600, pwdGraceAuthnLimit 0)

    with LdapServer() as ldap:
        ldap.starttls_url, ldap.ldaps_url, ldap.ca_file, ldap.password("alice")
        ldap.misnamed_url  # LDAPS at 127.0.0.2, which the certificate (127.0.0.1, localhost) does not name
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from support import free_port

SLAPD = "/usr/sbin/slapd"
SLAPTEST = "/usr/sbin/slaptest"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
SUFFIX = "dc=example,dc=com"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=vestibule,ou=services,{SUFFIX}"
EXPIRED_SERVICE_DN = f"cn=expired,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service account password 1"
EXPIRED_SERVICE_PASSWORD = "expired service password 1"
PASSWORDS = {"alice": "alice ldap password 1", "bob": "bob ldap password 1", "carol": "carol ldap password 1",
             "dave": "dave ldap password 1", "erin": "erin ldap password 1"}


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(directory: Path, common_name: str = "Vestibule test LDAP CA") -> tuple[Path, ec.EllipticCurvePrivateKey,
                                                                                   x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    path = directory / f"{common_name.replace(' ', '-').lower()}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def _server_certificate(directory: Path, ca_key: ec.EllipticCurvePrivateKey,
                        ca: x509.Certificate) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_pem_key(key))
    key_path.chmod(0o600)
    return cert_path, key_path


def _config(root: Path, ca: Path, cert: Path, key: Path, tls: bool = True) -> str:
    tls_lines = f"TLSCACertificateFile {ca}\nTLSCertificateFile {cert}\nTLSCertificateKeyFile {key}" if tls else ""
    return f"""
include {SCHEMA}/core.schema
include {SCHEMA}/cosine.schema
include {SCHEMA}/inetorgperson.schema
modulepath {MODULES}
moduleload back_mdb
moduleload ppolicy
pidfile {root}/slapd.pid
{tls_lines}

database config
rootdn "cn=config"

database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw "admin password 1"
directory {root}/data
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{SUFFIX}"
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
"""


def _entries() -> str:
    def person(uid: str, cn: str, mail: str | None, *extra: str) -> str:
        lines = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {cn}",
                 f"sn: {cn.split()[-1]}", f"userPassword: {PASSWORDS[uid]}"]
        if mail:
            lines.append(f"mail: {mail}")
        return "\n".join([*lines, *extra])

    def group(cn: str, *members: str) -> str:
        return "\n".join([f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}",
                          *(f"member: uid={m},{PEOPLE}" for m in members)])

    def policy(cn: str, *extra: str) -> str:
        return "\n".join([f"dn: cn={cn},ou=policies,{SUFFIX}", "objectClass: organizationalRole",
                          "objectClass: pwdPolicy", f"cn: {cn}", "pwdAttribute: userPassword", *extra])

    blocks = [
        "\n".join([f"dn: {SUFFIX}", "objectClass: dcObject", "objectClass: organization", "dc: example",
                   "o: Example"]),
        *("\n".join([f"dn: ou={ou},{SUFFIX}", "objectClass: organizationalUnit", f"ou: {ou}"])
          for ou in ("people", "groups", "services", "policies")),
        policy("default", "pwdLockout: TRUE"),
        policy("expiring", "pwdMaxAge: 3600", "pwdGraceAuthnLimit: 0"),
        "\n".join([f"dn: {SERVICE_DN}", "objectClass: organizationalRole", "objectClass: simpleSecurityObject",
                   "cn: vestibule", f"userPassword: {SERVICE_PASSWORD}"]),
        "\n".join([f"dn: {EXPIRED_SERVICE_DN}", "objectClass: organizationalRole",
                   "objectClass: simpleSecurityObject", "cn: expired", f"userPassword: {EXPIRED_SERVICE_PASSWORD}",
                   f"pwdPolicySubentry: cn=expiring,ou=policies,{SUFFIX}", "pwdChangedTime: 20200101000000Z"]),
        person("alice", "Alice Liddell", "alice@example.com"),
        person("bob", "Bob Builder", "bob@example.com"),
        person("carol", "Carol Locked", "carol@example.com", "pwdAccountLockedTime: 000001010000Z"),
        person("dave", "Dave Nomail", None),
        person("erin", "Erin Leaver", "erin@example.com", "employeeType: disabled"),
        group("engineers", "alice", "bob"),
        group("admins", "alice"),
        group("unmapped", "bob"),
    ]
    return "\n\n".join(blocks) + "\n"


class LdapServer:
    """`tls=False`: a server with no certificate, which refuses StartTLS (and serves no ldaps:// port)."""

    def __init__(self, tls: bool = True) -> None:
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix="vestibule-slapd-"))
        self.port, self.tls_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.ca_file, ca_key, ca = make_ca(self.root)
        self.cert_file, self.key_file = _server_certificate(self.root, ca_key, ca)

    @property
    def starttls_url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def misnamed_url(self) -> str:
        """LDAPS on an address the server's certificate does not name."""
        return f"ldaps://127.0.0.2:{self.tls_port}"

    @staticmethod
    def password(uid: str) -> str:
        return PASSWORDS[uid]

    def _run(self, *argv: str) -> None:
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.decode(errors='replace')[-2000:]}")

    def start(self) -> LdapServer:
        (self.root / "data").mkdir()
        (self.root / "slapd.d").mkdir()
        (self.root / "slapd.conf").write_text(_config(self.root, self.ca_file, self.cert_file, self.key_file,
                                                      self.tls))
        (self.root / "data.ldif").write_text(_entries())
        self._run(SLAPADD, "-f", str(self.root / "slapd.conf"), "-b", SUFFIX, "-l", str(self.root / "data.ldif"))
        self._run(SLAPTEST, "-f", str(self.root / "slapd.conf"), "-F", str(self.root / "slapd.d"))
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-F", str(self.root / "slapd.d"),
             "-h", f"{self.starttls_url}/ {self.ldaps_url}/ {self.misnamed_url}/" if self.tls
             else f"{self.starttls_url}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("slapd exited: " + (self.process.stderr.read().decode(errors="replace")
                                                       if self.process.stderr else ""))
            if all(_listening(p) for p in ((self.port, self.tls_port) if self.tls else (self.port,))):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LdapServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
