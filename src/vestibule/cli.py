"""The `vestibule` command: serve, migrate, config, account, iam-user, access-key, events, mail."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from . import cli_account, cli_events, cli_lifecycle, cli_ops
from .cli_federation import add_federation_parser, federation_command
from .cli_sso import add_sso_parser, sso_command
from .client.login_commands import add_parsers as add_login_parsers
from .core import passwords as rules
from .errors import PasswordRejected, VestibuleError
from .runtime import Runtime, build
from .settings import Settings, SettingsError, read_configuration, unknown_environment


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"vestibule: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="vestibule", description="Vestibule: a self-hostable sign-in service.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = sub.add_parser("serve", help="serve the web pages (creates and migrates the database)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)

    sub.add_parser("migrate", help="create or upgrade the database schema")
    config = sub.add_parser("config", help="print the effective settings, secrets masked; `config check` validates")
    config_actions = config.add_subparsers(dest="config_action", parser_class=_Parser)
    config_actions.add_parser("check", help="check the configuration file and the environment: one line per "
                                            "problem; exit 0 when valid, 2 when not")

    account = sub.add_parser("account", help="accounts and their root users")
    acc = account.add_subparsers(dest="action", required=True, parser_class=_Parser)
    create = acc.add_parser("create", help="create an account; prints JSON")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--alias")
    create.add_argument("--name")
    alias = acc.add_parser("set-alias", help="set or remove (--alias '') the account alias")
    alias.add_argument("--account", required=True)
    alias.add_argument("--alias", required=True)
    policy = acc.add_parser("password-policy", help="show or change the IAM password policy")
    policy.add_argument("--account", required=True)
    policy.add_argument("--minimum-length", type=int)
    for flag in ("uppercase", "lowercase", "numbers", "symbols"):
        policy.add_argument(f"--require-{flag}", action=argparse.BooleanOptionalAction, default=None)
    policy.add_argument("--allow-users-to-change-password", action=argparse.BooleanOptionalAction, default=None)
    policy.add_argument("--max-password-age", type=int, help="days (1-1095); 0 turns expiry off")
    policy.add_argument("--password-reuse-prevention", type=int, help="1-24; 0 turns it off")
    policy.add_argument("--hard-expiry", action=argparse.BooleanOptionalAction, default=None)
    policy.add_argument("--delete", action="store_true", help="remove the policy (back to defaults; keeps "
                                                              "--refuse-breached)")
    policy.add_argument("--refuse-breached", choices=("on", "off"),
                        help="refuse IAM users' passwords known from data breaches (default: on); not part of the "
                             "IAM API's policy, kept when it is replaced or deleted")
    cli_account.add_parsers(acc)  # set-email, contacts
    cli_lifecycle.add_parsers(acc)  # suspend, reinstate, status

    user = sub.add_parser("iam-user", help="IAM users")
    us = user.add_subparsers(dest="action", required=True, parser_class=_Parser)
    ucreate = us.add_parser("create", help="create an IAM user; prints JSON")
    ucreate.add_argument("--account", required=True)
    ucreate.add_argument("--name", required=True)
    ucreate.add_argument("--password")
    ucreate.add_argument("--password-reset-required", action="store_true")
    upw = us.add_parser("set-password", help="set a user's console password")
    upw.add_argument("--account", required=True)
    upw.add_argument("--name", required=True)
    upw.add_argument("--password", required=True)
    upw.add_argument("--password-reset-required", action="store_true")
    umfa = us.add_parser("deactivate-mfa", help="remove MFA devices of a user (or of the root user with --root)")
    umfa.add_argument("--account", required=True)
    who = umfa.add_mutually_exclusive_group(required=True)
    who.add_argument("--name")
    who.add_argument("--root", action="store_true")
    umfa.add_argument("--serial-number", help="only this device (its ARN); default: all")
    ulist = us.add_parser("list", help="list IAM users; prints JSON")
    ulist.add_argument("--account", required=True)

    key = sub.add_parser("access-key", help="access keys for the AWS CLI and SDKs")
    ks = key.add_subparsers(dest="action", required=True, parser_class=_Parser)
    kcreate = ks.add_parser("create", help="create an access key; prints JSON with the secret (shown once)")
    kcreate.add_argument("--account", required=True)
    kcreate.add_argument("--user", help="IAM user name; without it the key belongs to the root user")

    events = sub.add_parser("events", help="audit events of an account; `events archive` exports and deletes old ones")
    events.add_argument("--account", help="the account (required unless archiving)")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument("--limit", type=int, default=1000, help="events per page (1-1000)")
    events.add_argument("--after", metavar="CURSOR",
                        help="the page after this cursor (printed to stderr when more events follow)")
    cli_events.add_archive_parser(events, _Parser)

    mail = sub.add_parser("mail", help="the mail outbox")
    ms = mail.add_subparsers(dest="action", required=True, parser_class=_Parser)
    queue = ms.add_parser("queue", help="counts per status and the newest messages (never their bodies); prints JSON")
    queue.add_argument("--status", choices=["pending", "failed", "sent", "dropped", "all"], action="append",
                       help="rows of this status (repeatable; default: pending and failed)")
    queue.add_argument("--limit", type=int, default=100)
    cli_ops.add_parsers(sub, _Parser)  # backup, restore, master-key
    add_sso_parser(sub)
    add_federation_parser(sub)
    add_login_parsers(sub)  # login, logout: on the user's computer, no server settings
    _add_config_option(p)
    return p


def _add_config_option(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """`--config FILE` before the command or after any server command (`vestibule serve --config FILE`);
    not on the commands that run on the user's computer (they read no server settings)."""
    if parser.get_default("client_command") is not None:
        return
    parser.add_argument("--config", metavar="FILE", default=None if top else argparse.SUPPRESS,
                        help="the configuration file (vestibule.toml; default: $VESTIBULE_CONFIG, else none); "
                             "environment variables override it")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_config_option(child, top=False)


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[int]]) -> int:
    runtime = await build(settings)
    try:
        return await work(runtime)
    finally:
        await runtime.close()


