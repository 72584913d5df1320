"""Contract: the Identity Center directory (services/identity_center/directory.py over `uow.directory`) on SQLite
and PostgreSQL: the use cases SCIM and the portal reuse, without the Identity Store API in front."""

from __future__ import annotations

import asyncio

import pytest

from vestibule.errors import AlreadyExists, InvalidValue, NotFound, StaleRevision
from vestibule.services.identity_center import directory as d
from vestibule.services.identity_center.directory_profile import AttributeOperation, profile_of
from vestibule.store.repositories import Store, UnitOfWork

STORE = "d-0123456789"
OTHER = "d-abcdefabcd"


def _profile(email: str | None = None, display: str | None = None) -> d.UserProfile:
    return profile_of({"DisplayName": display, "Emails": [{"Value": email, "Primary": True}] if email else None})


async def test_users_are_kept_per_store_with_every_lookup(store: Store) -> None:
    async with store.unit() as uow:
        jane = await d.create_user(uow, STORE, "Jane", _profile("Jane@Example.com", "Jane D"),
                                   [d.ExternalId("okta", "00u1")], actor="scim", now=1.0)
        twin = await d.create_user(uow, OTHER, "jane", _profile(), actor="scim", now=1.0)  # another store: allowed
        with pytest.raises(AlreadyExists):
            await d.create_user(uow, STORE, "JANE", _profile(), actor="scim", now=1.0)
        with pytest.raises(AlreadyExists):
            await d.create_user(uow, STORE, "jim", _profile(), [d.ExternalId("okta", "00u1")], actor="x", now=1.0)
    async with store.unit() as uow:
        assert jane.id.startswith("0123456789-") and jane.email == "Jane@Example.com"
        assert (await d.user_by_name(uow, STORE, "jANE")) == jane
        assert await d.get_user(uow, OTHER, jane.id) is None and await d.user_exists(uow, OTHER, twin.id)
        assert [u.id for u in (await d.find_users(uow, STORE, email="jane@example.COM")).items] == [jane.id]
        found = await d.find_users(uow, STORE, external_id=d.ExternalId("okta", "00u1"))
        assert [u.id for u in found.items] == [jane.id]
        assert (await d.find_users(uow, STORE, external_id=d.ExternalId("okta", "other"))).items == ()
        assert (await d.find_users(uow, STORE, display_name="Jane D")).items == (jane,)


async def test_pages_follow_names(store: Store) -> None:
    async with store.unit() as uow:
        made = [(await d.create_user(uow, STORE, name, _profile(), actor="a", now=1.0)).id
                for name in ("u3", "U1", "u0", "u4", "u2")]
    made = [made[2], made[1], made[4], made[0], made[3]]  # by user name without case
    seen: list[list[str]] = []
    after: d.Key | None = None
    async with store.unit() as uow:
        while True:
            page = await d.find_users(uow, STORE, after=after, limit=2)
            seen.append([u.id for u in page.items])
            after = page.next_after
            if after is None:
                break
    assert seen == [made[0:2], made[2:4], made[4:]]


async def test_updates_replace_status_password_and_revisions(store: Store) -> None:
    async with store.unit() as uow:
        user = await d.create_user(uow, STORE, "kim", _profile("kim@example.com"), actor="a", now=1.0)
        changed = await d.update_user(uow, STORE, user.id, [AttributeOperation("name.familyName", "Lee"),
                                                            AttributeOperation("emails")], actor="b", now=2.0)
        assert changed.profile.name is not None and changed.profile.name.family_name == "Lee"
        assert changed.email is None and changed.revision == 2 and changed.updated_by == "b"
        with pytest.raises(StaleRevision):
            await d.update_user(uow, STORE, user.id, [AttributeOperation("title", "x")], actor="b", now=2.0,
                                expected_revision=1)
        with pytest.raises(InvalidValue):
            await d.update_user(uow, STORE, user.id, [AttributeOperation("name.nope", "x")], actor="b", now=2.0)
        replaced = await d.replace_user(uow, STORE, user.id, "kim.lee", _profile(display="Kim Lee"),
                                        [d.ExternalId("entra", "9")], actor="scim", now=3.0, status="DISABLED")
        assert (replaced.user_name, replaced.display_name, replaced.enabled) == ("kim.lee", "Kim Lee", False)
        assert replaced.external_ids == (d.ExternalId("entra", "9"),) and replaced.profile.name is None
        enabled = await d.set_user_status(uow, STORE, user.id, "ENABLED", actor="scim", now=4.0)
        assert enabled.enabled
        with_password = await d.set_password(uow, STORE, user.id, "$argon2id$hash", must_change=True, now=5.0)
        assert (with_password.password_hash, with_password.password_must_change) == ("$argon2id$hash", True)
        assert with_password.revision == enabled.revision


