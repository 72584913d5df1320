"""AWS Signature Version 4: parse and verify `Authorization` headers and presigned URLs.

Written from the public AWS specification ("Create a signed AWS API request" and
"Authenticating Requests: Using Query Parameters"). Pure: stdlib only, no web framework,
no database. The wire layer builds a `SignedRequest`, calls `parse_authorization`, looks up
the secret for `SignatureParts.access_key_id`, then calls `verify`; every failure is a
`SigV4Error` whose `code` and `status` are what AWS puts on the wire.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote_from_bytes, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DEFAULT_MAX_SKEW = 300
MAX_PRESIGN_EXPIRES = 604_800

_AMZ_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")
_SCOPE_DATE = re.compile(r"[0-9]{8}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# The Authorization header as the SDKs write it; anything else takes the general parser and its errors.
_USUAL_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^\s,]+), ?SignedHeaders=([^\s,]+), ?Signature=([0-9a-f]+)"
)
_HEADER_COMPONENTS = ("Credential", "SignedHeaders", "Signature")
_QUERY_COMPONENTS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_PRESIGN_MARKERS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
# Text fields hold raw request bytes decoded as UTF-8 with surrogateescape; this undoes it.
_RAW = ("utf-8", "surrogateescape")


# --- errors -------------------------------------------------------------------------------


class SigV4Error(Exception):
    """Base of every authentication failure; the wire layer renders `code`, `status`, `message`."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "The request could not be authenticated."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class MissingAuthenticationToken(SigV4Error):
    code = "MissingAuthenticationToken"
    status = 403
    default_message = "Request is missing Authentication Token"


class IncompleteSignature(SigV4Error):
    code = "IncompleteSignature"
    status = 400
    default_message = "The request signature does not conform to AWS standards."


class SignatureDoesNotMatch(SigV4Error):
    """Carries the server's canonical request and string to sign, for debug logs only."""

    code = "SignatureDoesNotMatch"
    status = 403
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        canonical_request: str = "",
        string_to_sign: str = "",
    ) -> None:
        super().__init__(message)
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


class SignatureExpired(SignatureDoesNotMatch):
    """Request time outside the allowed window, or a presigned URL past X-Amz-Expires.

    STS and IAM answer this with code `SignatureDoesNotMatch` (403) and a "Signature expired:"
    or "Signature not yet current:" message; `RequestExpired` (400) is EC2's answer.
    """


class InvalidClientTokenId(SigV4Error):
    code = "InvalidClientTokenId"
    status = 403
    default_message = "The security token included in the request is invalid."


class ExpiredToken(SigV4Error):
    code = "ExpiredToken"
    status = 403
    default_message = "The security token included in the request is expired"


class XAmzContentSHA256Mismatch(SigV4Error):
    code = "XAmzContentSHA256Mismatch"
    status = 400
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


# --- inputs and parsed parts --------------------------------------------------------------


