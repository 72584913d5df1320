"""SCIM resources (scim2-models' User and Group) to and from the directory's values: the attributes the
directory keeps, and nothing else. The SCIM `externalId` is the directory external ID issued by `scim`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from scim2_models import Group, GroupMember, Meta, Reference, User

from . import directory_profile as profile

EXTERNAL_ID_ISSUER = "scim"


def timestamp(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC).replace(microsecond=0)


def meta(kind: str, base: str, resource_id: str, created: float, modified: float) -> Meta:
    return Meta(resource_type=kind, created=timestamp(created), last_modified=timestamp(modified),
                location=f"{base}/{kind}s/{resource_id}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def profile_of(user: User[Any]) -> profile.UserProfile:
    """The directory profile a SCIM user describes (the directory validates every value)."""
    name = None
    if user.name is not None:
        name = profile.Name(formatted=user.name.formatted, family_name=user.name.family_name,
                            given_name=user.name.given_name, middle_name=user.name.middle_name,
                            honorific_prefix=user.name.honorific_prefix,
                            honorific_suffix=user.name.honorific_suffix)
    return profile.UserProfile(
        name=name, display_name=user.display_name, nick_name=user.nick_name, profile_url=_text(user.profile_url),
        emails=tuple(profile.Email(value=e.value, type=_text(e.type), primary=e.primary) for e in user.emails or []),
        addresses=tuple(profile.Address(street_address=a.street_address, locality=a.locality, region=a.region,
                                        postal_code=a.postal_code, country=a.country, formatted=a.formatted,
                                        type=_text(a.type), primary=a.primary) for a in user.addresses or []),
        phone_numbers=tuple(profile.PhoneNumber(value=p.value, type=_text(p.type), primary=p.primary)
                            for p in user.phone_numbers or []),
        user_type=user.user_type, title=user.title, preferred_language=user.preferred_language, locale=user.locale,
        timezone=user.timezone)


def user_of(user_id: str, user_name: str, shown: profile.UserProfile, external_id: str | None, active: bool,
            resource_meta: Meta) -> User[Any]:
    name = shown.name
    return User.model_validate({
        "id": user_id,
        "externalId": external_id,
        "meta": resource_meta.model_dump(),
        "userName": user_name,
        "name": None if name is None else _camel(name),
        "displayName": shown.display_name, "nickName": shown.nick_name, "profileUrl": shown.profile_url,
        "title": shown.title, "userType": shown.user_type, "preferredLanguage": shown.preferred_language,
        "locale": shown.locale, "timezone": shown.timezone, "active": active,
        "emails": [_camel(e) for e in shown.emails] or None,
        "addresses": [_camel(a) for a in shown.addresses] or None,
        "phoneNumbers": [_camel(p) for p in shown.phone_numbers] or None,
    })


def _camel(value: object) -> dict[str, Any]:
    """A directory record as SCIM spells its sub-attributes (`family_name` -> `familyName`), unset ones left out."""
    assert dataclasses.is_dataclass(value) and not isinstance(value, type)
    out = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if item is not None:
            head, *rest = field.name.split("_")
            out[head + "".join(part.capitalize() for part in rest)] = item
    return out


def group_of(group_id: str, display_name: str, external_id: str | None, members: list[str], base: str,
             resource_meta: Meta) -> Group:
    """`members`: user IDs (a member's display is not kept, so it is not shown)."""
    return Group(id=group_id, external_id=external_id, meta=resource_meta, display_name=display_name,
                 members=[GroupMember(value=user_id, type="User", ref=Reference(f"{base}/Users/{user_id}"))
                          for user_id in members] or None)


def member_ids(group: Group) -> list[str]:
    return list(dict.fromkeys(m.value for m in group.members or [] if m.value))