async def test_memberships_principals_and_deletion_hooks(store: Store) -> None:
    deleted: list[tuple[str, str, str]] = []

    async def note(uow: UnitOfWork, identity_store_id: str, kind: d.PrincipalType, principal_id: str) -> None:
        deleted.append((identity_store_id, kind, principal_id))

    d.principal_deleted_hooks.append(note)
    try:
        async with store.unit() as uow:
            group = await d.create_group(uow, STORE, "Team", "the team", actor="a", now=1.0)
            with pytest.raises(AlreadyExists):
                await d.create_group(uow, STORE, "TEAM", actor="a", now=1.0)
            users = [(await d.create_user(uow, STORE, f"m{i}", _profile(), actor="a", now=1.0)).id
                     for i in range(2)]
            for user_id in users:
                await d.add_member(uow, STORE, group.id, user_id, actor="a", now=2.0)
            with pytest.raises(AlreadyExists):
                await d.add_member(uow, STORE, group.id, users[0], actor="a", now=2.0)
            with pytest.raises(NotFound):
                await d.add_member(uow, OTHER, group.id, users[0], actor="a", now=2.0)
        async with store.unit() as uow:
            assert sorted(await d.user_ids_for_principal(uow, STORE, "GROUP", group.id)) == sorted(users)
            assert await d.user_ids_for_principal(uow, STORE, "USER", users[0]) == [users[0]]
            assert await d.user_ids_for_principal(uow, OTHER, "GROUP", group.id) == []
            assert await d.group_ids_of_user(uow, STORE, users[1]) == [group.id]
            await d.delete_user(uow, STORE, users[0])
        async with store.unit() as uow:
            assert await d.user_ids_for_principal(uow, STORE, "GROUP", group.id) == [users[1]]
            await d.delete_group(uow, STORE, group.id)
        async with store.unit() as uow:
            assert (await d.groups_of_user(uow, STORE, users[1])).items == ()
            assert not await d.group_exists(uow, STORE, group.id)
    finally:
        d.principal_deleted_hooks.remove(note)
    assert deleted == [(STORE, "USER", users[0]), (STORE, "GROUP", group.id)]


async def test_long_names_and_emails_are_found_by_their_key(store: Store) -> None:
    long_name, long_email = "\U0001F600" * 1024, "\u00C9" * 1000 + "@x.org"
    async with store.unit() as uow:
        group = await d.create_group(uow, STORE, long_name, actor="a", now=1.0)
        user = await d.create_user(uow, STORE, "long", _profile(long_email[:1024]), actor="a", now=1.0)
        with pytest.raises(AlreadyExists):
            await d.create_group(uow, STORE, long_name, actor="a", now=1.0)
    async with store.unit() as uow:
        assert [g.id for g in (await d.find_groups(uow, STORE, display_name=long_name)).items] == [group.id]
        found = await d.find_users(uow, STORE, email=long_email[:1024].lower())
        assert [u.id for u in found.items] == [user.id]


async def test_concurrent_creations_of_one_name_leave_one(store: Store) -> None:
    async def create(name: str) -> str:
        try:
            async with store.unit() as uow:
                await d.create_user(uow, STORE, name, _profile(), actor="a", now=1.0)
        except AlreadyExists:
            return "conflict"
        return "ok"

    answers = await asyncio.gather(*(create(n) for n in ("ann", "ANN", "Ann")))
    assert sorted(answers) == ["conflict", "conflict", "ok"]
