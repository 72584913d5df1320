"""`vestibule account suspend|reinstate|status`: the operator's side of an account's lifecycle (closing and
reopening are the root user's, on the console)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runtime import Runtime

ACTIONS = ("suspend", "reinstate", "status")


def add_parsers(acc: Any) -> None:
    """`acc`: the subparsers action of `vestibule account`."""
    suspend = acc.add_parser("suspend", help="suspend an account: its users cannot sign in, its keys and sessions "
                                             "stop at once; prints JSON")
    suspend.add_argument("--account", required=True, help="12-digit account ID")
    suspend.add_argument("--reason", help="why (kept for operators and the audit log; never shown to users)")
    suspend.add_argument("--contact", metavar="EMAIL", help="whom the account's users contact (shown on the page "
                                                             "they see after a right password)")
    reinstate = acc.add_parser("reinstate", help="reinstate a suspended account; prints JSON")
    reinstate.add_argument("--account", required=True)
    status = acc.add_parser("status", help="active, suspended, closed (reopenable until) or closed for good; "
                                           "prints JSON")
    status.add_argument("--account", required=True)


async def run(args: argparse.Namespace, rt: Runtime) -> int:
    from .services import account_lifecycle

    deps = rt.deps
    if args.action == "suspend":
        await account_lifecycle.suspend(deps, args.account, reason=args.reason, contact=args.contact)
    elif args.action == "reinstate":
        await account_lifecycle.reinstate(deps, args.account)
    print(json.dumps(await account_lifecycle.describe(deps, args.account), indent=2, ensure_ascii=False))
    return 0