class SignedRequest:
    """One HTTP request as received.

    `path` and `query` are the raw, still percent-encoded request-target parts (decode the
    request line's bytes as UTF-8 with errors="surrogateescape"). `headers` keeps every
    (name, value) pair in arrival order; HTTP/2 servers must supply `host` from `:authority`.
    `payload_hash` (lowercase hex SHA-256 of the body) replaces hashing `body` when given.

    A plain class with slots (built on every request: cheaper than a frozen dataclass); treat it
    as immutable and use `replace` for a changed copy. `from_asgi` builds one straight from ASGI
    header bytes without an intermediate list of decoded pairs.
    """

    __slots__ = ("_grouped", "_headers", "body", "method", "now", "path", "payload_hash", "query")

    def __init__(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Sequence[tuple[str, str]],
        now: float,
        body: bytes = b"",
        payload_hash: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.now = now
        self.body = body
        self.payload_hash = payload_hash
        self._headers: Sequence[tuple[str, str]] | None = headers
        self._grouped: dict[str, list[str]] | None = None

    @classmethod
    def from_asgi(
        cls,
        *,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        now: float,
        body: bytes = b"",
    ) -> SignedRequest:
        """From ASGI header pairs (bytes, decoded as latin-1 as HTTP/1.1 carries them)."""
        grouped: dict[str, list[str]] = {}
        for raw_name, raw_value in raw_headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            values = grouped.get(name)
            if values is None:
                grouped[name] = [value]
            else:
                values.append(value)
        request = cls(method=method, path=path, query=query, headers=(), now=now, body=body)
        request._headers = None
        request._grouped = grouped
        return request

    @property
    def headers(self) -> Sequence[tuple[str, str]]:
        if self._headers is None:
            assert self._grouped is not None
            self._headers = [(name, value) for name, values in self._grouped.items() for value in values]
        return self._headers

    @property
    def grouped_headers(self) -> dict[str, list[str]]:
        """Headers by lower-case name (computed once; parse_authorization and verify both use it)."""
        grouped = self._grouped
        if grouped is None:
            grouped = self._grouped = _headers_by_name(self.headers)
        return grouped

    def replace(self, **changes: Any) -> SignedRequest:
        """A copy with some fields changed (what `dataclasses.replace` did for the dataclass)."""
        fields: dict[str, Any] = {
            "method": self.method, "path": self.path, "query": self.query, "headers": self.headers,
            "now": self.now, "body": self.body, "payload_hash": self.payload_hash,
        }
        fields.update(changes)
        return SignedRequest(**fields)

    def __repr__(self) -> str:
        return (f"SignedRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
                f"headers={list(self.headers)!r}, now={self.now!r}, body={self.body!r}, "
                f"payload_hash={self.payload_hash!r})")


class SignatureParts(NamedTuple):
    """What the Authorization header or the presigned query string claims (a named tuple: built on
    every request, about a microsecond cheaper than a frozen dataclass)."""

    presigned: bool
    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    request_time: float
    expires: int | None = None
    session_token: str | None = None

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{TERMINATOR}"


# --- parsing ------------------------------------------------------------------------------


def parse_authorization(request: SignedRequest) -> SignatureParts:
    """Read the SigV4 claims of `request` without checking them against any secret."""
    headers = request.grouped_headers
    params = _query_params(request.query)
    auth_values = headers.get("authorization")
    presigned = any(name in _PRESIGN_MARKERS for name, _ in params)
    if auth_values is not None and presigned:
        raise IncompleteSignature(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter "
            "or the Authorization header should be specified"
        )
    if auth_values is not None:
        if len(auth_values) != 1:
            raise IncompleteSignature("Only one Authorization header is allowed.")
        return _parse_header_auth(auth_values[0], headers, params)
    if presigned:
        return _parse_query_auth(headers, params)
    raise MissingAuthenticationToken()


def _parse_header_auth(
    value: str, headers: dict[str, list[str]], params: list[tuple[str, str]]
) -> SignatureParts:
    usual = _USUAL_AUTHORIZATION.fullmatch(value)
    amz_date = _single(headers, "x-amz-date")
    if usual is not None and amz_date:
        # what every SDK sends: the three components once each, in this order, none empty
        iso_date, request_time = _parse_request_date(amz_date, http_date_allowed=False)
        return _assemble(
            presigned=False,
            credential=usual[1],
            signed_headers=usual[2],
            signature=usual[3],
            iso_date=iso_date,
            request_time=request_time,
            expires=None,
            session_token=_session_token(headers, params),
        )
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'")
    components: dict[str, str] = {}
    for item in rest.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, component = item.partition("=")
        if not sep:
            raise IncompleteSignature(
                f"'{item}' not a valid key=value pair (missing equal-sign) "
                f"in Authorization header: '{value}'."
            )
        if name not in _HEADER_COMPONENTS or name in components:
            raise IncompleteSignature(
                f"Unexpected or repeated '{name}' in Authorization header: '{value}'."
            )
        components[name] = component.strip()
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in _HEADER_COMPONENTS
        if not components.get(name)
    ]
    http_date = None if amz_date else _single(headers, "date")
    if not (amz_date or http_date):
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        raise IncompleteSignature(" ".join(problems) + f" Authorization={value}")
    iso_date, request_time = _parse_request_date(
        amz_date or http_date or "", http_date_allowed=http_date is not None
    )
    return _assemble(
        presigned=False,
        credential=components["Credential"],
        signed_headers=components["SignedHeaders"],
        signature=components["Signature"],
        iso_date=iso_date,
        request_time=request_time,
        expires=None,
        session_token=_session_token(headers, params),
    )


