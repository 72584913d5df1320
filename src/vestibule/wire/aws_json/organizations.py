"""AWS Organizations (`AWSOrganizationsV20161128.*`): the organization, its root, and the member accounts
CreateAccount makes. Errors carry the codes the Organizations model declares (AWSOrganizationsNotInUseException,
AccountNotFoundException, InvalidInputException, ...), translated here from the domain's."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ... import errors as domain
from ...core.pagination import Page, PageRequest
from ...services import organizations as orgs
from ..errors import AwsError
from ..json_values import JsonObject, JsonValue
from ..members import enum, integer, string_list, structure_list, text
from .errors import AccessDeniedException
from .request import JsonRequest, JsonTable

ORGANIZATIONS: JsonTable = JsonTable()
op = ORGANIZATIONS.operation


class _Client(AwsError):
    status = 400


class AWSOrganizationsNotInUseException(_Client):
    code = "AWSOrganizationsNotInUseException"


class AlreadyInOrganizationException(_Client):
    code = "AlreadyInOrganizationException"


class OrganizationNotEmptyException(_Client):
    code = "OrganizationNotEmptyException"


class AccountNotFoundException(_Client):
    code = "AccountNotFoundException"


class CreateAccountStatusNotFoundException(_Client):
    code = "CreateAccountStatusNotFoundException"


class ParentNotFoundException(_Client):
    code = "ParentNotFoundException"


class InvalidInputException(_Client):
    code = "InvalidInputException"


class ConstraintViolationException(_Client):
    code = "ConstraintViolationException"


@contextmanager
def _answers(not_found: type[AwsError] = AccountNotFoundException) -> Iterator[None]:
    """Domain errors as Organizations names them; `not_found` is the operation's NotFound code."""
    try:
        yield
    except domain.InvalidMarker as exc:
        raise InvalidInputException("The specified NextToken is not valid.") from exc
    except domain.NotInOrganization as exc:
        raise AWSOrganizationsNotInUseException("Your account is not a member of an organization.") from exc
    except domain.AlreadyInOrganization as exc:
        raise AlreadyInOrganizationException(exc.detail) from exc
    except (domain.NotManagementAccount, domain.PermissionDenied) as exc:
        raise AccessDeniedException(exc.detail) from exc
    except domain.InUse as exc:
        raise OrganizationNotEmptyException(exc.detail) from exc
    except domain.NotFound as exc:
        raise not_found(exc.detail) from exc
    except domain.InvalidInput as exc:
        raise InvalidInputException(exc.message) from exc
    except domain.LimitExceeded as exc:
        raise ConstraintViolationException(exc.detail) from exc


_ACCOUNT_ID = text("AccountId", None, 12, r"^\d{12}$")
_NEXT_TOKEN = text("NextToken", None, 100000, r"[\s\S]*")
_MAX_RESULTS = integer("MaxResults", 1, 20)


def _tag_text(value: str) -> bool:
    """The model's ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$: letters, separators, numbers and _.:/=+-@."""
    return all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in value)


def _page(request: JsonRequest) -> PageRequest:
    """MaxResults (1-20, default 20) and the NextToken of an earlier page (the service checks its signature)."""
    return PageRequest(request.input.text("NextToken"), request.input.integer("MaxResults") or orgs.PAGE)


def _paged(key: str, items: list[JsonValue], page: Page[Any]) -> JsonObject:
    reply: dict[str, JsonValue] = {key: items}
    if page.next_marker is not None:
        reply["NextToken"] = page.next_marker
    return reply


def _organization(org: orgs.OrganizationView) -> JsonObject:
    return {"Id": org.id, "Arn": org.arn, "FeatureSet": org.feature_set, "MasterAccountArn": org.management_account_arn,
            "MasterAccountId": org.management_account_id, "MasterAccountEmail": org.management_email,
            "AvailablePolicyTypes": []}  # no policy type (SCPs, tag policies) is served


def _account(account: orgs.MemberAccount) -> JsonObject:
    return {"Id": account.id, "Arn": account.arn, "Email": account.email, "Name": account.name,
            "Status": account.status, "State": account.status, "JoinedMethod": account.joined_method,
            "JoinedTimestamp": account.joined_at}


def _status(status: orgs.CreateAccountStatus) -> JsonObject:
    shaped: dict[str, JsonValue] = {"Id": status.id, "AccountName": status.account_name, "State": status.state,
                                    "RequestedTimestamp": status.requested_at}
    for key, value in (("CompletedTimestamp", status.completed_at), ("AccountId", status.account_id),
                       ("FailureReason", status.failure_reason)):
        if value is not None:
            shaped[key] = value
    return shaped


def _tags(request: JsonRequest) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    tags = request.input.value("Tags")
    for tag in tags if isinstance(tags, list) else []:
        assert isinstance(tag, dict)  # the codec checked a list of objects
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not isinstance(value, str) or not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidInputException("A tag needs a Key of 1 to 128 characters and a Value of up to 256.")
        if not (_tag_text(key) and _tag_text(value)):
            raise InvalidInputException("Tag keys and values may hold letters, digits, spaces and _.:/=+-@.")
        pairs.append((key, value))
    return pairs


