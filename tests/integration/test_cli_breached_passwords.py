"""The breached-password check from the command line: `account create` refuses a breached root password,
`account password-policy --refuse-breached on|off` sets the IAM users' option (kept by the other flags and by
--delete), and `breached_passwords_file` is checked at start and by `config check`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from integration.test_cli import Cli, cli, cli_env  # noqa: F401  # the fixtures, imported to be used here

BREACHED = "vestibule: error: This password is known from data breaches; choose another."


def test_account_create_refuses_a_breached_root_password(cli: Cli) -> None:  # noqa: F811  # the fixture
    assert cli.fails("account", "create", "--email", "a@example.com", "--password", "Passw0rd!") == BREACHED
    assert cli.fails("account", "create", "--email", "a@example.com", "--password", "short") == (
        "vestibule: error: The password is too short for the password policy.")
    cli.ok("account", "create", "--email", "a@example.com", "--password", "cli pass phrase 1")


def test_refuse_breached_option(cli: Cli) -> None:  # noqa: F811  # the fixture
    account = cli.ok("account", "create", "--email", "a@example.com", "--password", "cli pass phrase 1",
                     "--alias", "acme")["AccountId"]
    shown = cli.ok("account", "password-policy", "--account", account)
    assert shown["RefuseBreachedPasswords"] is True, "on for a new account"
    assert "RefuseBreachedPasswords" not in shown["PasswordPolicy"], "not an IAM policy field"
    assert cli.fails("iam-user", "create", "--account", account, "--name", "ann", "--password",
                     "Password1!") == BREACHED

    off = cli.ok("account", "password-policy", "--account", account, "--refuse-breached", "off")
    assert off["RefuseBreachedPasswords"] is False and off["PasswordPolicy"] == shown["PasswordPolicy"]
    cli.ok("iam-user", "create", "--account", account, "--name", "ann", "--password", "Password1!")
    # other flags and --delete keep it
    changed = cli.ok("account", "password-policy", "--account", "acme", "--minimum-length", "12")
    assert changed["RefuseBreachedPasswords"] is False and changed["PasswordPolicy"]["MinimumPasswordLength"] == 12
    assert cli.ok("account", "password-policy", "--account", account, "--delete") == {"PasswordPolicy": None}
    assert cli.ok("account", "password-policy", "--account", account)["RefuseBreachedPasswords"] is False
    cli.ok("iam-user", "set-password", "--account", account, "--name", "ann", "--password", "Passw0rd!")

    on = cli.ok("account", "password-policy", "--account", account, "--refuse-breached", "on",
                "--require-symbols")
    assert on["RefuseBreachedPasswords"] is True and on["PasswordPolicy"]["RequireSymbols"] is True
    assert cli.fails("iam-user", "set-password", "--account", account, "--name", "ann", "--password",
                     "Passw0rd!") == BREACHED
    cli.fails("account", "password-policy", "--account", account, "--refuse-breached", "maybe", code=2)
    code, out, _ = cli("account", "password-policy", "--help")
    assert code == 0 and "--refuse-breached {on,off}" in out and "breaches" in out
    assert "999999999999" in cli.fails("account", "password-policy", "--account", "999999999999",
                                       "--refuse-breached", "off")


def _range_dir(tmp_path: Path) -> Path:
    ranges = tmp_path / "ranges"
    ranges.mkdir()
    digest = hashlib.sha1(b"operator corpus phrase").hexdigest().upper()
    (ranges / f"{digest[:5]}.txt").write_text(f"{digest[5:]}:3\r\n", encoding="ascii")
    return ranges


def test_the_operators_file_is_checked_at_start(cli: Cli, tmp_path: Path,  # noqa: F811  # the fixture
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("VESTIBULE_BREACHED_PASSWORDS_FILE", str(missing))
    code, out, err = cli("config", "check")
    assert code == 2 and out == ""
    assert err.splitlines()[0] == (f"vestibule: error: VESTIBULE_BREACHED_PASSWORDS_FILE is not usable: {missing} "
                                   "does not exist")
    message = cli.fails("account", "create", "--email", "a@example.com", "--password", "cli pass phrase 1", code=2)
    assert message.startswith("vestibule: configuration error: VESTIBULE_BREACHED_PASSWORDS_FILE is not usable")
    bad = tmp_path / "bad.txt"
    bad.write_text("not SHA1:COUNT lines\n")
    monkeypatch.setenv("VESTIBULE_BREACHED_PASSWORDS_FILE", str(bad))
    assert "SHA1:COUNT" in cli("config", "check")[2]

    ranges = _range_dir(tmp_path)
    monkeypatch.setenv("VESTIBULE_BREACHED_PASSWORDS_FILE", str(ranges))
    code, out, err = cli("config", "check")
    assert code == 0, err
    code, out, _ = cli("config")
    assert code == 0 and json.loads(out)["breached_passwords_file"] == str(ranges)
    assert cli.fails("account", "create", "--email", "a@example.com", "--password",
                     "operator corpus phrase") == BREACHED
    cli.ok("account", "create", "--email", "a@example.com", "--password", "operator corpus phrase 2")