async def _account_command(args: argparse.Namespace, rt: Runtime) -> int:
    from .services import accounts
    from .services.passwords import has_iam_policy, policy_of

    deps = rt.deps
    if args.action in cli_account.ACTIONS:
        return await cli_account.run(args, rt)
    if args.action in cli_lifecycle.ACTIONS:
        return await cli_lifecycle.run(args, rt)
    if args.action == "create":
        async with deps.store.unit() as uow:
            created = await accounts.create_account(deps, uow, email=args.email, password=args.password,
                                                    name=args.name, alias=args.alias)
        _emit(created.as_json())
        return 0
    async with deps.store.unit() as uow:
        account = await accounts.require(uow, args.account)
        if args.action == "set-alias":
            await accounts.set_alias(deps, uow, account, args.alias or None)
            _emit({"AccountId": account.id, "Alias": account.alias})
            return 0
        current = policy_of(account)
        refuse = None if args.refuse_breached is None else args.refuse_breached == "on"
        if args.delete:
            await accounts.set_password_policy(deps, uow, account, None, refuse_breached=refuse)
            _emit({"PasswordPolicy": None})
            return 0
        changes: dict[str, Any] = {}
        for arg, name in (("minimum_length", "minimum_length"), ("require_uppercase", "require_uppercase"),
                          ("require_lowercase", "require_lowercase"), ("require_numbers", "require_numbers"),
                          ("require_symbols", "require_symbols"), ("hard_expiry", "hard_expiry"),
                          ("allow_users_to_change_password", "allow_users_to_change")):
            if getattr(args, arg) is not None:
                changes[name] = getattr(args, arg)
        if args.max_password_age is not None:
            changes["max_age_days"] = args.max_password_age or None
        if args.password_reuse_prevention is not None:
            changes["reuse_prevention"] = args.password_reuse_prevention or None
        if changes or refuse is not None:
            try:
                new_policy = rules.PasswordPolicy(**{**current.to_dict(), **changes})
            except rules.PolicyError as exc:
                raise UsageError(str(exc)) from None
            kept = new_policy if changes or has_iam_policy(account) else None  # the option alone makes no policy
            await accounts.set_password_policy(deps, uow, account, kept, refuse_breached=refuse)
            current = policy_of(account)
        _emit({"AccountId": account.id, "PasswordPolicy": current.api_shape(),
               "RefuseBreachedPasswords": current.refuse_breached})
        return 0


