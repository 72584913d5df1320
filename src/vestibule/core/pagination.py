"""Keyset pages: a page request (marker, limit), a page (items, next marker), and the marker codec.

A marker is the sort key of a page's last item, in JSON, base64url-encoded, with an HMAC-SHA256 tag (128 bits)
over the key and the list it belongs to (operation, account, parent entity, filters). So a marker is opaque to
the client, and a forged or edited one, or one from another list or account, is refused (`InvalidMarker`);
one whose item has gone since still works, as the next page starts after its key, not at an offset."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import InvalidMarker

T = TypeVar("T")
Key = tuple[str, ...]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_PURPOSE = b"vestibule page marker v1"
_TAG_BYTES = 16


@dataclass(frozen=True)
class PageRequest:
    marker: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"a page holds 1-{MAX_LIMIT} items, not {self.limit}")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_marker: str | None  # None: this is the last page


class MarkerCodec:
    """Markers of one list: `scope` names it (operation, account, parent, filters) and is bound into the tag.
    `separator` parts the key from its tag: "." by default, "/" for the JSON protocols (their NextToken
    patterns have no ".")."""

    def __init__(self, signing_key: bytes, *scope: str, separator: str = ".") -> None:
        self._separator = separator
        self._key = hmac.new(signing_key, _PURPOSE, hashlib.sha256).digest()
        self._scope = json.dumps(scope, separators=(",", ":")).encode()

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._key, self._scope + b"\x00" + payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, key: Key) -> str:
        payload = json.dumps(key, separators=(",", ":")).encode()
        return f"{_b64(payload)}{self._separator}{_b64(self._tag(payload))}"

    def decode(self, marker: str) -> Key:
        """The key the marker carries; InvalidMarker unless this codec's list handed it out."""
        body, dot, tag = marker.partition(self._separator)
        try:
            payload, given = _unb64(body), _unb64(tag)
        except (binascii.Error, ValueError):
            raise InvalidMarker(marker) from None
        if not dot or _b64(payload) != body or _b64(given) != tag or not hmac.compare_digest(
                given, self._tag(payload)):  # canonical base64 only: one marker per key
            raise InvalidMarker(marker)
        key = json.loads(payload)
        if not isinstance(key, list) or not all(isinstance(part, str) for part in key):
            raise InvalidMarker(marker)  # signed by us, so never; kept as a type check
        return tuple(key)

    def after(self, request: PageRequest) -> Key | None:
        """The key the requested page starts after (None: the first page)."""
        return None if request.marker is None else self.decode(request.marker)

    def page(self, rows: Sequence[T], request: PageRequest, key: Callable[[T], Key]) -> Page[T]:
        """The page from up to `limit + 1` rows in key order (the extra one only tells that more follow)."""
        items = list(rows[:request.limit])
        more = len(rows) > request.limit and bool(items)
        return Page(items, self.encode(key(items[-1])) if more else None)

    def page_in_memory(self, rows: Sequence[T], request: PageRequest, key: Callable[[T], Key]) -> Page[T]:
        """A page of a list held whole (bounded by a quota: an entity's tags, a user's groups or keys), sorted by
        `key` here, with the same markers as a list read page by page from the store."""
        after = self.after(request)
        ordered = sorted(rows, key=key)
        rest = ordered if after is None else [row for row in ordered if key(row) > after]
        return self.page(rest[:request.limit + 1], request, key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
