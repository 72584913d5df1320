"""XML for the AWS query protocol, in the shapes botocore's query parser reads."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Timestamp:
    """Unix seconds rendered as ISO 8601 UTC."""

    seconds: float


@dataclass(frozen=True)
class XmlMap:
    """A map member: <entry><key/><value/></entry> items."""

    items: Mapping[str, int | str]


XmlValue: TypeAlias = (
    "str | int | float | bool | bytes | Timestamp | XmlMap | Mapping[str, XmlValue] | Sequence[XmlValue] | None"
)
Result: TypeAlias = Mapping[str, XmlValue] | None


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SPECIAL = re.compile("[<>&\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def text(value: str) -> str:
    """Escaped character data; characters XML 1.0 cannot carry become U+FFFD."""
    if _SPECIAL.search(value) is None:  # most values (IDs, ARNs, names): nothing to replace
        return value
    return escape(_NOT_XML.sub("\ufffd", value))


def iso8601(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(value: XmlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Timestamp):
        return iso8601(value.seconds)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return text(str(value))


def element(name: str, value: XmlValue) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f"<{name}>{text(value)}</{name}>"
    if type(value) is dict or isinstance(value, Mapping):  # a plain dict skips the ABC check
        return f"<{name}>{''.join([element(k, v) for k, v in value.items()])}</{name}>"
    if isinstance(value, XmlMap):
        entries = "".join(f"<entry><key>{text(str(k))}</key>{element('value', v)}</entry>"
                          for k, v in value.items.items())
        return f"<{name}>{entries}</{name}>"
    if isinstance(value, (list, tuple)):
        return f"<{name}>{''.join(element('member', v) for v in value)}</{name}>"
    return f"<{name}>{_value(value)}</{name}>"


def response(action: str, namespace: str, result: Result, request_id: str) -> str:
    body = element(f"{action}Result", result) if result is not None else ""
    return (f'<{action}Response xmlns="{namespace}">{body}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>")


def error(code: str, message: str, request_id: str, namespace: str, sender: bool = True) -> str:
    return (f'<ErrorResponse xmlns="{namespace}"><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
            f"<Code>{text(code)}</Code><Message>{text(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