def _parse_query_auth(
    headers: dict[str, list[str]], params: list[tuple[str, str]]
) -> SignatureParts:
    found: dict[str, str] = {}
    for name, value in params:
        if name in _QUERY_COMPONENTS:
            if name in found:
                raise IncompleteSignature(f"The query-string parameter '{name}' is repeated.")
            found[name] = value
    missing = [name for name in _QUERY_COMPONENTS if not found.get(name)]
    if missing:
        listed = " ".join(f"AWS query-string parameters must include '{name}'." for name in missing)
        raise IncompleteSignature(f"{listed} Re-examine the query-string parameters.")
    if found["X-Amz-Algorithm"] != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{found['X-Amz-Algorithm']}'")
    raw_expires = found["X-Amz-Expires"]
    if not (raw_expires.isascii() and raw_expires.isdigit()):
        raise IncompleteSignature(f"X-Amz-Expires should be a number, got '{_shown(raw_expires)}'.")
    significant = raw_expires.lstrip("0")
    # a week is six digits: a longer number is out of range without converting it (no unbounded int())
    expires = int(significant) if 0 < len(significant) <= len(str(MAX_PRESIGN_EXPIRES)) else 0
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise IncompleteSignature(
            f"X-Amz-Expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds "
            f"(less than a week), got '{_shown(raw_expires)}'."
        )
    iso_date, request_time = _parse_request_date(found["X-Amz-Date"], http_date_allowed=False)
    return _assemble(
        presigned=True,
        credential=found["X-Amz-Credential"],
        signed_headers=found["X-Amz-SignedHeaders"],
        signature=found["X-Amz-Signature"],
        iso_date=iso_date,
        request_time=request_time,
        expires=expires,
        session_token=_session_token(headers, params),
    )


def _assemble(
    *,
    presigned: bool,
    credential: str,
    signed_headers: str,
    signature: str,
    iso_date: str,
    request_time: float,
    expires: int | None,
    session_token: str | None,
) -> SignatureParts:
    pieces = credential.split("/")
    if len(pieces) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    access_key_id, scope_date, region, service, terminator = pieces
    if terminator != TERMINATOR:
        raise IncompleteSignature(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'."
        )
    if not (access_key_id and region and service):
        raise IncompleteSignature(f"Credential has an empty element: '{credential}'")
    if not _valid_scope_date(scope_date):
        raise IncompleteSignature(
            f"Credential should be scoped to a valid date in 'yyyyMMdd' format, not '{scope_date}'."
        )
    names = tuple(signed_headers.split(";"))
    if not all(names):
        raise IncompleteSignature(f"SignedHeaders has an empty header name: '{signed_headers}'")
    if "host" not in names and "host" not in (name.lower() for name in names):
        raise IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    return SignatureParts(  # positional: a named tuple builds faster so
        presigned,
        access_key_id,
        scope_date,
        region,
        service,
        names,
        signature,
        iso_date,
        request_time,
        expires,
        session_token,
    )


