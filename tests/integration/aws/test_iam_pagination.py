"""Keyset pagination of the IAM lists through boto3: a stable order across pages, no skips or repeats when rows
come and go between pages, markers refused when forged, edited or taken from another list or account, MaxItems
bounds, botocore's paginators, and a page that reads no more rows than it shows (plus one)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import event

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.core.identifiers import new_iam_id
from vestibule.core.webauthn import CredentialKind
from vestibule.services import webauthn
from vestibule.services.context import Client, Deps
from vestibule.services.webauthn import Owner
from vestibule.store.models import GroupMembership, IamUser, ManagedPolicy, MfaDevice
from webauthn_authenticator import SoftAuthenticator

DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
INITIAL = [f"m-{i:02d}" for i in range(6)]
CLIENT = Client(ip="127.0.0.1", user_agent="test", browser_hash="b")


@dataclass
class Listing:
    """One list operation of one account: how to list it, and how to add and remove one of its items."""

    operation: str  # the boto3 method
    items: str  # the answer's list member
    name: Callable[[Any], str]  # an item of the answer's list (a structure, or a name)
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
        "ListVirtualMFADevices": lambda: Listing(
            "list_virtual_mfa_devices", "VirtualMFADevices", lambda d: d["SerialNumber"].rsplit("/", 1)[1],
            lambda n: iam.create_virtual_mfa_device(VirtualMFADeviceName=n),
            lambda n: iam.delete_virtual_mfa_device(SerialNumber=f"arn:aws:iam::{account.account_id}:mfa/{n}"), {}),
        "ListMFADeviceTags": lambda: _tags(iam, "list_mfa_device_tags", "mfa_device",
                                           {"SerialNumber": f"arn:aws:iam::{account.account_id}:mfa/tagged"}),
        "ListAttachedUserPolicies": lambda: _attached_to(iam, account, "user"),
        "ListAttachedGroupPolicies": lambda: _attached_to(iam, account, "group"),
        "ListAttachedRolePolicies": lambda: _attached_to(iam, account, "role"),
        "ListUserPolicies": lambda: _inline_of(iam, "user"),
        "ListGroupPolicies": lambda: _inline_of(iam, "group"),
        "ListRolePolicies": lambda: _inline_of(iam, "role"),
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


def _openssh(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def _self_signed(name: str) -> str:
    key = rsa.generate_private_key(65537, 2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.example.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _register_security_key(world: AwsWorld, owner: Owner, name: str) -> str:
    async def run(deps: Deps) -> str:
        rp = webauthn.relying_party(deps)
        key = SoftAuthenticator(origin=rp.origin, rp_id=rp.id)
        ceremony = await webauthn.begin_registration(deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
        details = await webauthn.finish_registration(deps, CLIENT, owner, ceremony.flow_id,
                                                     key.register(ceremony.options), name)
        assert details.serial
        return details.serial

    return world.run(run)


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


_MEMBERS = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def _entity(iam: Any, kind: str, name: str) -> None:
    if kind == "role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    else:
        getattr(iam, f"create_{kind}")(**{_MEMBERS[kind]: name})


def _attached_to(iam: Any, account: Account, kind: str) -> Listing:
    """The policies attached to one user, group or role (at most 10: the quota)."""
    _entity(iam, kind, "holder")
    holder = {_MEMBERS[kind]: "holder"}

    arn = f"arn:aws:iam::{account.account_id}:policy/listed/"

    def make(name: str) -> None:
        iam.create_policy(PolicyName=name, PolicyDocument=DOCUMENT, Path="/listed/")
        getattr(iam, f"attach_{kind}_policy")(**holder, PolicyArn=arn + name)

    return Listing(f"list_attached_{kind}_policies", "AttachedPolicies", lambda p: p["PolicyName"], make,
                   lambda n: getattr(iam, f"detach_{kind}_policy")(**holder, PolicyArn=arn + n), holder)


def _inline_of(iam: Any, kind: str) -> Listing:
    _entity(iam, kind, "holder")
    holder = {_MEMBERS[kind]: "holder"}
    return Listing(f"list_{kind}_policies", "PolicyNames", lambda n: n,
                   lambda n: getattr(iam, f"put_{kind}_policy")(**holder, PolicyName=n, PolicyDocument=DOCUMENT),
                   lambda n: getattr(iam, f"delete_{kind}_policy")(**holder, PolicyName=n), holder)


def _tags(iam: Any, operation: str, kind: str, args: dict[str, Any]) -> Listing:
    if kind == "mfa_device":
        iam.create_virtual_mfa_device(VirtualMFADeviceName="tagged")
    elif kind == "user":
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
            "server_certificate": "ServerCertificate", "mfa_device": "MFADevice"}[kind]
    tag, untag = getattr(iam, f"tag_{kind}"), getattr(iam, f"untag_{kind}")
    return Listing(operation, "Tags", lambda t: t["Key"],
                   lambda n: tag(**args, Tags=[{"Key": n, "Value": noun}]), lambda n: untag(**args, TagKeys=[n]), args)


KINDS = ["ListUsers", "ListGroups", "ListRoles", "ListPolicies", "GetGroup", "ListEntitiesForPolicy",
         "ListGroupsForUser", "ListUserTags", "ListRoleTags", "ListPolicyTags", "ListInstanceProfiles",
         "ListInstanceProfilesForRole", "ListInstanceProfileTags", "ListServerCertificates",
         "ListServerCertificateTags", "ListVirtualMFADevices", "ListMFADeviceTags", "ListAttachedUserPolicies",
         "ListAttachedGroupPolicies", "ListAttachedRolePolicies", "ListUserPolicies", "ListGroupPolicies",
         "ListRolePolicies"]
PAGINATORS = {"ListUsers": "list_users", "ListGroups": "list_groups", "ListRoles": "list_roles",
              "ListPolicies": "list_policies", "GetGroup": "get_group",
              "ListEntitiesForPolicy": "list_entities_for_policy", "ListGroupsForUser": "list_groups_for_user",
              "ListUserTags": "list_user_tags", "ListRoleTags": "list_role_tags", "ListPolicyTags": "list_policy_tags",
              "ListInstanceProfiles": "list_instance_profiles",
              "ListInstanceProfilesForRole": "list_instance_profiles_for_role",
              "ListInstanceProfileTags": "list_instance_profile_tags",
              "ListServerCertificates": "list_server_certificates",
              "ListServerCertificateTags": "list_server_certificate_tags",
              **{kind: "_".join(part.lower() for part in re.findall("[A-Z][a-z]+|MFA", kind))
                 for kind in ("ListVirtualMFADevices", "ListMFADeviceTags", "ListAttachedUserPolicies",
                              "ListAttachedGroupPolicies", "ListAttachedRolePolicies", "ListUserPolicies",
                              "ListGroupPolicies", "ListRolePolicies")}}


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
    assert any("m-00" in part for part in key)  # the last item's sort key (policies: after "local"; a serial)

    def encoded(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()

    edited = [encoded([part.replace("m-00", "m-03") for part in key]) + "." + tag,  # another key, old tag
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
    if kind in ("ListUsers", "ListGroups", "ListRoles", "ListInstanceProfiles", "ListServerCertificates",
                "ListAttachedUserPolicies", "ListAttachedGroupPolicies", "ListAttachedRolePolicies"):  # prefix
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


# ---- lists bounded by a quota, and fixed results (a job's, a simulation's) ------------------------------------


def _walk(call: Callable[..., dict[str, Any]], items: str, name: Callable[[Any], str], **kwargs: Any) -> list[str]:
    """Every item, one page of one at a time, checking each page's IsTruncated against its Marker."""
    seen: list[str] = []
    marker: str | None = None
    while True:
        answer = call(**kwargs, MaxItems=1, **({"Marker": marker} if marker else {}))
        assert answer["IsTruncated"] is ("Marker" in answer) and len(answer[items]) <= 1
        seen += [name(item) for item in answer[items]]
        marker = answer.get("Marker")
        if marker is None:
            return seen


