"""`vestibule federation oidc-signin add|list|remove`: the "Sign in with ..." buttons of an account's IAM sign-in
page (console sign-in with an IAM OIDC provider of the account). Output is JSON; the client secret is read from a
file (or `-`, standard input) and never printed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .core.oidc_code_flow import CALLBACK_PATH
from .runtime import Runtime
from .services import accounts
from .services.federation import console_oidc


class SecretFileError(Exception):
    """The client secret file cannot be read or is empty."""


def add_parsers(commands: Any, parser_class: type[argparse.ArgumentParser] | None = None) -> None:
    """`oidc-signin` under `vestibule federation` (each action sets `federation_handler`)."""
    kind = parser_class or argparse.ArgumentParser
    oidc = commands.add_parser("oidc-signin", help="'Sign in with ...' buttons of an account's IAM sign-in page "
                                                   "(an IAM OIDC provider of the account)")
    actions = oidc.add_subparsers(dest="oidc_signin_action", required=True, parser_class=kind)
    add = actions.add_parser("add", help="show a provider on the account's sign-in page; prints JSON")
    add.add_argument("--account", required=True, help="account ID or alias")
    add.add_argument("--provider-arn", required=True,
                     help="arn:aws:iam::<account>:oidc-provider/<url> (aws iam create-open-id-connect-provider)")
    add.add_argument("--client-id", required=True, help="Vestibule's client ID at the provider (one of the "
                                                        "provider's client IDs)")
    add.add_argument("--client-secret-file", metavar="FILE",
                     help="the client secret, for a confidential client ('-': standard input); kept sealed")
    add.add_argument("--label", required=True, help="the button says 'Sign in with <label>'")
    listing = actions.add_parser("list", help="the account's buttons as JSON (never the secret)")
    listing.add_argument("--account", required=True, help="account ID or alias")
    remove = actions.add_parser("remove", help="take a provider off the account's sign-in page")
    remove.add_argument("--account", required=True, help="account ID or alias")
    remove.add_argument("--provider-arn", required=True)
    oidc.set_defaults(federation_handler=run)


def _secret(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"cannot read the client secret from {path}: {exc}") from None
    secret = text.strip("\r\n")
    if not secret:
        raise SecretFileError(f"the client secret file {path} is empty")
    return secret


def _shown(entry: console_oidc.ConsoleOidcSignIn, origin: str, alias: str | None) -> dict[str, Any]:
    return {"ProviderArn": entry.provider_arn, "ClientId": entry.client_id, "Label": entry.label,
            "ClientSecret": entry.has_client_secret, "SignInUrl": f"{origin}/{alias or entry.account_id}/console"}


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def run(args: argparse.Namespace, rt: Runtime) -> int:
    deps = rt.deps
    try:
        secret = _secret(getattr(args, "client_secret_file", None))
    except SecretFileError as exc:
        print(f"vestibule: error: {exc}", file=sys.stderr)
        return 1
    origin = deps.settings.public_origin
    async with deps.store.unit() as uow:
        account = await accounts.require(uow, args.account)
        if args.oidc_signin_action == "add":
            entry = await console_oidc.add(deps, uow, account.id, args.provider_arn, args.client_id, args.label,
                                           secret)
            _emit({"AccountId": account.id, **_shown(entry, origin, account.alias),
                   "RedirectUri": origin + CALLBACK_PATH})
        elif args.oidc_signin_action == "list":
            _emit({"AccountId": account.id, "OidcSignIns": [_shown(e, origin, account.alias)
                                                            for e in await console_oidc.list_of(uow, account.id)]})
        else:
            await console_oidc.remove(deps, uow, account.id, args.provider_arn)
            _emit({"AccountId": account.id, "Removed": args.provider_arn})
    return 0
