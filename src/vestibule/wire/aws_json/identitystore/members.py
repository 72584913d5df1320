"""Identity Store input members, as botocore's identitystore/2020-06-15 model declares them, and the readers
of its structures (external IDs, attribute operations, filters, member IDs, page tokens)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ....core.pagination import Page, PageRequest
from ....errors import InvalidValue
from ....services.identity_center.directory import ExternalId
from ....services.identity_center.directory_profile import AttributeOperation
from ...json_values import JsonValue
from ...members import Member, integer, structure, text
from ..codec import JsonInput

_TEXT = "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r \u00a0\u3000]+"
STORE = text("IdentityStoreId", 1, 93, "(arn:aws[a-z-]*:identitystore::\\d{12}:identitystore/)?(d-[0-9a-f]{10}|"
             "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})").required()
_RESOURCE = ("(arn:aws[a-z-]*:identitystore:::(user|group|membership)/)?([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-"
             "[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}")
USER_ID = text("UserId", 1, 100, _RESOURCE).required()
GROUP_ID = text("GroupId", 1, 100, _RESOURCE).required()
MEMBERSHIP_ID = text("MembershipId", 1, 100, _RESOURCE).required()
REVISION = text("Revision", 1, 64, "[0-9]+")
USER_NAME = text("UserName", 1, 128, "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+").sensitive()
DISPLAY_NAME = text("DisplayName", 1, 1024, _TEXT).sensitive()
DESCRIPTION = text("Description", 1, 1024, _TEXT).sensitive()
MAX_RESULTS = integer("MaxResults", 1, 100)
NEXT_TOKEN = text("NextToken", 1, 65535, "[-a-zA-Z0-9+=/:_]*")
FILTERS = Member("Filters", "structure-list", 0, 1)
OPERATIONS = Member("Operations", "structure-list", 1, 100).required()
MEMBER_ID = structure("MemberId").required()
ALTERNATE_IDENTIFIER = structure("AlternateIdentifier").required()
GROUP_IDS = Member("GroupIds", "list", 1, 100).required()
PAGING = (MAX_RESULTS, NEXT_TOKEN)


def _object(value: JsonValue, at: str) -> Mapping[str, JsonValue]:
    if not isinstance(value, Mapping):
        raise InvalidValue(f"{at} must be an object.")
    return value


def _string(value: JsonValue, at: str, high: int = 1024) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= high:
        raise InvalidValue(f"{at} must be a string of 1 to {high} characters.")
    return value


def revision(i: JsonInput) -> int | None:
    value = i.text("Revision")
    return int(value) if value is not None else None


def operations(i: JsonInput) -> list[AttributeOperation]:
    found = []
    given = i.value("Operations") or []
    assert isinstance(given, Sequence)  # the codec checked the member is a list
    for entry in given:
        item = _object(entry, "Operations")
        found.append(AttributeOperation(_string(item.get("AttributePath"), "AttributePath", 255),
                                        item.get("AttributeValue")))
    return found


def member_user_id(i: JsonInput) -> str:
    """MemberId is a union with one member today: UserId."""
    member = _object(i.value("MemberId"), "MemberId")
    if set(member) != {"UserId"}:
        raise InvalidValue("MemberId must name exactly one member: UserId.")
    return _string(member["UserId"], "MemberId.UserId", 100)


def filter_of(i: JsonInput, paths: Sequence[str]) -> tuple[str, str] | None:
    """The one filter (attribute path lowered, value), refused unless its path is one of `paths`."""
    filters = i.value("Filters") or []
    assert isinstance(filters, Sequence)
    if not filters:
        return None
    item = _object(filters[0], "Filters")
    path = _string(item.get("AttributePath"), "Filters.AttributePath", 255)
    value = _string(item.get("AttributeValue"), "Filters.AttributeValue")
    if path.lower() not in {p.lower() for p in paths}:
        raise InvalidValue(f"Filters.AttributePath must be one of: {', '.join(paths)}.")
    return path.lower(), value


def alternate_identifier(i: JsonInput) -> tuple[ExternalId | None, tuple[str, JsonValue] | None]:
    """AlternateIdentifier is a union: an ExternalId or a UniqueAttribute (path lowered, value)."""
    given = _object(i.value("AlternateIdentifier"), "AlternateIdentifier")
    if len(given) != 1 or not set(given) <= {"ExternalId", "UniqueAttribute"}:
        raise InvalidValue("AlternateIdentifier must name exactly one of ExternalId and UniqueAttribute.")
    if "ExternalId" in given:
        external = _object(given["ExternalId"], "AlternateIdentifier.ExternalId")
        return ExternalId(_string(external.get("Issuer"), "ExternalId.Issuer", 256),
                          _string(external.get("Id"), "ExternalId.Id", 256)), None
    unique = _object(given["UniqueAttribute"], "AlternateIdentifier.UniqueAttribute")
    path = _string(unique.get("AttributePath"), "UniqueAttribute.AttributePath", 255)
    return None, (path.lower(), unique.get("AttributeValue"))


def page_request(i: JsonInput) -> PageRequest:
    """MaxResults (1-100, default 100) and the NextToken of an earlier page (the service checks its signature)."""
    return PageRequest(i.text("NextToken"), i.integer("MaxResults") or 100)


def next_token(page: Page[Any]) -> dict[str, JsonValue]:
    return {} if page.next_marker is None else {"NextToken": page.next_marker}

