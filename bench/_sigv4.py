"""SigV4 on the client side for the benchmark scripts: a signer for `POST /` query-protocol calls
(checked against botocore's), the request bodies they send, and a small keep-alive client.
Standard library only (botocore is used for the check when it is installed)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import re
from urllib.parse import urlencode

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
REGION = "us-east-1"
STS_VERSION = "2011-06-15"
IAM_VERSION = "2010-05-08"


class Signer:
    """SigV4 for `POST /` query-protocol calls, signing content-type;host;x-amz-date like botocore."""

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self.secret = key_id, secret
        self._keys: dict[tuple[str, str], bytes] = {}

    def _key(self, date: str, service: str) -> bytes:
        k = self._keys.get((date, service))
        if k is None:
            k = ("AWS4" + self.secret).encode()
            for step in (date, REGION, service, "aws4_request"):
                k = hmac.new(k, step.encode(), hashlib.sha256).digest()
            self._keys[(date, service)] = k
        return k

    def headers(self, host: str, service: str, body: str, amz_date: str) -> list[tuple[str, str]]:
        payload = hashlib.sha256(body.encode()).hexdigest()
        signed = "content-type;host;x-amz-date"
        canonical = (f"POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\n\n"
                     f"{signed}\n{payload}")
        scope = f"{amz_date[:8]}/{REGION}/{service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key(amz_date[:8], service), to_sign.encode(), hashlib.sha256).hexdigest()
        return [("Host", host), ("Content-Type", CONTENT_TYPE), ("X-Amz-Date", amz_date),
                ("Authorization", f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                                  f"SignedHeaders={signed}, Signature={signature}")]

    def raw(self, host: str, service: str, body: str, amz_date: str) -> bytes:
        lines = ["POST / HTTP/1.1"] + [f"{k}: {v}" for k, v in self.headers(host, service, body, amz_date)]
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def amz_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def check_signer_against_botocore() -> None:
    """Our signer must produce exactly botocore's Authorization header (when botocore is installed;
    Vestibule's own check of every signature covers it otherwise)."""
    try:
        from botocore.auth import SigV4Auth
    except ImportError:
        print("botocore is not installed: the signer is checked by Vestibule's answers only", flush=True)
        return
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = urlencode({"Action": "CreateUser", "Version": IAM_VERSION, "UserName": "someone+x=y,z.@-_"})
    req = AWSRequest(method="POST", url="http://127.0.0.1:1234/", data=body, headers={"Content-Type": CONTENT_TYPE})
    SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "iam", REGION).add_auth(req)
    ours = dict(Signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").headers(
        "127.0.0.1:1234", "iam", body, req.headers["X-Amz-Date"]))
    if ours["Authorization"] != req.headers["Authorization"]:
        raise SystemExit(f"signer mismatch:\n ours     {ours['Authorization']}\n"
                         f" botocore {req.headers['Authorization']}")


# --- request bodies --------------------------------------------------------------------------


def iam_body(action: str, **params: str) -> str:
    return urlencode({"Action": action, "Version": IAM_VERSION, **params})


def gci_body() -> str:
    return urlencode({"Action": "GetCallerIdentity", "Version": STS_VERSION})


def create_body(name: str) -> str:
    return iam_body("CreateUser", UserName=name)


def get_body(name: str) -> str:
    return iam_body("GetUser", UserName=name)


def error_code(body: bytes) -> str:
    """The `<Code>` of a query-protocol XML error, else the start of the body (moto answers HTML 500s)."""
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    if m:
        return m.group(1).decode()
    m = re.search(rb"<title>([^<]*)</title>", body, re.IGNORECASE)
    if m:
        return f"HTML page {m.group(1).decode(errors='replace').strip()!r}"
    text = re.sub(rb"<[^>]*>|\s+", b" ", body[:300]).decode(errors="replace").strip()
    return text[:80] or "(empty body)"


# --- a keep-alive client ---------------------------------------------------------------------


class Client:
    """Signed calls over one keep-alive HTTP/1.1 connection; reconnects after a failure.
    `call` answers (status, body); connection failures raise OSError (http.client errors included)."""

    def __init__(self, port: int, signer: Signer, timeout: float = 30.0) -> None:
        self.port, self.signer, self.timeout = port, signer, timeout
        self.host = f"127.0.0.1:{port}"
        self._conn: http.client.HTTPConnection | None = None

    def call(self, service: str, body: str) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = dict(self.signer.headers(self.host, service, body, amz_now()))
        try:
            self._conn.request("POST", "/", body=body.encode(), headers=headers)
            resp = self._conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def ok(self, service: str, body: str) -> bytes:
        """A call that must answer 200; anything else stops the script."""
        status, data = self.call(service, body)
        if status != 200:
            raise SystemExit(f"127.0.0.1:{self.port}: {body.split('&', 1)[0]} failed: {status} {data[:400]!r}")
        return data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
