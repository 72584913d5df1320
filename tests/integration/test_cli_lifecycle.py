"""`vestibule account suspend|reinstate|status`: JSON out, one-line errors with exit code 1, the account's
standing changed for sign-in and keys (tested over HTTP in test_account_lifecycle_http.py)."""

from __future__ import annotations

from integration.test_cli import Cli, cli, cli_env  # noqa: F401  # the fixtures, imported to be used here


def test_suspend_reinstate_and_status(cli: Cli) -> None:  # noqa: F811  # the fixture
    account_id = cli.ok("account", "create", "--email", "ops@example.com", "--password", "root password 1")["AccountId"]
    assert cli.ok("account", "status", "--account", account_id)["Status"] == "active"
    shown = cli.ok("account", "suspend", "--account", account_id, "--reason", "unpaid", "--contact",
                   "Billing@Operator.example")
    assert (shown["Status"], shown["SuspensionReason"], shown["Contact"]) == ("suspended", "unpaid",
                                                                             "billing@operator.example")
    assert isinstance(shown["SuspendedAt"], float)
    assert "not active" in cli.fails("account", "suspend", "--account", account_id)
    assert cli.ok("account", "reinstate", "--account", account_id)["Status"] == "active"
    assert "not suspended" in cli.fails("account", "reinstate", "--account", account_id)
    assert cli.fails("account", "suspend", "--account", "123456789012").startswith("vestibule: error:")
    assert cli.fails("account", "suspend", "--account", account_id, "--contact", "not an address")
    cli.fails("account", "suspend", code=2)  # --account is required