def _session_token(headers: dict[str, list[str]], params: list[tuple[str, str]]) -> str | None:
    from_header = _single(headers, "x-amz-security-token")
    if not params:
        return from_header or None
    in_query = [value for name, value in params if name == "X-Amz-Security-Token"]
    if len(in_query) > 1 or (from_header and in_query and in_query[0] != from_header):
        raise IncompleteSignature("The request carries more than one X-Amz-Security-Token.")
    return from_header or (in_query[0] if in_query else None) or None


def _shown(value: str, limit: int = 64) -> str:
    """A client's value quoted in an error message, cut short (an answer never echoes kilobytes)."""
    return value if len(value) <= limit else value[:limit] + "..."


def _single(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise IncompleteSignature(f"The '{name}' header must appear only once.")
    return values[0].strip()


@lru_cache(maxsize=256)
def _valid_scope_date(yyyymmdd: str) -> bool:
    return _SCOPE_DATE.fullmatch(yyyymmdd) is not None and _valid_date(yyyymmdd)


@lru_cache(maxsize=256)
def _valid_date(yyyymmdd: str) -> bool:
    try:
        datetime(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1024)
def _parse_request_date(value: str, http_date_allowed: bool) -> tuple[str, float]:
    """ISO 8601 basic (`20150830T123600Z`); a `Date` header may also be an HTTP-date.

    A pure function of its arguments, cached: requests signed in the same second share the result."""
    match = _AMZ_DATE.fullmatch(value)
    try:
        if match:
            year, month, day, hour, minute, second = (int(group) for group in match.groups())
            datetime(year, month, day, hour, minute, second)  # range check only
            fields = (year, month, day, hour, minute, second)
            return value, float(calendar.timegm(fields))
        if not http_date_allowed:
            raise ValueError(value)
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y%m%dT%H%M%SZ"), moment.timestamp()
    except (TypeError, ValueError, OverflowError, IndexError):
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{_shown(value)}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None


def _headers_by_name(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped


def _query_params(query: str) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs; `+` means a space, as in HTML forms and on AWS."""
    if not query:
        return []
    return [(name.decode(*_RAW), value.decode(*_RAW)) for name, value in _query_pairs_bytes(query)]


def _query_pairs_bytes(query: str) -> list[tuple[bytes, bytes]]:
    pairs: list[tuple[bytes, bytes]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> bytes:
    return unquote_to_bytes(text.replace("+", " ").encode(*_RAW))


# --- canonical request --------------------------------------------------------------------


@lru_cache(maxsize=1024)
def canonical_uri(raw_path: str) -> str:
    """Normalize the received path, then URI-encode it once more (every non-S3 service).

    Empty, `.` and `..` segments are removed as the spec's "normalize URI paths" asks (and
    as botocore does); a trailing slash is kept. The path arrives encoded once by the client,
    so encoding it again (`%` -> `%25`) gives the spec's "URI-encoded twice": `/` stays `/`,
    `/assignment/accounts` stays as is, `/a%20b` becomes `/a%2520b`.
    """
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if segments and raw_path.endswith("/"):
        normalized += "/"
    return quote_from_bytes(normalized.encode(*_RAW), safe="/")


def canonical_query_string(raw_query: str, *, presigned: bool = False) -> str:
    """Decode every pair, re-encode per RFC 3986 (unreserved: A-Z a-z 0-9 - _ . ~), sort.

    Sorting is by encoded name, then encoded value; a name without `=` gets an empty value.
    For presigned URLs X-Amz-Signature is left out.
    """
    if not raw_query:
        return ""
    encoded: list[tuple[str, str]] = []
    for name, value in _query_pairs_bytes(raw_query):
        if presigned and name == b"X-Amz-Signature":
            continue
        encoded.append((quote_from_bytes(name, safe=""), quote_from_bytes(value, safe="")))
    encoded.sort()
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_headers(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    """`name:value\\n` per signed header: trimmed, inner whitespace runs collapsed to one
    space, repeated headers joined with commas in arrival order."""
    return _canonical_headers(request.grouped_headers, signed_headers)


def _canonical_headers(grouped: dict[str, list[str]], signed_headers: Sequence[str]) -> str:
    lines = []
    for name in signed_headers:
        values = grouped.get(name)
        if values is None:
            values = grouped.get(name.lower(), [])
        if len(values) == 1:
            joined = " ".join(values[0].split())
        else:
            joined = ",".join(" ".join(value.split()) for value in values)
        lines.append(name + ":" + joined + "\n")
    return "".join(lines)


def payload_hash(request: SignedRequest, *, allow_unsigned_payload: bool = False) -> str:
    """The payload line of the canonical request: the SHA-256 of the body.

    Every service but S3 signs the payload: an `x-amz-content-sha256` header must then be the
    body's SHA-256, and any other value (`UNSIGNED-PAYLOAD`, `STREAMING-...`, another digest) is
    `SignatureDoesNotMatch`, since the signature would not cover the body. With
    `allow_unsigned_payload` (S3's rules) the header is the payload line: `UNSIGNED-PAYLOAD` as
    is, a digest checked against the body."""
    return _payload_hash(request, request.grouped_headers, allow_unsigned_payload)


def _payload_hash(request: SignedRequest, grouped: dict[str, list[str]], unsigned_allowed: bool) -> str:
    claimed = _single(grouped, "x-amz-content-sha256")
    if claimed is None:
        return request.payload_hash or hashlib.sha256(request.body).hexdigest()
    actual = request.payload_hash or hashlib.sha256(request.body).hexdigest()
    if not unsigned_allowed:
        if not hmac.compare_digest(claimed.encode(*_RAW), actual.encode()):
            raise SignatureDoesNotMatch(
                "The x-amz-content-sha256 header must be the SHA-256 of the request body: this "
                "service signs every payload (UNSIGNED-PAYLOAD and streaming payloads are S3's)."
            )
        return actual
    if claimed == UNSIGNED_PAYLOAD:
        return claimed
    if not _SHA256_HEX.fullmatch(claimed):
        raise IncompleteSignature(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a lowercase hex SHA-256 value; "
            "streaming (chunked) payloads are not supported."
        )
    if not hmac.compare_digest(claimed, actual):
        raise XAmzContentSHA256Mismatch()
    return claimed


def canonical_request(
    request: SignedRequest, parts: SignatureParts, payload: str | None = None
) -> str:
    """The six canonical-request lines; `payload` defaults to `payload_hash(request)`."""
    grouped = request.grouped_headers
    if payload is None:
        payload = _payload_hash(request, grouped, False)
    return _canonical_request(request, parts, grouped, payload)


def _canonical_request(
    request: SignedRequest,
    parts: SignatureParts,
    grouped: dict[str, list[str]],
    payload: str,
) -> str:
    return "\n".join(
        (
            request.method,
            canonical_uri(request.path),
            canonical_query_string(request.query, presigned=parts.presigned),
            _canonical_headers(grouped, parts.signed_headers),
            ";".join(parts.signed_headers),
            payload,
        )
    )


def string_to_sign(parts: SignatureParts, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode(*_RAW)).hexdigest()
    return f"{ALGORITHM}\n{parts.amz_date}\n{parts.credential_scope}\n{digest}"


# --- signing key --------------------------------------------------------------------------


def derive_signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """kSecret -> kDate -> kRegion -> kService -> kSigning, each an HMAC-SHA256 step."""
    key = ("AWS4" + secret_access_key).encode()
    for step in (date, region, service, TERMINATOR):
        key = hmac.digest(key, step.encode(), "sha256")
    return key


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


class SigningKeyCache:
    """LRU of derived signing keys, keyed by SHA-256 of the secret plus the scope.

    A derived key is valid for one day, region and service only; the secret itself is
    never kept.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._keys: OrderedDict[tuple[bytes, str, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, secret_access_key: str, date: str, region: str, service: str) -> bytes:
        slot = (
            hashlib.sha256(secret_access_key.encode()).digest(),
            date,
            region,
            service,
        )
        key = self._keys.get(slot)  # a hit takes no lock: the GIL keeps each step whole
        if key is not None:
            self._hits += 1  # a statistic: a rare lost increment under threads does not matter
            try:  # noqa: SIM105 (contextlib.suppress costs a context manager per request)
                self._keys.move_to_end(slot)
            except KeyError:  # evicted meanwhile by another thread
                pass
            return key
        with self._lock:
            self._misses += 1
        key = derive_signing_key(secret_access_key, date, region, service)
        with self._lock:
            self._keys[slot] = key
            self._keys.move_to_end(slot)
            while len(self._keys) > self._maxsize:
                self._keys.popitem(last=False)
        return key

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, self._maxsize, len(self._keys))

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._hits = 0
            self._misses = 0


default_key_cache = SigningKeyCache()


# --- verification -------------------------------------------------------------------------


def verify(
    request: SignedRequest,
    parts: SignatureParts,
    secret_access_key: str,
    *,
    expected_service: str | None,
    expected_region: str | None = None,
    max_skew: int = DEFAULT_MAX_SKEW,
    allow_unsigned_payload: bool = False,
    key_cache: SigningKeyCache | None = None,
) -> None:
    """Raise a `SigV4Error` unless `parts.signature` signs `request` with the secret.

    `allow_unsigned_payload` is for S3 alone (see `payload_hash`); every other service leaves it off."""
    if parts.scope_date != parts.amz_date[:8]:
        raise SignatureDoesNotMatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{parts.scope_date}' != '{parts.amz_date[:8]}', from '{parts.amz_date}'."
        )
    if expected_service is not None and parts.service != expected_service:
        raise SignatureDoesNotMatch(
            f"Credential should be scoped to correct service: '{expected_service}'. "
        )
    if expected_region is not None and parts.region != expected_region:
        raise SignatureDoesNotMatch(
            f"Credential should be scoped to a valid region, not '{parts.region}'. "
        )
    _check_time(parts, request.now, max_skew)
    grouped = request.grouped_headers
    payload = _payload_hash(request, grouped, allow_unsigned_payload)
    canonical = _canonical_request(request, parts, grouped, payload)
    to_sign = string_to_sign(parts, canonical)
    cache = default_key_cache if key_cache is None else key_cache
    key = cache.get(secret_access_key, parts.scope_date, parts.region, parts.service)
    expected = hmac.digest(key, to_sign.encode(), "sha256").hex().encode()
    if not hmac.compare_digest(expected, parts.signature.encode(*_RAW)):
        raise SignatureDoesNotMatch(canonical_request=canonical, string_to_sign=to_sign)


def _check_time(parts: SignatureParts, now: float, max_skew: int) -> None:
    earliest = now - max_skew
    if parts.request_time > now + max_skew:
        raise SignatureExpired(
            f"Signature not yet current: {parts.amz_date} is still later than "
            f"{_iso(now + max_skew)} ({_iso(now)} + {_window(max_skew)})"
        )
    if parts.presigned:
        assert parts.expires is not None
        ends = parts.request_time + parts.expires
        if now > ends:
            raise SignatureExpired(
                f"Signature expired: {_iso(ends)} is now earlier than {_iso(now)} "
                f"({parts.amz_date} + {parts.expires} s. X-Amz-Expires)"
            )
    elif parts.request_time < earliest:
        raise SignatureExpired(
            f"Signature expired: {parts.amz_date} is now earlier than "
            f"{_iso(earliest)} ({_iso(now)} - {_window(max_skew)})"
        )


def _window(max_skew: int) -> str:
    return f"{max_skew // 60} min." if max_skew % 60 == 0 else f"{max_skew} s."


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
