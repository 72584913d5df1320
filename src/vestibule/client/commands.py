"""`vestibule sso configure | login | logout`: the commands a user runs on their own computer. They read and
write `~/.aws/config` and `~/.aws/sso/cache/` and talk to the server through botocore; they need no server
settings and never open the server database. Each returns its exit code (see `errors.py`)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from . import token_cache
from .aws_config import (
    DEFAULT_SCOPES,
    ConfigFile,
    SsoSession,
    check_section,
    profile_header,
    services_header,
    session_header,
)
from .endpoints import server_base
from .errors import BadInput, ConfigProblem, MissingInput, NotSignedIn, SignInError
from .portal_api import Account, Portal
from .sso_login import LoggedOut, SignIn, logout

T = TypeVar("T")
# The services whose endpoint a profile of a self-hosted server names (`[services NAME]`), so the unmodified
# AWS CLI and SDKs send its calls there without any environment variable.
SERVED = ("sso", "sso_oidc", "sts", "iam", "sso_admin", "identitystore", "organizations")
# What AWS allows (and what is safe to write to ~/.aws/config): anything else a server sends is skipped.
ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)


def say(text: str) -> None:
    print(text, flush=True)


def add_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """`configure`, `login` and `logout` under `vestibule sso`; each sets `client_command`."""
    configure = commands.add_parser(
        "configure", help="(on your computer) write an SSO profile to ~/.aws/config: a wizard, or flags for scripts")
    configure.add_argument("--profile", help="the profile to write (default: asked, or <role>-<account>)")
    configure.add_argument("--sso-session", help="the [sso-session] section to use or write (default: vestibule)")
    configure.add_argument("--start-url", help="the access portal's start URL: https://HOST/portal/d-.../start")
    configure.add_argument("--region", help="the SSO region and the profile's region (default: us-east-1)")
    configure.add_argument("--account-id", help="the account (default: asked, or the only one assigned)")
    configure.add_argument("--role-name", help="the permission set (default: asked, or the only one)")
    configure.add_argument("--scopes", help="registration scopes, comma-separated (default: sso:account:access)")
    configure.add_argument("--no-endpoints", action="store_true",
                           help="do not name this server's endpoints in a [services] section")
    _add_flow_flags(configure)
    configure.set_defaults(client_command=_configure)

    login = commands.add_parser("login", help="(on your computer) sign in and cache a token for the AWS CLI and SDKs")
    which = login.add_mutually_exclusive_group()
    which.add_argument("--profile", help="a profile with sso_session (default: $AWS_PROFILE or default)")
    which.add_argument("--sso-session", help="an [sso-session] section")
    _add_flow_flags(login)
    login.set_defaults(client_command=_login)

    out = commands.add_parser("logout", help="(on your computer) revoke and remove cached SSO tokens")
    which = out.add_mutually_exclusive_group()
    which.add_argument("--profile", help="only this profile's sso-session")
    which.add_argument("--sso-session", help="only this sso-session (default: every one in the config)")
    out.set_defaults(client_command=_logout)


def _add_flow_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--use-device-code", action="store_true",
                        help="sign in with a code typed in any browser (device flow) instead of this computer's")
    parser.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")


def run(args: argparse.Namespace) -> int:
    """The entry point cli.py calls for these commands (no server settings, no runtime)."""
    command: Callable[[argparse.Namespace], int] = args.client_command
    try:
        return command(args)
    except SignInError as exc:
        # the message may quote the server's words: no control characters (no terminal escape sequences)
        shown = "".join(c if c.isprintable() or c == "\n" else "?" for c in exc.message)
        print(f"vestibule: error: {shown}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nvestibule: interrupted; nothing was saved", file=sys.stderr)
        return 130


# ---- login and logout ----------------------------------------------------------------------------

def _target(args: argparse.Namespace) -> tuple[ConfigFile, SsoSession, str | None]:
    config = ConfigFile.load()
    if args.sso_session:
        return config, config.sso_session(args.sso_session), None
    name = args.profile or os.environ.get("AWS_PROFILE") or "default"
    profile = config.sso_profile(name)
    return config, config.sso_session(profile.sso_session), name


def _sign_in(session: SsoSession, args: argparse.Namespace, profile: str | None) -> token_cache.CachedToken:
    flow = SignIn(session, say, profile)
    return flow.device_code(not args.no_browser) if args.use_device_code else flow.browser(not args.no_browser)


def _login(args: argparse.Namespace) -> int:
    _, session, profile = _target(args)
    _sign_in(session, args, profile)
    if profile:
        say(f"Try it: aws sts get-caller-identity --profile {profile}")
    return 0


def _logout(args: argparse.Namespace) -> int:
    if args.profile or args.sso_session:
        _, session, profile = _target(args)
        targets = [(session, profile)]
    else:
        config = ConfigFile.load()
        targets = []
        for name in config.session_names():
            try:
                targets.append((config.sso_session(name), None))
            except ConfigProblem:
                continue  # an incomplete section has no token of ours
    results = [(session, logout(session, say, profile)) for session, profile in targets]
    if all(result is LoggedOut.NOTHING for _, result in results):
        say("No cached SSO token to sign out of.")
    for session, result in results:
        if result is LoggedOut.ENDED:
            say(f"Signed out of [sso-session {session.name}] ({session.start_url}); its cached token is removed.")
    return NotSignedIn.exit_code if any(result is LoggedOut.UNTOLD for _, result in results) else 0


# ---- configure -----------------------------------------------------------------------------------

class Asker:
    """Prompts on a terminal; without one (a script) a missing value takes its default or is an error."""

    def __init__(self, interactive: bool, read: Callable[[str], str] = input) -> None:
        self.interactive, self.read = interactive, read

    def text(self, label: str, flag: str, default: str | None = None) -> str:
        if not self.interactive:
            if default:
                return default
            raise MissingInput(f"{flag} is required when there is no terminal to ask on")
        while True:
            try:
                typed = self.read(f"{label}{f' [{default}]' if default else ''}: ").strip()
            except EOFError:
                raise MissingInput(f"no answer for {label!r}; give {flag}") from None
            if typed or default:
                return typed or str(default)

    def choose(self, label: str, flag: str, options: Sequence[T], shown: Callable[[T], str]) -> T:
        if len(options) == 1:
            say(f"{label}: {shown(options[0])} (the only one)")
            return options[0]
        if not self.interactive:
            raise MissingInput(f"{flag} is required when there is no terminal to ask on; choose from: "
                               + ", ".join(shown(o) for o in options))
        say(f"{label}:")
        for number, option in enumerate(options, 1):
            say(f"  {number}. {shown(option)}")
        while True:
            picked = self.text(f"{label} number", flag)
            if picked.isdigit() and 1 <= int(picked) <= len(options):
                return options[int(picked) - 1]
            say(f"Type a number from 1 to {len(options)}.")


def _configure(args: argparse.Namespace, asker: Asker | None = None) -> int:
    ask = asker or Asker(sys.stdin.isatty())
    config = ConfigFile.load()
    old_profile = config.section(profile_header(args.profile)) if args.profile else None
    name = args.sso_session or (old_profile or {}).get("sso_session") or ask.text(
        "SSO session name", "--sso-session", "vestibule")
    old = config.section(session_header(name)) or {}
    start_url = args.start_url or ask.text("SSO start URL", "--start-url", old.get("sso_start_url"))
    server_base(start_url)  # refuses what is not an http(s) URL before anything is written
    region = args.region or ask.text("SSO region", "--region", old.get("sso_region") or "us-east-1")
    scopes = tuple(s.strip() for s in (args.scopes or old.get("sso_registration_scopes") or "").split(",")
                   if s.strip()) or DEFAULT_SCOPES
    session = SsoSession(name, start_url, region, scopes)
    if args.account_id and not ACCOUNT_ID.fullmatch(args.account_id):
        raise BadInput(f"--account-id {args.account_id!r} is not an AWS account ID (12 digits)")
    if args.role_name and not ROLE_NAME.fullmatch(args.role_name):
        raise BadInput(f"--role-name {args.role_name!r} is not a role name (1 to 64 of A-Z a-z 0-9 _+=,.@-)")
    if args.profile:
        check_section(profile_header(args.profile), {})
    config.set_section(session_header(name), {"sso_start_url": start_url, "sso_region": region,
                                              "sso_registration_scopes": ",".join(scopes)})
    config.save()
    say(f"Wrote [sso-session {name}] to {config.path}.")

    token = token_cache.load_token(name)
    if token is None or not token.usable(datetime.now(UTC), start_url):
        say("Signing in to list your accounts and roles.")
        token = _sign_in(session, args, None)
    portal = Portal(session, token)
    listed = portal.accounts()
    accounts = _valid("account ID", listed, ACCOUNT_ID, lambda a: a.account_id)
    if listed and not accounts:
        raise SignInError("the server sent no valid account ID (see the warnings); no profile was written")
    if not accounts:
        raise SignInError("no AWS account is assigned to you in this access portal; ask an administrator")
    account = _pick_account(ask, accounts, args.account_id)
    named = portal.roles(account.account_id)
    roles = _valid("role name", named, ROLE_NAME, str)
    if named and not roles:
        raise SignInError(f"the server sent no valid role name for account {account.account_id} (see the "
                          "warnings); no profile was written")
    if not roles:
        raise SignInError(f"no permission set is assigned to you in account {account.account_id}")
    if args.role_name:
        if args.role_name not in roles:
            raise SignInError(f"you have no role {args.role_name!r} in account {account.account_id}; "
                              f"yours: {', '.join(roles)}")
        role = args.role_name
    else:
        role = ask.choose("Role", "--role-name", roles, str)
    profile = args.profile or ask.text("Profile name", "--profile", f"{role}-{account.account_id}")

    values: dict[str, str | dict[str, str]] = {"sso_session": name, "sso_account_id": account.account_id,
                                                "sso_role_name": role, "region": region}
    if not args.no_endpoints and not _aws_hosted(start_url):
        values["services"] = name
        base = server_base(start_url)
        config.set_section(services_header(name), {s: {"endpoint_url": base} for s in SERVED})
    config.set_section(profile_header(profile), values)
    config.save()
    say(f"Wrote [{profile_header(profile)}] to {config.path}.\n"
        f"Use it with any AWS tool, for example:\n  aws sts get-caller-identity --profile {profile}\n"
        f"Sign in again later with: vestibule sso login --profile {profile}")
    return 0


def _valid(what: str, found: list[T], rule: re.Pattern[str], key: Callable[[T], str]) -> list[T]:
    """The answers whose `key` follows AWS's rule; the others are skipped with a warning, never written."""
    kept = [item for item in found if rule.fullmatch(key(item))]
    for item in found:
        if not rule.fullmatch(key(item)):
            print(f"vestibule: warning: the server sent an invalid {what} {key(item)[:80]!r}; skipped",
                  file=sys.stderr, flush=True)
    return kept


def _pick_account(ask: Asker, accounts: list[Account], wanted: str | None) -> Account:
    if wanted:
        for account in accounts:
            if account.account_id == wanted:
                return account
        raise SignInError(f"account {wanted} is not assigned to you; yours: "
                          + ", ".join(a.account_id for a in accounts))
    return ask.choose("Account", "--account-id", accounts,
                      lambda a: f"{a.account_id}  {a.name}" + (f" ({a.email})" if a.email else ""))


def _aws_hosted(start_url: str) -> bool:
    host = (urlsplit(start_url).hostname or "").lower()
    return host.endswith((".awsapps.com", ".amazonaws.com", ".aws"))

