"""An account's contact details (name, phone, company, address) and its alternate security contact: read and
set by the root user in the console and by an operator with `vestibule account contacts`."""

from __future__ import annotations

from dataclasses import fields

from ..core import identifiers as ids
from ..core.contacts import FIELDS, ContactDetails, ContactProblems, checked
from ..errors import InvalidContactDetails
from ..store.models import AccountContact
from ..store.repositories import UnitOfWork
from . import audit
from .context import Client

EVENT = "AccountContactsChanged"


def _details(row: AccountContact | None) -> ContactDetails:
    if row is None:
        return ContactDetails()
    return ContactDetails(**{name: getattr(row, name) or "" for name in FIELDS})


async def of_account(uow: UnitOfWork, account_id: str) -> ContactDetails:
    return _details(await uow.account_contacts.get(account_id))


async def put(uow: UnitOfWork, account_id: str, details: ContactDetails, *, now: float, client: Client = Client(),
              principal: str = "", method: str = "console") -> ContactDetails:
    """Check and store the whole set (empty values clear a field); audited with the names of the fields that
    changed (never their values). InvalidContactDetails lists every problem."""
    try:
        clean = checked(details)
    except ContactProblems as exc:
        raise InvalidContactDetails(exc.problems, str(exc)) from None
    before = await of_account(uow, account_id)
    changed = [f.name for f in fields(ContactDetails) if getattr(before, f.name) != getattr(clean, f.name)]
    if changed:
        await uow.account_contacts.put(AccountContact(account_id=account_id, updated_at=now, **clean.as_dict()))
        await audit.record(uow, at=now, event=EVENT, result="Success", client=client, account_id=account_id,
                           principal=principal or ids.root_arn(account_id), method=method, changed=changed)
    return clean