def _enable_totp(world: AwsWorld, iam: Any, user: str, device: str) -> str:
    made = iam.create_virtual_mfa_device(VirtualMFADeviceName=device)["VirtualMFADevice"]
    totp = pyotp.TOTP(made["Base32StringSeed"].decode())
    now = world.clock()
    iam.enable_mfa_device(UserName=user, SerialNumber=made["SerialNumber"], AuthenticationCode1=totp.at(now - 30),
                          AuthenticationCode2=totp.at(now))
    serial: str = made["SerialNumber"]
    return serial


def test_mfa_devices_page_by_serial_with_security_keys(world: AwsWorld, account: Account) -> None:
    """ListMFADevices pages a user's TOTP devices and security keys in one order, by serial (`mfa/` before `u2f/`);
    ListVirtualMFADevices pages the account's devices from the store, AssignmentStatus in the query."""
    iam = world.iam(account.root)
    iam.create_user(UserName="alice")
    phones = [_enable_totp(world, iam, "alice", name) for name in ("phone-b", "phone-a")]
    alice_id = next(u["UserId"] for u in iam.list_users()["Users"] if u["UserName"] == "alice")
    key = _register_security_key(world, Owner(f"user:{alice_id}", "alice", "alice", account.user_arn("alice"),
                                              account.account_id, "alice"), "Blue key")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    serial = "SerialNumber"
    assert _walk(iam.list_mfa_devices, "MFADevices", lambda d: d[serial], UserName="alice") == [*sorted(phones), key]
    first = iam.list_mfa_devices(UserName="alice", MaxItems=1)
    _refused(iam.list_mfa_devices, Marker=first["Marker"])  # the root user's devices: another list
    _refused(iam.list_mfa_devices, UserName="alice", Marker="bogus")
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=sorted(phones)[0])  # the page's own item goes
    rest = iam.list_mfa_devices(UserName="alice", Marker=first["Marker"])
    assert [d[serial] for d in rest["MFADevices"]] == [sorted(phones)[1], key]

    def devices(status: str) -> list[str]:
        return _walk(iam.list_virtual_mfa_devices, "VirtualMFADevices", lambda d: d[serial].rsplit("/", 1)[1],
                     AssignmentStatus=status)

    assert devices("Any") == ["phone-a", "phone-b", "spare"]
    assert devices("Assigned") == ["phone-b"] and devices("Unassigned") == ["phone-a", "spare"]
    marker = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned", MaxItems=1)["Marker"]
    _refused(iam.list_virtual_mfa_devices, AssignmentStatus="Any", Marker=marker)
    assert [d[serial].rsplit("/", 1)[1] for d in iam.list_virtual_mfa_devices(
        AssignmentStatus="Unassigned", Marker=marker)["VirtualMFADevices"]] == ["spare"]
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(PaginationConfig={"PageSize": 2})
    assert [len(page["VirtualMFADevices"]) for page in pages] == [2, 1]


