"""`vestibule sso ...`: Identity Center administration that has no AWS API (instance settings; more subcommands
join here). Each subcommand is a parser with `set_defaults(sso_handler=...)`: an async function of
(args, runtime) that returns the exit code; `sso_command` runs the one chosen. Output is JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any

from . import cli_identity_sources
from .client import commands as client_commands
from .runtime import Runtime
from .services.identity_center import applications, instances, portal_users, scim_tokens
from .services.identity_center import settings as ic_settings

SsoHandler = Callable[[argparse.Namespace, Runtime], Awaitable[int]]
_CHOICE = {"every-sign-in": "EVERY_SIGN_IN", "context-change": "CONTEXT_CHANGE", "never": "NEVER",
           "require-registration": "REQUIRE_REGISTRATION", "email-code": "EMAIL_CODE", "block": "BLOCK",
           "email-invitation": "EMAIL_INVITATION", "one-time-password": "ONE_TIME_PASSWORD"}


def emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def add_instance_arguments(parser: argparse.ArgumentParser) -> None:
    """`--instance-arn ARN` or `--identity-store-id d-XXXXXXXXXX` (exactly one)."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--instance-arn")
    which.add_argument("--identity-store-id")


def add_sso_parser(subparsers: Any) -> None:
    """The `sso` command and its subcommands (add new ones here, each with `set_defaults(sso_handler=...)`)."""
    sso = subparsers.add_parser("sso", help="Identity Center: instance settings and administration")
    commands = sso.add_subparsers(dest="sso_command", required=True, parser_class=type(sso))

    settings = commands.add_parser("settings", help="an instance's portal, MFA and onboarding settings")
    actions = settings.add_subparsers(dest="action", required=True, parser_class=type(sso))
    show = actions.add_parser("show", help="print the settings as JSON")
    add_instance_arguments(show)
    change = actions.add_parser("set", help="change settings; prints the settings as JSON")
    add_instance_arguments(change)
    change.add_argument("--portal-session-duration", metavar="DURATION",
                        help="portal session length: seconds or 90m, 8h, 30d (15 minutes to 90 days)")
    change.add_argument("--mfa-prompt", choices=["every-sign-in", "context-change", "never"])
    change.add_argument("--no-mfa-device", choices=["require-registration", "email-code", "block"],
                        help="what a user without an MFA device meets at sign-in")
    change.add_argument("--onboarding", choices=["email-invitation", "one-time-password"])
    subdomain = change.add_mutually_exclusive_group()
    subdomain.add_argument("--portal-subdomain", help="a custom portal name besides the identity store ID")
    subdomain.add_argument("--clear-portal-subdomain", action="store_true")
    settings.set_defaults(sso_handler=_settings_command)

    scim = commands.add_parser("scim-token", help="SCIM bearer tokens of an identity store")
    scim_actions = scim.add_subparsers(dest="action", required=True, parser_class=type(sso))
    create = scim_actions.add_parser("create", help="create a token; prints JSON with the Token (shown once)")
    create.add_argument("--identity-store-id", required=True)
    create.add_argument("--expires-in-days", type=int, help="1-3650; default: no expiry")
    listing = scim_actions.add_parser("list", help="the store's tokens as JSON (never their secret)")
    listing.add_argument("--identity-store-id", required=True)
    revoke = scim_actions.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("--identity-store-id", required=True)
    revoke.add_argument("--token-id", required=True)
    scim.set_defaults(sso_handler=_scim_token_command)

    user = commands.add_parser("user", help="directory users' access portal passwords")
    user_actions = user.add_subparsers(dest="action", required=True, parser_class=type(sso))
    reset = user_actions.add_parser("reset-password", help="mail a link to set a password, or print a one-time "
                                    "password the user must change at first sign-in; ends the user's portal sessions")
    reset.add_argument("--identity-store-id", required=True)
    reset.add_argument("--user-name", required=True)
    how = reset.add_mutually_exclusive_group(required=True)
    how.add_argument("--mail", action="store_true", help="mail a single-use link to the user's primary email")
    how.add_argument("--one-time-password", action="store_true", help="print JSON with the OneTimePassword")
    user.set_defaults(sso_handler=_user_command)
    _add_application_parser(commands, type(sso))
    cli_identity_sources.add_parser(commands, type(sso))
    client_commands.add_parsers(commands, type(sso))  # configure, login, logout: on the user's computer


