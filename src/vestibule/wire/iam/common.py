"""What every IAM operation needs: authorization, name rules, shapes."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from ...core import identifiers as ids
from ...core import policy as engine
from ...services import authorization
from ...store.models import Account, IamUser
from ...store.repositories import UnitOfWork
from ..errors import AccessDenied, NoSuchEntity, ValidationError
from ..registry import CallContext
from ..xml import Timestamp

USER_NAME = r"[\w+=,.@-]+"
PATH = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"


async def authorize(ctx: CallContext, uow: UnitOfWork, action: str, resource: str) -> None:
    """Raise AccessDenied unless the caller may perform `action` on `resource`."""
    caller = ctx.caller
    if (resource.startswith("arn:") and resource.split(":")[4:5] not in ([caller.account_id], [""])
            and not resource.startswith("arn:aws:iam::aws:")):
        raise AccessDenied(engine.access_denied_message(caller.arn, action, resource, explicit=False))
    if caller.is_root and not caller.temporary:
        return
    if caller.session_credentials and ctx.service == "iam" and not caller.mfa_authenticated:
        raise AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} "
                           "with session credentials that were issued without MFA authentication")
    if caller.is_root:
        return
    documents = await authorization.documents_for(uow, caller)
    context = authorization.request_context(caller, source_ip=ctx.source_ip, secure=ctx.secure_transport,
                                            now=ctx.deps.clock())
    allowed, explicit = authorization.decide(documents, caller.session_policy, caller, action, resource, context)
    if not allowed:
        raise AccessDenied(engine.access_denied_message(caller.arn, action, resource, explicit=explicit))


def user_arn(user: IamUser) -> str:
    return ids.user_arn(user.account_id, user.name, user.path)


async def account_of(ctx: CallContext, uow: UnitOfWork) -> Account:
    account = await uow.accounts.get(ctx.caller.account_id)
    if account is None:
        raise AccessDenied("The account of these credentials is closed.")
    return account


async def require_user(uow: UnitOfWork, account_id: str, name: str) -> IamUser:
    user = await uow.users.by_name(account_id, name)
    if user is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return user


async def target_user(ctx: CallContext, uow: UnitOfWork, action: str) -> IamUser | None:
    """The `UserName` parameter, or the calling IAM user when absent (None for the root user)."""
    name = ctx.params.text("UserName", pattern=USER_NAME, low=1, high=128)
    if name is None:
        caller = ctx.caller
        if caller.kind == "user" and caller.user_name:
            user = await require_user(uow, caller.account_id, caller.user_name)
            await authorize(ctx, uow, action, user_arn(user))
            return user
        if caller.is_root:
            await authorize(ctx, uow, action, ids.root_arn(caller.account_id))
            return None
        raise ValidationError("Must specify userName when calling with non-User credentials")
    named = await uow.users.by_name(ctx.caller.account_id, name)
    resource = ids.user_arn(ctx.caller.account_id, name, named.path if named else "/")
    await authorize(ctx, uow, action, resource)
    if named is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return named


def user_shape(user: IamUser, tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user_arn(user),
        "CreateDate": Timestamp(user.created_at),
    }
    if user.password_last_used_at:
        shape["PasswordLastUsed"] = Timestamp(user.password_last_used_at)
    if tags:
        shape["Tags"] = tags
    return shape


def paginate(ctx: CallContext, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Marker/MaxItems pagination; the marker is the index of the next item."""
    marker = ctx.params.get("Marker")
    start = int(marker) if marker and marker.isdigit() else 0
    limit = ctx.params.integer("MaxItems", 100, 1, 1000) or 100
    page = items[start:start + limit]
    more = start + limit < len(items)
    extra: dict[str, Any] = {"IsTruncated": more}
    if more:
        extra["Marker"] = str(start + limit)
    return page, extra


def parse_document(document: str, kind: Literal["identity", "trust"] = "identity") -> None:
    from ..errors import MalformedPolicyDocument

    try:
        engine.parse_policy(document, kind=kind)
    except engine.MalformedPolicy as exc:
        raise MalformedPolicyDocument(str(exc)) from None


# Characters XML 1.0 cannot carry: a stored value holding one would make every response that
# includes it unparseable for botocore (ResponseParserError), so such values are refused on input.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAG_EXTRA = frozenset("_.:/=+-@")


def xml_safe(value: str | None, field: str) -> str | None:
    """`value` unchanged, or ValidationError (without echoing the value) when XML cannot carry it."""
    if value is not None and _XML_ILLEGAL.search(value):
        raise ValidationError(f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                              "Member must not contain control characters")
    return value


def _tag_text_ok(text: str) -> bool:
    """The model's tag pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`."""
    return all(unicodedata.category(c)[0] in "LZN" or c in _TAG_EXTRA for c in text)


def tags_from(ctx: CallContext) -> list[tuple[str, str]]:
    from ..errors import InvalidInput

    out = []
    for index, item in enumerate(ctx.params.structs("Tags"), start=1):
        key = item.get("Key")
        if not key or len(key) > 128 or len(item.get("Value", "")) > 256:
            raise InvalidInput("Each tag needs a Key of 1-128 characters and a Value of at most 256.")
        for field, text in (("key", key), ("value", item.get("Value", ""))):
            if not _tag_text_ok(text):
                raise ValidationError(f"1 validation error detected: Value at 'tags.{index}.member.{field}' failed "
                                      "to satisfy constraint: Member must satisfy regular expression pattern: "
                                      "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")
        out.append((key, item.get("Value", "")))
    if len(out) > 50:
        from ..errors import LimitExceeded

        raise LimitExceeded("Cannot exceed quota for TagsPerResource: 50")
    return out