def test_virtual_mfa_pages_read_a_page_of_rows(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            uow.db.add_all(MfaDevice(account_id=account.account_id, name=f"d-{i:03d}", secret_sealed="x",
                                     serial=f"arn:aws:iam::{account.account_id}:mfa/d-{i:03d}",
                                     created_at=deps.clock()) for i in range(300))

    world.run(add)
    loaded: list[str] = []

    def count(device: MfaDevice, _context: object) -> None:
        loaded.append(device.serial)

    event.listen(MfaDevice, "load", count)
    try:
        first = iam.list_virtual_mfa_devices(MaxItems=10)
        assert len(first["VirtualMFADevices"]) == 10 and 10 <= len(loaded) <= 11, len(loaded)
        loaded.clear()
        deep = iam.list_virtual_mfa_devices(MaxItems=10, Marker=first["Marker"])
        assert deep["VirtualMFADevices"][0]["SerialNumber"].endswith("d-010") and 10 <= len(loaded) <= 11
    finally:
        event.remove(MfaDevice, "load", count)


def test_user_credentials_page_and_keep_their_place(world: AwsWorld, account: Account) -> None:
    """SSH keys (5 a user), signing certificates (2) and service-specific credentials (2 a service; with AllUsers
    the account's, read page by page from the store), oldest first."""
    iam = world.iam(account.root)
    for user in ("alice", "bob"):
        iam.create_user(UserName=user)
    ssh = [iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=_openssh(rsa.generate_private_key(
        65537, 2048)))["SSHPublicKey"]["SSHPublicKeyId"] for _ in range(3)]
    assert _walk(iam.list_ssh_public_keys, "SSHPublicKeys", lambda k: k["SSHPublicKeyId"], UserName="alice") == ssh
    marker = iam.list_ssh_public_keys(UserName="alice", MaxItems=1)["Marker"]
    _refused(iam.list_ssh_public_keys, UserName="bob", Marker=marker)
    iam.delete_ssh_public_key(UserName="alice", SSHPublicKeyId=ssh[0])
    assert [k["SSHPublicKeyId"] for k in iam.list_ssh_public_keys(UserName="alice", Marker=marker)[
        "SSHPublicKeys"]] == ssh[1:]

    certificates = [iam.upload_signing_certificate(UserName="alice", CertificateBody=_self_signed(f"c{i}"))[
        "Certificate"]["CertificateId"] for i in range(2)]
    assert _walk(iam.list_signing_certificates, "Certificates", lambda c: c["CertificateId"],
                 UserName="alice") == certificates
    marker = iam.list_signing_certificates(UserName="alice", MaxItems=1)["Marker"]
    _refused(iam.list_signing_certificates, Marker=marker)  # the root user's certificates
    _refused(iam.list_signing_certificates, UserName="alice", Marker=marker[:-1])

    made = [iam.create_service_specific_credential(UserName=user, ServiceName=service)[
        "ServiceSpecificCredential"]["ServiceSpecificCredentialId"]
        for user in ("alice", "bob") for service in ("codecommit.amazonaws.com", "cassandra.amazonaws.com")]
    listed = iam.list_service_specific_credentials
    credential = "ServiceSpecificCredentialId"
    assert _walk(listed, "ServiceSpecificCredentials", lambda c: c[credential], UserName="alice") == made[:2]
    assert _walk(listed, "ServiceSpecificCredentials", lambda c: c[credential], AllUsers=True) == made
    assert _walk(listed, "ServiceSpecificCredentials", lambda c: c[credential], AllUsers=True,
                 ServiceName="cassandra.amazonaws.com") == [made[1], made[3]]
    first = listed(AllUsers=True, MaxItems=2)
    assert [c["UserName"] for c in first["ServiceSpecificCredentials"]] == ["alice", "alice"]
    _refused(listed, UserName="alice", Marker=first["Marker"])
    _refused(listed, AllUsers=True, ServiceName="cassandra.amazonaws.com", Marker=first["Marker"])
    iam.delete_service_specific_credential(UserName="bob", ServiceSpecificCredentialId=made[2])
    assert [c[credential] for c in listed(AllUsers=True, Marker=first["Marker"])[
        "ServiceSpecificCredentials"]] == [made[3]]


