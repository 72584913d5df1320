"""`vestibule login` and `vestibule logout`: console credentials for the AWS CLI and SDKs (see login.py). Like
the `sso` commands they run on the user's computer, need no server settings and return their exit code
(errors.py); `commands.run` prints a SignInError and turns Ctrl-C into 130."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .aws_config import ConfigFile, profile_header
from .commands import say
from .errors import NotSignedIn, ServerUnreachable
from .login import LoggedOut, Login, cache_path, logout, target
from .token_cache import iso_z


def add_parsers(sub: Any) -> None:
    """The top-level `login` and `logout` commands; each sets `client_command`."""
    login = sub.add_parser(
        "login", help="(on your computer) sign in to the console in a browser and give the AWS CLI and SDKs "
                      "temporary credentials of that root or IAM user (no access key)")
    login.add_argument("--profile", help="the profile to write (default: $AWS_PROFILE or default)")
    login.add_argument("--remote", action="store_true",
                       help="sign in with a browser on another device and paste the code it shows")
    login.add_argument("--endpoint-url", help="the Vestibule server, https://HOST (default: the profile's "
                                              "endpoint_url)")
    login.add_argument("--region", help="the region to write to the profile (default: its region, or us-east-1)")
    login.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    login.set_defaults(client_command=console_login)

    out = sub.add_parser("logout", help="(on your computer) end a profile's login session at the server and "
                                        "remove its cached credentials")
    out.add_argument("--profile", help="the profile (default: $AWS_PROFILE or default)")
    out.set_defaults(client_command=console_logout)


def _profile(args: argparse.Namespace) -> str:
    return str(args.profile or os.environ.get("AWS_PROFILE") or "default")


def console_login(args: argparse.Namespace) -> int:
    config = ConfigFile.load()
    where = target(config, _profile(args), args.endpoint_url, args.region)
    done = Login(where, say, open_browser=not args.no_browser).run(args.remote)
    lasts = (f"The login session lasts until {iso_z(done.session_expires)}; " if done.session_expires
             else "")
    say(f"Signed in as {done.principal_arn} (account {done.account_id}).\n"
        f"{lasts}the AWS CLI and SDKs refresh its credentials themselves (these until "
        f"{iso_z(done.credentials_expire)}).\n"
        f"Wrote [{profile_header(where.profile)}] to {config.path} and the login to {done.path}.")
    if not _has_crt():
        print("vestibule: warning: the AWS CLI and SDKs need botocore's crt extra to use this profile: "
              "pip install 'botocore[crt]'", file=sys.stderr, flush=True)
    say(f"Try it: aws sts get-caller-identity --profile {where.profile}")
    return 0


def _has_crt() -> bool:
    import importlib.util

    return importlib.util.find_spec("awscrt") is not None  # what botocore's login provider needs


def console_logout(args: argparse.Namespace) -> int:
    profile = _profile(args)
    result = logout(profile)
    who = result.principal or ""
    removed = (f"Removed {cache_path(who)} and login_session from [{profile_header(profile)}]." if who else "")
    if result.outcome is LoggedOut.NOTHING:
        say(f"No cached login session of {who}; {removed}" if who
            else f"Profile {profile!r} has no login session; nothing to sign out of.")
        return 0
    if result.outcome is LoggedOut.ENDED:
        say(f"Signed out: the login session of {who} has ended at the server. {removed}")
        return 0
    if result.outcome is LoggedOut.ALREADY_ENDED:
        say(f"The login session of {who} had already ended at the server ({result.detail}). {removed}")
        return 0
    still = ("It stays valid at the server until it expires; to end it sooner, use End on the console's "
             "security page (or BatchRevokeSessions).")
    if result.outcome is LoggedOut.UNREACHABLE:
        print(f"vestibule: error: the server was not told: {result.detail}. {still} {removed}", file=sys.stderr,
              flush=True)
        return ServerUnreachable.exit_code
    print(f"vestibule: error: the server did not end the login session of {who} ({result.detail}). {still} "
          f"{removed}", file=sys.stderr, flush=True)
    return NotSignedIn.exit_code
