"""The lookup a SCIM filter offers the directory is a necessary condition: every user the whole filter matches
satisfies it (checked on random filters and users), and the filters identity providers send get one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scim2_models import Email, ScimFilter, User

from vestibule.core.scim_filter import Lookup, lookup

NAMES = ["alice", "Bob", "carol"]
MAILS = ["a@example.com", "b@example.org"]


@pytest.mark.parametrize(("text", "expected"), [
    ('userName eq "bjensen"', Lookup("userName", "bjensen")),
    ('externalId eq "00u1"', Lookup("externalId", "00u1")),
    ('displayName eq "Admins"', Lookup("displayName", "Admins")),
    ('emails.value eq "a@example.com"', Lookup("emails.value", "a@example.com")),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', Lookup("userName", "x")),
    ('title eq "t" and externalId eq "e" and userName eq "u"', Lookup("userName", "u")),
    ('USERNAME eq "u"', Lookup("userName", "u")),
    ('userName eq "a" or userName eq "b"', None),
    ('not (userName eq "a")', None),
    ('userName ne "a"', None),
    ('userName sw "a"', None),
    ('emails[value eq "a@example.com"]', None),
    ('userName pr', None),
])
def test_lookup(text: str, expected: Lookup | None) -> None:
    assert lookup(ScimFilter[User[Any]](text).ast) == expected


def _comparison(attr: str, values: list[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["eq", "ne", "co", "sw", "ew"])
    return st.builds(lambda op, v: f'{attr} {op} "{v}"', ops, st.sampled_from(values))


_LEAF = st.one_of(_comparison("userName", [*NAMES, "ALICE", "b"]),
                  _comparison("externalId", ["e1", "e2"]),
                  _comparison("emails.value", MAILS),
                  st.just("title pr"))
_FILTER = st.recursive(_LEAF, lambda inner: st.one_of(
    st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
    st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    st.builds(lambda a: f"not ({a})", inner)), max_leaves=6)
_USER: st.SearchStrategy[User[Any]] = st.builds(lambda name, ext, mail, title: User(
    user_name=name, external_id=ext, title=title, emails=[Email(value=mail)] if mail else None),
    st.sampled_from(NAMES), st.sampled_from([None, "e1", "e2"]), st.sampled_from([None, *MAILS]),
    st.sampled_from([None, "Dr"]))


def _satisfies(user: User[Any], found: Lookup) -> bool:
    if found.attribute == "userName":
        return (user.user_name or "").lower() == found.value.lower()
    if found.attribute == "externalId":
        return user.external_id == found.value
    if found.attribute == "emails.value":
        return any((e.value or "").lower() == found.value.lower() for e in user.emails or [])
    return False


@settings(max_examples=300, deadline=None)
@given(_FILTER, st.lists(_USER, min_size=1, max_size=5))
def test_lookup_never_drops_a_match(text: str, users: list[User[Any]]) -> None:
    parsed = ScimFilter[User[Any]](text)
    found = lookup(parsed.ast)
    if found is None:
        return
    for user in users:
        if parsed.match(user):
            assert _satisfies(user, found), (text, user)
