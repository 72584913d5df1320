"""SSO Admin input members, as botocore's sso-admin/2020-07-20 model declares them, and small readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ....core.pagination import Key, Page, PageRequest
from ....errors import InvalidValue
from ....services.api_call import ApiCall
from ....services.identity_center.page_tokens import markers
from ...json_values import JsonValue
from ...members import Member, enum, integer, structure, text
from ..codec import JsonInput

INSTANCE = text("InstanceArn", 10, 1224, "arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}")
PERMISSION_SET = text("PermissionSetArn", 10, 1224, "arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-"
                                                    "[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}")
NAME = text("Name", 0, 255, "[\\w+=,.@-]+")
CLIENT_TOKEN = text("ClientToken", 1, 64, "[!-~]+")
TAGS = Member("Tags", "structure-list", 0, 75)
PS_NAME = text("Name", 1, 32, "[\\w+=,.@-]+").required()
DESCRIPTION = text("Description", 1, 700, "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*")
SESSION_DURATION = text("SessionDuration", 1, 100,
                        "(-?)P(?=\\d|T\\d)(?:(\\d+)Y)?(?:(\\d+)M)?(?:(\\d+)([DW]))?"
                        "(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+(?:\\.\\d+)?)S)?)?")
RELAY_STATE = text("RelayState", 1, 240,
                   "[a-zA-Z0-9&$@#\\\\\\/%?=~\\-_'\"|!:,.;*+\\[\\]\\ \\(\\)\\{\\}]+")
MANAGED_POLICY = text("ManagedPolicyArn", 20, 2048,
                      "arn:aws(-[a-z]{1,5}){0,3}:iam::aws:policy((/[A-Za-z0-9\\.,\\+@=_-]+)*)/"
                      "([A-Za-z0-9\\.,\\+=@_-]+)").required()
INLINE_POLICY = text("InlinePolicy", 1, 32768,
                     "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+").required()
TARGET_ID = text("TargetId", 12, 12, "\\d{12}")
ACCOUNT_ID = text("AccountId", 12, 12, "\\d{12}").required()
PROVISION_TARGET = enum("TargetType", "AWS_ACCOUNT", "ALL_PROVISIONED_ACCOUNTS").required()
TARGET_TYPE = enum("TargetType", "AWS_ACCOUNT").required()
PRINCIPAL_TYPE = enum("PrincipalType", "USER", "GROUP").required()
PRINCIPAL_ID = text("PrincipalId", 1, 47, "([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-"
                                          "[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}").required()
PROVISIONING_STATUS = enum("ProvisioningStatus", "LATEST_PERMISSION_SET_PROVISIONED",
                           "LATEST_PERMISSION_SET_NOT_PROVISIONED")
FILTER = structure("Filter")
MAX_RESULTS = integer("MaxResults", 1, 100)
NEXT_TOKEN = text("NextToken", 0, 2048, "[-a-zA-Z0-9+=/_]*")
PAGING = (MAX_RESULTS, NEXT_TOKEN)


def uuid_member(name: str) -> Member:
    return text(name, 36, 36, "\\b[0-9a-f]{8}\\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\\b[0-9a-f]{12}\\b").required()


def tags(i: JsonInput) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    given = i.value("Tags")
    for tag in given if isinstance(given, list) else []:
        assert isinstance(tag, dict)  # the codec checked a list of objects
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not isinstance(value, str) or not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidValue("A tag needs a Key of 1 to 128 characters and a Value of up to 256.")
        pairs.append((key, value))
    return pairs


def status_filter(i: JsonInput) -> str | None:
    given: JsonValue = i.value("Filter")
    if not isinstance(given, dict):
        return None
    status = given.get("Status")
    if status is not None and status not in ("IN_PROGRESS", "FAILED", "SUCCEEDED"):
        raise InvalidValue("Filter.Status must be IN_PROGRESS, FAILED or SUCCEEDED.")
    return status if isinstance(status, str) else None


T = TypeVar("T")


def page_request(i: JsonInput) -> PageRequest:
    """MaxResults (1-100, default 100) and the NextToken of an earlier page ("" is none: the model allows it)."""
    return PageRequest(i.text("NextToken") or None, i.integer("MaxResults") or 100)


def next_token(page: Page[Any]) -> dict[str, JsonValue]:
    return {} if page.next_marker is None else {"NextToken": page.next_marker}


def page_in_memory(call: ApiCall, i: JsonInput, items: list[T], key: Callable[[T], Key], operation: str,
                   *scope: str) -> Page[T]:
    """A page of a list bounded by a quota (an account's one instance, a permission set's 20 managed
    policies), with the same signed NextTokens as the lists read page by page from the store."""
    return markers(call, operation, *scope).page_in_memory(items, page_request(i), key)
