"""Identity Store (JSON 1.1, `AWSIdentityStore.*`) through boto3 against the live server: users, groups and
memberships of an Identity Center instance's identity store, their documented errors, pagination, and the
rule that a store of another account looks exactly like one that does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, at_once, error_code
from integration.aws.test_aws_cli import Cli

MISSING_STORE = "d-0000000000"
MISSING_ID = "0000000000-00000000-0000-4000-8000-000000000000"


def _fails(code: str, call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    error: dict[str, Any] = err.value.response["Error"]
    return error


@pytest.fixture
def store(world: AwsWorld, account: Account) -> str:
    return world.new_identity_store(account)


def test_create_and_describe_a_user_with_every_attribute(world: AwsWorld, account: Account, store: str) -> None:
    ids = world.identitystore(account.root)
    made = ids.create_user(
        IdentityStoreId=store, UserName="jane.doe@example.com", DisplayName="Jane Doe",
        Name={"GivenName": "Jane", "FamilyName": "Doe", "Formatted": "Jane Doe"}, NickName="JD",
        Emails=[{"Value": "jane@example.com", "Type": "work", "Primary": True}],
        PhoneNumbers=[{"Value": "+1 555 0100", "Type": "work", "Primary": True}],
        Addresses=[{"StreetAddress": "1 Main St", "Locality": "Springfield", "Country": "US", "Primary": True}],
        Title="Engineer", UserType="Employee", PreferredLanguage="en-US", Locale="en-US", Timezone="UTC")
    assert made["IdentityStoreId"] == store and made["Revision"] == "1"
    assert made["UserId"].startswith(store.removeprefix("d-") + "-")
    assert made["UserArn"] == f"arn:aws:identitystore:::user/{made['UserId']}"
    user = ids.describe_user(IdentityStoreId=store, UserId=made["UserId"])
    assert user["UserName"] == "jane.doe@example.com" and user["DisplayName"] == "Jane Doe"
    assert user["Name"] == {"GivenName": "Jane", "FamilyName": "Doe", "Formatted": "Jane Doe"}
    assert user["Emails"] == [{"Value": "jane@example.com", "Type": "work", "Primary": True}]
    assert user["Addresses"][0]["Locality"] == "Springfield" and user["PhoneNumbers"][0]["Value"] == "+1 555 0100"
    assert (user["Title"], user["UserType"], user["Timezone"], user["UserStatus"]) == (
        "Engineer", "Employee", "UTC", "ENABLED")
    assert user["CreatedBy"] == account.root_arn and user["CreatedAt"] == user["UpdatedAt"]
    assert "NickName" in user and "ProfileUrl" not in user


def test_user_names_are_unique_without_case(world: AwsWorld, account: Account, store: str) -> None:
    world.new_directory_user(account, store, "Alice")
    ids = world.identitystore(account.root)
    _fails("ConflictException", ids.create_user, IdentityStoreId=store, UserName="alice", DisplayName="A")
    second = world.new_directory_user(account, store, "bob")
    _fails("ConflictException", ids.update_user, IdentityStoreId=store, UserId=second,
           Operations=[{"AttributePath": "userName", "AttributeValue": "ALICE"}])


def test_concurrent_creations_of_one_name_leave_one_user(world: AwsWorld, account: Account, store: str) -> None:
    def creating_user(client: Any, name: str) -> Callable[[], Any]:
        return lambda: client.create_user(IdentityStoreId=store, UserName=name, DisplayName=name)

    def creating_group(client: Any) -> Callable[[], Any]:
        return lambda: client.create_group(IdentityStoreId=store, DisplayName="Racers")

    answers = at_once([creating_user(world.identitystore(account.root), name)
                       for name in ("race", "RACE", "Race", "rAce")])
    assert sorted(answers) == ["ConflictException"] * 3 + ["ok"], answers
    answers = at_once([creating_group(world.identitystore(account.root)) for _ in range(4)])
    assert sorted(answers) == ["ConflictException"] * 3 + ["ok"], answers
    assert len(world.identitystore(account.root).list_users(IdentityStoreId=store)["Users"]) == 1


def test_unknown_and_foreign_stores_answer_the_same(world: AwsWorld, account: Account, store: str) -> None:
    other = world.new_account()
    foreign = world.identitystore(other.root)
    user_id = world.new_directory_user(account, store, "carol")
    for call, kwargs in ((foreign.list_users, {}), (foreign.describe_user, {"UserId": user_id}),
                         (foreign.create_user, {"UserName": "mallory", "DisplayName": "M"})):
        unknown = _fails("ResourceNotFoundException", call, IdentityStoreId=MISSING_STORE, **kwargs)
        hidden = _fails("ResourceNotFoundException", call, IdentityStoreId=store, **kwargs)
        assert hidden["Message"].replace(store, MISSING_STORE) == unknown["Message"]
    as_arn = f"arn:aws:identitystore::{other.account_id}:identitystore/{store}"
    _fails("ResourceNotFoundException", world.identitystore(account.root).list_users, IdentityStoreId=as_arn)
    mine = f"arn:aws:identitystore::{account.account_id}:identitystore/{store}"
    assert world.identitystore(account.root).list_users(IdentityStoreId=mine)["Users"][0]["UserId"] == user_id


def test_ids_of_another_store_name_nothing_in_yours(world: AwsWorld, account: Account, store: str) -> None:
    victim_user = world.new_directory_user(account, store, "victim")
    victim_group = world.identitystore(account.root).create_group(IdentityStoreId=store, DisplayName="G")["GroupId"]
    other = world.new_account()
    own_store = world.new_identity_store(other)
    ids = world.identitystore(other.root)
    own_group = ids.create_group(IdentityStoreId=own_store, DisplayName="Mine")["GroupId"]
    _fails("ResourceNotFoundException", ids.describe_user, IdentityStoreId=own_store, UserId=victim_user)
    _fails("ResourceNotFoundException", ids.delete_user, IdentityStoreId=own_store, UserId=victim_user)
    _fails("ResourceNotFoundException", ids.update_group, IdentityStoreId=own_store, GroupId=victim_group,
           Operations=[{"AttributePath": "displayName", "AttributeValue": "pwned"}])
    _fails("ResourceNotFoundException", ids.create_group_membership, IdentityStoreId=own_store, GroupId=own_group,
           MemberId={"UserId": victim_user})
    _fails("ResourceNotFoundException", ids.list_group_memberships_for_member, IdentityStoreId=own_store,
           MemberId={"UserId": victim_user})
    mine = world.identitystore(account.root)
    assert mine.describe_user(IdentityStoreId=store, UserId=victim_user)["UserName"] == "victim"
    assert mine.describe_group(IdentityStoreId=store, GroupId=victim_group)["DisplayName"] == "G"


def test_an_iam_user_needs_identitystore_permissions(world: AwsWorld, account: Account, store: str) -> None:
    plain = world.api_user(account, "nobody")
    _fails("AccessDeniedException", world.identitystore(plain).list_users, IdentityStoreId=store)
    admin = world.api_user(account, "directory-admin")
    world.iam(account.root).put_user_policy(UserName="directory-admin", PolicyName="ids", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["identitystore:CreateUser",
                                                                              "identitystore:ListUsers"],
                                                "Resource": "*"}]}))
    ids = world.identitystore(admin)
    ids.create_user(IdentityStoreId=store, UserName="made-by-admin", DisplayName="x")
    assert [u["UserName"] for u in ids.list_users(IdentityStoreId=store)["Users"]] == ["made-by-admin"]
    _fails("AccessDeniedException", ids.list_groups, IdentityStoreId=store)


def test_list_users_pages_and_filters(world: AwsWorld, account: Account, store: str) -> None:
    made = {world.new_directory_user(account, store, f"user{i}") for i in range(5)}
    ids = world.identitystore(account.root)
    first = ids.list_users(IdentityStoreId=store, MaxResults=2)
    assert len(first["Users"]) == 2 and first["NextToken"]
    pages = list(ids.get_paginator("list_users").paginate(IdentityStoreId=store, PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]
    assert {u["UserId"] for p in pages for u in p["Users"]} == made
    found = ids.list_users(IdentityStoreId=store, Filters=[{"AttributePath": "UserName", "AttributeValue": "USER3"}])
    assert [u["UserName"] for u in found["Users"]] == ["user3"]
    _fails("ValidationException", ids.list_users, IdentityStoreId=store,
           Filters=[{"AttributePath": "Title", "AttributeValue": "x"}])
    _fails("ValidationException", ids.list_users, IdentityStoreId=store, NextToken="bm90LW91cnM=")
    groups_token = ids.list_users(IdentityStoreId=store, MaxResults=1)["NextToken"]
    _fails("ValidationException", ids.list_groups, IdentityStoreId=store, NextToken=groups_token)


def test_update_user_operations_and_revisions(world: AwsWorld, account: Account, store: str) -> None:
    ids = world.identitystore(account.root)
    user_id = world.new_directory_user(account, store, "dave", Name={"GivenName": "Dave", "FamilyName": "D"},
                                       Title="Intern")
    updated = ids.update_user(IdentityStoreId=store, UserId=user_id, Operations=[
        {"AttributePath": "name.givenName", "AttributeValue": "David"},
        {"AttributePath": "displayName", "AttributeValue": "David D"},
        {"AttributePath": "emails", "AttributeValue": [{"value": "david@example.com", "primary": True}]},
        {"AttributePath": "title"}])
    assert updated["Revision"] == "2"
    user = ids.describe_user(IdentityStoreId=store, UserId=user_id)
    assert user["Name"] == {"GivenName": "David", "FamilyName": "D"} and user["DisplayName"] == "David D"
    assert user["Emails"] == [{"Value": "david@example.com", "Primary": True}] and "Title" not in user
    _fails("ConflictException", ids.update_user, IdentityStoreId=store, UserId=user_id, Revision="1",
           Operations=[{"AttributePath": "nickName", "AttributeValue": "Dee"}])
    _fails("ValidationException", ids.update_user, IdentityStoreId=store, UserId=user_id,
           Operations=[{"AttributePath": "password", "AttributeValue": "x"}])
    _fails("ValidationException", ids.update_user, IdentityStoreId=store, UserId=user_id,
           Operations=[{"AttributePath": "emails", "AttributeValue": [{"value": "a@x"}, {"value": "b@x"}]}])
    _fails("ResourceNotFoundException", ids.update_user, IdentityStoreId=store, UserId=MISSING_ID,
           Operations=[{"AttributePath": "nickName", "AttributeValue": "Dee"}])
    _fails("ConflictException", ids.delete_user, IdentityStoreId=store, UserId=user_id, Revision="1")
    ids.delete_user(IdentityStoreId=store, UserId=user_id, Revision="2")
    _fails("ResourceNotFoundException", ids.describe_user, IdentityStoreId=store, UserId=user_id)


def test_get_user_id_by_user_name_email_and_unknown(world: AwsWorld, account: Account, store: str) -> None:
    ids = world.identitystore(account.root)
    user_id = world.new_directory_user(account, store, "erin", Emails=[{"Value": "Erin@Example.com"}])
    by_name = ids.get_user_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "ERIN"}})
    assert by_name["UserId"] == user_id and by_name["UserArn"].endswith(user_id)
    by_email = ids.get_user_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "emails.value", "AttributeValue": "erin@example.com"}})
    assert by_email["UserId"] == user_id
    _fails("ResourceNotFoundException", ids.get_user_id, IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody"}})
    _fails("ResourceNotFoundException", ids.get_user_id, IdentityStoreId=store, AlternateIdentifier={
        "ExternalId": {"Issuer": "okta", "Id": "42"}})
    _fails("ValidationException", ids.get_user_id, IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "title", "AttributeValue": "x"}})


def test_validation_follows_the_model(world: AwsWorld, account: Account, store: str) -> None:
    loose = world.identitystore(account.root, validate=False)
    _fails("ValidationException", loose.list_users, IdentityStoreId="not-a-store")
    _fails("ValidationException", loose.describe_user, IdentityStoreId=store, UserId="not-an-id")
    _fails("ValidationException", loose.list_users, IdentityStoreId=store, MaxResults=101)
    _fails("ValidationException", loose.create_user, IdentityStoreId=store, UserName="has space", DisplayName="x")
    _fails("ValidationException", loose.create_user, IdentityStoreId=store, DisplayName="no user name")
    _fails("ValidationException", loose.create_user, IdentityStoreId=store, UserName="x",
           Name={"GivenName": "bad\u0007bell"})


def test_groups_lifecycle(world: AwsWorld, account: Account, store: str) -> None:
    ids = world.identitystore(account.root)
    made = ids.create_group(IdentityStoreId=store, DisplayName="Admins", Description="People who administer")
    group_id = made["GroupId"]
    assert made["GroupArn"] == f"arn:aws:identitystore:::group/{group_id}"
    _fails("ConflictException", ids.create_group, IdentityStoreId=store, DisplayName="admins")
    group = ids.describe_group(IdentityStoreId=store, GroupId=group_id)
    assert (group["DisplayName"], group["Description"], group["Revision"]) == ("Admins", "People who administer",
                                                                               "1")
    ids.create_group(IdentityStoreId=store, DisplayName="Readers")
    listed = ids.list_groups(IdentityStoreId=store, Filters=[{"AttributePath": "DisplayName",
                                                              "AttributeValue": "Admins"}])["Groups"]
    assert [g["GroupId"] for g in listed] == [group_id]
    assert len(ids.list_groups(IdentityStoreId=store)["Groups"]) == 2
    _fails("ValidationException", ids.list_groups, IdentityStoreId=store,
           Filters=[{"AttributePath": "UserName", "AttributeValue": "x"}])
    ids.update_group(IdentityStoreId=store, GroupId=group_id, Operations=[
        {"AttributePath": "displayName", "AttributeValue": "Administrators"}, {"AttributePath": "description"}])
    group = ids.describe_group(IdentityStoreId=store, GroupId=group_id)
    assert group["DisplayName"] == "Administrators" and "Description" not in group and group["Revision"] == "2"
    _fails("ConflictException", ids.update_group, IdentityStoreId=store, GroupId=group_id,
           Operations=[{"AttributePath": "displayName", "AttributeValue": "READERS"}])
    found = ids.get_group_id(IdentityStoreId=store, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "administrators"}})
    assert found["GroupId"] == group_id
    ids.delete_group(IdentityStoreId=store, GroupId=group_id)
    _fails("ResourceNotFoundException", ids.describe_group, IdentityStoreId=store, GroupId=group_id)
    _fails("ResourceNotFoundException", ids.delete_group, IdentityStoreId=store, GroupId=group_id)


def test_memberships(world: AwsWorld, account: Account, store: str) -> None:
    ids = world.identitystore(account.root)
    group_id = ids.create_group(IdentityStoreId=store, DisplayName="Team")["GroupId"]
    other_group = ids.create_group(IdentityStoreId=store, DisplayName="Other")["GroupId"]
    users = [world.new_directory_user(account, store, f"member{i}") for i in range(3)]
    made = [ids.create_group_membership(IdentityStoreId=store, GroupId=group_id, MemberId={"UserId": u})
            for u in users]
    assert made[0]["MembershipArn"] == f"arn:aws:identitystore:::membership/{made[0]['MembershipId']}"
    _fails("ConflictException", ids.create_group_membership, IdentityStoreId=store, GroupId=group_id,
           MemberId={"UserId": users[0]})
    _fails("ResourceNotFoundException", ids.create_group_membership, IdentityStoreId=store, GroupId=group_id,
           MemberId={"UserId": MISSING_ID})
    _fails("ResourceNotFoundException", ids.create_group_membership, IdentityStoreId=store, GroupId=MISSING_ID,
           MemberId={"UserId": users[0]})
    described = ids.describe_group_membership(IdentityStoreId=store, MembershipId=made[1]["MembershipId"])
    assert (described["GroupId"], described["MemberId"]) == (group_id, {"UserId": users[1]})
    pages = list(ids.get_paginator("list_group_memberships").paginate(
        IdentityStoreId=store, GroupId=group_id, PaginationConfig={"PageSize": 2}))
    assert [len(p["GroupMemberships"]) for p in pages] == [2, 1]
    assert {m["MemberId"]["UserId"] for p in pages for m in p["GroupMemberships"]} == set(users)
    mine = ids.list_group_memberships_for_member(IdentityStoreId=store, MemberId={"UserId": users[2]})
    assert [m["GroupId"] for m in mine["GroupMemberships"]] == [group_id]
    assert ids.get_group_membership_id(IdentityStoreId=store, GroupId=group_id, MemberId={"UserId": users[2]})[
        "MembershipId"] == made[2]["MembershipId"]
    _fails("ResourceNotFoundException", ids.get_group_membership_id, IdentityStoreId=store, GroupId=other_group,
           MemberId={"UserId": users[2]})
    results = ids.is_member_in_groups(IdentityStoreId=store, MemberId={"UserId": users[0]},
                                      GroupIds=[group_id, other_group])["Results"]
    assert [(r["GroupId"], r["MembershipExists"]) for r in results] == [(group_id, True), (other_group, False)]
    ids.delete_group_membership(IdentityStoreId=store, MembershipId=made[0]["MembershipId"])
    _fails("ResourceNotFoundException", ids.describe_group_membership, IdentityStoreId=store,
           MembershipId=made[0]["MembershipId"])
    ids.delete_user(IdentityStoreId=store, UserId=users[1])  # its memberships go with it
    _fails("ResourceNotFoundException", ids.describe_group_membership, IdentityStoreId=store,
           MembershipId=made[1]["MembershipId"])
    left = ids.list_group_memberships(IdentityStoreId=store, GroupId=group_id)["GroupMemberships"]
    assert [m["MemberId"]["UserId"] for m in left] == [users[2]]
    ids.delete_group(IdentityStoreId=store, GroupId=group_id)
    assert ids.list_group_memberships_for_member(IdentityStoreId=store, MemberId={"UserId": users[2]})[
        "GroupMemberships"] == []


def test_changes_are_audited(world: AwsWorld, account: Account, store: str) -> None:
    user_id = world.new_directory_user(account, store, "audited")

    async def events(deps: Any) -> list[tuple[str, Any]]:
        async with deps.store.unit() as uow:
            rows = await uow.audit.for_account(account.account_id)
        return [(r.event, r.detail.get("user_id")) for r in rows]

    assert ("identitystore:CreateUser", user_id) in world.run(events)


def test_the_aws_cli_lists_users(world: AwsWorld, account: Account, store: str, tmp_path: Path) -> None:
    user_id = world.new_directory_user(account, store, "cli-user")
    listed = Cli(world, tmp_path).ok(account.root, "identitystore", "list-users", "--identity-store-id", store)
    assert [(u["UserId"], u["UserName"]) for u in listed["Users"]] == [(user_id, "cli-user")]
