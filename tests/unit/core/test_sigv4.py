"""SigV4 verification against requests signed by botocore (and the AWS CLI's vendored copy).

Every accepted request is produced by a real signer; every refusal changes one thing.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.session
import pytest

from vestibule.core.sigv4 import (
    ALGORITHM,
    MAX_PRESIGN_EXPIRES,
    ExpiredToken,
    IncompleteSignature,
    InvalidClientTokenId,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
    SignatureExpired,
    SignatureParts,
    SignedRequest,
    SigningKeyCache,
    SigV4Error,
    XAmzContentSHA256Mismatch,
    canonical_query_string,
    canonical_request,
    canonical_uri,
    derive_signing_key,
    parse_authorization,
    string_to_sign,
    verify,
)

AKID = "AKIAVESTIBULETEST001"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKEN+/=="
SIGNED_AT = datetime(2026, 11, 27, 12, 0, 0)
T0 = SIGNED_AT.replace(tzinfo=UTC).timestamp()
ENDPOINT = "http://127.0.0.1:8080"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


# --- signers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """One botocore copy: the installed one, or the one vendored inside awscli."""

    name: str
    auth: ModuleType
    awsrequest: ModuleType
    credentials: ModuleType
    session: ModuleType
    config: ModuleType


def _load_signers() -> list[Signer]:
    signers = [
        Signer(
            "botocore",
            botocore.auth,
            botocore.awsrequest,
            botocore.credentials,
            botocore.session,
            botocore.config,
        )
    ]
    try:
        modules = [
            importlib.import_module(f"awscli.botocore.{name}")
            for name in ("auth", "awsrequest", "credentials", "session", "config")
        ]
    except ImportError:  # pragma: no cover - awscli is a test dependency
        return signers
    signers.append(Signer("awscli.botocore", *modules))
    return signers


SIGNERS = _load_signers()


@pytest.fixture(params=SIGNERS, ids=lambda signer: signer.name)
def signer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Signer:
    chosen: Signer = request.param
    monkeypatch.setattr(chosen.auth, "get_current_datetime", lambda *a, **k: SIGNED_AT)
    return chosen


@pytest.fixture(autouse=True)
def _fixed_botocore_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: SIGNED_AT)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


def received(prepared: Any, *, now: float = T0) -> SignedRequest:
    """What a server sees for a botocore prepared request (http.client adds Host unless the signer set it)."""
    url = urlsplit(prepared.url)
    headers = [(_text(name), _text(value)) for name, value in prepared.headers.items()]
    if not any(name.lower() == "host" for name, _ in headers):  # CRT's signer sets it; http.client then adds none
        headers.insert(0, ("Host", url.netloc))
    body = prepared.body or b""
    return SignedRequest(
        method=prepared.method,
        path=url.path or "/",
        query=url.query,
        headers=headers,
        body=body.encode() if isinstance(body, str) else body,
        now=now,
    )


def sign(
    signer: Signer,
    method: str,
    url: str,
    *,
    data: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    service: str = "iam",
    region: str = "us-east-1",
    token: str | None = TOKEN,
    presign_expires: int | None = None,
) -> SignedRequest:
    credentials = signer.credentials.Credentials(AKID, SECRET, token)
    request = signer.awsrequest.AWSRequest(
        method=method, url=url, data=data, headers=headers or {}, params=params or {}
    )
    if presign_expires is None:
        signer.auth.SigV4Auth(credentials, service, region).add_auth(request)
    else:
        signer.auth.SigV4QueryAuth(credentials, service, region, expires=presign_expires).add_auth(
            request
        )
    return received(request.prepare())


class Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def client_request(
    signer: Signer,
    service: str,
    call: Callable[[Any], Any],
    *,
    region: str = "us-east-1",
) -> SignedRequest:
    """The exact request a real client of `service` sends, captured before the network."""
    client = signer.session.Session().create_client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        config=signer.config.Config(retries={"max_attempts": 0}),
    )

    def capture(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured) as caught:
        call(client)
    return received(caught.value.request)


def check(request: SignedRequest, *, secret: str = SECRET, **options: Any) -> SignatureParts:
    parts = parse_authorization(request)
    options.setdefault("expected_service", None)
    verify(request, parts, secret, key_cache=SigningKeyCache(), **options)
    return parts


def with_header(request: SignedRequest, name: str, value: str) -> SignedRequest:
    kept = [(n, v) for n, v in request.headers if n.lower() != name.lower()]
    return request.replace(headers=[*kept, (name, value)])


def header(request: SignedRequest, name: str) -> str:
    return next(v for n, v in request.headers if n.lower() == name.lower())


def with_authorization(request: SignedRequest, old: str, new: str) -> SignedRequest:
    value = header(request, "Authorization")
    assert old in value
    return with_header(request, "Authorization", value.replace(old, new))


# --- the AWS test-suite vector and the documented signing-key example ---------------------

VANILLA = SignedRequest(
    method="GET",
    path="/",
    query="",
    headers=[
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        (
            "Authorization",
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ),
        ),
    ],
    now=datetime(2015, 8, 30, 12, 36, tzinfo=UTC).timestamp(),
)


def test_get_vanilla_vector() -> None:
    parts = check(VANILLA, expected_service="service", expected_region="us-east-1")
    assert canonical_request(VANILLA, parts) == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert string_to_sign(parts, canonical_request(VANILLA, parts)).splitlines()[:3] == [
        ALGORITHM,
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
    ]


def test_get_vanilla_vector_refuses_another_secret() -> None:
    with pytest.raises(SignatureDoesNotMatch):
        check(VANILLA, secret=SECRET[:-1] + "X")


def test_derived_signing_key_documented_example() -> None:
    key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


# --- real clients -------------------------------------------------------------------------


def test_sts_get_caller_identity_from_client(signer: Signer) -> None:
    request = client_request(signer, "sts", lambda c: c.get_caller_identity())
    assert request.method == "POST"
    assert request.path == "/"
    parts = check(request, expected_service="sts")
    assert (parts.access_key_id, parts.region, parts.service) == (
        AKID,
        "us-east-1",
        "sts",
    )
    assert parts.session_token == TOKEN
    assert not parts.presigned
    assert "host" in parts.signed_headers


def test_iam_create_user_form_body_from_client(signer: Signer) -> None:
    request = client_request(
        signer, "iam", lambda c: c.create_user(UserName="ünï cødé+~", Path="/a b/")
    )
    assert b"UserName=" in request.body
    parts = check(request, expected_service="iam")
    assert parts.service == "iam"


def test_json_protocol_with_target_from_client(signer: Signer) -> None:
    request = client_request(
        signer,
        "identitystore",
        lambda c: c.list_users(IdentityStoreId="d-1234567890"),
        region="eu-west-1",
    )
    assert header(request, "X-Amz-Target") == "AWSIdentityStore.ListUsers"
    parts = check(request, expected_service="identitystore", expected_region="eu-west-1")
    assert "x-amz-target" in parts.signed_headers


def test_sso_admin_signs_as_sso(signer: Signer) -> None:
    request = client_request(
        signer, "sso-admin", lambda c: c.list_instances(), region="eu-central-1"
    )
    assert check(request, expected_service="sso").service == "sso"
    with pytest.raises(SignatureDoesNotMatch, match="correct service: 'sso-admin'"):
        check(request, expected_service="sso-admin")


def test_client_presigned_get_caller_identity(signer: Signer) -> None:
    client = signer.session.Session().create_client(
        "sts",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
    )
    url = urlsplit(client.generate_presigned_url("get_caller_identity", ExpiresIn=900))
    # botocore signs the operation's own method (POST for STS), so the URL is good for POST.
    request = SignedRequest(
        method="POST",
        path=url.path or "/",
        query=url.query,
        headers=[("Host", url.netloc)],
        now=T0 + 899,
    )
    parts = check(request, expected_service="sts")
    with pytest.raises(SignatureDoesNotMatch):
        check(request.replace(method="GET"))
    assert parts.presigned and parts.expires == 900 and parts.session_token == TOKEN
    with pytest.raises(SignatureExpired):
        check(request.replace(now=T0 + 901))


# --- GET query strings and paths ----------------------------------------------------------

QUERIES = [
    "Action=ListUsers&Version=2010-05-08",
    "name=a%20b%20%20c",
    "name=%C3%BC%E2%9C%93%F0%9F%98%80",
    "k=2&k=1&k=10&a=z",
    "empty=&other=1",
    "flag&other=1",
    "tilde=~x&reserved=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D",
    "Z=1&a=2&A=3&_=4&-=5",
]
PATHS = [
    "/",
    "/assignment/accounts",
    "/federation/credentials",
    "/a%20b/c",
    "/%E1%88%B4/%C3%BC",
    "/a+b~c/%2F/x",
    "/trailing/",
    "//double//slash//",
    "/a/./b/../c",
]


@pytest.mark.parametrize("query", QUERIES)
def test_get_with_query_strings_verifies(signer: Signer, query: str) -> None:
    request = sign(signer, "GET", f"{ENDPOINT}/?{query}", service="sso")
    assert request.query == query
    check(request, expected_service="sso")


@pytest.mark.parametrize("path", PATHS)
def test_paths_verify(signer: Signer, path: str) -> None:
    request = sign(signer, "GET", f"{ENDPOINT}{path}?x=1", service="sso")
    check(request, expected_service="sso")


def test_params_dict_with_spaces_and_unicode_verifies(signer: Signer) -> None:
    """Params sent as `+` for a space on the wire, but signed as `%20`."""
    params = {"name": "a b", "uni": "ü ✓", "empty": "", "tilde": "~"}
    request = sign(signer, "GET", f"{ENDPOINT}/", params=params, service="sso")
    assert "+" in request.query
    check(request)


@pytest.mark.parametrize("path", [*PATHS, "", "/..", "/a/b/..", "/a/.", "/%7e%7E"])
def test_canonical_uri_matches_botocore(path: str) -> None:
    request = botocore.awsrequest.AWSRequest(method="GET", url=f"http://h{path}")
    request.context["timestamp"] = "20261127T120000Z"
    auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials("a", "b"), "iam", "us-east-1")
    assert canonical_uri(path) == auth.canonical_request(request).split("\n")[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/assignment/accounts", "/assignment/accounts"),
        ("/example space/", "/example%20space/"),
        ("/example%20space/", "/example%2520space/"),
        ("/\u1234", "/%E1%88%B4"),
        ("/%E1%88%B4", "/%25E1%2588%25B4"),
        ("//example//", "/example/"),
        ("/example/..", "/"),
        ("/example1/example2/../..", "/"),
        ("/./example", "/example"),
        ("/./", "/"),
    ],
)
def test_canonical_uri_table(path: str, expected: str) -> None:
    assert canonical_uri(path) == expected


@pytest.mark.parametrize("query", QUERIES)
def test_canonical_query_matches_botocore(query: str) -> None:
    request = botocore.awsrequest.AWSRequest(method="GET", url=f"http://h/?{query}")
    request.context["timestamp"] = "20261127T120000Z"
    auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials("a", "b"), "iam", "us-east-1")
    expected = auth.canonical_request(request).split("\n")[2]
    assert canonical_query_string(query) == expected


def test_canonical_query_sorts_by_encoded_name_then_value() -> None:
    assert canonical_query_string("b=2&a=2&a=10&a=1&c") == "a=1&a=10&a=2&b=2&c="
    assert canonical_query_string("a=%7e&b=x+y&c=%2b") == "a=~&b=x%20y&c=%2B"
    query = "X-Amz-Signature=abc&X-Amz-Date=1"
    assert canonical_query_string(query, presigned=True) == "X-Amz-Date=1"


# --- any single change fails --------------------------------------------------------------

BODY = {"Action": "GetCallerIdentity", "Version": "2011-06-15", "Note": "a b~ü"}


@pytest.fixture
def form_post(signer: Signer) -> SignedRequest:
    return sign(
        signer,
        "POST",
        f"{ENDPOINT}/",
        data=BODY,
        headers={"Content-Type": FORM},
        service="sts",
    )


def test_form_post_verifies(form_post: SignedRequest) -> None:
    parts = check(form_post, expected_service="sts")
    assert parts.signed_headers == (
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Host", "127.0.0.1:8081"),
        ("X-Amz-Date", "20261127T120001Z"),
        ("X-Amz-Security-Token", TOKEN + "x"),
    ],
)
def test_each_signed_header_change_fails(form_post: SignedRequest, name: str, value: str) -> None:
    with pytest.raises(SignatureDoesNotMatch) as refused:
        check(with_header(form_post, name, value))
    assert refused.value.canonical_request and refused.value.string_to_sign


def test_every_body_byte_change_fails(form_post: SignedRequest) -> None:
    for index in range(len(form_post.body)):
        body = bytearray(form_post.body)
        body[index] ^= 0x01
        with pytest.raises(SignatureDoesNotMatch):
            check(form_post.replace(body=bytes(body)))


def test_body_appended_or_truncated_fails(form_post: SignedRequest) -> None:
    for body in (form_post.body + b"&", form_post.body[:-1], b""):
        with pytest.raises(SignatureDoesNotMatch):
            check(form_post.replace(body=body))


def test_date_to_another_day_fails(form_post: SignedRequest) -> None:
    next_day = with_header(form_post, "X-Amz-Date", "20261128T120000Z")
    with pytest.raises(SignatureDoesNotMatch, match="Date in Credential scope does not match"):
        check(next_day.replace(now=T0 + 86_400))
    both = with_authorization(next_day, "/20261127/", "/20261128/")
    with pytest.raises(SignatureDoesNotMatch):
        check(both.replace(now=T0 + 86_400))


def test_region_change_fails(form_post: SignedRequest) -> None:
    with pytest.raises(SignatureDoesNotMatch):
        check(with_authorization(form_post, "/us-east-1/", "/us-east-2/"))
    with pytest.raises(SignatureDoesNotMatch, match="valid region, not 'us-east-1'"):
        check(form_post, expected_region="eu-west-1")


def test_service_change_fails(form_post: SignedRequest) -> None:
    changed = with_authorization(form_post, "/sts/", "/iam/")
    with pytest.raises(SignatureDoesNotMatch):
        check(changed)
    with pytest.raises(
        SignatureDoesNotMatch,
        match=r"Credential should be scoped to correct service: 'iam'\.",
    ):
        check(form_post, expected_service="iam")


def test_other_secret_fails(form_post: SignedRequest) -> None:
    with pytest.raises(SignatureDoesNotMatch) as refused:
        check(form_post, secret=SECRET + "x")
    assert refused.value.message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert refused.value.status == 403


def test_signature_hex_change_fails(form_post: SignedRequest) -> None:
    signature = header(form_post, "Authorization").rsplit("Signature=", 1)[1]
    for changed in (
        signature[:-1] + ("0" if signature[-1] != "0" else "1"),
        signature.upper(),
        signature[:-2],
        signature + "00",
        "é" * 64,
    ):
        with pytest.raises(SignatureDoesNotMatch):
            check(with_authorization(form_post, signature, changed))


def test_session_token_change_fails_and_is_exposed(form_post: SignedRequest) -> None:
    assert parse_authorization(form_post).session_token == TOKEN
    for token in (TOKEN[:-1], "", "other"):
        with pytest.raises(SignatureDoesNotMatch):
            check(with_header(form_post, "X-Amz-Security-Token", token))


def test_method_path_and_query_changes_fail(form_post: SignedRequest) -> None:
    for changed in (
        form_post.replace(method="PUT"),
        form_post.replace(path="/x"),
        form_post.replace(query="Action=CreateUser"),
    ):
        with pytest.raises(SignatureDoesNotMatch):
            check(changed)


def test_removing_a_signed_header_fails(form_post: SignedRequest) -> None:
    without = [(n, v) for n, v in form_post.headers if n.lower() != "content-type"]
    with pytest.raises(SignatureDoesNotMatch):
        check(form_post.replace(headers=without))


def test_unsigned_headers_name_case_and_whitespace_do_not_matter(
    form_post: SignedRequest,
) -> None:
    headers = [(n.upper(), v) for n, v in form_post.headers]
    headers.append(("X-Forwarded-For", "10.0.0.1"))
    spaced = with_header(
        form_post.replace(headers=headers),
        "content-type",
        "  application/x-www-form-urlencoded;   charset=utf-8 ",
    )
    check(spaced)


def test_repeated_headers_join_with_commas_in_order(signer: Signer) -> None:
    # Signed as one "a,b" value, delivered as two headers: the canonical form is the same.
    joined = sign(signer, "GET", f"{ENDPOINT}/", headers={"X-Custom": "a,b"}, service="sso")
    assert "x-custom" in parse_authorization(joined).signed_headers
    others = [(n, v) for n, v in joined.headers if n.lower() != "x-custom"]
    check(joined.replace(headers=[*others, ("X-Custom", " a "), ("x-custom", "b")]))
    with pytest.raises(SignatureDoesNotMatch):
        check(joined.replace(headers=[*others, ("X-Custom", "b"), ("X-Custom", "a")]))


# --- payload hash header ------------------------------------------------------------------


def test_content_sha256_header_is_used_and_checked(signer: Signer) -> None:
    body = b'{"a": 1}'
    digest = hashlib.sha256(body).hexdigest()
    request = sign(
        signer,
        "POST",
        f"{ENDPOINT}/",
        data=body,
        headers={"X-Amz-Content-SHA256": digest},
    )
    check(request)
    check(request.replace(body=b"", payload_hash=digest))
    with pytest.raises(SignatureDoesNotMatch, match="SHA-256 of the request body") as refused:
        check(request.replace(body=b'{"a": 2}'))
    assert (refused.value.code, refused.value.status) == ("SignatureDoesNotMatch", 403)
    # S3's rules: the same mismatch is S3's own error
    with pytest.raises(XAmzContentSHA256Mismatch) as s3:
        check(request.replace(body=b'{"a": 2}'), allow_unsigned_payload=True)
    assert (s3.value.code, s3.value.status) == ("XAmzContentSHA256Mismatch", 400)


@pytest.mark.parametrize(
    "claimed",
    [
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        hashlib.sha256(b"another body").hexdigest(),
        hashlib.sha256(b"anything").hexdigest().upper(),
        "",
        "caf\u00e9",
    ],
)
def test_every_service_but_s3_refuses_a_payload_line_that_is_not_the_body_hash(
    signer: Signer, claimed: str
) -> None:
    """The signature must cover the body: a request signed over UNSIGNED-PAYLOAD (or a streaming
    marker, or another digest) is SignatureDoesNotMatch, even though its signature is right."""
    request = sign(
        signer,
        "POST",
        f"{ENDPOINT}/",
        data=b"anything",
        headers={"X-Amz-Content-SHA256": claimed} if claimed else {},
    )
    if not claimed:  # an empty header, added after signing
        request = with_header(request, "X-Amz-Content-SHA256", "")
    for body in (b"anything", b"something else"):
        with pytest.raises(SignatureDoesNotMatch) as refused:
            check(request.replace(body=body))
        assert (refused.value.code, refused.value.status) == ("SignatureDoesNotMatch", 403)


def test_unsigned_payload_under_s3_rules(signer: Signer) -> None:
    request = sign(
        signer,
        "POST",
        f"{ENDPOINT}/",
        data=b"anything",
        headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    check(request, allow_unsigned_payload=True)
    check(request.replace(body=b"something else"), allow_unsigned_payload=True)


def test_streaming_payload_is_refused_under_s3_rules(signer: Signer) -> None:
    request = sign(
        signer,
        "PUT",
        f"{ENDPOINT}/",
        data=b"x",
        headers={"X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
    )
    with pytest.raises(IncompleteSignature, match="streaming"):
        check(request, allow_unsigned_payload=True)


def test_precomputed_payload_hash(form_post: SignedRequest) -> None:
    digest = hashlib.sha256(form_post.body).hexdigest()
    check(form_post.replace(body=b"", payload_hash=digest))
    with pytest.raises(SignatureDoesNotMatch):
        check(form_post.replace(payload_hash=hashlib.sha256(b"other").hexdigest()))


# --- presigned URLs -----------------------------------------------------------------------


@pytest.fixture
def presigned(signer: Signer) -> SignedRequest:
    return sign(
        signer,
        "GET",
        f"{ENDPOINT}/?Action=GetCallerIdentity&Version=2011-06-15",
        service="sts",
        presign_expires=60,
    )


def test_presigned_url_verifies_until_it_expires(presigned: SignedRequest) -> None:
    assert "Authorization" not in dict(presigned.headers)
    parts = check(presigned, expected_service="sts")
    assert parts.presigned and parts.expires == 60
    assert parts.signed_headers == ("host",)
    assert parts.session_token == TOKEN
    check(presigned.replace(now=T0 + 60))
    with pytest.raises(SignatureExpired, match="Signature expired") as refused:
        check(presigned.replace(now=T0 + 61))
    assert (refused.value.code, refused.value.status) == ("SignatureDoesNotMatch", 403)


def test_presigned_url_not_yet_current(presigned: SignedRequest) -> None:
    check(presigned.replace(now=T0 - 240))
    with pytest.raises(SignatureExpired, match="Signature not yet current"):
        check(presigned.replace(now=T0 - 360))


def test_presigned_post_form_moves_into_query(signer: Signer) -> None:
    request = sign(
        signer,
        "POST",
        f"{ENDPOINT}/",
        data=BODY,
        headers={"Content-Type": FORM},
        service="sts",
        presign_expires=300,
    )
    assert "Action=GetCallerIdentity" in request.query
    check(request)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("X-Amz-Expires=60", "X-Amz-Expires=61"),
        ("X-Amz-Security-Token=", "X-Amz-Security-Token=x"),
        ("Action=GetCallerIdentity", "Action=GetCallerIdentitx"),
        ("%2Fus-east-1%2F", "%2Fus-east-2%2F"),
        ("%2Fsts%2F", "%2Fiam%2F"),
        ("X-Amz-Date=20261127T120000Z", "X-Amz-Date=20261127T120001Z"),
    ],
)
def test_presigned_single_change_fails(presigned: SignedRequest, old: str, new: str) -> None:
    assert old in presigned.query
    with pytest.raises(SignatureDoesNotMatch):
        check(presigned.replace(query=presigned.query.replace(old, new)))


def test_presigned_signature_change_fails(presigned: SignedRequest) -> None:
    signature = parse_authorization(presigned).signature
    with pytest.raises(SignatureDoesNotMatch):
        check(presigned.replace(query=presigned.query.replace(signature, "0" * 64)))
    with pytest.raises(SignatureDoesNotMatch):
        check(presigned, secret="other")


@pytest.mark.parametrize("expires", ["0", "604801", "-1", "abc", "1.5", "", "٣", "²", "9" * 5000, "0" * 5000,
                                     "1" + "0" * 4400])
def test_presigned_expires_bounds(presigned: SignedRequest, expires: str) -> None:
    query = presigned.query.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}")
    with pytest.raises(IncompleteSignature):
        parse_authorization(presigned.replace(query=query))


def test_presigned_expires_upper_bound_is_accepted(presigned: SignedRequest) -> None:
    query = presigned.query.replace("X-Amz-Expires=60", f"X-Amz-Expires={MAX_PRESIGN_EXPIRES}")
    assert parse_authorization(presigned.replace(query=query)).expires == MAX_PRESIGN_EXPIRES
    padded = presigned.query.replace("X-Amz-Expires=60", "X-Amz-Expires=000060")
    assert parse_authorization(presigned.replace(query=padded)).expires == 60


def test_a_huge_expires_is_quoted_short_in_the_error(presigned: SignedRequest) -> None:
    query = presigned.query.replace("X-Amz-Expires=60", "X-Amz-Expires=" + "9" * 5000)
    with pytest.raises(IncompleteSignature) as refused:
        parse_authorization(presigned.replace(query=query))
    assert len(refused.value.message) < 300


@pytest.mark.parametrize("date", ["Fri, 31 Dec 9999 23:59:59 -2359",
                                  "Mon, 99 Foo 2015 25:61:61 GMT", "\u00b2", "9" * 5000])
def test_an_http_date_out_of_range_is_incomplete_signature(signer: Signer, date: str) -> None:
    request = sign(signer, "GET", f"{ENDPOINT}/", token=None)
    kept = [(n, v) for n, v in request.headers if n.lower() != "x-amz-date"]
    with pytest.raises(IncompleteSignature, match="ISO-8601"):
        parse_authorization(request.replace(headers=[*kept, ("Date", date)]))


@pytest.mark.parametrize(
    "name",
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ],
)
def test_presigned_missing_parameter(presigned: SignedRequest, name: str) -> None:
    query = "&".join(p for p in presigned.query.split("&") if not p.startswith(name + "="))
    with pytest.raises(IncompleteSignature, match=f"must include '{name}'"):
        parse_authorization(presigned.replace(query=query))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
        ("X-Amz-Date=20261127T120000Z", "X-Amz-Date=2026-11-27T12%3A00%3A00Z"),
        (
            "X-Amz-Date=20261127T120000Z",
            "X-Amz-Date=Fri%2C%2027%20Nov%202026%2012%3A00%3A00%20GMT",
        ),
        ("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"),
        ("aws4_request", "aws4_requesT"),
        ("X-Amz-Expires=60", "X-Amz-Expires=60&X-Amz-Expires=60"),
    ],
)
def test_presigned_malformed(presigned: SignedRequest, old: str, new: str) -> None:
    assert old in presigned.query
    with pytest.raises(IncompleteSignature):
        parse_authorization(presigned.replace(query=presigned.query.replace(old, new)))


def test_signature_query_parameter_with_header_auth_is_refused(
    form_post: SignedRequest,
) -> None:
    with pytest.raises(IncompleteSignature, match="Only one auth mechanism"):
        parse_authorization(form_post.replace(query="X-Amz-Signature=" + "0" * 64))


def test_presigned_and_header_auth_together_is_refused(
    presigned: SignedRequest, form_post: SignedRequest
) -> None:
    both = with_header(presigned, "Authorization", header(form_post, "Authorization"))
    with pytest.raises(IncompleteSignature, match="Only one auth mechanism"):
        parse_authorization(both)


# --- clock skew ---------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-300, -240, 0, 240, 300])
def test_clock_skew_within_five_minutes(form_post: SignedRequest, offset: int) -> None:
    check(form_post.replace(now=T0 + offset))


def test_request_six_minutes_old_is_expired(form_post: SignedRequest) -> None:
    with pytest.raises(SignatureExpired) as refused:
        check(form_post.replace(now=T0 + 360))
    assert refused.value.message == (
        "Signature expired: 20261127T120000Z is now earlier than 20261127T120100Z "
        "(20261127T120600Z - 5 min.)"
    )
    assert isinstance(refused.value, SignatureDoesNotMatch)


def test_request_six_minutes_ahead_is_not_yet_current(form_post: SignedRequest) -> None:
    with pytest.raises(SignatureExpired) as refused:
        check(form_post.replace(now=T0 - 360))
    assert refused.value.message == (
        "Signature not yet current: 20261127T120000Z is still later than 20261127T115900Z "
        "(20261127T115400Z + 5 min.)"
    )


def test_max_skew_is_configurable(form_post: SignedRequest) -> None:
    check(form_post.replace(now=T0 + 800), max_skew=900)
    with pytest.raises(SignatureExpired, match=r"- 90 s\."):
        check(form_post.replace(now=T0 + 100), max_skew=90)


def test_time_is_checked_before_the_signature(form_post: SignedRequest) -> None:
    with pytest.raises(SignatureExpired):
        check(form_post.replace(now=T0 + 3600), secret="wrong")


# --- header parsing -----------------------------------------------------------------------

GOOD_AUTH = (
    f"AWS4-HMAC-SHA256 Credential={AKID}/20261127/us-east-1/iam/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "a" * 64
)


def header_request(authorization: str | None, *extra: tuple[str, str]) -> SignedRequest:
    headers = [("Host", "127.0.0.1:8080"), ("X-Amz-Date", "20261127T120000Z"), *extra]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    return SignedRequest(method="POST", path="/", query="", headers=headers, now=T0)


def test_well_formed_header_parses() -> None:
    parts = parse_authorization(header_request(GOOD_AUTH))
    assert parts == SignatureParts(
        presigned=False,
        access_key_id=AKID,
        scope_date="20261127",
        region="us-east-1",
        service="iam",
        signed_headers=("host", "x-amz-date"),
        signature="a" * 64,
        amz_date="20261127T120000Z",
        request_time=T0,
    )
    assert parts.credential_scope == "20261127/us-east-1/iam/aws4_request"


def test_header_components_in_any_order_and_spacing() -> None:
    shuffled = (
        "AWS4-HMAC-SHA256 Signature=" + "a" * 64 + ",SignedHeaders=host;x-amz-date ,  "
        f"Credential={AKID}/20261127/us-east-1/iam/aws4_request"
    )
    assert parse_authorization(header_request(shuffled)) == parse_authorization(
        header_request(GOOD_AUTH)
    )


MALFORMED = {
    "empty": "",
    "algorithm only": "AWS4-HMAC-SHA256",
    "other algorithm": GOOD_AUTH.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
    "sigv2": f"AWS {AKID}:c2lnbmF0dXJl",
    "bearer": "Bearer abc.def.ghi",
    "no credential": GOOD_AUTH.split(" ", 1)[0] + " " + GOOD_AUTH.split(", ", 1)[1],
    "no signed headers": GOOD_AUTH.replace("SignedHeaders=host;x-amz-date, ", ""),
    "no signature": GOOD_AUTH.rsplit(", ", 1)[0],
    "empty signature": GOOD_AUTH.rsplit("=", 1)[0] + "=",
    "missing equals": GOOD_AUTH.replace("Signature=", "Signature "),
    "repeated component": GOOD_AUTH + ", Signature=" + "b" * 64,
    "unknown component": GOOD_AUTH + ", Foo=bar",
    "four scope parts": GOOD_AUTH.replace("/us-east-1/iam/", "/us-east-1/"),
    "six scope parts": GOOD_AUTH.replace("/iam/", "/iam/extra/"),
    "bad terminator": GOOD_AUTH.replace("aws4_request", "aws4_requests"),
    "short scope date": GOOD_AUTH.replace("/20261127/", "/2026112/"),
    "impossible scope date": GOOD_AUTH.replace("/20261127/", "/20261327/"),
    "empty region": GOOD_AUTH.replace("/us-east-1/", "//"),
    "empty key id": GOOD_AUTH.replace(f"={AKID}/", "=/"),
    "host not signed": GOOD_AUTH.replace("host;x-amz-date", "x-amz-date"),
    "empty signed header": GOOD_AUTH.replace("host;x-amz-date", "host;;x-amz-date"),
}


@pytest.mark.parametrize("authorization", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_authorization_header(authorization: str) -> None:
    with pytest.raises(IncompleteSignature) as refused:
        parse_authorization(header_request(authorization))
    assert (refused.value.code, refused.value.status) == ("IncompleteSignature", 400)


def test_missing_parts_are_all_named() -> None:
    with pytest.raises(IncompleteSignature) as refused:
        parse_authorization(header_request("AWS4-HMAC-SHA256 Foo"))
    assert "missing equal-sign" in refused.value.message
    request = SignedRequest(
        method="GET",
        path="/",
        query="",
        headers=[("Authorization", "AWS4-HMAC-SHA256 ")],
        now=T0,
    )
    with pytest.raises(IncompleteSignature) as refused:
        parse_authorization(request)
    for needed in (
        "'Credential'",
        "'Signature'",
        "'SignedHeaders'",
        "'X-Amz-Date' or a 'Date'",
    ):
        assert needed in refused.value.message


@pytest.mark.parametrize(
    "date",
    [
        "2026-11-27T12:00:00Z",
        "20261127T120000",
        "20261127T250000Z",
        "２０２６1127T120000Z",
        "",
    ],
)
def test_bad_x_amz_date(date: str) -> None:
    request = header_request(GOOD_AUTH)
    with pytest.raises(IncompleteSignature):
        parse_authorization(with_header(request, "X-Amz-Date", date))


def test_no_date_header_at_all() -> None:
    request = header_request(GOOD_AUTH)
    without = [(n, v) for n, v in request.headers if n != "X-Amz-Date"]
    with pytest.raises(IncompleteSignature, match="'X-Amz-Date' or a 'Date' header"):
        parse_authorization(request.replace(headers=without))


def test_http_date_header_is_accepted_when_x_amz_date_is_absent() -> None:
    request = header_request(GOOD_AUTH)
    headers = [(n, v) for n, v in request.headers if n != "X-Amz-Date"]
    headers.append(("Date", "Fri, 27 Nov 2026 12:00:00 GMT"))
    parts = parse_authorization(request.replace(headers=headers))
    assert (parts.amz_date, parts.request_time) == ("20261127T120000Z", T0)
    x_amz_wins = with_header(request.replace(headers=headers), "X-Amz-Date", "20261127T120005Z")
    assert parse_authorization(x_amz_wins).amz_date == "20261127T120005Z"


def test_repeated_authorization_or_date_headers() -> None:
    twice = header_request(GOOD_AUTH, ("Authorization", GOOD_AUTH))
    with pytest.raises(IncompleteSignature):
        parse_authorization(twice)
    with pytest.raises(IncompleteSignature):
        parse_authorization(header_request(GOOD_AUTH, ("X-Amz-Date", "20261127T120000Z")))


def test_conflicting_session_tokens() -> None:
    request = header_request(GOOD_AUTH, ("X-Amz-Security-Token", "a"))
    assert parse_authorization(request).session_token == "a"
    with pytest.raises(IncompleteSignature):
        parse_authorization(request.replace(query="X-Amz-Security-Token=b"))
    assert (
        parse_authorization(request.replace(query="X-Amz-Security-Token=a")).session_token == "a"
    )
    from_query = header_request(GOOD_AUTH).replace(query="X-Amz-Security-Token=q%2Bw")
    assert parse_authorization(from_query).session_token == "q+w"


@pytest.mark.parametrize(
    "query",
    ["", "Action=GetCallerIdentity&Version=2011-06-15", "X-Amz-Security-Token=abc"],
)
def test_no_authentication_at_all(query: str) -> None:
    request = SignedRequest(
        method="POST",
        path="/",
        query=query,
        headers=[("Host", "h"), ("X-Amz-Date", "x")],
        now=T0,
    )
    with pytest.raises(MissingAuthenticationToken) as refused:
        parse_authorization(request)
    assert refused.value.code == "MissingAuthenticationToken"
    assert refused.value.status == 403


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "status", "message"),
    [
        (
            MissingAuthenticationToken,
            "MissingAuthenticationToken",
            403,
            "Request is missing",
        ),
        (
            IncompleteSignature,
            "IncompleteSignature",
            400,
            "does not conform to AWS standards",
        ),
        (
            SignatureDoesNotMatch,
            "SignatureDoesNotMatch",
            403,
            "Check your AWS Secret Access Key",
        ),
        (
            SignatureExpired,
            "SignatureDoesNotMatch",
            403,
            "Check your AWS Secret Access Key",
        ),
        (
            InvalidClientTokenId,
            "InvalidClientTokenId",
            403,
            "included in the request is invalid.",
        ),
        (ExpiredToken, "ExpiredToken", 403, "included in the request is expired"),
        (
            XAmzContentSHA256Mismatch,
            "XAmzContentSHA256Mismatch",
            400,
            "x-amz-content-sha256",
        ),
    ],
)
def test_error_wire_shapes(error: type[SigV4Error], code: str, status: int, message: str) -> None:
    raised = error()
    assert isinstance(raised, SigV4Error)
    assert (raised.code, raised.status) == (code, status)
    assert message in raised.message
    assert str(raised) == raised.message
    assert error("custom").message == "custom"


def test_invalid_client_token_id_message_is_aws_wording() -> None:
    assert (
        InvalidClientTokenId().message == "The security token included in the request is invalid."
    )
    assert ExpiredToken().message == "The security token included in the request is expired"


# --- signing-key cache --------------------------------------------------------------------


def test_signing_key_cache_hits(form_post: SignedRequest) -> None:
    cache = SigningKeyCache(maxsize=8)
    parts = parse_authorization(form_post)
    for _ in range(3):
        verify(form_post, parts, SECRET, expected_service="sts", key_cache=cache)
    info = cache.cache_info()
    assert (info.hits, info.misses, info.currsize, info.maxsize) == (2, 1, 1, 8)
    with pytest.raises(SignatureDoesNotMatch):
        verify(form_post, parts, SECRET + "x", expected_service="sts", key_cache=cache)
    assert cache.cache_info().misses == 2
    cache.clear()
    assert cache.cache_info() == (0, 0, 8, 0)


def test_signing_key_cache_is_lru_and_keeps_no_secret() -> None:
    cache = SigningKeyCache(maxsize=2)
    first = cache.get(SECRET, "20261127", "us-east-1", "iam")
    assert first == derive_signing_key(SECRET, "20261127", "us-east-1", "iam")
    cache.get(SECRET, "20261127", "us-east-1", "sts")
    cache.get(SECRET, "20261127", "us-east-1", "iam")
    cache.get(SECRET, "20261128", "us-east-1", "iam")
    assert cache.cache_info().currsize == 2
    cache.get(SECRET, "20261127", "us-east-1", "iam")  # hit: iam was used more recently
    assert cache.cache_info()[:2] == (2, 3)
    cache.get(SECRET, "20261127", "us-east-1", "sts")  # miss: sts was evicted
    assert cache.cache_info()[:2] == (2, 4)
    for slot in cache._keys:
        assert SECRET not in repr(slot) and SECRET.encode() not in slot[0]
    with pytest.raises(ValueError):
        SigningKeyCache(maxsize=0)


def test_default_cache_is_used_when_none_is_given(form_post: SignedRequest) -> None:
    from vestibule.core.sigv4 import default_key_cache

    parts = parse_authorization(form_post)
    before = default_key_cache.cache_info()
    verify(form_post, parts, SECRET, expected_service=None)
    verify(form_post, parts, SECRET, expected_service=None)
    after = default_key_cache.cache_info()
    assert after.hits + after.misses == before.hits + before.misses + 2
    assert after.hits >= before.hits + 1
