"""Operator commands for an account's contacts: `vestibule account set-email` (the root email, without
verification: audited, the old address told) and `vestibule account contacts` (show or set; prints JSON)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .core.contacts import FIELDS, ContactDetails
from .runtime import Runtime

ACTIONS = ("set-email", "contacts")

_FLAGS = {name: "--" + name.replace("_", "-") for name in FIELDS}
_FLAGS.update(full_name="--name")


def add_parsers(actions: Any) -> None:
    """`actions`: the subparsers action of `vestibule account` (argparse keeps its type private)."""
    email = actions.add_parser("set-email", help="change the root email (no verification; the old address is "
                                                 "told; prints JSON)")
    email.add_argument("--account", required=True)
    email.add_argument("--email", required=True)
    contacts = actions.add_parser("contacts", help="show or set the contact details (an empty value clears a "
                                                   "field; prints JSON)")
    contacts.add_argument("--account", required=True)
    for name, flag in _FLAGS.items():
        contacts.add_argument(flag, dest=name, metavar="TEXT")


# The JSON names, as the account API's GetContactInformation and GetAlternateContact (SECURITY) spell them.
_CONTACT_NAMES = {"full_name": "FullName", "phone": "PhoneNumber", "company": "CompanyName",
                  "address_line1": "AddressLine1", "address_line2": "AddressLine2", "city": "City",
                  "region": "StateOrRegion", "postal_code": "PostalCode", "country": "CountryCode"}
_SECURITY_NAMES = {"security_name": "Name", "security_email": "EmailAddress", "security_phone": "PhoneNumber"}


def _shape(account_id: str, details: ContactDetails) -> dict[str, Any]:
    values = details.as_dict()
    return {"AccountId": account_id,
            "ContactInformation": {out: values[name] for name, out in _CONTACT_NAMES.items()},
            "SecurityContact": {out: values[name] for name, out in _SECURITY_NAMES.items()}}


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def run(args: argparse.Namespace, rt: Runtime) -> int:
    from .services import account_contacts, accounts, root_email

    deps = rt.deps
    async with deps.store.unit() as uow:
        account = await accounts.require(uow, args.account)
        if args.action == "set-email":
            old = await root_email.set_by_operator(deps, uow, account, args.email)
            _emit({"AccountId": account.id, "RootEmail": account.root_email, "PreviousRootEmail": old})
            return 0
        details = await account_contacts.of_account(uow, account.id)
        given = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
        if given:
            merged = ContactDetails(**{**details.as_dict(), **given})
            details = await account_contacts.put(uow, account.id, merged, now=deps.clock(), method="cli")
        _emit(_shape(account.id, details))
        return 0
