"""Keyset pagination of the IAM lists through boto3: a stable order across pages, no skips or repeats when rows
come and go between pages, markers refused when forged, edited or taken from another list or account, MaxItems
bounds, botocore's paginators, and a page that reads no more rows than it shows (plus one)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import event

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.core.identifiers import new_iam_id
from vestibule.services.context import Deps
from vestibule.store.models import GroupMembership, IamUser, ManagedPolicy

DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
INITIAL = [f"m-{i:02d}" for i in range(6)]


@dataclass
class Listing:
    """One list operation of one account: how to list it, and how to add and remove one of its items."""

    operation: str  # the boto3 method
    items: str  # the answer's list member
    name: Callable[[dict[str, Any]], str]
    make: Callable[[str], None]
    drop: Callable[[str], None]
    args: dict[str, Any]

    def call(self, iam: Any, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = getattr(iam, self.operation)(**self.args, **kwargs)
        return answer

    def names(self, answer: dict[str, Any]) -> list[str]:
        return [self.name(item) for item in answer[self.items]]


def _listing(kind: str, iam: Any, account: Account) -> Listing:
    """A fresh `kind` list in `account`, holding INITIAL."""
    policy_arn = f"arn:aws:iam::{account.account_id}:policy/"
    lists: dict[str, Callable[[], Listing]] = {
        "ListUsers": lambda: Listing("list_users", "Users", lambda u: u["UserName"],
                                     lambda n: iam.create_user(UserName=n), lambda n: iam.delete_user(UserName=n), {}),
        "ListGroups": lambda: Listing("list_groups", "Groups", lambda g: g["GroupName"],
                                      lambda n: iam.create_group(GroupName=n), lambda n: iam.delete_group(GroupName=n),
                                      {}),
        "ListRoles": lambda: Listing("list_roles", "Roles", lambda r: r["RoleName"],
                                     lambda n: iam.create_role(RoleName=n, AssumeRolePolicyDocument=TRUST),
                                     lambda n: iam.delete_role(RoleName=n), {}),
        "ListPolicies": lambda: Listing("list_policies", "Policies", lambda p: p["PolicyName"],
                                        lambda n: iam.create_policy(PolicyName=n, PolicyDocument=DOCUMENT),
                                        lambda n: iam.delete_policy(PolicyArn=policy_arn + n), {"Scope": "Local"}),
        "ListInstanceProfiles": lambda: Listing(
            "list_instance_profiles", "InstanceProfiles", lambda p: p["InstanceProfileName"],
            lambda n: iam.create_instance_profile(InstanceProfileName=n),
            lambda n: iam.delete_instance_profile(InstanceProfileName=n), {}),
        "ListInstanceProfilesForRole": lambda: _profiles_of(iam),
        "ListInstanceProfileTags": lambda: _tags(iam, "list_instance_profile_tags", "instance_profile",
                                                 {"InstanceProfileName": "tagged"}),
        "ListServerCertificates": lambda: Listing(
            "list_server_certificates", "ServerCertificateMetadataList", lambda c: c["ServerCertificateName"],
            lambda n: _upload(iam, n), lambda n: iam.delete_server_certificate(ServerCertificateName=n), {}),
        "ListServerCertificateTags": lambda: _tags(iam, "list_server_certificate_tags", "server_certificate",
                                                   {"ServerCertificateName": "tagged"}),
        "GetGroup": lambda: _members(iam),
        "ListEntitiesForPolicy": lambda: _attached(iam, policy_arn + "shared"),
        "ListGroupsForUser": lambda: _groups_of(iam),
        "ListUserTags": lambda: _tags(iam, "list_user_tags", "user", {"UserName": "tagged"}),
        "ListRoleTags": lambda: _tags(iam, "list_role_tags", "role", {"RoleName": "tagged"}),
        "ListPolicyTags": lambda: _tags(iam, "list_policy_tags", "policy", {"PolicyArn": policy_arn + "tagged"}),
    }
    listing = lists[kind]()
    for name in INITIAL:
        listing.make(name)
    return listing


def _members(iam: Any) -> Listing:
    iam.create_group(GroupName="team")

    def make(name: str) -> None:
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="team", UserName=name)

    return Listing("get_group", "Users", lambda u: u["UserName"], make,
                   lambda n: iam.remove_user_from_group(GroupName="team", UserName=n), {"GroupName": "team"})


def _upload(iam: Any, name: str) -> None:
    """A self-signed certificate of its own key (a body already uploaded would be refused)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.example.test")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=400)).sign(key, hashes.SHA256()))
    iam.upload_server_certificate(
        ServerCertificateName=name, CertificateBody=cert.public_bytes(serialization.Encoding.PEM).decode(),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode())