async def _iam_user_command(args: argparse.Namespace, rt: Runtime) -> int:
    from .core.identifiers import user_arn
    from .services import accounts, iam_users

    deps = rt.deps
    async with deps.store.unit() as uow:
        account = await accounts.require(uow, args.account)
        if args.action == "create":
            user = await iam_users.create_user(deps, uow, account, args.name, password=args.password,
                                               password_reset_required=args.password_reset_required)
            _emit({"UserName": user.name, "UserId": user.id, "Arn": user_arn(account.id, user.name, user.path),
                   "AccountId": account.id, "LoginProfile": user.password_hash is not None,
                   "PasswordResetRequired": user.password_reset_required,
                   "SignInUrl": f"{deps.settings.public_origin}/{account.alias or account.id}/console"})
            return 0
        if args.action == "list":
            _emit({"Users": [{"UserName": u.name, "UserId": u.id, "Arn": user_arn(account.id, u.name, u.path)}
                             for u in await uow.users.list(account.id)]})
            return 0
        if args.action == "set-password":
            user = await iam_users.require_user(uow, account, args.name)
            await iam_users.set_password(deps, uow, account, user, args.password, args.password_reset_required)
            _emit({"UserName": user.name, "PasswordResetRequired": args.password_reset_required})
            return 0
        target = None if args.root else await iam_users.require_user(uow, account, args.name)
        removed = await iam_users.deactivate_mfa(deps, uow, account, target, args.serial_number)
        _emit({"Removed": removed})
        return 0


async def _access_key_command(args: argparse.Namespace, rt: Runtime) -> int:
    from .services import access_keys, accounts, iam_users

    deps = rt.deps
    async with deps.store.unit() as uow:
        account = await accounts.require(uow, args.account)
        if args.user:
            user = await iam_users.require_user(uow, account, args.user)
            principal_key, owner = f"user:{user.id}", user.name
        else:
            print("warning: this key belongs to the root user, which can do everything in the account; "
                  "prefer keys of an IAM user with only the permissions it needs", file=sys.stderr)
            principal_key, owner = f"root:{account.id}", None
        key = await access_keys.create(deps, uow, account.id, principal_key, actor=f"arn:aws:iam::{account.id}:root")
    out: dict[str, Any] = {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key,
                           "Status": key.status, "AccountId": account.id}
    if owner:
        out["UserName"] = owner
    _emit(out)
    return 0


async def _events_command(args: argparse.Namespace, rt: Runtime) -> int:
    from .services import accounts, audit

    if getattr(args, "events_action", None) == "archive":
        return await cli_events.archive(args, rt)
    if args.account is None:
        raise UsageError("the following arguments are required: --account")
    from .core.pagination import MAX_LIMIT, PageRequest
    from .errors import InvalidMarker

    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be 1-{MAX_LIMIT}")
    async with rt.deps.store.unit() as uow:
        account = await accounts.require(uow, args.account)
        try:
            page = await audit.events_page(uow, rt.deps.box.signing_key, account.id,
                                           PageRequest(args.after, args.limit))
        except InvalidMarker:
            raise UsageError("--after is not a cursor of this account's events") from None
    for ev in page.items:
        if args.json:
            print(audit.as_json_line(ev))
        else:
            d = audit.as_dict(ev)
            failed = d["detail"] if d["event"] == "FederatedSignInFailed" and isinstance(d["detail"], dict) else {}
            print(f"{d['time']}  {d['event']:<26} {d['result']:<8} {d['principal']}  {d['method']}  "
                  f"{d['client_ip']}{'  mfa' if d['mfa_used'] else ''}"
                  + (f"  {failed.get('reference', '')} {failed.get('cause', '')}" if failed else ""))
    if page.next_marker is not None:
        print(f"more events: --after {page.next_marker}", file=sys.stderr)
    return 0


