"""`vestibule federation ...`: federated sign-in administration that has no AWS API. Each subcommand is a parser
with `set_defaults(federation_handler=...)`: an async function of (args, runtime) returning the exit code, which
`federation_command` runs. Other modules add their subcommands with their own `add_parsers(commands)`, called
from `add_federation_parser`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from . import cli_oidc_signin
from .core.federation_failures import Cause, FederationFailure
from .runtime import Runtime
from .services.federation import failures

FederationHandler = Callable[[argparse.Namespace, Runtime], Awaitable[int]]


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def add_federation_parser(subparsers: Any) -> None:
    """The `federation` command and its subcommands (each with `set_defaults(federation_handler=...)`)."""
    federation = subparsers.add_parser("federation", help="federated sign-in: SAML and OIDC providers' sign-ins")
    commands = federation.add_subparsers(dest="federation_command", required=True, parser_class=type(federation))
    diagnose = commands.add_parser(
        "diagnose", help="what went wrong in a failed federated sign-in, by the reference its page showed; "
                         "prints JSON, exit 1 when no failure has that reference")
    diagnose.add_argument("--reference", required=True, metavar="ID", help="the reference, like F-ABCDEFGHIJKLMNOP")
    diagnose.set_defaults(federation_handler=_diagnose_command)
    # other areas' subcommands: `<module>.add_parsers(commands)` here
    cli_oidc_signin.add_parsers(commands, type(federation))  # oidc-signin: the console's OIDC buttons


async def federation_command(args: argparse.Namespace, rt: Runtime) -> int:
    handler: FederationHandler = args.federation_handler
    return await handler(args, rt)


def _time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _diagnose_command(args: argparse.Namespace, rt: Runtime) -> int:
    from .web.federation.failure import failure_message
    from .web.i18n import Translator

    found = await failures.diagnose(rt.deps, args.reference)
    if found is None:
        print(f"vestibule: error: no failed federated sign-in has the reference {args.reference.strip()!r} "
              "(mistyped, or older than the audit retention)", file=sys.stderr)
        return 1
    shown = ""
    if isinstance(found.cause, Cause):
        shown = failure_message(Translator("en"), FederationFailure(found.cause, user=found.user))
    _emit({"Reference": found.reference, "Time": _time(found.at), "Door": found.door, "Cause": str(found.cause),
           "AccountId": found.account_id, "Provider": found.provider, "Principal": found.principal,
           "Detail": found.message, "Admin": dict(found.admin), "UserWasTold": shown, "UserValues": dict(found.user)})
    return 0