def _profiles_of(iam: Any) -> Listing:
    iam.create_role(RoleName="held", AssumeRolePolicyDocument=TRUST)

    def make(name: str) -> None:
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName="held")

    return Listing("list_instance_profiles_for_role", "InstanceProfiles", lambda p: p["InstanceProfileName"], make,
                   lambda n: iam.remove_role_from_instance_profile(InstanceProfileName=n, RoleName="held"),
                   {"RoleName": "held"})


def _attached(iam: Any, arn: str) -> Listing:
    iam.create_policy(PolicyName="shared", PolicyDocument=DOCUMENT)

    def make(name: str) -> None:
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn=arn)

    return Listing("list_entities_for_policy", "PolicyUsers", lambda u: u["UserName"], make,
                   lambda n: iam.detach_user_policy(UserName=n, PolicyArn=arn), {"PolicyArn": arn})


def _groups_of(iam: Any) -> Listing:
    iam.create_user(UserName="member")

    def make(name: str) -> None:
        iam.create_group(GroupName=name)
        iam.add_user_to_group(GroupName=name, UserName="member")

    return Listing("list_groups_for_user", "Groups", lambda g: g["GroupName"], make,
                   lambda n: iam.remove_user_from_group(GroupName=n, UserName="member"), {"UserName": "member"})


def _tags(iam: Any, operation: str, kind: str, args: dict[str, Any]) -> Listing:
    if kind == "user":
        iam.create_user(UserName="tagged")
    elif kind == "instance_profile":
        iam.create_instance_profile(InstanceProfileName="tagged")
    elif kind == "server_certificate":
        _upload(iam, "tagged")
    elif kind == "role":
        iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=TRUST)
    else:
        iam.create_policy(PolicyName="tagged", PolicyDocument=DOCUMENT)
    noun = {"user": "User", "role": "Role", "policy": "Policy", "instance_profile": "InstanceProfile",
            "server_certificate": "ServerCertificate"}[kind]
    tag, untag = getattr(iam, f"tag_{kind}"), getattr(iam, f"untag_{kind}")
    return Listing(operation, "Tags", lambda t: t["Key"],
                   lambda n: tag(**args, Tags=[{"Key": n, "Value": noun}]), lambda n: untag(**args, TagKeys=[n]), args)


KINDS = ["ListUsers", "ListGroups", "ListRoles", "ListPolicies", "GetGroup", "ListEntitiesForPolicy",
         "ListGroupsForUser", "ListUserTags", "ListRoleTags", "ListPolicyTags", "ListInstanceProfiles",
         "ListInstanceProfilesForRole", "ListInstanceProfileTags", "ListServerCertificates",
         "ListServerCertificateTags"]
PAGINATORS = {"ListUsers": "list_users", "ListGroups": "list_groups", "ListRoles": "list_roles",
              "ListPolicies": "list_policies", "GetGroup": "get_group",
              "ListEntitiesForPolicy": "list_entities_for_policy", "ListGroupsForUser": "list_groups_for_user",
              "ListUserTags": "list_user_tags", "ListRoleTags": "list_role_tags", "ListPolicyTags": "list_policy_tags",
              "ListInstanceProfiles": "list_instance_profiles",
              "ListInstanceProfilesForRole": "list_instance_profiles_for_role",
              "ListInstanceProfileTags": "list_instance_profile_tags",
              "ListServerCertificates": "list_server_certificates",
              "ListServerCertificateTags": "list_server_certificate_tags"}


