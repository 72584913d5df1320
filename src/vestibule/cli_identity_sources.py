"""`vestibule sso identity-source show|set-directory|set-ldap|set-saml`: where an Identity Center instance's users
sign in (services/identity_center/identity_sources.py). Prints the source as JSON, never the LDAP service
account's password, which is read from a file (or `-`, standard input) so it stays out of the process list."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .errors import InvalidValue
from .runtime import Runtime
from .services.identity_center import identity_sources as sources

MAX_METADATA_BYTES = 10_000_000


def add_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    from .cli_sso import add_instance_arguments

    source = commands.add_parser("identity-source", help="where an instance's users sign in: its own directory, "
                                 "an LDAP directory or an external SAML identity provider")
    actions = source.add_subparsers(dest="action", required=True, parser_class=parser_class)
    add_instance_arguments(actions.add_parser("show", help="print the identity source as JSON"))
    add_instance_arguments(actions.add_parser(
        "set-directory", help="users sign in with the passwords Vestibule keeps (the default)"))

    ldap = actions.add_parser("set-ldap", help="users sign in with their LDAP directory password")
    add_instance_arguments(ldap)
    ldap.add_argument("--url", required=True, help="ldaps://host[:port], or ldap://host[:port] with --starttls")
    ldap.add_argument("--starttls", action="store_true", help="upgrade an ldap:// connection with StartTLS")
    ldap.add_argument("--ca-file", help="PEM file of the CAs that sign the server's certificate "
                      "(default: the system's)")
    ldap.add_argument("--bind-dn", required=True, help="the service account that searches the directory")
    ldap.add_argument("--bind-password-file", help="file holding the service account's password ('-': standard "
                      "input); required the first time, else the stored one is kept")
    ldap.add_argument("--base-dn", required=True, help="where users are searched, e.g. ou=people,dc=example,dc=com")
    ldap.add_argument("--user-attribute", default="uid", help="the attribute holding the user name (default uid)")
    ldap.add_argument("--email-attribute", default="mail")
    ldap.add_argument("--display-name-attribute", default="cn")
    ldap.add_argument("--user-filter", default="", help="an extra filter users must match, e.g. "
                      "(objectClass=inetOrgPerson)")
    ldap.add_argument("--disabled-filter", default=sources.DEFAULT_DISABLED_FILTER,
                      help="entries matching it may not sign in (default: a locked ppolicy account)")
    ldap.add_argument("--group-base-dn", help="where groups are searched (default: no group mapping)")
    ldap.add_argument("--group-attribute", default="cn", help="the group's name: the directory group it maps to")
    ldap.add_argument("--member-attribute", default="member", help="the group attribute listing member DNs")
    ldap.add_argument("--timeout", type=int, default=5, help="seconds per LDAP operation (1-60)")

    saml = actions.add_parser("set-saml", help="users sign in at an external SAML 2.0 identity provider")
    add_instance_arguments(saml)
    saml.add_argument("--metadata-file", required=True, help="the identity provider's SAML metadata XML")
    saml.add_argument("--name-id-format", default=sources.EMAIL_ADDRESS,
                      help=f"the NameID format assertions must carry (default {sources.EMAIL_ADDRESS})")
    saml.add_argument("--jit", action=argparse.BooleanOptionalAction, default=False,
                      help="create a directory user for an email no user has (default: refuse)")
    source.set_defaults(sso_handler=identity_source_command)


def _read(path: str, what: str, limit: int) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
    except OSError as exc:
        raise InvalidValue(f"{what} {path} cannot be read: {exc.strerror}.") from None
    if len(data) > limit:
        raise InvalidValue(f"{what} {path} is too large.")
    return data


def _password(path: str | None) -> str | None:
    if path is None:
        return None
    data = _read(path, "The password file", 4096)
    password = data.decode("utf-8", errors="strict").rstrip("\r\n") if data else ""
    if not password:
        raise InvalidValue("The service account's password file is empty.")
    return password


def _source(args: argparse.Namespace) -> sources.IdentitySource:
    if args.action == "set-ldap":
        return sources.LdapSource(
            url=args.url, bind_dn=args.bind_dn, base_dn=args.base_dn, starttls=args.starttls, ca_file=args.ca_file,
            user_attribute=args.user_attribute, email_attribute=args.email_attribute,
            display_name_attribute=args.display_name_attribute, user_filter=args.user_filter,
            disabled_filter=args.disabled_filter, group_base_dn=args.group_base_dn,
            group_attribute=args.group_attribute, member_attribute=args.member_attribute, timeout=args.timeout)
    if args.action == "set-saml":
        xml = _read(args.metadata_file, "The metadata file", MAX_METADATA_BYTES)
        return sources.saml_from_metadata(xml, name_id_format=args.name_id_format, jit=args.jit)
    return sources.DirectorySource()


async def identity_source_command(args: argparse.Namespace, rt: Runtime) -> int:
    arn, store = args.instance_arn, args.identity_store_id
    if args.action == "show":
        shown = await sources.show(rt.deps, instance_arn=arn, identity_store_id=store)
    else:
        password = _password(args.bind_password_file) if args.action == "set-ldap" else None
        shown = await sources.set_source(rt.deps, _source(args), instance_arn=arn, identity_store_id=store,
                                         password=password)
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0