async def _mail_command(args: argparse.Namespace, rt: Runtime) -> int:
    from datetime import UTC, datetime

    from .core.outbox import MailStatus
    from .services import outbox

    def when(ts: float | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace(
            "+00:00", "Z")

    chosen = args.status or ["pending", "failed"]
    statuses = [s.value for s in MailStatus] if "all" in chosen else chosen
    if args.limit < 0:
        raise UsageError("--limit must not be negative")
    found = await outbox.report(rt.deps.store, statuses, args.limit)
    _emit({"Counts": found.counts, "Mail": [
        {"Id": e.id, "Kind": e.kind, "To": e.recipient, "Subject": e.subject, "Status": e.status,
         "Attempts": e.attempts, "CreatedAt": when(e.created_at), "NextAttemptAt": when(e.next_attempt_at),
         "FinishedAt": when(e.finished_at), "LastError": e.last_error} for e in found.entries]})
    return 0


HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def _on_huge_pages(settings: Settings, workers: int, argv: list[str]) -> None:
    """Ask glibc (2.35 and later; others ignore it) to put large allocations on transparent huge pages, so
    argon2id's work area (19 MiB by default, touched at random) costs far fewer TLB misses: each hash is
    about a tenth faster on Linux with transparent huge pages on `madvise` or `always` (docs/benchmarks.md).
    glibc reads the setting when a process starts: worker processes inherit it; a single process restarts
    itself once with it (the same PID, arguments and environment otherwise)."""
    import os

    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if not settings.huge_pages or not sys.platform.startswith("linux") or "glibc.malloc.hugetlb" in tunables:
        return
    os.environ["GLIBC_TUNABLES"] = f"{tunables}:{HUGE_PAGES_TUNABLE}" if tunables else HUGE_PAGES_TUNABLE
    if workers <= 1:
        sys.stdout.flush()
        os.environ.setdefault("VESTIBULE_LAUNCHED_AS", sys.argv[0])  # for the start-up message's hint
        os.execv(sys.executable, [sys.executable, "-m", "vestibule.cli", *argv])


def _serve(settings: Settings, host: str, port: int, workers: int, argv: list[str]) -> int:
    import os

    import uvicorn

    if settings.config_file:  # worker processes and `migrate` read the same file (the app factory reloads)
        os.environ["VESTIBULE_CONFIG"] = settings.config_file
    for name, value in (("VESTIBULE_HTTP_HEAD_TIMEOUT_SECONDS", settings.http_head_timeout_seconds),
                        ("VESTIBULE_HTTP_BODY_TIMEOUT_SECONDS", settings.http_body_timeout_seconds)):
        if not os.environ.get(name):  # http_protocol.py reads them in each process
            os.environ[name] = f"{value:g}"
    _on_huge_pages(settings, workers, argv)
    from .web.access_log import uvicorn_log_config

    log_config = uvicorn_log_config(settings.log_format, settings.log_level)
    if settings.log_format == "json":  # from the first line on, migrations included
        import logging.config

        logging.config.dictConfig(log_config)

    from .app import LOOPBACK
    from .http_protocol import BoundedHttpToolsProtocol

    async def _prepare() -> None:
        runtime = await build(settings)
        await runtime.close()

    if "public_url" not in settings.configured:  # neither the file nor the environment names it
        shown = f"[{host}]" if ":" in host else host
        settings = settings.with_overrides(public_url=f"http://{shown}:{port}")
        os.environ["VESTIBULE_PUBLIC_URL"] = settings.public_url
    if workers > 1:
        # Migrate in a child process, so the supervising process stays small.
        import subprocess

        subprocess.run([sys.executable, "-m", "vestibule.cli", "migrate"], check=True, stdout=subprocess.DEVNULL)
        from .services.metrics import use_multiprocess_dir

        use_multiprocess_dir(settings.data_dir)  # each scrape adds up every worker's counts (docs/deployment.md)
    else:
        asyncio.run(_prepare())
    os.environ["VESTIBULE_SERVE_LOOPBACK"] = "1" if host in LOOPBACK else "0"
    if not settings.smtp_host:
        from .web.dev_mail import decide

        mail_note = "  Mail: " + decide(settings, True, host in LOOPBACK).log_line(settings)
    else:
        mail_note = f"  Mail goes to the SMTP server {settings.smtp_host}:{settings.smtp_port}"
    launched = os.environ.pop("VESTIBULE_LAUNCHED_AS", sys.argv[0])
    command = (os.path.relpath(launched) if os.path.basename(launched) == "vestibule"
               and os.path.abspath(launched).startswith(os.getcwd()) else "vestibule")
    print(
        f"Vestibule is listening on http://{host}:{port}  (public URL {settings.public_origin})\n"
        f"  Database: {settings.masked()['effective_database_url']}\n{mail_note}\n"
        f"  Create a first account at {settings.public_origin}/signup or with:\n"
        f"    {command} account create --email you@example.com --password '<a long password>' --alias my-team\n",
        flush=True,
    )

    uvicorn.run("vestibule.app:app_from_environment", factory=True, host=host, port=port,
                http=BoundedHttpToolsProtocol,  # httptools with limits on the request head (431)
                workers=workers if workers > 1 else None, log_level=settings.log_level, proxy_headers=False,
                server_header=False, log_config=log_config,
                access_log=_access_log(settings.log_level) and settings.log_format != "json")  # json: our own lines
    return 0


def _access_log(log_level: str) -> bool:
    """Access logs at info and debug only: above that uvicorn would drop each line anyway, after computing the
    client address for it on every request."""
    return log_level.lower() in {"info", "debug", "trace"}


def _settings(config_file: str | None) -> Settings:
    """The file (`--config`, else $VESTIBULE_CONFIG) and the environment; warnings on stderr, once per start."""
    import os

    found = read_configuration(config_file=config_file)
    if "VESTIBULE_LAUNCHED_AS" not in os.environ:  # not again after `serve` restarted itself for huge pages
        for warning in found.warnings:
            print(f"vestibule: warning: {warning}", file=sys.stderr)
    return found.settings_or_error()


def _config_check(config_file: str | None) -> int:
    """`vestibule config check`: every problem and warning, one line each, on stderr."""
    found = read_configuration(config_file=config_file)
    for problem in found.problems:
        print(f"vestibule: error: {problem}", file=sys.stderr)
    for warning in (*found.warnings, *unknown_environment()):
        print(f"vestibule: warning: {warning}", file=sys.stderr)
    if found.settings is None:
        count = len(found.problems)
        print(f"configuration is not valid: {count} problem{'s' if count > 1 else ''}", file=sys.stderr)
        return 2
    source = f"{found.settings.config_file} and the environment" if found.settings.config_file else (
        "the environment only, no configuration file")
    print(f"configuration is valid: {source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.command == "serve" else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "client_command", None) is not None:  # sso configure|login|logout: no server, no database
        from .client.commands import run as run_client_command

        return run_client_command(args)
    try:
        if args.command == "config" and args.config_action == "check":
            return _config_check(args.config)
        settings = _settings(args.config)
        if args.command == "serve":
            return _serve(settings, args.host, args.port, args.workers, argv)
        if args.command == "config":
            _emit(settings.masked())
            return 0
        if args.command in cli_ops.COMMANDS:
            return cli_ops.run(args, settings)
        if args.command == "migrate":
            async def _migrate(rt: Runtime) -> int:
                print("database is at the newest schema")
                return 0
            return asyncio.run(_with_runtime(settings, _migrate))
        handlers = {"account": _account_command, "iam-user": _iam_user_command, "events": _events_command,
                    "access-key": _access_key_command, "mail": _mail_command, "sso": sso_command,
                    "federation": federation_command}
        handler = handlers[args.command]
        return asyncio.run(_with_runtime(settings, lambda rt: handler(args, rt)))
    except UsageError as exc:
        print(f"vestibule: error: {exc}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"vestibule: configuration error: {exc}", file=sys.stderr)
        return 2
    except PasswordRejected as exc:  # the pages' words, not the message keys
        from .web.i18n import Translator
        from .web.messages import message_for

        print(f"vestibule: error: {message_for(exc, Translator('en'))}", file=sys.stderr)
        return 1
    except VestibuleError as exc:
        print(f"vestibule: error: {getattr(exc, 'message', None) or exc.detail or exc.code}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"vestibule: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
