"""Identity Store users: CreateUser, DescribeUser, ListUsers, UpdateUser, DeleteUser, GetUserId."""

from __future__ import annotations

from ....errors import InvalidValue
from ....services.identity_center import identity_store as ids
from ....services.identity_center.directory_profile import profile_of
from ...json_values import JsonObject
from ...members import Member, structure, text
from ..request import JsonRequest
from . import members as m
from . import shapes
from .table import IDENTITY_STORE

_TEXT = text("", 1, 1024, m._TEXT).sensitive()
_SCALARS = ("DisplayName", "NickName", "ProfileUrl", "UserType", "Title", "PreferredLanguage", "Locale", "Timezone",
            "Website", "Birthdate")
PROFILE: tuple[Member, ...] = (
    structure("Name"), *(_TEXT.named(n) for n in _SCALARS[:3]), Member("Emails", "structure-list", 1, 1),
    Member("Addresses", "structure-list", 1, 1), Member("PhoneNumbers", "structure-list", 1, 1),
    *(_TEXT.named(n) for n in _SCALARS[3:8]), Member("Photos", "structure-list", 1, 3),
    *(_TEXT.named(n) for n in _SCALARS[8:]), Member("Roles", "structure-list", 1, 1))


@IDENTITY_STORE.operation("CreateUser", action="identitystore:CreateUser", audit="identitystore:CreateUser",
                          inputs=(m.STORE, m.USER_NAME, *PROFILE))
async def create_user(r: JsonRequest) -> JsonObject:
    profile = profile_of({member.name: r.input.value(member.name) for member in PROFILE})
    user = await ids.create_user(r.call, r.input.text("IdentityStoreId") or "", r.input.text("UserName"), profile)
    return {**shapes.user_ref(user), "Revision": str(user.revision)}


@IDENTITY_STORE.operation("DescribeUser", action="identitystore:DescribeUser", inputs=(m.STORE, m.USER_ID))
async def describe_user(r: JsonRequest) -> JsonObject:
    return shapes.user(await ids.describe_user(r.call, r.input.text("IdentityStoreId") or "",
                                               r.input.text("UserId") or ""))


@IDENTITY_STORE.operation("ListUsers", action="identitystore:ListUsers", inputs=(m.STORE, *m.PAGING, m.FILTERS))
async def list_users(r: JsonRequest) -> JsonObject:
    found = m.filter_of(r.input, ("UserName", "DisplayName"))
    page = await ids.list_users(r.call, r.input.text("IdentityStoreId") or "",
                                user_name=found[1] if found and found[0] == "username" else None,
                                display_name=found[1] if found and found[0] == "displayname" else None,
                                page=m.page_request(r.input))
    return {"Users": [shapes.user(u) for u in page.items], **m.next_token(page)}


@IDENTITY_STORE.operation("UpdateUser", action="identitystore:UpdateUser", audit="identitystore:UpdateUser",
                          inputs=(m.STORE, m.USER_ID, m.OPERATIONS, m.REVISION))
async def update_user(r: JsonRequest) -> JsonObject:
    user = await ids.update_user(r.call, r.input.text("IdentityStoreId") or "", r.input.text("UserId") or "",
                                 m.operations(r.input), m.revision(r.input))
    return {**shapes.user_ref(user), "Revision": str(user.revision)}


@IDENTITY_STORE.operation("DeleteUser", action="identitystore:DeleteUser", audit="identitystore:DeleteUser",
                          inputs=(m.STORE, m.USER_ID, m.REVISION))
async def delete_user(r: JsonRequest) -> JsonObject:
    await ids.delete_user(r.call, r.input.text("IdentityStoreId") or "", r.input.text("UserId") or "",
                          m.revision(r.input))
    return {}


@IDENTITY_STORE.operation("GetUserId", action="identitystore:GetUserId",
                          inputs=(m.STORE, m.ALTERNATE_IDENTIFIER))
async def get_user_id(r: JsonRequest) -> JsonObject:
    external, unique = m.alternate_identifier(r.input)
    store = r.input.text("IdentityStoreId") or ""
    if external is not None:
        user = await ids.user_id_of(r.call, store, external_id=external)
    else:
        assert unique is not None
        path, value = unique
        if path not in ("username", "emails.value") or not isinstance(value, str) or not value:
            raise InvalidValue("UniqueAttribute must be userName or emails.value with a string value.")
        user = await (ids.user_id_of(r.call, store, user_name=value) if path == "username"
                      else ids.user_id_of(r.call, store, email=value))
    return shapes.user_ref(user)
