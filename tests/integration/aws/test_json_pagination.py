"""Keyset pagination of the JSON 1.1 lists (Identity Store, Organizations, SSO Admin) through boto3: a stable
order across pages, no skips or repeats when rows come and go between pages, NextTokens refused when forged,
edited or taken from another list or account (each service's own validation error), MaxResults bounds as
botocore's models give them, botocore's paginators, and a page that reads no more rows than it shows (plus one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import delete as delete_rows
from sqlalchemy import event

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.services.context import Deps
from vestibule.services.identity_center import directory
from vestibule.services.identity_center.directory_profile import profile_of
from vestibule.store.models import (
    CreateAccountRequest,
    DirectoryMembership,
    DirectoryUser,
    OrganizationAccount,
    SsoAssignment,
    SsoPermissionSet,
    SsoRequest,
)

INITIAL = [f"m-{i:02d}" for i in range(6)]


@dataclass
class Listing:
    """One list of one service: how to call it, and how to add and remove one of its items (by name)."""

    client: Any
    operation: str  # the boto3 method
    items: str  # the answer's list member
    name: Callable[[Any], str]  # an item (an object, or an ARN or ID) -> its name
    make: Callable[[str], object]
    drop: Callable[[str], object]
    args: dict[str, Any]
    max_results: int  # the model's bound
    invalid: str = "ValidationException"  # the service's answer to a bad NextToken or MaxResults
    sorted_by_name: bool = True
    fixed: int = 0  # items listed beyond those made (an organization's management account)

    def call(self, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = getattr(self.client, self.operation)(**self.args, **kwargs)
        return answer

    def names(self, answer: dict[str, Any]) -> list[str]:
        return [self.name(item) for item in answer[self.items]]


def _identity_store(world: AwsWorld, account: Account, kind: str) -> Listing:
    store = world.new_identity_store(account)
    ids = world.identitystore(account.root)
    users: dict[str, str] = {}
    arg = {"IdentityStoreId": store}

    def make_user(name: str) -> None:
        users[name] = ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name)["UserId"]

    def drop_user(name: str) -> None:
        ids.delete_user(IdentityStoreId=store, UserId=users.pop(name))

    if kind == "ListUsers":
        return Listing(ids, "list_users", "Users", lambda u: u["UserName"], make_user, drop_user, arg, 100)
    groups: dict[str, str] = {}

    def make_group(name: str) -> None:
        groups[name] = ids.create_group(IdentityStoreId=store, DisplayName=name)["GroupId"]

    def drop_group(name: str) -> None:
        ids.delete_group(IdentityStoreId=store, GroupId=groups.pop(name))

    if kind == "ListGroups":
        return Listing(ids, "list_groups", "Groups", lambda g: g["DisplayName"], make_group, drop_group, arg, 100)
    memberships: dict[str, str] = {}
    if kind == "ListGroupMemberships":
        group = ids.create_group(IdentityStoreId=store, DisplayName="team")["GroupId"]

        def join(name: str) -> None:
            make_user(name)
            memberships[name] = ids.create_group_membership(
                IdentityStoreId=store, GroupId=group, MemberId={"UserId": users[name]})["MembershipId"]

        def leave(name: str) -> None:
            ids.delete_group_membership(IdentityStoreId=store, MembershipId=memberships.pop(name))

        return Listing(ids, "list_group_memberships", "GroupMemberships",
                       lambda m: _name_of(users, m["MemberId"]["UserId"]), join, leave,
                       {**arg, "GroupId": group}, 100, sorted_by_name=False)
    member = ids.create_user(IdentityStoreId=store, UserName="member")["UserId"]

    def add_to(name: str) -> None:
        make_group(name)
        memberships[name] = ids.create_group_membership(
            IdentityStoreId=store, GroupId=groups[name], MemberId={"UserId": member})["MembershipId"]

    def remove_from(name: str) -> None:
        ids.delete_group_membership(IdentityStoreId=store, MembershipId=memberships.pop(name))

    return Listing(ids, "list_group_memberships_for_member", "GroupMemberships",
                   lambda m: _name_of(groups, m["GroupId"]), add_to, remove_from,
                   {**arg, "MemberId": {"UserId": member}}, 100, sorted_by_name=False)


def _name_of(names: dict[str, str], wanted: str) -> str:
    return next(name for name, made in names.items() if made == wanted)


def _organizations(world: AwsWorld, account: Account, kind: str) -> Listing:
    world.new_organization(account)
    orgs = world.organizations(account.root)
    made: dict[str, str] = {}

    def make(name: str) -> None:
        status = orgs.create_account(Email=f"{name}-{account.account_id}@example.com", AccountName=name)
        made[name] = status["CreateAccountStatus"]["Id"]
        assert status["CreateAccountStatus"]["State"] == "SUCCEEDED"

    def drop(name: str) -> None:
        request_id = made.pop(name)

        async def delete(deps: Deps) -> None:
            async with deps.store.unit() as uow:
                request = await uow.db.get(CreateAccountRequest, request_id)
                assert request is not None and request.account_id is not None
                if kind == "ListCreateAccountStatus":
                    await uow.db.delete(request)
                else:
                    await uow.db.execute(delete_rows(OrganizationAccount).where(
                        OrganizationAccount.account_id == request.account_id))
                await uow.commit()

        world.run(delete)

    if kind == "ListCreateAccountStatus":
        return Listing(orgs, "list_create_account_status", "CreateAccountStatuses", lambda c: c["AccountName"],
                       make, drop, {}, 20, invalid="InvalidInputException", sorted_by_name=False)
    args = {} if kind == "ListAccounts" else {"ParentId": orgs.list_roots()["Roots"][0]["Id"]}
    return Listing(orgs, "list_accounts" if kind == "ListAccounts" else "list_accounts_for_parent", "Accounts",
                   lambda a: a["Name"], make, drop, args, 20, invalid="InvalidInputException",
                   sorted_by_name=False, fixed=1)


def _sso_admin(world: AwsWorld, account: Account, kind: str) -> Listing:
    sso = world.client("sso-admin", account.root)
    instance = sso.create_instance(Name="ic")["InstanceArn"]
    store = sso.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    ids = world.identitystore(account.root)
    sets: dict[str, str] = {}
    users: dict[str, str] = {}
    here = {"InstanceArn": instance}

    def new_set(name: str) -> str:
        sets[name] = sso.create_permission_set(Name=name, **here)["PermissionSet"]["PermissionSetArn"]
        return sets[name]

    def new_user(name: str) -> str:
        users[name] = ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name)["UserId"]
        return users[name]

    def assignment(permission_set: str, user: str) -> dict[str, Any]:
        return {**here, "TargetId": account.account_id, "TargetType": "AWS_ACCOUNT",
                "PermissionSetArn": permission_set, "PrincipalType": "USER", "PrincipalId": user}

    if kind == "ListPermissionSets":
        return Listing(sso, "list_permission_sets", "PermissionSets", lambda arn: _name_of(sets, arn), new_set,
                       lambda n: sso.delete_permission_set(PermissionSetArn=sets.pop(n), **here), here, 100)
    if kind == "ListAccountAssignments":
        shared = new_set("shared")
        return Listing(sso, "list_account_assignments", "AccountAssignments",
                       lambda a: _name_of(users, a["PrincipalId"]),
                       lambda n: sso.create_account_assignment(**assignment(shared, new_user(n))),
                       lambda n: sso.delete_account_assignment(**assignment(shared, users[n])),
                       {**here, "AccountId": account.account_id, "PermissionSetArn": shared}, 100,
                       sorted_by_name=False)
    member = new_user("member")
    if kind == "ListAccountAssignmentsForPrincipal":
        return Listing(sso, "list_account_assignments_for_principal", "AccountAssignments",
                       lambda a: _name_of(sets, a["PermissionSetArn"]),
                       lambda n: sso.create_account_assignment(**assignment(new_set(n), member)),
                       lambda n: sso.delete_account_assignment(**assignment(sets[n], member)),
                       {**here, "PrincipalId": member, "PrincipalType": "USER"}, 100, sorted_by_name=False)
    if kind == "ListPermissionSetsProvisionedToAccount":
        return Listing(sso, "list_permission_sets_provisioned_to_account", "PermissionSets",
                       lambda arn: _name_of(sets, arn),
                       lambda n: sso.create_account_assignment(**assignment(new_set(n), member)),
                       lambda n: sso.delete_account_assignment(**assignment(sets[n], member)),
                       {**here, "AccountId": account.account_id}, 100, sorted_by_name=False)
    requests: dict[str, str] = {}

    def request(name: str) -> None:
        status = sso.create_account_assignment(**assignment(new_set(name), member))
        requests[name] = status["AccountAssignmentCreationStatus"]["RequestId"]

    def forget(name: str) -> None:
        request_id = requests.pop(name)

        async def drop(deps: Deps) -> None:
            async with deps.store.unit() as uow:
                await uow.db.execute(delete_rows(SsoRequest).where(SsoRequest.id == request_id))
                await uow.commit()

        world.run(drop)

    return Listing(sso, "list_account_assignment_creation_status", "AccountAssignmentsCreationStatus",
                   lambda r: _name_of(requests, r["RequestId"]), request, forget, here, 100, sorted_by_name=False)


STORE_LISTS = ["ListUsers", "ListGroups", "ListGroupMemberships", "ListGroupMembershipsForMember"]
ORGANIZATION_LISTS = ["ListAccounts", "ListAccountsForParent", "ListCreateAccountStatus"]
SSO_ADMIN_LISTS = ["ListPermissionSets", "ListAccountAssignments", "ListAccountAssignmentsForPrincipal",
                   "ListPermissionSetsProvisionedToAccount", "ListAccountAssignmentCreationStatus"]
LISTS = STORE_LISTS + ORGANIZATION_LISTS + SSO_ADMIN_LISTS


def _listing(world: AwsWorld, account: Account, kind: str) -> Listing:
    make = (_identity_store if kind in STORE_LISTS else _organizations if kind in ORGANIZATION_LISTS
            else _sso_admin)
    listing = make(world, account, kind)
    for name in INITIAL:
        listing.make(name)
    return listing


def _refused(listing: Listing, call: Callable[..., Any], **kwargs: Any) -> None:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == listing.invalid, err.value.response


@pytest.mark.parametrize("kind", LISTS)
def test_pages_keep_one_order_and_walk_everything(world: AwsWorld, account: Account, kind: str) -> None:
    listing = _listing(world, account, kind)
    whole = listing.names(listing.call())
    assert set(INITIAL) <= set(whole) and len(whole) == len(INITIAL) + listing.fixed
    assert "NextToken" not in listing.call()
    if listing.sorted_by_name:
        assert whole == INITIAL
    seen: list[str] = []
    answer = listing.call(MaxResults=2)
    while True:
        seen += listing.names(answer)
        if "NextToken" not in answer:
            break
        answer = listing.call(MaxResults=2, NextToken=answer["NextToken"])
    assert seen == whole
    walked = [listing.name(item) for page in listing.client.get_paginator(listing.operation).paginate(
        **listing.args, PaginationConfig={"PageSize": 4}) for item in page[listing.items]]
    assert walked == whole


@pytest.mark.parametrize("kind", LISTS)
def test_rows_added_or_removed_between_pages_are_neither_skipped_nor_repeated(world: AwsWorld, account: Account,
                                                                              kind: str) -> None:
    listing = _listing(world, account, kind)
    order = listing.names(listing.call())
    first = listing.call(MaxResults=2)
    seen = listing.names(first)
    gone = order[3]  # not yet seen
    listing.drop(gone)
    listing.drop(next(n for n in seen if n in INITIAL))  # seen already: the next page starts after its key anyway
    for name in ("a-new", "z-new"):
        listing.make(name)
    token = first["NextToken"]
    while True:
        answer = listing.call(MaxResults=2, NextToken=token)
        seen += listing.names(answer)
        if "NextToken" not in answer:
            break
        token = answer["NextToken"]
    stable = [name for name in order if name != gone]
    assert [name for name in seen if name in stable] == stable  # each once, in order
    assert gone not in seen and len(seen) == len(set(seen))
    if listing.sorted_by_name:
        assert "a-new" not in seen and "z-new" in seen  # before the marker, and after it


@pytest.mark.parametrize("kind", LISTS)
def test_tokens_are_bound_to_their_list(world: AwsWorld, account: Account, kind: str) -> None:
    listing = _listing(world, account, kind)
    token = listing.call(MaxResults=1)["NextToken"]
    assert len(listing.names(listing.call(NextToken=token))) == 5 + listing.fixed
    body, _, tag = token.partition("/")
    edited = body[:-2] + ("AA" if body[-2:] != "AA" else "BA") + "/" + tag
    for bad in ("bogus", edited, token[:-1], body, token + "A"):
        _refused(listing, listing.call, NextToken=bad)
    other = _listing(world, world.new_account(), kind)  # the same list of another account
    _refused(listing, listing.call, NextToken=other.call(MaxResults=1)["NextToken"])
    _refused(other, other.call, NextToken=token)
    if kind in ORGANIZATION_LISTS:
        others = [k for k in ORGANIZATION_LISTS if k != kind]
        for other_kind in others:  # another list of the same organization
            other_list = Listing(**{**listing.__dict__, **_organization_call(other_kind, listing)})
            _refused(listing, listing.call, NextToken=other_list.call(MaxResults=1)["NextToken"])
        return
    if kind in SSO_ADMIN_LISTS:  # another list of the same instance
        sso, here = listing.client, {"InstanceArn": listing.args["InstanceArn"]}
        arn = sso.create_permission_set(Name="x-1", **here)["PermissionSet"]["PermissionSetArn"]
        sso.create_permission_set(Name="x-2", **here)
        for policy in ("ReadOnlyAccess", "AdministratorAccess"):
            sso.attach_managed_policy_to_permission_set(PermissionSetArn=arn, **here,
                                                        ManagedPolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        policies = sso.list_managed_policies_in_permission_set(PermissionSetArn=arn, MaxResults=1, **here)
        assert len(policies["AttachedManagedPolicies"]) == 1
        _refused(listing, listing.call, NextToken=policies["NextToken"])
        if kind != "ListPermissionSets":
            _refused(listing, listing.call, NextToken=sso.list_permission_sets(MaxResults=1, **here)["NextToken"])
        return
    ids, store = listing.client, listing.args["IdentityStoreId"]
    for name in ("x-1", "x-2"):  # another list of the same store
        if kind == "ListUsers":
            ids.create_group(IdentityStoreId=store, DisplayName=name)
        else:
            ids.create_user(IdentityStoreId=store, UserName=name)
    foreign = (ids.list_groups if kind == "ListUsers" else ids.list_users)(IdentityStoreId=store, MaxResults=1)
    _refused(listing, listing.call, NextToken=foreign["NextToken"])


def _organization_call(kind: str, listing: Listing) -> dict[str, Any]:
    if kind == "ListCreateAccountStatus":
        return {"operation": "list_create_account_status", "args": {}}
    if kind == "ListAccounts":
        return {"operation": "list_accounts", "args": {}}
    return {"operation": "list_accounts_for_parent",
            "args": {"ParentId": listing.client.list_roots()["Roots"][0]["Id"]}}


def test_a_filter_is_bound_into_the_token(world: AwsWorld, account: Account) -> None:
    listing = _listing(world, account, "ListUsers")
    token = listing.call(MaxResults=1)["NextToken"]
    only = [{"AttributePath": "UserName", "AttributeValue": "m-03"}]
    _refused(listing, listing.call, NextToken=token, Filters=only)
    assert listing.names(listing.call(Filters=only)) == ["m-03"]


@pytest.mark.parametrize("kind", LISTS)
def test_max_results_bounds(world: AwsWorld, account: Account, kind: str) -> None:
    listing = _listing(world, account, kind)
    assert len(listing.names(listing.call(MaxResults=listing.max_results))) == 6 + listing.fixed
    assert len(listing.names(listing.call(MaxResults=1))) == 1
    unchecked = Listing(**{**listing.__dict__, "client": world.client(
        listing.client.meta.service_model.service_name, account.root, validate=False)})
    for bad in (0, listing.max_results + 1):
        _refused(listing, unchecked.call, MaxResults=bad)


# ---- a page reads a page ------------------------------------------------------------------------------


@pytest.fixture
def loaded() -> Iterator[list[object]]:
    """The directory user and membership rows the ORM builds while the test runs."""
    rows: list[object] = []

    def count(row: object, _context: object) -> None:
        rows.append(row)

    for model in (DirectoryUser, DirectoryMembership):
        event.listen(model, "load", count)
    try:
        yield rows
    finally:
        for model in (DirectoryUser, DirectoryMembership):
            event.remove(model, "load", count)


def test_a_directory_page_reads_no_more_rows_than_it_shows(world: AwsWorld, account: Account,
                                                           loaded: list[object]) -> None:
    store = world.new_identity_store(account)
    ids = world.identitystore(account.root)
    group = ids.create_group(IdentityStoreId=store, DisplayName="everyone")["GroupId"]
    names = [f"bulk-{i:04d}" for i in range(300)]

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            for name in names:
                user = await directory.create_user(uow, store, name, profile_of({"DisplayName": name}),
                                                   actor="test", now=1.0)
                await directory.add_member(uow, store, group, user.id, actor="test", now=1.0)
            await uow.commit()

    world.run(add)
    loaded.clear()
    first = ids.list_users(IdentityStoreId=store, MaxResults=10)
    assert [u["UserName"] for u in first["Users"]] == names[:10] and 10 <= len(loaded) <= 11, len(loaded)
    token = first["NextToken"]
    for _ in range(20):
        token = ids.list_users(IdentityStoreId=store, MaxResults=10, NextToken=token)["NextToken"]
    loaded.clear()
    deep = ids.list_users(IdentityStoreId=store, MaxResults=10, NextToken=token)
    assert [u["UserName"] for u in deep["Users"]] == names[210:220] and 10 <= len(loaded) <= 11, len(loaded)
    loaded.clear()
    members = ids.list_group_memberships(IdentityStoreId=store, GroupId=group, MaxResults=10)
    assert len(members["GroupMemberships"]) == 10 and 10 <= len(loaded) <= 11, len(loaded)
    loaded.clear()
    deeper = ids.list_group_memberships(IdentityStoreId=store, GroupId=group, MaxResults=10,
                                        NextToken=members["NextToken"])
    assert len(deeper["GroupMemberships"]) == 10 and 10 <= len(loaded) <= 11, len(loaded)
    loaded.clear()
    walked = [u["UserName"] for page in ids.get_paginator("list_users").paginate(
        IdentityStoreId=store, PaginationConfig={"PageSize": 100}) for u in page["Users"]]
    assert walked == names and len(loaded) <= 300 + 3, len(loaded)


def test_an_organization_page_reads_no_more_rows_than_it_shows(world: AwsWorld, account: Account) -> None:
    listing = _organizations(world, account, "ListAccounts")
    names = [f"bulk-{i:02d}" for i in range(24)]
    for name in names:
        listing.make(name)
    loaded: list[object] = []

    def count(row: object, _context: object) -> None:
        loaded.append(row)

    models = (OrganizationAccount, CreateAccountRequest)
    for model in models:
        event.listen(model, "load", count)
    try:
        orgs = listing.client
        first = orgs.list_accounts(MaxResults=5)
        assert listing.names(first)[1:] == names[:4] and 5 <= len(loaded) <= 6, len(loaded)
        token = orgs.list_accounts(MaxResults=5, NextToken=first["NextToken"])["NextToken"]
        loaded.clear()
        deep = orgs.list_accounts(MaxResults=5, NextToken=token)
        assert listing.names(deep) == names[9:14] and 5 <= len(loaded) <= 6, len(loaded)
        loaded.clear()
        statuses = orgs.list_create_account_status(MaxResults=5)
        assert [s["AccountName"] for s in statuses["CreateAccountStatuses"]] == names[::-1][:5]
        assert 5 <= len(loaded) <= 6, len(loaded)
        loaded.clear()
        later = orgs.list_create_account_status(MaxResults=5, NextToken=statuses["NextToken"])
        assert [s["AccountName"] for s in later["CreateAccountStatuses"]] == names[::-1][5:10]
        assert 5 <= len(loaded) <= 6, len(loaded)
    finally:
        for model in models:
            event.remove(model, "load", count)


def test_an_sso_admin_page_reads_no_more_rows_than_it_shows(world: AwsWorld, account: Account) -> None:
    sso = world.client("sso-admin", account.root)
    instance = sso.create_instance(Name="ic")["InstanceArn"]
    shared = sso.create_permission_set(InstanceArn=instance, Name="shared")["PermissionSet"]["PermissionSetArn"]
    names = [f"bulk-{i:04d}" for i in range(300)]
    principals = [f"0000000000-{i:08d}-0000-4000-8000-000000000000" for i in range(300)]

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            uow.db.add_all(SsoPermissionSet(arn=f"{shared}-{name}", instance_arn=instance, name=name,
                                            session_duration=3600, created_at=1.0, updated_at=1.0)
                           for name in names)
            uow.db.add_all(SsoAssignment(permission_set_arn=shared, account_id=account.account_id,
                                         principal_type="USER", principal_id=p, instance_arn=instance, created_at=1.0)
                           for p in principals)
            uow.db.add_all(SsoRequest(id=f"{i:08d}-0000-4000-8000-000000000000", instance_arn=instance, kind="create",
                                      status="SUCCEEDED", permission_set_arn=shared, created_at=float(i))
                           for i in range(300))
            await uow.commit()

    world.run(add)
    loaded: list[object] = []

    def count(row: object, _context: object) -> None:
        loaded.append(row)

    models = (SsoPermissionSet, SsoAssignment, SsoRequest)
    for model in models:
        event.listen(model, "load", count)
    try:
        here = {"InstanceArn": instance}
        pages = [("list_permission_sets", "PermissionSets", here),
                 ("list_account_assignments", "AccountAssignments",
                  {**here, "AccountId": account.account_id, "PermissionSetArn": shared}),
                 ("list_account_assignment_creation_status", "AccountAssignmentsCreationStatus", here)]
        for operation, items, args in pages:
            first = getattr(sso, operation)(MaxResults=10, **args)
            token = getattr(sso, operation)(MaxResults=10, NextToken=first["NextToken"], **args)["NextToken"]
            loaded.clear()
            deep = getattr(sso, operation)(MaxResults=10, NextToken=token, **args)
            assert len(deep[items]) == 10 and 10 <= len(loaded) <= 12, (operation, len(loaded))  # + the set
        assert deep["AccountAssignmentsCreationStatus"][0]["RequestId"].startswith("00000020-")
    finally:
        for model in models:
            event.remove(model, "load", count)
