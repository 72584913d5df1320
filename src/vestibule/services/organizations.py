"""AWS Organizations: one organization per management account, its one root, and member accounts made by
CreateAccount. A member account is a real Vestibule account with its own root email and no usable password
(its root user sets one through the root "forgot password" mail), and an IAM role (OrganizationAccountAccessRole
by default) that the management account may assume, with AdministratorAccess, as AWS makes it."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core import arns
from ..core import identifiers as ids
from ..core.pagination import Key, MarkerCodec, Page, PageRequest
from ..errors import (
    AlreadyExists,
    AlreadyInOrganization,
    InUse,
    InvalidInput,
    NotFound,
    NotInOrganization,
    NotManagementAccount,
)
from ..store.models import Account, CreateAccountRequest, IamRole, OrganizationAccount
from ..store.models import Organization as OrganizationRow
from ..store.repositories import Conflict, UnitOfWork
from . import accounts
from .api_call import ApiCall
from .iam.common import TagPairs, put_tags
from .iam.organizations import NOT_IN_ORGANIZATION

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
UNUSABLE_PASSWORD = "!"  # no argon2 hash: no password matches until the root user sets one by mail
NOT_MANAGEMENT = "You don't have permissions to access this resource."
_ALNUM = string.ascii_lowercase + string.digits
PAGE = 20


@dataclass(frozen=True)
class OrganizationView:
    id: str
    arn: str
    feature_set: str
    management_account_id: str
    management_account_arn: str
    management_email: str
    root_id: str
    root_arn: str


@dataclass(frozen=True)
class MemberAccount:
    id: str
    arn: str
    email: str
    name: str
    status: str  # ACTIVE | SUSPENDED
    joined_method: str
    joined_at: float


@dataclass(frozen=True)
class CreateAccountStatus:
    id: str
    account_name: str
    state: str
    requested_at: float
    completed_at: float | None
    account_id: str | None
    failure_reason: str | None


@dataclass(frozen=True)
class NewMember:
    email: str
    name: str
    role_name: str
    tags: TagPairs


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def organization_arn(org: OrganizationRow) -> str:
    return f"arn:aws:organizations::{org.management_account_id}:organization/{org.id}"


def account_arn(org: OrganizationRow, account_id: str) -> str:
    return f"arn:aws:organizations::{org.management_account_id}:account/{org.id}/{account_id}"


def root_arn(org: OrganizationRow) -> str:
    return f"arn:aws:organizations::{org.management_account_id}:root/{org.id}/{org.root_id}"


def _view(org: OrganizationRow, management: Account) -> OrganizationView:
    return OrganizationView(org.id, organization_arn(org), org.feature_set, org.management_account_id,
                            account_arn(org, org.management_account_id), management.root_email, org.root_id,
                            root_arn(org))


def _member(org: OrganizationRow, membership: OrganizationAccount, account: Account) -> MemberAccount:
    status = "ACTIVE" if account.status == "active" else "SUSPENDED"
    return MemberAccount(account.id, account_arn(org, account.id), account.root_email, account.name, status,
                         membership.joined_method, membership.joined_at)


def _status(row: CreateAccountRequest) -> CreateAccountStatus:
    return CreateAccountStatus(row.id, row.account_name, row.state, row.requested_at, row.completed_at,
                               row.account_id, row.failure_reason)


async def member_account_ids(uow: UnitOfWork, organization_id: str) -> list[str]:
    """Every account of the organization, the management account included, in the order they joined."""
    return [account.id for _, account in await uow.organizations.accounts(organization_id)]


async def _organization(call: ApiCall, uow: UnitOfWork, *, management: bool = False,
                        resource: Callable[[OrganizationRow], str] | None = None) -> OrganizationRow:
    """The caller's organization after authorization (on `resource` of it, else `*`); `management`: only its
    management account may go on."""
    org = await uow.organizations.of_account(call.account_id)
    await call.authorize(uow, resource(org) if org is not None and resource is not None else "*")
    if org is None:
        raise NotInOrganization(NOT_IN_ORGANIZATION)
    if management and org.management_account_id != call.account_id:
        raise NotManagementAccount(NOT_MANAGEMENT)
    return org


async def create_organization(call: ApiCall, feature_set: str) -> OrganizationView:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        if await uow.organizations.of_account(call.account_id) is not None:
            raise AlreadyInOrganization("The AWS account is already a member of an organization.")
        management = await accounts.require(uow, call.account_id)
        now = call.now()
        org = OrganizationRow(id="o-" + _random(_ALNUM, 10), management_account_id=call.account_id,
                              feature_set=feature_set, root_id="r-" + _random(_ALNUM, 4), created_at=now)
        try:
            await uow.organizations.add(org, OrganizationAccount(account_id=call.account_id, organization_id=org.id,
                                                                 joined_method="INVITED", joined_at=now))
        except Conflict:
            raise AlreadyInOrganization("The AWS account is already a member of an organization.") from None
        await call.record(uow, organization_id=org.id, feature_set=feature_set)
        return _view(org, management)


async def describe_organization(call: ApiCall) -> OrganizationView:
    async with call.unit() as uow:
        org = await _organization(call, uow)
        return _view(org, await accounts.require(uow, org.management_account_id))


async def delete_organization(call: ApiCall) -> None:
    async with call.unit() as uow:
        org = await _organization(call, uow, management=True)
        await uow.organizations.lock(org.id)
        if await uow.organizations.member_count(org.id) > 1:
            raise InUse("The organization must be empty: remove its member accounts first.")
        await uow.organizations.delete(org)
        await call.record(uow, organization_id=org.id)


async def _make_member(call: ApiCall, uow: UnitOfWork, org: OrganizationRow, new: NewMember) -> str:
    """The member account, its membership and its access role; AlreadyExists when the email is taken."""
    made = await accounts.create_account(call.deps, uow, email=new.email, password="", name=new.name,
                                         client=call.client, via="organizations:CreateAccount",
                                         password_hash=UNUSABLE_PASSWORD)
    now = call.now()
    await uow.organizations.join(OrganizationAccount(account_id=made.account_id, organization_id=org.id,
                                                     joined_method="CREATED", joined_at=now))
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": arns.root_arn(org.management_account_id)},
        "Action": "sts:AssumeRole"}]}
    role = IamRole(id=ids.new_iam_id("AROA"), account_id=made.account_id, name=new.role_name,
                   name_lower=new.role_name.lower(), path="/", description=None,
                   trust_policy=json.dumps(trust, indent=2), max_session_duration=3600, created_at=now)
    await uow.roles.add(role)
    await uow.policies.attach(made.account_id, ADMINISTRATOR_ACCESS, "role", role.id)
    await put_tags(uow, made.account_id, "account", made.account_id, new.tags)
    return made.account_id


async def create_account(call: ApiCall, new: NewMember) -> CreateAccountStatus:
    """Made at once: the status answered is SUCCEEDED (or FAILED with the reason AWS reports)."""
    try:
        ids.validate_account_name(new.name)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("AccountName", str(exc)) from None
    if any(key.lower().startswith("aws:") for key, _ in new.tags):
        raise InvalidInput("Tags", "Tag keys starting with aws: are reserved for AWS use.")
    request_id = "car-" + secrets.token_hex(16)
    failure: str | None = None
    try:
        async with call.unit() as uow:
            org = await _organization(call, uow, management=True)
            await uow.organizations.lock(org.id)
            now = call.now()
            account_id = await _make_member(call, uow, org, new)
            row = CreateAccountRequest(id=request_id, organization_id=org.id, account_name=new.name,
                                       state="SUCCEEDED", requested_at=now, completed_at=now, account_id=account_id)
            await uow.create_account_requests.add(row)
            await call.record(uow, organization_id=org.id, request_id=request_id, state="SUCCEEDED",
                              new_account_id=account_id, role=new.role_name)
            return _status(row)
    except (AlreadyExists, Conflict):
        failure = "EMAIL_ALREADY_EXISTS"
    except InvalidInput as exc:
        if exc.field != "email":
            raise
        failure = "INVALID_EMAIL"
    async with call.unit() as uow:  # the failed request, in a transaction of its own
        org = await _organization(call, uow, management=True)
        now = call.now()
        row = CreateAccountRequest(id=request_id, organization_id=org.id, account_name=new.name, state="FAILED",
                                   requested_at=now, completed_at=now, failure_reason=failure)
        await uow.create_account_requests.add(row)
        await call.record(uow, organization_id=org.id, request_id=request_id, state="FAILED", reason=failure)
        return _status(row)


async def create_account_status(call: ApiCall, request_id: str) -> CreateAccountStatus:
    async with call.unit() as uow:
        org = await _organization(call, uow, management=True)
        row = await uow.create_account_requests.get(org.id, request_id)
    if row is None:
        raise NotFound(f"We can't find a create account request with the ID {request_id}.")
    return _status(row)


def _markers(call: ApiCall, operation: str, *scope: str) -> MarkerCodec:
    """NextTokens of one list, signed and bound to the operation, the caller's account and `scope`."""
    return MarkerCodec(call.deps.box.signing_key, operation, call.account_id, *scope, separator="/")