def _refused(call: Callable[..., object], code: str = "ValidationError", **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err.value


@pytest.mark.parametrize("kind", KINDS)
def test_pages_stay_in_order_without_skips_or_repeats_as_items_come_and_go(
        world: AwsWorld, account: Account, kind: str) -> None:
    iam = world.iam(account.root)
    listing = _listing(kind, iam, account)
    whole = listing.call(iam)
    assert listing.names(whole) == INITIAL and whole["IsTruncated"] is False and "Marker" not in whole

    first = listing.call(iam, MaxItems=2)
    assert listing.names(first) == INITIAL[:2] and first["IsTruncated"] is True
    # between pages: one before the marker's key, one after it, one not yet listed removed, one listed removed
    listing.make("a-before")
    listing.make("z-after")
    listing.drop(INITIAL[3])
    listing.drop(INITIAL[0])
    seen = listing.names(first)
    marker = first["Marker"]
    while marker:
        answer = listing.call(iam, MaxItems=2, Marker=marker)
        assert answer["IsTruncated"] is ("Marker" in answer)
        seen += listing.names(answer)
        marker = answer.get("Marker")
    assert seen == [*INITIAL[:3], *INITIAL[4:], "z-after"]
    assert listing.names(listing.call(iam)) == ["a-before", *INITIAL[1:3], *INITIAL[4:], "z-after"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_forged_edited_or_foreign_marker_is_a_validation_error(world: AwsWorld, account: Account,
                                                                 kind: str) -> None:
    iam = world.iam(account.root)
    listing = _listing(kind, iam, account)
    marker = listing.call(iam, MaxItems=1)["Marker"]
    body, tag = marker.split(".")
    assert "m-00" not in marker  # opaque: the key is encoded, not shown
    key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert "m-00" in key  # the last item's sort key (policies: after "local", the list part)

    def encoded(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()

    edited = [encoded(["m-03" if part == "m-00" else part for part in key]) + "." + tag,  # another key, old tag
              body + "." + tag[:-2] + ("AA" if not tag.endswith("AA") else "BB"),  # the tag changed
              body, "bogus", "0", "5", body + "." + tag + "."]
    for bad in edited:
        err = _refused(listing.call, iam=iam, Marker=bad)
        assert err.response["Error"]["Message"] == (
            f"1 validation error detected: Value '{bad if len(bad) <= 64 else bad[:64] + '...'}' at 'marker' "
            "failed to satisfy constraint: Member must be a marker from an earlier page")
    # the same list in another account, with the same items: its own markers work, this one does not
    other = world.new_account()
    other_iam = world.iam(other.root)
    theirs = _listing(kind, other_iam, other)
    _refused(theirs.call, iam=other_iam, Marker=marker)
    assert theirs.names(theirs.call(other_iam, Marker=theirs.call(other_iam, MaxItems=1)["Marker"])) == INITIAL[1:]
    # another list of the same account
    foreign = "ListGroups" if kind == "ListUsers" else "ListUsers"
    other_list = getattr(iam, PAGINATORS[foreign])
    _refused(other_list, Marker=marker)
    if kind in ("ListUsers", "ListGroups", "ListRoles", "ListInstanceProfiles", "ListServerCertificates"):  # prefix
        _refused(listing.call, iam=iam, Marker=marker, PathPrefix="/other/")
    assert listing.names(listing.call(iam, Marker=marker)) == INITIAL[1:]


@pytest.mark.parametrize("kind", KINDS)
def test_max_items_bounds_and_the_paginator(world: AwsWorld, account: Account, kind: str) -> None:
    iam = world.iam(account.root)
    listing = _listing(kind, iam, account)
    loose = world.iam(account.root, validate=False)
    for refused in (0, 1001):
        err = _refused(listing.call, iam=loose, MaxItems=refused)
        assert "maxItems" in err.response["Error"]["Message"]
    one = listing.call(iam, MaxItems=1)
    assert listing.names(one) == INITIAL[:1] and one["IsTruncated"] is True
    most = listing.call(iam, MaxItems=1000)
    assert listing.names(most) == INITIAL and most["IsTruncated"] is False and "Marker" not in most
    exact = listing.call(iam, MaxItems=len(INITIAL))
    assert listing.names(exact) == INITIAL and exact["IsTruncated"] is False and "Marker" not in exact
    pages = list(iam.get_paginator(PAGINATORS[kind]).paginate(**listing.args, PaginationConfig={"PageSize": 4}))
    assert [listing.names(page) for page in pages] == [INITIAL[:4], INITIAL[4:]]


def test_policies_page_across_built_in_and_local_and_filters(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    for name in ("local-b", "local-a", "local-c"):
        iam.create_policy(PolicyName=name, PolicyDocument=DOCUMENT, Path="/mine/" if name != "local-c" else "/")
    iam.create_user(UserName="holder")
    iam.attach_user_policy(UserName="holder", PolicyArn=f"arn:aws:iam::{account.account_id}:policy/mine/local-b")
    iam.attach_user_policy(UserName="holder", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    everything = [p["Arn"] for p in iam.list_policies(MaxItems=1000)["Policies"]]
    builtins = [arn for arn in everything if arn.startswith("arn:aws:iam::aws:")]
    assert everything[:len(builtins)] == builtins and len(builtins) > 3
    assert [arn.rsplit("/", 1)[1] for arn in everything[len(builtins):]] == ["local-a", "local-b", "local-c"]
    for size in (1, 3, len(builtins)):
        walked = [p["Arn"] for page in iam.get_paginator("list_policies").paginate(PaginationConfig={"PageSize": size})
                  for p in page["Policies"]]
        assert walked == everything
    attached = [p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(
        OnlyAttached=True, PaginationConfig={"PageSize": 1}) for p in page["Policies"]]
    assert attached == ["ReadOnlyAccess", "local-b"]
    mine = [p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(
        Scope="Local", PathPrefix="/mine/", PaginationConfig={"PageSize": 1}) for p in page["Policies"]]
    assert mine == ["local-a", "local-b"]
    marker = iam.list_policies(Scope="Local", MaxItems=1)["Marker"]
    _refused(iam.list_policies, Scope="All", Marker=marker)
    _refused(iam.list_policies, Scope="Local", OnlyAttached=True, Marker=marker)


def test_entities_for_policy_page_across_kinds_and_filters(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    for name in ("u2", "u1"):
        iam.create_user(UserName=name, Path="/ops/" if name == "u2" else "/")
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=arn)
    for name in ("g2", "g1"):
        iam.create_group(GroupName=name, Path="/ops/")
        iam.attach_group_policy(GroupName=name, PolicyArn=arn)
    for name in ("r1", "r2"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)

    def walk(size: int, **kwargs: Any) -> list[str]:
        pages = iam.get_paginator("list_entities_for_policy").paginate(
            PolicyArn=arn, **kwargs, PaginationConfig={"PageSize": size})
        return [e.get("UserName") or e.get("GroupName") or e.get("RoleName")
                for page in pages for noun in ("PolicyUsers", "PolicyGroups", "PolicyRoles") for e in page[noun]]

    for size in (1, 2, 5):
        assert walk(size) == ["u1", "u2", "g1", "g2", "r1", "r2"]
        assert walk(size, PolicyUsageFilter="PermissionsBoundary") == ["u1", "u2", "r1", "r2"]
    assert walk(1, PathPrefix="/ops/") == ["u2", "g1", "g2"]
    assert walk(1, EntityFilter="Role") == ["r1", "r2"]
    marker = iam.list_entities_for_policy(PolicyArn=arn, MaxItems=1)["Marker"]
    _refused(iam.list_entities_for_policy, PolicyArn=arn, EntityFilter="User", Marker=marker)
    _refused(iam.list_entities_for_policy, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess", Marker=marker)


def test_access_keys_page_and_keep_their_place(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="keyed")
    first_key = iam.create_access_key(UserName="keyed")["AccessKey"]["AccessKeyId"]
    second_key = iam.create_access_key(UserName="keyed")["AccessKey"]["AccessKeyId"]
    first = iam.list_access_keys(UserName="keyed", MaxItems=1)
    assert [k["AccessKeyId"] for k in first["AccessKeyMetadata"]] == [first_key] and first["IsTruncated"] is True
    iam.delete_access_key(UserName="keyed", AccessKeyId=first_key)
    rest = iam.list_access_keys(UserName="keyed", Marker=first["Marker"])
    assert [k["AccessKeyId"] for k in rest["AccessKeyMetadata"]] == [second_key] and rest["IsTruncated"] is False
    walked = [k["AccessKeyId"] for page in iam.get_paginator("list_access_keys").paginate(
        UserName="keyed", PaginationConfig={"PageSize": 1}) for k in page["AccessKeyMetadata"]]
    assert walked == [second_key]
    _refused(iam.list_access_keys, Marker=first["Marker"])  # the root user's keys: another list
    _refused(iam.list_access_keys, UserName="keyed", Marker="bogus")
    _refused(world.iam(account.root, validate=False).list_access_keys, UserName="keyed", MaxItems=1001)


# ---- a page reads a page ------------------------------------------------------------------------------


@pytest.fixture
def loaded_users() -> Iterator[list[str]]:
    """Names of the IAM user rows the ORM builds while the test runs (every row read into a user)."""
    loaded: list[str] = []

    def count(user: IamUser, _context: object) -> None:
        loaded.append(user.name)

    event.listen(IamUser, "load", count)
    try:
        yield loaded
    finally:
        event.remove(IamUser, "load", count)


def _bulk_users(world: AwsWorld, account: Account, count: int, group: str | None = None) -> list[str]:
    """`count` users (and their membership of `group`) put straight into the store: what 300 CreateUser calls
    would leave."""
    names = [f"bulk-{i:04d}" for i in range(count)]

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            group_row = await uow.groups.by_name(account.account_id, group) if group else None
            users = [IamUser(id=new_iam_id("AIDA"), account_id=account.account_id, name=name,
                             name_lower=name.lower(), path="/bulk/" if name.endswith("7") else "/",
                             created_at=deps.clock()) for name in names]
            uow.db.add_all(users)
            await uow.db.flush()
            if group_row is not None:
                uow.db.add_all(GroupMembership(group_id=group_row.id, user_id=user.id, user_name_lower=user.name_lower)
                               for user in users)

    world.run(add)
    return names


def test_a_page_of_users_reads_no_more_rows_than_it_shows(world: AwsWorld, account: Account,
                                                          loaded_users: list[str]) -> None:
    iam = world.iam(account.root)
    iam.create_group(GroupName="everyone")
    names = _bulk_users(world, account, 300, group="everyone")
    loaded_users.clear()
    first = iam.list_users(MaxItems=10)
    assert [u["UserName"] for u in first["Users"]] == names[:10]
    assert 10 <= len(loaded_users) <= 11, len(loaded_users)
    marker = first["Marker"]
    for _ in range(20):  # a deep page costs what the first one did
        marker = iam.list_users(MaxItems=10, Marker=marker)["Marker"]
    loaded_users.clear()
    deep = iam.list_users(MaxItems=10, Marker=marker)
    assert [u["UserName"] for u in deep["Users"]] == names[210:220]
    assert 10 <= len(loaded_users) <= 11, len(loaded_users)

    loaded_users.clear()
    filtered = iam.list_users(PathPrefix="/bulk/", MaxItems=10)
    assert [u["UserName"] for u in filtered["Users"]] == [n for n in names if n.endswith("7")][:10]
    assert 10 <= len(loaded_users) <= 11, len(loaded_users)

    loaded_users.clear()
    members = iam.get_group(GroupName="everyone", MaxItems=10)
    assert [u["UserName"] for u in members["Users"]] == names[:10] and members["IsTruncated"] is True
    assert 10 <= len(loaded_users) <= 11, len(loaded_users)
    loaded_users.clear()
    walked = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 100})
              for u in page["Users"]]
    assert walked == names and len(loaded_users) <= 300 + 3, len(loaded_users)


def test_a_page_of_policies_reads_no_more_policy_rows_than_it_shows(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    names = [f"bulk-{i:04d}" for i in range(300)]

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            uow.db.add_all(ManagedPolicy(arn=f"arn:aws:iam::{account.account_id}:policy/{name}",
                                         id=new_iam_id("ANPA"), account_id=account.account_id, name=name, path="/",
                                         document=DOCUMENT, created_at=deps.clock(), updated_at=deps.clock())
                           for name in names)

    world.run(add)
    loaded: list[str] = []

    def count(policy: ManagedPolicy, _context: object) -> None:
        loaded.append(policy.name)

    event.listen(ManagedPolicy, "load", count)
    try:
        first = iam.list_policies(Scope="Local", MaxItems=10)
        assert [p["PolicyName"] for p in first["Policies"]] == names[:10] and 10 <= len(loaded) <= 11, len(loaded)
        marker = iam.list_policies(MaxItems=10)["Marker"]  # the built-in policies, then the first local ones
        loaded.clear()
        second = iam.list_policies(MaxItems=10, Marker=marker)
        assert len(second["Policies"]) == 10 and 10 <= len(loaded) <= 11, len(loaded)
    finally:
        event.remove(ManagedPolicy, "load", count)


def test_path_prefix_is_matched_exactly(world: AwsWorld, account: Account) -> None:
    """LIKE's wildcards and the case of letters in a PathPrefix are plain characters, on every backend."""
    iam = world.iam(account.root)
    for name, path in (("pct", "/a%b/"), ("any", "/axb/"), ("under", "/a_b/"), ("upper", "/A_B/"), ("deep", "/a_b/c/")):
        iam.create_user(UserName=name, Path=path)
        iam.create_group(GroupName=name, Path=path)
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)
    for operation, items, key in (("list_users", "Users", "UserName"), ("list_groups", "Groups", "GroupName"),
                                  ("list_roles", "Roles", "RoleName")):
        listed = getattr(iam, operation)
        assert [e[key] for e in listed(PathPrefix="/a_b/")[items]] == ["deep", "under"]
        assert [e[key] for e in listed(PathPrefix="/a%")[items]] == ["pct"]
        assert [e[key] for e in listed(PathPrefix="/A")[items]] == ["upper"]


def test_member_pages_follow_renames(world: AwsWorld, account: Account) -> None:
    """GetGroup and ListEntitiesForPolicy read their order from the join tables' copy of the member's name:
    UpdateUser NewUserName and UpdateGroup NewGroupName move the member in the same call."""
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    iam.create_group(GroupName="team")
    for name in ("anna", "bert", "carl"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="team", UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    for name in ("g-a", "g-b"):
        iam.create_group(GroupName=name)
        iam.attach_group_policy(GroupName=name, PolicyArn=arn)
    marker = iam.get_group(GroupName="team", MaxItems=1)["Marker"]  # after anna
    iam.update_user(UserName="anna", NewUserName="zed")
    iam.update_group(GroupName="g-a", NewGroupName="g-z")
    assert [u["UserName"] for u in iam.get_group(GroupName="team")["Users"]] == ["bert", "carl", "zed"]
    assert [u["UserName"] for u in iam.get_group(GroupName="team", Marker=marker)["Users"]] == ["bert", "carl", "zed"]
    listed = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in listed["PolicyUsers"]] == ["bert", "carl", "zed"]
    assert [g["GroupName"] for g in listed["PolicyGroups"]] == ["g-b", "g-z"]