@op("CreateOrganization", action="organizations:CreateOrganization", audit="OrganizationCreated",
    inputs=(enum("FeatureSet", "ALL", "CONSOLIDATED_BILLING"),))
async def create_organization(request: JsonRequest) -> JsonObject:
    with _answers():
        org = await orgs.create_organization(request.call, request.input.text("FeatureSet") or "ALL")
    return {"Organization": _organization(org)}


@op("DescribeOrganization", action="organizations:DescribeOrganization")
async def describe_organization(request: JsonRequest) -> JsonObject:
    with _answers():
        return {"Organization": _organization(await orgs.describe_organization(request.call))}


@op("DeleteOrganization", action="organizations:DeleteOrganization", audit="OrganizationDeleted")
async def delete_organization(request: JsonRequest) -> JsonObject:
    with _answers():
        await orgs.delete_organization(request.call)
    return {}


@op("CreateAccount", action="organizations:CreateAccount", audit="OrganizationAccountCreated",
    inputs=(text("Email", 6, 64, r"[^\s@]+@[^\s@]+\.[^\s@]+").sensitive().required(),
            text("AccountName", 1, 50, r"[\u0020-\u007E]+").sensitive().required(),
            text("RoleName", None, 64, r"[\w+=,.@-]{1,64}"), enum("IamUserAccessToBilling", "ALLOW", "DENY"),
            structure_list("Tags")))
async def create_account(request: JsonRequest) -> JsonObject:
    new = orgs.NewMember(email=request.input.text("Email") or "", name=request.input.text("AccountName") or "",
                         role_name=request.input.text("RoleName") or "OrganizationAccountAccessRole",
                         tags=_tags(request))
    with _answers():
        return {"CreateAccountStatus": _status(await orgs.create_account(request.call, new))}


@op("DescribeCreateAccountStatus", action="organizations:DescribeCreateAccountStatus",
    inputs=(text("CreateAccountRequestId", None, 36, r"^car-[a-z0-9]{8,32}$").required(),))
async def describe_create_account_status(request: JsonRequest) -> JsonObject:
    with _answers(CreateAccountStatusNotFoundException):
        status = await orgs.create_account_status(request.call, request.input.text("CreateAccountRequestId") or "")
    return {"CreateAccountStatus": _status(status)}


@op("ListCreateAccountStatus", action="organizations:ListCreateAccountStatus",
    inputs=(string_list("States"), _NEXT_TOKEN, _MAX_RESULTS))
async def list_create_account_status(request: JsonRequest) -> JsonObject:
    listed = request.input.value("States")
    states = [s for s in listed if isinstance(s, str)] if isinstance(listed, list) else []
    if any(state not in ("IN_PROGRESS", "SUCCEEDED", "FAILED") for state in states):
        raise InvalidInputException("States may hold IN_PROGRESS, SUCCEEDED and FAILED.")
    with _answers():
        page = await orgs.create_account_statuses(request.call, states or None, _page(request))
    return _paged("CreateAccountStatuses", [_status(s) for s in page.items], page)


@op("ListAccounts", action="organizations:ListAccounts", inputs=(_NEXT_TOKEN, _MAX_RESULTS))
async def list_accounts(request: JsonRequest) -> JsonObject:
    with _answers():
        page = await orgs.list_accounts(request.call, _page(request))
    return _paged("Accounts", [_account(a) for a in page.items], page)


@op("ListAccountsForParent", action="organizations:ListAccountsForParent",
    inputs=(text("ParentId", None, 100, r"^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$").required(),
            _NEXT_TOKEN, _MAX_RESULTS))
async def list_accounts_for_parent(request: JsonRequest) -> JsonObject:
    with _answers(ParentNotFoundException):
        page = await orgs.list_accounts(request.call, _page(request), parent_id=request.input.text("ParentId") or "")
    return _paged("Accounts", [_account(a) for a in page.items], page)


@op("DescribeAccount", action="organizations:DescribeAccount", inputs=(_ACCOUNT_ID.required(),))
async def describe_account(request: JsonRequest) -> JsonObject:
    with _answers():
        return {"Account": _account(await orgs.describe_account(request.call, request.input.text("AccountId") or ""))}


@op("ListRoots", action="organizations:ListRoots", inputs=(_NEXT_TOKEN, _MAX_RESULTS))
async def list_roots(request: JsonRequest) -> JsonObject:
    if _page(request).marker is not None:  # one root, one page: no NextToken was ever handed out
        raise InvalidInputException("The specified NextToken is not valid.")
    with _answers():
        org = await orgs.roots(request.call)
    return {"Roots": [{"Id": org.root_id, "Arn": org.root_arn, "Name": "Root", "PolicyTypes": []}]}