def _add_application_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    app = commands.add_parser("application", help="bookmark applications shown in the access portal")
    app_actions = app.add_subparsers(dest="action", required=True, parser_class=parser_class)
    create = app_actions.add_parser("create", help="a bookmark (name and https:// or http:// URL); prints JSON")
    create.add_argument("--identity-store-id", required=True)
    create.add_argument("--name", required=True, help="1-64 printable characters")
    create.add_argument("--url", required=True, help="https://... or http://...")
    create.add_argument("--description")
    app_actions.add_parser("list", help="the store's applications as JSON").add_argument(
        "--identity-store-id", required=True)
    remove = app_actions.add_parser("delete", help="delete an application and its assignments")
    remove.add_argument("--identity-store-id", required=True)
    remove.add_argument("--application-id", required=True)
    for action in ("assign", "unassign"):
        sub = app_actions.add_parser(action, help=f"{action} an application to a user or a group")
        sub.add_argument("--identity-store-id", required=True)
        sub.add_argument("--application-id", required=True)
        who = sub.add_mutually_exclusive_group(required=True)
        who.add_argument("--user-name")
        who.add_argument("--group-name")
    app.set_defaults(sso_handler=_application_command)


def _shape(instance: instances.Instance) -> dict[str, Any]:
    return {"InstanceArn": instance.arn, "IdentityStoreId": instance.identity_store_id,
            "OwnerAccountId": instance.owner_account_id, "Settings": instance.settings.shape()}


async def _settings_command(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.deps.store.unit() as uow:
        row = await instances.require(uow, instance_arn=args.instance_arn, identity_store_id=args.identity_store_id)
        instance = instances.of_row(row)
        if args.action == "set":
            duration = (ic_settings.duration(args.portal_session_duration)
                        if args.portal_session_duration is not None else None)
            new = ic_settings.changed(
                instance.settings, portal_session_seconds=duration, mfa_prompt=_CHOICE.get(args.mfa_prompt or ""),
                no_mfa_device=_CHOICE.get(args.no_mfa_device or ""), onboarding=_CHOICE.get(args.onboarding or ""),
                portal_subdomain=args.portal_subdomain, clear_subdomain=args.clear_portal_subdomain)
            instance = await instances.set_settings(uow, row, new)
    emit(_shape(instance))
    return 0


async def _scim_token_command(args: argparse.Namespace, rt: Runtime) -> int:
    deps = rt.deps
    if args.action == "create":
        emit((await scim_tokens.create(deps, args.identity_store_id, args.expires_in_days)).shown())
    elif args.action == "list":
        tokens = await scim_tokens.list_tokens(deps, args.identity_store_id)
        emit({"ScimTokens": [t.shown(deps.clock()) for t in tokens]})
    else:
        await scim_tokens.revoke(deps, args.identity_store_id, args.token_id)
        emit({"TokenId": args.token_id, "Status": "REVOKED"})
    return 0


async def _user_command(args: argparse.Namespace, rt: Runtime) -> int:
    if args.one_time_password:
        password = await portal_users.reset_with_one_time_password(rt.deps, args.identity_store_id, args.user_name)
        emit({"UserName": args.user_name, "OneTimePassword": password})
    else:
        mailed = await portal_users.reset_by_mail(rt.deps, args.identity_store_id, args.user_name)
        emit({"UserName": args.user_name, "MailedTo": mailed})
    return 0


async def _application_command(args: argparse.Namespace, rt: Runtime) -> int:
    store = args.identity_store_id
    if args.action == "create":
        emit((await applications.create(rt.deps, store, args.name, args.url, args.description)).shown())
    elif args.action == "list":
        emit({"Applications": [a.shown() for a in await applications.list_applications(rt.deps, store)]})
    elif args.action == "delete":
        await applications.delete(rt.deps, store, args.application_id)
        emit({"ApplicationId": args.application_id, "Status": "DELETED"})
    else:
        change = applications.assign if args.action == "assign" else applications.unassign
        kind, principal_id = await change(rt.deps, store, args.application_id, user_name=args.user_name,
                                          group_name=args.group_name)
        emit({"ApplicationId": args.application_id, "PrincipalType": kind, "PrincipalId": principal_id,
              "Status": "ASSIGNED" if args.action == "assign" else "UNASSIGNED"})
    return 0


async def sso_command(args: argparse.Namespace, rt: Runtime) -> int:
    handler: SsoHandler = args.sso_handler
    return await handler(args, rt)