def _timed_key(key: Key | None) -> tuple[float, str] | None:
    """A (timestamp, ID) sort key as the store compares it (the marker holds the timestamp's repr)."""
    return None if key is None else (float(key[0]), key[1])


async def create_account_statuses(call: ApiCall, states: Sequence[str] | None,
                                  page: PageRequest) -> Page[CreateAccountStatus]:
    """One page, newest first, keyed (requested_at, id)."""
    async with call.unit() as uow:
        org = await _organization(call, uow, management=True)
        codec = _markers(call, "ListCreateAccountStatus", org.id, ",".join(sorted(set(states or ()))))
        rows = await uow.create_account_requests.list(org.id, states, after=_timed_key(codec.after(page)),
                                                      limit=page.limit)
    found = codec.page(rows, page, lambda row: (repr(row.requested_at), row.id))
    return Page([_status(row) for row in found.items], found.next_marker)


async def list_accounts(call: ApiCall, page: PageRequest, *, parent_id: str | None = None) -> Page[MemberAccount]:
    """One page of the organization's accounts (under `parent_id`, which must be its root), in the order they
    joined, keyed (joined_at, account ID)."""
    async with call.unit() as uow:
        org = await _organization(call, uow, management=True,
                                  resource=None if parent_id is None else root_arn)
        if parent_id is not None and parent_id != org.root_id:
            raise NotFound(f"We can't find a root or OU with the ID {parent_id}.")
        codec = _markers(call, "ListAccounts" if parent_id is None else "ListAccountsForParent", org.id,
                         parent_id or "")
        rows = await uow.organizations.accounts_page(org.id, after=_timed_key(codec.after(page)), limit=page.limit)
    found = codec.page(rows, page, lambda row: (repr(row[0].joined_at), row[0].account_id))
    return Page([_member(org, membership, account) for membership, account in found.items], found.next_marker)


async def describe_account(call: ApiCall, account_id: str) -> MemberAccount:
    async with call.unit() as uow:
        org = await _organization(call, uow, management=True, resource=lambda o: account_arn(o, account_id))
        found = await uow.organizations.account(org.id, account_id)
    if found is None:
        raise NotFound(f"We can't find an account with the ID {account_id} in your organization.")
    return _member(org, *found)


async def roots(call: ApiCall) -> OrganizationView:
    """ListRoots: the organization's one root."""
    async with call.unit() as uow:
        org = await _organization(call, uow, management=True)
        return _view(org, await accounts.require(uow, org.management_account_id))