def test_policy_versions_and_attached_policies_page(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="versioned", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=DOCUMENT)
    versions = _walk(iam.list_policy_versions, "Versions", lambda v: v["VersionId"], PolicyArn=arn)
    assert versions == ["v5", "v4", "v3", "v2", "v1"]
    marker = iam.list_policy_versions(PolicyArn=arn, MaxItems=2)["Marker"]
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn, Marker=marker)["Versions"]] == ["v2", "v1"]
    _refused(iam.list_policy_versions, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess", Marker=marker)

    # an ARN of 600 characters: the marker carries (name, ID), never the ARN, so it stays under 320
    iam.create_user(UserName="holder")
    deep = "/" + "p" * 500 + "/"
    long_arns = [iam.create_policy(PolicyName=f"long-{i}", Path=deep, PolicyDocument=DOCUMENT)["Policy"]["Arn"]
                 for i in range(3)]
    for long_arn in [*long_arns, "arn:aws:iam::aws:policy/ReadOnlyAccess"]:
        iam.attach_user_policy(UserName="holder", PolicyArn=long_arn)
    first = iam.list_attached_user_policies(UserName="holder", MaxItems=1)
    assert len(first["Marker"]) <= 320
    assert _walk(iam.list_attached_user_policies, "AttachedPolicies", lambda p: p["PolicyName"],
                 UserName="holder") == ["ReadOnlyAccess", "long-0", "long-1", "long-2"]
    assert _walk(iam.list_attached_user_policies, "AttachedPolicies", lambda p: p["PolicyName"],
                 UserName="holder", PathPrefix=deep) == ["long-0", "long-1", "long-2"]


def test_account_authorization_details_markers_are_signed(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    for name in ("u1", "u2", "u3"):
        iam.create_user(UserName=name)
    first = iam.get_account_authorization_details(Filter=["User"], MaxItems=1)
    body, tag = first["Marker"].split(".")
    key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert key == ["U", "u1"]
    forged = base64.urlsafe_b64encode(b'["U","u2"]').rstrip(b"=").decode() + "." + tag
    unsigned = base64.urlsafe_b64encode(b"Uu1").decode()  # the old, unsigned spelling
    for bad in (forged, unsigned, body):
        _refused(iam.get_account_authorization_details, Filter=["User"], Marker=bad)
    _refused(iam.get_account_authorization_details, Filter=["User", "Role"], Marker=first["Marker"])  # filter
    other = world.new_account()
    _refused(world.iam(other.root).get_account_authorization_details, Filter=["User"], Marker=first["Marker"])
    rest = iam.get_account_authorization_details(Filter=["User"], Marker=first["Marker"])
    assert [u["UserName"] for u in rest["UserDetailList"]] == ["u2", "u3"]


def test_simulation_and_last_accessed_pages_are_signed_and_bound(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    actions = ["iam:GetUser", "iam:ListUsers", "iam:CreateUser"]
    arn = account.user_arn("sim")
    walked = _walk(iam.simulate_principal_policy, "EvaluationResults", lambda r: r["EvalActionName"],
                   PolicySourceArn=arn, ActionNames=actions)
    assert walked == actions
    marker = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, MaxItems=1)["Marker"]
    _refused(iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=[*actions[:2], "iam:DeleteUser"],
             Marker=marker)  # another simulation's results
    _refused(iam.simulate_custom_policy, PolicyInputList=[DOCUMENT], ActionNames=actions, Marker=marker[:-2] + "AA")
    _refused(iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=actions, Marker="1")  # an offset
    custom = _walk(iam.simulate_custom_policy, "EvaluationResults", lambda r: r["EvalDecision"],
                   PolicyInputList=[DOCUMENT], ActionNames=actions)
    assert custom == ["allowed", "implicitDeny", "implicitDeny"]  # DOCUMENT allows iam:GetUser only

    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    report = iam.get_service_last_accessed_details(JobId=job)
    services = [s["ServiceNamespace"] for s in report["ServicesLastAccessed"]]
    assert len(services) >= 2
    assert _walk(iam.get_service_last_accessed_details, "ServicesLastAccessed", lambda s: s["ServiceNamespace"],
                 JobId=job) == services
    other_job = iam.generate_service_last_accessed_details(Arn=account.user_arn("sim"), Granularity="ACTION_LEVEL")
    marker = iam.get_service_last_accessed_details(JobId=job, MaxItems=1)["Marker"]
    _refused(iam.get_service_last_accessed_details, JobId=other_job["JobId"], Marker=marker)
    _refused(iam.get_service_last_accessed_details, JobId=job, Marker="1")


def test_deleting_a_full_group_or_held_role_reads_one_member(world: AwsWorld, account: Account,
                                                             loaded_users: list[str]) -> None:
    """DeleteGroup and DeleteRole refuse while a member (a holding instance profile) is left: one row tells."""
    iam = world.iam(account.root)
    iam.create_group(GroupName="everyone")
    _bulk_users(world, account, 300, group="everyone")
    loaded_users.clear()
    with pytest.raises(ClientError) as err:
        iam.delete_group(GroupName="everyone")
    assert error_code(err.value) == "DeleteConflict" and len(loaded_users) <= 1, len(loaded_users)
    iam.create_role(RoleName="held", AssumeRolePolicyDocument=TRUST)
    for name in ("p1", "p2"):
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName="held")
    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName="held")
    assert error_code(err.value) == "DeleteConflict"
